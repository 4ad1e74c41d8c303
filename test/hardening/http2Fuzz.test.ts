// The HTTP/2 parser and HPACK decoder fuzzed with fast-check under fixed seeds, like
// appLayerFuzz.test.ts does for the other parsers: arbitrary bytes after the client preface,
// grammar-aware frame sequences (every type, random flags, padding, priority, CONTINUATION,
// stream ids, lengths that lie), HPACK blocks of random representations (indexes past the
// tables, size updates, Huffman strings, integers that overflow), and an h2c upgrade followed by
// garbage — all in arbitrary splits through AppLayerState. Nothing may throw, each input is
// timed, every buffer and keyword value is read, and what a connection keeps stays within its
// caps (transactions, frames per transaction, decoded header bytes, HPACK table size).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { AppLayerState } from '../../src/applayer/appLayerState';
import { DEFAULT_HTTP2_LIMITS, HTTP2_PREFACE } from '../../src/applayer/http2Parser';
import { HpackDecoder, DEFAULT_HPACK_LIMITS } from '../../src/applayer/hpackDecoder';
import { FUZZ_SEED, FuzzTimer, fcOptions, feedInSplits } from './fuzz';

const BUFFERS = [
  'http.uri', 'http.uri.raw', 'http.method', 'http.request_line', 'http.protocol', 'http.header', 'http.header.raw',
  'http.header_names', 'http.host', 'http.host.raw', 'http.user_agent', 'http.cookie', 'http.content_type',
  'http.content_len', 'http.referer', 'http.accept', 'http.accept_enc', 'http.accept_lang', 'http.connection',
  'http.request_body', 'http.stat_code', 'http.stat_msg', 'http.response_line', 'http.response_body', 'file.data',
  'http.server', 'http.location',
];

type Chunks = Array<{ toServer: boolean; data: Uint8Array }>;

const splitsArb = fc.array(fc.integer({ min: 1, max: 1500 }), { maxLength: 12 });


/** Feeds the chunks in the given splits, then reads every buffer and value, and checks the caps. */
function exercise(counters: AppLayerCounters, chunks: Chunks, splits: number[]): void {
  const st = new AppLayerState(true, counters);
  let k = 0;
  for (const c of chunks) k = feedInSplits(st, c.toServer, c.data, splits, k);
  st.close(true);
  st.close(false);
  const h2 = st.http2;
  if (h2 === null) return;
  const txs = h2.transactions;
  assert.ok(txs.length <= DEFAULT_HTTP2_LIMITS.maxTransactions, `${txs.length} transactions`);
  let headerBytes = 0;
  for (const tx of txs) {
    assert.ok(tx.framesTs.length <= DEFAULT_HTTP2_LIMITS.maxFramesPerTx && tx.framesTc.length <= DEFAULT_HTTP2_LIMITS.maxFramesPerTx);
    headerBytes += tx.headerBytes;
    for (const dir of [true, false]) {
      for (const b of BUFFERS) {
        const v = tx.buffer(b, dir);
        if (v !== null && (b === 'http.request_body' || b === 'http.response_body' || b === 'file.data')) {
          assert.ok(v.length <= DEFAULT_HTTP2_LIMITS.responseBodyLimit, `${b} ${v.length}`);
        }
      }
      for (let kind = 0; kind <= 6; kind++) for (let i = 0; i < 4; i++) tx.valueAt(kind, i, dir);
    }
  }
  assert.ok(headerBytes <= DEFAULT_HTTP2_LIMITS.maxHeaderBytes, `${headerBytes} header bytes kept`);
}

function frame(type: number, flags: number, sid: number, payload: Uint8Array, lie = -1): Uint8Array {
  const n = lie >= 0 ? lie : payload.length;
  const h = [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff, type, flags, (sid >>> 24) & 0xff, (sid >> 16) & 0xff, (sid >> 8) & 0xff, sid & 0xff];
  return Uint8Array.from([...h, ...payload]);
}

// HPACK representations: indexed (any index, often past the tables), literals with and without
// indexing and with Huffman strings (valid or not), size updates (sometimes huge), and
// integers with long continuations.
const hpackPiece = fc.oneof(
  fc.integer({ min: 1, max: 127 }).map((i) => [0x80 | i]),
  fc.tuple(fc.integer({ min: 0, max: 63 }), fc.uint8Array({ maxLength: 40 }), fc.boolean()).map(([i, v, h]) =>
    i === 0
      ? [0x40, 3, 0x61, 0x62, 0x63, (h ? 0x80 : 0) | Math.min(v.length, 127), ...v.subarray(0, 127)]
      : [0x40 | i, (h ? 0x80 : 0) | Math.min(v.length, 127), ...v.subarray(0, 127)]),
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 40 })).map(([i, v]) => [i, Math.min(v.length, 127), ...v.subarray(0, 127)]),
  fc.integer({ min: 0, max: 30 }).map((i) => [0x3f, ...Array(Math.min(i, 6)).fill(0xff), 0x01]),
  fc.integer({ min: 0, max: 5 }).map((n) => [0x7f, ...Array(n).fill(0x80), 0x7f]),
  fc.uint8Array({ maxLength: 20 }).map((b) => [...b]),
);
const hpackBlock = fc.array(hpackPiece, { maxLength: 20 }).map((ps) => Uint8Array.from(ps.flat()));

