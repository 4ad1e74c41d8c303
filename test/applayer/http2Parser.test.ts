// HTTP/2 (src/applayer/http2Parser.ts, http2Transaction.ts): the h2c upgrade capture of
// suricata-verify (nghttp2.org, curl) through AppLayerState as the pipeline feeds it, whole and
// split at every byte; crafted prior-knowledge connections for CONTINUATION, padding, priority,
// RST_STREAM/GOAWAY/WINDOW_UPDATE, and the malformed and bounded paths.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { AppLayerState } from '../../src/applayer/appLayerState';
import { AppProto } from '../../src/applayer/appProto';
import { detectAppProtocol } from '../../src/applayer/detectAppProtocol';
import { HttpProgress } from '../../src/applayer/httpTransaction';
import { DEFAULT_HTTP2_LIMITS, Http2Parser, HTTP2_PREFACE } from '../../src/applayer/http2Parser';
import { Http2FrameType, type Http2Transaction } from '../../src/applayer/http2Transaction';
import { encodeHuffman } from '../../src/applayer/hpackHuffman';
import { corpusPath } from '../support/corpus';
import { readCapture, type StreamChunk } from './pcapStreams';

const s = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('latin1'));

function upgradeChunks(): StreamChunk[] {
  const cap = readCapture(corpusPath('suricata-verify', 'tests', 'http2-keywords2', 'input.pcap'));
  assert.is(cap.connections.length, 1);
  return cap.connections[0]!.chunks;
}

function feedAll(chunks: StreamChunk[], split = 0): { st: AppLayerState; counters: AppLayerCounters } {
  const counters = new AppLayerCounters();
  const st = new AppLayerState(true, counters);
  for (const c of chunks) {
    if (split === 0) st.feed(c.toServer, c.data);
    else for (let i = 0; i < c.data.length; i += split) st.feed(c.toServer, c.data, i, Math.min(c.data.length, i + split));
  }
  return { st, counters };
}

function stream(txs: readonly Http2Transaction[], sid: number): Http2Transaction {
  const t = txs.find((x) => !x.global && x.streamId === sid);
  assert.ok(t, `stream ${sid}`);
  return t!;
}

