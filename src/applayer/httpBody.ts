// One HTTP message body as the rule engine sees it: dechunked (by the parser), then
// decompressed per Content-Encoding like libhtp (gzip, x-gzip, deflate), and kept up to a
// byte limit like Suricata's request-body-limit / response-body-limit.
//
// Compressed bytes are kept (bounded) and inflated on demand with Z_SYNC_FLUSH, so a
// partial body already yields its decodable prefix. Output is bounded: a decompression
// bomb yields at most `limit` bytes and is counted. Data that does not inflate is passed
// through unchanged (libhtp's passthrough after a failed first decompression).
import { latin1Text } from './latin1Text';
import * as zlib from 'node:zlib';
import type { AppLayerCounters } from './appLayerCounters';

export const HttpEncoding = { IDENTITY: 0, GZIP: 1, DEFLATE: 2 } as const;

const EMPTY: Uint8Array = new Uint8Array(0);

// Kept-body buffers of released transactions, reused by the next bodies (per worker, like the
// data path). Bodies were the largest share of the slab memory (a 3 KiB response per flow on
// http-heavy), and a fresh slab's pages are faulted in by the first body written there: the
// copy in append() was 5 % of the replay's CPU. Power-of-two sizes from 256 bytes to 128 KiB
// (the body limits' default is 100 KiB), at most BODY_POOL_MAX_BYTES in all. A pooled buffer
// holds a previous body's bytes: a body reads only the [0, rawLen) it wrote itself.
const BODY_POOL_MIN_LOG2 = 8;
const BODY_POOL_MAX_LOG2 = 17;
export const BODY_POOL_MAX_BYTES = 4 * 1024 * 1024;
const bodyPool: Uint8Array[][] = [];
for (let k = 0; k <= BODY_POOL_MAX_LOG2; k++) bodyPool.push([]);
let bodyPooledBytes = 0;

/** Bytes held by the body pool now (tests, metrics). */
export function bodyPoolBytes(): number {
  return bodyPooledBytes;
}

function takeBodyBuffer(n: number): Uint8Array {
  let k = BODY_POOL_MIN_LOG2;
  while (k <= BODY_POOL_MAX_LOG2 && 1 << k < n) k++;
  if (k > BODY_POOL_MAX_LOG2) return new Uint8Array(n);
  const list = bodyPool[k]!;
  if (list.length > 0) {
    bodyPooledBytes -= 1 << k;
    return list.pop()!;
  }
  return new Uint8Array(1 << k);
}

function giveBodyBuffer(b: Uint8Array): void {
  const size = b.length;
  if (size < 1 << BODY_POOL_MIN_LOG2 || size > 1 << BODY_POOL_MAX_LOG2 || (size & (size - 1)) !== 0) return;
  if (b.byteOffset !== 0 || b.buffer.byteLength !== size || bodyPooledBytes + size > BODY_POOL_MAX_BYTES) return;
  bodyPool[Math.log2(size)]!.push(b);
  bodyPooledBytes += size;
}

export class HttpBody {
  /** Bytes received (after dechunking), counted even beyond the limit. */
  received = 0;
  private raw: Uint8Array = EMPTY;
  private rawLen = 0;
  private decoded: Uint8Array | null = null;
  /** bytes() of an identity body, until the next append. */
  private view: Uint8Array | null = null;
  /**
   * The decoded output reached `limit`. Inflating is streaming (Z_SYNC_FLUSH), so more input
   * cannot change those bytes: keep them instead of inflating everything again on every
   * append. Without this a 1 MiB gzip bomb uploaded in 1460-byte segments cost ~4 s of CPU
   * (up to ~200 ms per segment) when the body buffer was read after each one (found by the
   * hardening tests).
   */
  private full = false;

  constructor(
    private readonly encoding: number,
    /** Max bytes kept for inspection (decoded). */
    private readonly limit: number,
    /** Max compressed bytes kept (decoded output is still capped at `limit`). */
    private readonly compressedLimit: number,
    private readonly counters: AppLayerCounters,
    /** Expected size (Content-Length) if known, to size the buffer once. */
    private readonly expected = 0,
  ) {}

