// SSH identification strings (RFC 4253 §4.2): "SSH-protoversion-softwareversion SP comments".
// Gives `ssh.proto` ("2.0") and `ssh.software` ("OpenSSH_8.2p1", without the comment) per
// direction, as Suricata's SSH parser does. A server may send other lines before its
// identification string; those are skipped. Lines are bounded (RFC 4253: 255 bytes; we allow
// a little more and count).
//
// After the banner only the binary packet framing (RFC 4253 §6: uint32 packet_length, byte
// padding_length, payload) is followed, unencrypted until SSH_MSG_NEWKEYS (§7.3), to see
// when each direction switches keys. As in Suricata 7 (rust/src/ssh/ssh.rs), once both
// directions sent NEWKEYS the session is encrypted and needs no more inspection: `encrypted`
// is what the verdict stage reads to bypass the flow.
import type { AppLayerCounters } from './appLayerCounters';

const MAX_LINE = 1024;
const MAX_PRE_LINES = 16;
/** OpenSSH's PACKET_MAX_SIZE; a longer packet_length is garbage, not SSH. */
const MAX_PACKET = 256 * 1024;
const SSH_MSG_NEWKEYS = 21;

export interface SshBanner {
  proto: Uint8Array;
  software: Uint8Array;
  /** The comment after the first space, or null. */
  comment: Uint8Array | null;
}

class SshDirection {
  line = new Uint8Array(MAX_LINE);
  len = 0;
  preLines = 0;
  /** The banner phase is over (banner found, or given up on). */
  done = false;
  banner: SshBanner | null = null;
  /** Binary packet framing: header bytes collected (length, padding length, message code). */
  readonly hdr = new Uint8Array(6);
  hdrLen = 0;
  /** Bytes of the current packet still to skip after its header. */
  skip = 0;
  /** SSH_MSG_NEWKEYS seen: this direction is encrypted from here on. */
  newKeys = false;
  /** Framing broke (or no banner): nothing more is parsed in this direction. */
  failed = false;
}

/** Parses one identification line (no CR/LF). Null when it is not one. */
export function parseSshBanner(line: Uint8Array): SshBanner | null {
  if (line.length < 5 || line[0] !== 0x53 || line[1] !== 0x53 || line[2] !== 0x48 || line[3] !== 0x2d) return null;
  const dash = line.indexOf(0x2d, 4);
  if (dash < 0) return null;
  const sp = line.indexOf(0x20, dash + 1);
  return {
    proto: line.slice(4, dash),
    software: line.slice(dash + 1, sp < 0 ? line.length : sp),
    comment: sp < 0 ? null : line.slice(sp + 1),
  };
}

export class SshParser {
  private readonly ts = new SshDirection();
  private readonly tc = new SshDirection();

  constructor(private readonly counters: AppLayerCounters) {}

  banner(toServer: boolean): SshBanner | null {
    return (toServer ? this.ts : this.tc).banner;
  }

  /** This direction sent SSH_MSG_NEWKEYS. */
  newKeys(toServer: boolean): boolean {
    return (toServer ? this.ts : this.tc).newKeys;
  }

  /** Both directions switched to the negotiated keys: the rest is ciphertext. */
  get encrypted(): boolean {
    return this.ts.newKeys && this.tc.newKeys;
  }

  feed(toServer: boolean, data: Uint8Array, start = 0, end = data.length): void {
    const d = toServer ? this.ts : this.tc;
    let p = start;
    if (!d.done) p = this.feedBanner(d, data, p, end);
    if (d.done && !d.failed && !d.newKeys && p < end) this.feedPackets(d, data, p, end);
  }

  /** Banner lines; returns where the bytes after the banner line start. */
  private feedBanner(d: SshDirection, data: Uint8Array, start: number, end: number): number {
    for (let p = start; p < end; p++) {
      const c = data[p]!;
      if (c !== 0x0a) {
        if (d.len >= MAX_LINE) {
          this.counters.sshMalformed++;
          d.done = d.failed = true;
          return end;
        }
        d.line[d.len++] = c;
        continue;
      }
      let e = d.len;
      if (e > 0 && d.line[e - 1] === 0x0d) e--;
      const b = parseSshBanner(d.line.subarray(0, e));
      d.len = 0;
      if (b) {
        d.banner = b;
        d.done = true;
        this.counters.sshBanners++;
        return p + 1;
      } else if (++d.preLines > MAX_PRE_LINES) {
        this.counters.sshMalformed++;
        d.done = d.failed = true;
        return end;
      }
    }
    return end;
  }

  /** Unencrypted binary packets up to and including NEWKEYS (RFC 4253 §6, §7.3). */
  private feedPackets(d: SshDirection, data: Uint8Array, start: number, end: number): void {
    let p = start;
    while (p < end && !d.newKeys) {
      if (d.skip > 0) {
        const n = Math.min(d.skip, end - p);
        d.skip -= n;
        p += n;
        continue;
      }
      while (d.hdrLen < 6 && p < end) d.hdr[d.hdrLen++] = data[p++]!;
      if (d.hdrLen < 6) return;
      const h = d.hdr;
      const len = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
      d.hdrLen = 0;
      // packet_length covers padding_length, payload and padding (at least 4 bytes, §6).
      if (len < 5 || len > MAX_PACKET || h[4]! + 1 >= len) {
        this.counters.sshMalformed++;
        d.failed = true;
        return;
      }
      if (h[5] === SSH_MSG_NEWKEYS) d.newKeys = true;
      d.skip = len - 2;
    }
  }
}
