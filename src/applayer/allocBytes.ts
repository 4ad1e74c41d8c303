// Small byte buffers carved from shared slabs. Every `new Uint8Array` costs an ArrayBuffer
// with its own backing store, which dominated the HTTP parser's profile (GC of many small
// buffers per transaction); views into a 256 KiB slab cost one object each. A slab lives
// as long as any view into it, so retention is bounded by what the parsers keep
// (transactions are bounded per flow, and released once inspected both ways; a parser keeps
// no slab view between messages). Single-threaded per worker, like the data path.
//
// Slabs are zero-filled (new Uint8Array): allocating them uninitialised
// (Buffer.allocUnsafeSlow) was tried and made no measurable difference (page faults and CPU
// within the noise, 2 × 2 alternate runs), so the simpler, never-stale form stays.

const SLAB_SIZE = 256 * 1024;
const MAX_SLAB_ALLOC = 8 * 1024;

let slab = new Uint8Array(SLAB_SIZE);
let used = 0;
/** Start of the last allocation (for shrinkBytes). */
let lastStart = -1;

/** A buffer of `n` bytes, contents unspecified (zero or reused by shrinkBytes): callers overwrite them. */
export function allocBytes(n: number): Uint8Array {
  if (n > MAX_SLAB_ALLOC) return new Uint8Array(n);
  // Keep views 8-byte aligned so slab memory is reused evenly.
  const size = (n + 7) & ~7;
  if (used + size > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  const out = slab.subarray(used, used + n);
  lastStart = used;
  used += size;
  return out;
}

/**
 * The first `n` bytes of `buf`, a buffer from allocBytes: when it is still the slab's last
 * allocation, its tail goes back to the slab (the next allocBytes reuses it), so a buffer
 * sized for the worst case and filled to `n` keeps only `n` bytes. Returns a view of
 * buf[0, n) — buf itself when n is its length.
 */
export function shrinkBytes(buf: Uint8Array, n: number): Uint8Array {
  if (n >= buf.length) return buf;
  if (buf.buffer === slab.buffer && buf.byteOffset - slab.byteOffset === lastStart) {
    used = lastStart + ((n + 7) & ~7);
    lastStart = -1;
  }
  return buf.subarray(0, n);
}