  append(data: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.received += n;
    if (this.full) {
      this.counters.httpBodyTruncatedBytes += n;
      return;
    }
    const cap = this.encoding === HttpEncoding.IDENTITY ? this.limit : this.compressedLimit;
    const take = Math.min(n, cap - this.rawLen);
    if (take < n) this.counters.httpBodyTruncatedBytes += n - Math.max(take, 0);
    if (take <= 0) return;
    if (this.rawLen + take > this.raw.length) {
      const nb = takeBodyBuffer(Math.min(cap, Math.max(this.raw.length * 2, this.rawLen + take, this.expected, 256)));
      if (this.rawLen > 0) nb.set(this.raw.subarray(0, this.rawLen));
      giveBodyBuffer(this.raw);
      this.raw = nb;
    }
    this.raw.set(data.subarray(start, start + take), this.rawLen);
    this.rawLen += take;
    this.decoded = null;
    this.view = null;
  }

  /**
   * The transaction is done with (released by the parser): the kept bytes go back to the
   * pool for the next bodies. Called only once nothing reads this body any more (the engine
   * keeps no buffer view across packets; alert and EVE records read `received` only).
   */
  release(): void {
    const raw = this.raw;
    this.raw = EMPTY;
    this.rawLen = 0;
    this.decoded = null;
    this.view = null;
    this.full = true;
    giveBodyBuffer(raw);
  }

  /**
   * True when bytes() only grows as data is appended (what it returned before stays its start):
   * identity bodies. Inflated output is remade from all the input and may fall back to
   * passthrough, so it promises nothing.
   */
  get appendOnly(): boolean {
    return this.encoding === HttpEncoding.IDENTITY;
  }

  /** Bytes this body holds (kept input, and the inflated copy when there is one). */
  get retainedBytes(): number {
    const d = this.decoded;
    return this.raw.length + (d !== null && d.buffer !== this.raw.buffer ? d.length : 0);
  }

  /** The body bytes for inspection: decoded, at most `limit` bytes. */
  bytes(): Uint8Array {
    if (this.encoding === HttpEncoding.IDENTITY) {
      // One view per append, not per read: the engine reads the body once per prefilter and
      // candidate on every packet of the transaction.
      let v = this.view;
      if (v === null) v = this.view = this.raw.subarray(0, this.rawLen);
      return v;
    }
    if (this.decoded === null) this.decoded = this.inflate();
    return this.decoded;
  }

  private inflate(): Uint8Array {
    const input = this.raw.subarray(0, this.rawLen);
    if (input.length === 0) return input;
    const opts = { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: this.limit };
    const attempts: Array<(b: Uint8Array) => Buffer> =
      this.encoding === HttpEncoding.GZIP
        ? [(b) => zlib.gunzipSync(b, opts), (b) => zlib.inflateSync(b, opts), (b) => zlib.inflateRawSync(b, opts)]
        : [(b) => zlib.inflateSync(b, opts), (b) => zlib.inflateRawSync(b, opts), (b) => zlib.gunzipSync(b, opts)];
    for (const f of attempts) {
      const out = this.boundedInflate(f, input);
      if (out !== null) return out;
    }
    this.counters.httpDecompressFailed++;
    return input.length > this.limit ? input.subarray(0, this.limit) : input;
  }

  // Node throws instead of truncating when maxOutputLength is hit; then binary-search the
  // longest input prefix whose output fits (about 20 bounded inflates), and count the cut.
  private boundedInflate(f: (b: Uint8Array) => Buffer, input: Uint8Array): Uint8Array | null {
    const tryLen = (len: number): Buffer | null | 'big' => {
      try {
        return f(input.subarray(0, len));
      } catch (e) {
        const code = (e as { code?: string }).code;
        return code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError ? 'big' : null;
      }
    };
    const whole = tryLen(input.length);
    if (whole === null) return null;
    let best: Buffer;
    if (whole !== 'big') {
      best = whole;
    } else {
      let lo = 0;
      let hi = input.length;
      best = Buffer.alloc(0);
      while (hi - lo > 1) {
        const mid = (lo + hi) >>> 1;
        const r = tryLen(mid);
        if (r === 'big') hi = mid;
        else {
          lo = mid;
          if (r !== null) best = r;
        }
      }
      this.counters.httpDecompressTruncated++;
      this.full = true;
    }
    return new Uint8Array(best.buffer, best.byteOffset, best.length);
  }
}

/** Maps a Content-Encoding value to an HttpEncoding (last coding applied wins, as libhtp). */
export function parseContentEncoding(value: Uint8Array | null): number {
  if (value === null) return HttpEncoding.IDENTITY;
  const v = latin1Text(value).toLowerCase();
  const parts = v.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const last = parts[parts.length - 1] ?? '';
  if (last === 'gzip' || last === 'x-gzip') return HttpEncoding.GZIP;
  if (last === 'deflate' || last === 'x-deflate') return HttpEncoding.DEFLATE;
  return HttpEncoding.IDENTITY;
}
