// The global memory budget of TCP reassembly (Suricata's stream.reassembly.memcap, 256 MiB by
// default): retained stream windows and queued out-of-order segments draw from it; a refused
// reservation drops the data and is counted, never crashes.
export const DEFAULT_STREAM_MEMCAP = 256 * 1024 * 1024;

export class StreamMemory {
  readonly memcap: number;
  used = 0;
  /** Highest `used` seen. */
  peak = 0;
  /** Reservations refused because the memcap was reached. */
  refused = 0;

  constructor(memcap: number = DEFAULT_STREAM_MEMCAP) {
    this.memcap = memcap;
  }

  reserve(bytes: number): boolean {
    if (this.used + bytes > this.memcap) {
      this.refused++;
      return false;
    }
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }
}
