// Small byte buffers carved from shared slabs. Every `new Uint8Array` costs an ArrayBuffer
// with its own backing store, which dominated the HTTP parser's profile (GC of many small
// buffers per transaction); views into a 256 KiB slab cost one object each. A slab lives
// as long as any view into it, so retention is bounded by what the parsers keep
// (transactions are bounded per flow). Single-threaded per worker, like the data path.

const SLAB_SIZE = 256 * 1024;
const MAX_SLAB_ALLOC = 8 * 1024;

let slab = new Uint8Array(SLAB_SIZE);
let used = 0;

/** A zeroed-or-stale buffer of `n` bytes (contents unspecified): callers overwrite it. */
export function allocBytes(n: number): Uint8Array {
  if (n > MAX_SLAB_ALLOC) return new Uint8Array(n);
  // Keep views 8-byte aligned so slab memory is reused evenly.
  const size = (n + 7) & ~7;
  if (used + size > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  const out = slab.subarray(used, used + n);
  used += size;
  return out;
}