function checkUpgrade(st: AppLayerState, counters: AppLayerCounters): void {
  assert.is(st.proto, AppProto.HTTP2);
  // The HTTP/1.1 part stays: the upgrade request and its 101.
  assert.is(st.http!.transactions.length, 1);
  assert.is(st.http!.transactions[0]!.status, 101);
  const txs = st.http2!.transactions;
  // Stream 1 (the upgraded request), the HTTP2-Settings global, server SETTINGS, client
  // SETTINGS, client WINDOW_UPDATE, stream 3: Suricata 7.0.10 logs the same six (tx_id 0-5).
  assert.is(txs.length, 6);
  assert.equal(txs.map((t) => t.id), [1, 2, 3, 4, 5, 6]);
  assert.equal(txs.map((t) => (t.global ? 'g' : t.streamId)), [1, 'g', 'g', 'g', 'g', 3]);
  const s1 = stream(txs, 1);
  assert.ok(s1.upgraded);
  assert.is(s(s1.buffer('http.uri', true)), '/robots.txt');
  assert.is(s(s1.buffer('http.method', true)), 'GET');
  assert.is(s(s1.buffer('http.host', true)), 'nghttp2.org');
  // Names keep the HTTP/1.1 spelling ("User-Agent"): Suricata's lookup of "user-agent" misses
  // them, so http.user_agent matches stream 3 only (sid 20 alerts once there).
  assert.is(s(s1.buffer('http.user_agent', true)), null);
  assert.ok(s(s1.buffer('http.header', true))!.includes('User-Agent: curl/7.61.0\r\n'));
  assert.is(s(s1.buffer('http.stat_code', false)), '200');
  assert.is(s(s1.buffer('http.response_line', false)), 'HTTP/2 200\r\n');
  assert.ok(s(s1.buffer('http.response_body', false))!.includes('Sitemap: //nghttp2.org/sitemap.xml'));
  assert.is(s1.requestProgress, HttpProgress.COMPLETE);
  assert.is(s1.responseProgress, HttpProgress.COMPLETE);
  // HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA = max concurrent 100, window 2^30, push off.
  const up = txs[1]!.framesTs[0]!;
  assert.equal(up.settings, [{ id: 3, value: 100 }, { id: 4, value: 1073741824 }, { id: 2, value: 0 }]);
  // The server's SETTINGS came in the same segment as the 101.
  assert.equal(txs[2]!.framesTc[0]!.settings!.find((x) => x.id === 1), { id: 1, value: 8192 });
  assert.is(txs[4]!.framesTs[0]!.type, Http2FrameType.WINDOW_UPDATE);
  assert.ok(txs[4]!.framesTs[0]!.window > 0);
  const s3 = stream(txs, 3);
  assert.is(s(s3.buffer('http.request_line', true)), 'GET /humans.txt HTTP/2');
  assert.is(s(s3.buffer('http.user_agent', true)), 'curl/7.61.0');
  assert.is(s(s3.buffer('http.header_names', true)), '\r\n:method\r\n:path\r\n:scheme\r\n:authority\r\nuser-agent\r\naccept\r\n\r\n');
  assert.ok(s(s3.buffer('http.header', true))!.endsWith('user-agent: curl/7.61.0\r\naccept: */*\r\n'));
  assert.equal(s3.framesTs[0]!.headers!.sizeUpdates, [4096]);
  assert.is(s(s3.buffer('http.stat_code', false)), '404');
  assert.is(s(s3.buffer('http.server', false)), 'nghttpx');
  assert.is(s(s3.buffer('http.stat_msg', false)), '');
  assert.is(s(s3.buffer('http.protocol', true)), 'HTTP/2');
  assert.is(s(s3.buffer('http.response_body', false)), 'not found');
  assert.is(counters.http2HpackErrors, 0);
  assert.is(counters.http2MalformedFrames, 0);
  assert.is(counters.http2BadPreface, 0);
}

test('h2c upgrade (suricata-verify http2-keywords2): transactions and buffers as Suricata makes them', () => {
  const { st, counters } = feedAll(upgradeChunks());
  checkUpgrade(st, counters);
});

test('the same conversation split at every byte gives the same result', () => {
  const { st, counters } = feedAll(upgradeChunks(), 1);
  checkUpgrade(st, counters);
});

// --- crafted prior-knowledge connections ---

function frame(type: number, flags: number, sid: number, payload: number[]): number[] {
  const n = payload.length;
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff, type, flags, (sid >>> 24) & 0x7f, (sid >> 16) & 0xff, (sid >> 8) & 0xff, sid & 0xff, ...payload];
}

/** HPACK literal without indexing, new name; the value Huffman-coded when huff. */
function lit(name: string, value: string, huff = false): number[] {
  const v = huff ? [...encodeHuffman(Buffer.from(value))] : [...Buffer.from(value)];
  return [0x00, name.length, ...Buffer.from(name), (huff ? 0x80 : 0) | v.length, ...v];
}

const GET_ROOT = [0x82, 0x86, 0x84]; // :method GET, :scheme http, :path / (static indexes 2, 6, 4)
const PREFACE = [...HTTP2_PREFACE];

function h2(client: number[], server: number[] = []): { st: AppLayerState; counters: AppLayerCounters } {
  const counters = new AppLayerCounters();
  const st = new AppLayerState(true, counters);
  st.feed(true, Uint8Array.from(client));
  if (server.length) st.feed(false, Uint8Array.from(server));
  return { st, counters };
}

