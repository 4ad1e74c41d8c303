// The state behind `xbits` (Suricata detect-xbits.c, hostbits/ippair bits): named bits kept per
// host (track ip_src / ip_dst) or per unordered address pair (track ip_pair), each with an
// expiry in packet time. One table per loaded rule set, shared by all flows of a worker.
// Bounded: when full, expired bits are purged; if still full the set is refused and counted
// (Suricata's host/ippair tables have a memcap too).

export const XbitTrack = { IP_SRC: 0, IP_DST: 1, IP_PAIR: 2 } as const;

export const DEFAULT_XBIT_CAPACITY = 65536;

export class XbitStats {
  sets = 0;
  /** Bits removed because they expired (found expired on lookup or purged). */
  expired = 0;
  /** Sets refused because the table was full of live bits. */
  refused = 0;
}

export class XbitTable {
  readonly stats = new XbitStats();
  /** key → expiry (packet seconds; the bit is set while now <= expiry). */
  private readonly bits = new Map<string, number>();

  constructor(readonly capacity = DEFAULT_XBIT_CAPACITY) {}

  get size(): number {
    return this.bits.size;
  }

  isSet(key: string, now: number): boolean {
    const exp = this.bits.get(key);
    if (exp === undefined) return false;
    if (now > exp) {
      this.bits.delete(key);
      this.stats.expired++;
      return false;
    }
    return true;
  }

  set(key: string, expiry: number, now: number): void {
    if (!this.bits.has(key) && this.bits.size >= this.capacity) {
      this.purge(now);
      if (this.bits.size >= this.capacity) {
        this.stats.refused++;
        return;
      }
    }
    this.bits.set(key, expiry);
    this.stats.sets++;
  }

  unset(key: string): void {
    this.bits.delete(key);
  }

  clear(): void {
    this.bits.clear();
  }

  private purge(now: number): void {
    for (const [k, exp] of this.bits) {
      if (now > exp) {
        this.bits.delete(k);
        this.stats.expired++;
      }
    }
  }
}

/**
 * The table key of bit `slot` for a packet (cold-ish: only when an xbits rule is evaluated).
 * Addresses are Packet's 16-byte form; ip_pair orders the two so both directions share it.
 */
export function xbitKey(slot: number, track: number, src: Uint8Array, dst: Uint8Array): string {
  if (track === XbitTrack.IP_SRC) return `${slot}s${addr(src)}`;
  if (track === XbitTrack.IP_DST) return `${slot}s${addr(dst)}`;
  return compare(src, dst) <= 0 ? `${slot}p${addr(src)}${addr(dst)}` : `${slot}p${addr(dst)}${addr(src)}`;
}

function addr(a: Uint8Array): string {
  return Buffer.from(a.buffer, a.byteOffset, 16).toString('latin1');
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