const frameArb = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(1, 5, 9), fc.integer({ min: 0, max: 0x2f }), fc.integer({ min: 0, max: 9 }), hpackBlock)
    .map(([t, f, sid, b]) => frame(t, f, sid, t === 5 ? Uint8Array.from([0, 0, 0, 2, ...b]) : b)) },
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 9 }), fc.uint8Array({ maxLength: 64 }))
    .map(([t, f, sid, p]) => frame(t, f, sid, p)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 0xffffff }), fc.uint8Array({ maxLength: 32 }))
    .map(([t, lie, p]) => frame(t, 0, 1, p, lie)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 200 }))
    .map(([pad, p]) => frame(0, 0x08 | 0x01, 1, Uint8Array.from([pad, ...p]))) },
);

test('http2: grammar-aware frame sequences both ways, any split', () => {
  const timer = new FuzzTimer('http2 frames');
  const counters = new AppLayerCounters();
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), frameArb), { maxLength: 30 }), splitsArb, (frames, splits) => {
      const conv: Chunks = [{ toServer: true, data: HTTP2_PREFACE }, ...frames.map(([toServer, data]) => ({ toServer, data }))];
      timer.time(() => exercise(counters, conv, splits));
    }),
    fcOptions(FUZZ_SEED + 20, 3000),
  );
  timer.finish();
  assert.ok(counters.http2Frames > 5000, `deep enough: ${counters.http2Frames} frames`);
  assert.ok(counters.http2HpackErrors > 0 && counters.http2MalformedFrames > 0, 'HPACK and frame errors were counted');
});

test('http2: arbitrary bytes after the preface and after an h2c upgrade, any split', () => {
  const timer = new FuzzTimer('http2 arbitrary bytes');
  const counters = new AppLayerCounters();
  const upgradeReq = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n');
  const upgradeRes = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
  fc.assert(
    fc.property(fc.boolean(), fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 3000 })), { maxLength: 6 }), splitsArb, (upgrade, parts, splits) => {
      const head: Chunks = upgrade
        ? [{ toServer: true, data: upgradeReq }, { toServer: false, data: upgradeRes }, { toServer: true, data: HTTP2_PREFACE }]
        : [{ toServer: true, data: HTTP2_PREFACE }];
      timer.time(() => exercise(counters, [...head, ...parts.map(([toServer, data]) => ({ toServer, data }))], splits));
    }),
    fcOptions(FUZZ_SEED + 21, 3000),
  );
  timer.finish();
});

test('hpack: random blocks on one decoder keep the table within its limit', () => {
  const timer = new FuzzTimer('hpack blocks');
  const d = new HpackDecoder();
  let errors = 0;
  fc.assert(
    fc.property(hpackBlock, (b) => {
      const out = timer.time(() => d.decode(b));
      if (out.error !== 0) errors++;
      assert.ok(d.size <= d.maxSize && d.maxSize <= DEFAULT_HPACK_LIMITS.tableLimit, `table ${d.size}/${d.maxSize}`);
      assert.ok(out.fields.length <= DEFAULT_HPACK_LIMITS.maxFields);
    }),
    fcOptions(FUZZ_SEED + 22, 5000),
  );
  timer.finish();
  assert.ok(errors > 0);
});

/** An HPACK string length (7-bit prefix, no Huffman), RFC 7541 §5.1. */
function hpackLength(n: number): number[] {
  if (n < 127) return [n];
  const out = [127];
  let v = n - 127;
  while (v >= 128) {
    out.push((v & 127) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

test('http2: a header flood (many streams of large literal headers) stays within the byte budget', () => {
  const timer = new FuzzTimer('http2 header flood');
  const counters = new AppLayerCounters();
  const st = new AppLayerState(true, counters);
  st.feed(true, HTTP2_PREFACE);
  // Each block: one literal-without-indexing field (name "x") with a 60,000-byte value, so the
  // 8 MiB budget, not the 256-transaction cap, is what evicts.
  const big = Uint8Array.from([0x00, 1, 0x78, ...hpackLength(60000), ...Buffer.alloc(60000, 0x41)]);
  for (let sid = 1; sid < 2 * 300; sid += 2) timer.time(() => st.feed(true, frame(1, 0x05, sid, big)));
  timer.finish();
  let kept = 0;
  for (const tx of st.http2!.transactions) kept += tx.headerBytes;
  assert.ok(kept <= DEFAULT_HTTP2_LIMITS.maxHeaderBytes, `${kept} bytes kept`);
  assert.ok(kept > DEFAULT_HTTP2_LIMITS.maxHeaderBytes - 120000, 'the budget was filled, not bypassed');
  assert.ok(counters.http2TxEvicted > 0);
  assert.ok(st.http2!.transactions.length < 256, 'evicted by bytes before the transaction cap');
  assert.is(counters.http2HpackErrors, 0);
});

test.run();