test('prior knowledge: the client preface identifies HTTP/2 (a prefix asks for more)', () => {
  const p = Uint8Array.from(HTTP2_PREFACE);
  assert.is(detectAppProtocol(p, 0, p.length, true, true), AppProto.HTTP2);
  assert.is(detectAppProtocol(p, 0, 10, true, true), -1);
  const { st } = h2([...PREFACE, ...frame(4, 0, 0, [])]);
  assert.is(st.proto, AppProto.HTTP2);
  // An empty SETTINGS makes no transaction (Suricata skips them).
  assert.is(st.http2!.transactions.length, 0);
});

test('HEADERS + CONTINUATION are joined; padding and priority are stripped', () => {
  const block = [...GET_ROOT, ...lit(':authority', 'Example.COM:8080', true), ...lit('user-agent', 'h2-test')];
  const cut = 5;
  // PADDED | PRIORITY, no END_HEADERS: pad length 3, dependency 0, weight 200, fragment, padding.
  const headers = frame(1, 0x08 | 0x20 | 0x01, 1, [3, 0, 0, 0, 0, 200, ...block.slice(0, cut), 0, 0, 0]);
  const cont = frame(9, 0x04, 1, block.slice(cut));
  const { st, counters } = h2([...PREFACE, ...headers, ...cont]);
  const tx = stream(st.http2!.transactions, 1);
  assert.is(s(tx.buffer('http.uri', true)), '/');
  assert.is(s(tx.buffer('http.host.raw', true)), 'Example.COM:8080');
  assert.is(s(tx.buffer('http.host', true)), 'example.com');
  assert.is(s(tx.buffer('http.user_agent', true)), 'h2-test');
  assert.is(tx.framesTs[0]!.priorityWeight, 200);
  assert.is(tx.requestProgress, HttpProgress.COMPLETE);
  assert.is(counters.http2MalformedFrames, 0);
});

test('DATA: padded, split, gzip content-encoding decoded into the body; END_STREAM completes', () => {
  const zlib = require('node:zlib') as typeof import('node:zlib');
  const body = zlib.gzipSync(Buffer.from('hello from the server, '.repeat(20)));
  const half = body.length >> 1;
  const resp = [
    ...frame(1, 0x04, 1, [0x88, ...lit('content-encoding', 'gzip')]), // :status 200
    ...frame(0, 0x08, 1, [4, ...body.subarray(0, half), 9, 9, 9, 9]),
    ...frame(0, 0x01, 1, [...body.subarray(half)]),
  ];
  const { st } = h2([...PREFACE, ...frame(1, 0x05, 1, GET_ROOT)], resp);
  const tx = stream(st.http2!.transactions, 1);
  assert.is(s(tx.buffer('http.response_body', false)), 'hello from the server, '.repeat(20));
  assert.is(s(tx.buffer('file.data', false)), 'hello from the server, '.repeat(20));
  assert.is(tx.responseProgress, HttpProgress.COMPLETE);
  assert.is(tx.framesTc.filter((f) => f.type === Http2FrameType.DATA).length, 2);
});

test('RST_STREAM, GOAWAY, WINDOW_UPDATE, PRIORITY and PING are kept with their values', () => {
  const client = [
    ...PREFACE,
    ...frame(1, 0x04, 1, GET_ROOT),
    ...frame(2, 0, 1, [0, 0, 0, 0, 15]),
    ...frame(8, 0, 1, [0, 1, 0, 0]),
    ...frame(3, 0, 1, [0, 0, 0, 8]), // CANCEL
    ...frame(6, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]),
    ...frame(7, 0, 0, [0, 0, 0, 1, 0, 0, 0, 2]), // last stream 1, INTERNAL_ERROR
  ];
  const { st } = h2(client);
  const txs = st.http2!.transactions;
  const s1 = stream(txs, 1);
  assert.equal(s1.framesTs.map((f) => f.type), [1, 2, 8, 3]);
  assert.is(s1.framesTs[1]!.priorityWeight, 15);
  assert.is(s1.framesTs[2]!.window, 65536);
  assert.is(s1.framesTs[3]!.errorCode, 8);
  // RST_STREAM ends the stream both ways.
  assert.is(s1.responseProgress, HttpProgress.COMPLETE);
  assert.equal(txs.filter((t) => t.global).map((t) => t.framesTs[0]!.type), [6, 7]);
  assert.is(txs.find((t) => t.global && t.framesTs[0]!.type === 7)!.framesTs[0]!.errorCode, 2);
});

