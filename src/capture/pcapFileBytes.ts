// A forward-only window over a capture file, read in chunks with fs.readSync, so a capture of
// any size is replayed with bounded memory. Both readers build on it.
import * as fs from 'node:fs';
import { LateralError } from '../errors';

// Read size; the window grows beyond it only for a record larger than this.
const CHUNK = 256 * 1024;

export class PcapFileBytes {
  readonly path: string;
  private fd: number;
  private buf: Uint8Array = new Uint8Array(CHUNK);
  /** Valid bytes are buf[start, end); buf[0] is file offset `base`. */
  private base = 0;
  private start = 0;
  private end = 0;
  private eof = false;

  constructor(path: string) {
    this.path = path;
    try {
      this.fd = fs.openSync(path, 'r');
    } catch (err) {
      throw new LateralError('LATERAL_ERR_PCAP', `cannot open capture: ${(err as Error).message}`, { file: path, line: 0 }, { cause: err });
    }
  }

  /** File offset of the next unread byte. */
  get offset(): number {
    return this.base + this.start;
  }

  /**
   * Make n bytes available from the current position. Returns the buffer offset of them, or
   * -1 when the file ends first (then `available` tells how many bytes were left).
   */
  ensure(n: number): number {
    if (this.end - this.start >= n) return this.start;
    if (this.buf.length < n) {
      const bigger = new Uint8Array(Math.max(n, this.buf.length * 2));
      bigger.set(this.buf.subarray(this.start, this.end));
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
      this.buf = bigger;
    } else if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    while (!this.eof && this.end < n) {
      let got: number;
      try {
        got = fs.readSync(this.fd, this.buf, this.end, this.buf.length - this.end, this.base + this.end);
      } catch (err) {
        throw new LateralError('LATERAL_ERR_PCAP', `read failed at byte ${this.base + this.end}: ${(err as Error).message}`, { file: this.path, line: 0 }, { cause: err });
      }
      if (got === 0) this.eof = true;
      this.end += got;
    }
    return this.end - this.start >= n ? this.start : -1;
  }

  get available(): number {
    return this.end - this.start;
  }

  get buffer(): Uint8Array {
    return this.buf;
  }

  skip(n: number): void {
    this.start += n;
  }

  close(): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}
