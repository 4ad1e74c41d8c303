// SSH identification strings (RFC 4253 §4.2): "SSH-protoversion-softwareversion SP comments".
// Gives `ssh.proto` ("2.0") and `ssh.software` ("OpenSSH_8.2p1", without the comment) per
// direction, as Suricata's SSH parser does. A server may send other lines before its
// identification string; those are skipped. The binary packet protocol after the banner is
// not parsed. Lines are bounded (RFC 4253: 255 bytes; we allow a little more and count).
import type { AppLayerCounters } from './appLayerCounters';

const MAX_LINE = 1024;
const MAX_PRE_LINES = 16;

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
  done = false;
  banner: SshBanner | null = null;
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

  feed(toServer: boolean, data: Uint8Array, start = 0, end = data.length): void {
    const d = toServer ? this.ts : this.tc;
    for (let p = start; p < end && !d.done; p++) {
      const c = data[p]!;
      if (c !== 0x0a) {
        if (d.len >= MAX_LINE) {
          this.counters.sshMalformed++;
          d.done = true;
          return;
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
      } else if (++d.preLines > MAX_PRE_LINES) {
        this.counters.sshMalformed++;
        d.done = true;
      }
    }
  }
}