test('PUSH_PROMISE headers go to the promised stream', () => {
  const { st } = h2([...PREFACE, ...frame(1, 0x05, 1, GET_ROOT)],
    [...frame(5, 0x04, 1, [0, 0, 0, 2, 0x82, 0x86, ...lit(':path', '/style.css')]), ...frame(1, 0x05, 2, [0x88])]);
  const s2 = stream(st.http2!.transactions, 2);
  assert.is(s2.framesTc[0]!.type, Http2FrameType.PUSH_PROMISE);
  assert.is(s2.framesTc.length, 2);
  assert.is(s(s2.buffer('http.stat_code', false)), '200');
});

test('malformed: bad preface, CONTINUATION out of place, HPACK error, oversized frame — counted', () => {
  // Through AppLayerState a wrong preface is not HTTP/2 at all; the parser itself counts it.
  const notH2 = h2([...Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'), ...frame(1, 0x05, 1, GET_ROOT)]);
  assert.is.not(notH2.st.proto, AppProto.HTTP2);
  const badCounters = new AppLayerCounters();
  const bad = new Http2Parser(badCounters);
  bad.feed(true, Uint8Array.from([...Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'), ...frame(1, 0x05, 1, GET_ROOT)]));
  assert.is(badCounters.http2BadPreface, 1);
  assert.ok(bad.failed(true));
  assert.is(bad.transactions.length, 0);

  const cont = h2([...PREFACE, ...frame(9, 0x04, 1, GET_ROOT)]);
  assert.is(cont.counters.http2MalformedFrames, 1);
  assert.ok(cont.st.http2!.failed(true));

  const interleaved = h2([...PREFACE, ...frame(1, 0x00, 1, GET_ROOT), ...frame(6, 0, 0, [0, 0, 0, 0, 0, 0, 0, 0])]);
  assert.is(interleaved.counters.http2MalformedFrames, 1);

  const hpack = h2([...PREFACE, ...frame(1, 0x05, 1, [0x82, 0xbf])]); // index 63: empty dynamic table
  assert.is(hpack.counters.http2HpackErrors, 1);
  assert.is(s(stream(hpack.st.http2!.transactions, 1).buffer('http.method', true)), 'GET');

  const big = new Http2Parser(new AppLayerCounters(), { ...DEFAULT_HTTP2_LIMITS, maxFrame: 16 }, false);
  big.feed(true, Uint8Array.from([...frame(6, 0, 0, Array(40).fill(1)), ...frame(8, 0, 0, [0, 0, 1, 0])]));
  assert.is(big.transactions.length, 1);
  assert.is(big.transactions[0]!.framesTs[0]!.window, 256);
});

test('bounded: transactions and frames per transaction are capped, evictions counted', () => {
  const counters = new AppLayerCounters();
  const p = new Http2Parser(counters, { ...DEFAULT_HTTP2_LIMITS, maxTransactions: 8, maxFramesPerTx: 4 }, false);
  const bytes: number[] = [];
  for (let sid = 1; sid < 40; sid += 2) bytes.push(...frame(1, 0x05, sid, GET_ROOT));
  for (let i = 0; i < 10; i++) bytes.push(...frame(8, 0, 39, [0, 0, 0, 1]));
  p.feed(true, Uint8Array.from(bytes));
  assert.is(p.transactions.length, 8);
  assert.is(counters.http2TxEvicted, 12);
  assert.is(p.transactions.at(-1)!.framesTs.length, 4);
  assert.is(counters.http2FramesDropped, 7);
});

test.run();
