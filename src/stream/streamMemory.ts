// The global memory budget of TCP reassembly (Suricata's stream.reassembly.memcap, 256 MiB by
// default): retained stream windows and queued out-of-order segments draw from it; a refused
// reservation drops the data and is counted, never crashes.
//
// It also keeps the window buffers of ended flows for the next flows (bounded, by power-of-two
// size): a fresh zero-filled ArrayBuffer per flow direction (2 KiB, then 16 KiB) measured
// 7-13 µs each here and most of the reassembler's profile, plus the GC pressure of their
// external memory. Pooled buffers are not reserved: `used` counts the windows in use.
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

  /** Bytes of ended flows' buffers kept for reuse, at most POOL_MAX_BYTES. */
  pooledBytes = 0;
  /** Free buffers by log2(size). */
  private readonly pool: Uint8Array[][] = [];

  /** A buffer of `size` bytes (a power of two), contents unspecified: from the pool or new. */
  take(size: number): Uint8Array {
    const list = this.pool[Math.log2(size)];
    if (list !== undefined && list.length > 0) {
      this.pooledBytes -= size;
      return list.pop()!;
    }
    return new Uint8Array(size);
  }

  /** Gives back a buffer nothing refers to any more (a flow ended, a window grew). */
  give(buf: Uint8Array): void {
    const size = buf.length;
    // Only whole power-of-two buffers (views into something else are never pooled).
    if (size < POOL_MIN_SIZE || (size & (size - 1)) !== 0 || buf.byteOffset !== 0 || buf.buffer.byteLength !== size) return;
    if (this.pooledBytes + size > POOL_MAX_BYTES) return;
    const k = Math.log2(size);
    let list = this.pool[k];
    if (list === undefined) {
      while (this.pool.length <= k) this.pool.push([]);
      list = this.pool[k]!;
    }
    list.push(buf);
    this.pooledBytes += size;
  }
}

/** Buffers smaller than this are not pooled. */
const POOL_MIN_SIZE = 1024;
/** Bound of the pool (per StreamMemory, i.e. per worker). */
export const POOL_MAX_BYTES = 8 * 1024 * 1024;
