// Per-container inspection mode (label `lateral.mode=monitor|protect`) where the verdict is
// made: in the queue workers, which have no Docker connection.
//
// The decision: a drop stands unless BOTH ends are in monitor mode (their own label, or the
// global mode when unlabelled). One protect-mode end is enough to drop, so labelling a
// neighbour "monitor" never weakens the protection another container asked for. A drop that
// is turned into an accept still raises its alert, with `alert.action: "allowed"` (Suricata's
// IDS-mode wording), so nothing is lost silently.
//
// The main thread builds a snapshot from the ContainerDirectory on every change and posts it to
// each worker (structured-clone friendly: arrays of numbers); the worker answers per dropped
// packet from typed arrays and a Map keyed by integers, allocating nothing.
import { ContainerDirectory, ContainerMode, ContainerModeValue } from './containerDirectory';
import { parseIpAddress, parseIpv4 } from './parseIpAddress';

/**
 * Whether a drop verdict is carried out, given both ends' modes (ContainerMode values;
 * DEFAULT means "the global mode applies") and the global mode (MONITOR or PROTECT).
 */
export function enforceDrop(srcMode: number, destMode: number, globalMode: number): boolean {
  const src = srcMode === ContainerMode.DEFAULT ? globalMode : srcMode;
  const dest = destMode === ContainerMode.DEFAULT ? globalMode : destMode;
  return !(src === ContainerMode.MONITOR && dest === ContainerMode.MONITOR);
}

/** What the main thread posts to workers: only labelled containers' addresses. */
export interface ContainerModeSnapshot {
  /** IPv4 addresses as unsigned 32-bit numbers, and their modes. */
  ipv4: number[];
  ipv4Modes: number[];
  /** IPv6 addresses, 16 bytes each, concatenated, and their modes. */
  ipv6: number[];
  ipv6Modes: number[];
}

export class ContainerModeTable {
  /**
   * IPv4 → mode, as (address >> 2) → 4 modes indexed by the low 2 bits: keys stay within
   * V8's 31-bit small integers (pointer compression), so a lookup allocates no heap number.
   */
  private readonly v4 = new Map<number, Uint8Array>();
  private readonly v6: Uint8Array;
  private readonly v6Modes: Uint8Array;

  constructor(
    snapshot: ContainerModeSnapshot,
    /** ContainerMode.PROTECT (Lateral's default, IPS) or MONITOR. */
    readonly globalMode: number = ContainerMode.PROTECT,
  ) {
    for (let i = 0; i < snapshot.ipv4.length; i++) {
      const a = snapshot.ipv4[i]! >>> 0;
      let quad = this.v4.get(a >>> 2);
      if (quad === undefined) this.v4.set(a >>> 2, (quad = new Uint8Array(4)));
      quad[a & 3] = snapshot.ipv4Modes[i]!;
    }
    this.v6 = Uint8Array.from(snapshot.ipv6);
    this.v6Modes = Uint8Array.from(snapshot.ipv6Modes);
  }

  /** Mode of the 16-byte address at addr16[offset] (IPv4-mapped for v4); DEFAULT if unlabelled. */
  modeOf(addr16: Uint8Array, offset = 0): ContainerModeValue {
    const a = addr16;
    const o = offset;
    if (a[o + 10] === 0xff && a[o + 11] === 0xff && (a[o]! | a[o + 1]! | a[o + 2]! | a[o + 3]! | a[o + 4]! | a[o + 5]! | a[o + 6]! | a[o + 7]! | a[o + 8]! | a[o + 9]!) === 0) {
      const quad = this.v4.get((a[o + 12]! << 22) | (a[o + 13]! << 14) | (a[o + 14]! << 6) | (a[o + 15]! >> 2));
      return (quad === undefined ? ContainerMode.DEFAULT : quad[a[o + 15]! & 3]!) as ContainerModeValue;
    }
    const t = this.v6;
    for (let e = 0, k = 0; e < t.length; e += 16, k++) {
      let i = 0;
      while (i < 16 && t[e + i] === a[o + i]) i++;
      if (i === 16) return this.v6Modes[k]! as ContainerModeValue;
    }
    return ContainerMode.DEFAULT;
  }

  /** enforceDrop() for a packet's source and destination (Packet.src / Packet.dst). */
  enforceDrop(src: Uint8Array, dst: Uint8Array): boolean {
    return enforceDrop(this.modeOf(src), this.modeOf(dst), this.globalMode);
  }
}

/** The labelled containers' addresses and modes, for ContainerModeTable in the workers. */
export function containerModeSnapshot(directory: ContainerDirectory): ContainerModeSnapshot {
  const s: ContainerModeSnapshot = { ipv4: [], ipv4Modes: [], ipv6: [], ipv6Modes: [] };
  const buf = new Uint8Array(16);
  for (const c of directory.containers()) {
    if (c.mode === ContainerMode.DEFAULT) continue;
    for (const a of c.networks) {
      const v4 = a.ipv4 ? parseIpv4(a.ipv4) : -1;
      if (v4 >= 0) {
        s.ipv4.push(v4);
        s.ipv4Modes.push(c.mode);
      }
      if (a.ipv6 && parseIpAddress(a.ipv6, buf)) {
        for (const b of buf) s.ipv6.push(b);
        s.ipv6Modes.push(c.mode);
      }
    }
  }
  return s;
}
