// What an HTTP flow keeps, and that reused storage never shows one message's bytes in another:
// the parser holds no buffer between messages (partial lines come from a pool, the header
// block becomes the transaction's own), a finished header block gives its unused tail back
// to the slab, released transactions give their body buffers to the next bodies, and header
// keys come from a bounded cache. Crafted messages through the real HttpParser.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allocBytes, shrinkBytes } from '../../src/applayer/allocBytes';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { bodyPoolBytes } from '../../src/applayer/httpBody';
import { httpHeaderKey } from '../../src/applayer/httpHeaderKey';
import { DEFAULT_HTTP_LIMITS, HttpParser } from '../../src/applayer/httpParser';
import { HttpProgress, HttpTransaction } from '../../src/applayer/httpTransaction';
import { normalizeHttpUri, normalizeHttpUriCopy } from '../../src/applayer/normalizeHttpUri';

const B = (s: string): Buffer => Buffer.from(s, 'latin1');
const S = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('latin1'));

const BUFFERS = ['http.request_line', 'http.method', 'http.uri', 'http.uri.raw', 'http.protocol', 'http.header', 'http.header.raw',
  'http.header_names', 'http.start', 'http.host', 'http.host.raw', 'http.user_agent', 'file.data'];

function snapshot(tx: HttpTransaction): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const name of BUFFERS) {
    out[`>${name}`] = S(tx.buffer(name, true));
    out[`<${name}`] = S(tx.buffer(name, false));
  }
  out['<http.stat_code'] = S(tx.buffer('http.stat_code', false));
  out['<http.response_line'] = S(tx.buffer('http.response_line', false));
  return out;
}

/** Feeds `data` in pieces of `step` bytes. */
function feed(p: HttpParser, toServer: boolean, data: Buffer, step = data.length): void {
  for (let i = 0; i < data.length; i += step) p.feed(toServer, data, i, Math.min(data.length, i + step));
}

function request(i: number): Buffer {
  return B(`GET /item/${i}?q=${'z'.repeat(i % 50)} HTTP/1.1\r\nHost: Host${i}.example\r\nUser-Agent: agent-${i}\r\n` +
    `X-Long: ${'v'.repeat((i * 37) % 300)}\r\n\r\n`);
}

function response(i: number): Buffer {
  const body = String.fromCharCode(0x41 + (i % 26)).repeat(100 + ((i * 53) % 3000));
  return B(`HTTP/1.1 200 OK\r\nServer: s${i}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
}

test('a parser between messages holds no buffer; a message in progress does', () => {
  const p = new HttpParser(new AppLayerCounters());
  const req = request(1);
  p.feed(true, req, 0, 20); // mid request line
  assert.ok(p.scratchBytes() > 0, 'a partial line is kept');
  p.feed(true, req, 20, 40); // the request line is done, a header line is partial
  assert.ok(p.scratchBytes() > 0, 'the header block in progress is kept');
  p.feed(true, req, 40, req.length);
  assert.is(p.transactions[0]!.requestProgress, HttpProgress.COMPLETE);
  assert.is(p.scratchBytes(), 0, 'request done: nothing kept by the parser');
  feed(p, false, response(1), 7);
  assert.is(p.transactions[0]!.responseProgress, HttpProgress.COMPLETE);
  assert.is(p.scratchBytes(), 0, 'response done: nothing kept by the parser');
  // Chunked: the chunk-size lines split across feeds are parsed and their buffer given back.
  feed(p, true, request(2));
  feed(p, false, B('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'), 3);
  assert.is(S(p.transactions[1]!.buffer('file.data', false)), 'hello world');
  assert.is(p.scratchBytes(), 0);
});

test('a direction that stops parsing (gap, over a limit) drops its message in progress', () => {
  const p = new HttpParser(new AppLayerCounters());
  const req = request(3);
  p.feed(true, req, 0, 40);
  assert.ok(p.scratchBytes() > 0);
  p.gap(true);
  assert.is(p.scratchBytes(), 0, 'after a gap');
  const q = new HttpParser(new AppLayerCounters(), { ...DEFAULT_HTTP_LIMITS, maxHeaderBlock: 100 });
  q.feed(true, B(`GET / HTTP/1.1\r\nA: ${'a'.repeat(60)}\r\nB: ${'b'.repeat(60)}\r\n`));
  assert.is(q.scratchBytes(), 0, 'over the header block limit');
  assert.is(S(q.transactions[0]!.buffer('http.request_line', true)), 'GET / HTTP/1.1', 'the transaction keeps its views');
});

test('transaction buffers never change while later messages (split anywhere) reuse the pools and slab', () => {
  const kept: Array<{ tx: HttpTransaction; seen: Record<string, string | null> }> = [];
  const parsers = [new HttpParser(new AppLayerCounters()), new HttpParser(new AppLayerCounters())];
  const keep = new HttpParser(new AppLayerCounters());
  for (let i = 0; i < 400; i++) {
    // Every 40th transaction is kept (its parser never releases it); the others are released
    // as the engine does once they are inspected, so their bodies feed the pool.
    const p = i % 40 === 0 ? keep : parsers[i % 2]!;
    const step = 1 + (i % 17) * 13; // every split, from byte by byte to whole messages
    feed(p, true, request(i), step);
    feed(p, false, response(i), step);
    const tx = p.transactions[p.transactions.length - 1]!;
    assert.is(S(tx.buffer('http.uri.raw', true)), `/item/${i}?q=${'z'.repeat(i % 50)}`);
    assert.is(S(tx.buffer('http.host', true)), `host${i}.example`);
    assert.is(tx.buffer('file.data', false)!.length, 100 + ((i * 53) % 3000));
    if (p === keep) kept.push({ tx, seen: snapshot(tx) });
    else p.releaseBefore(tx.id + 1);
  }
  for (const k of kept) assert.equal(snapshot(k.tx), k.seen, `transaction ${k.tx.id} unchanged`);
});

test('a released transaction gives its body buffer to the next body, which shows only its own bytes', () => {
  const p = new HttpParser(new AppLayerCounters());
  feed(p, true, request(1));
  feed(p, false, B(`HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n${'A'.repeat(3000)}`));
  const first = p.transactions[0]!;
  const before = bodyPoolBytes();
  p.releaseBefore(1);
  assert.is(p.transactions.length, 0);
  assert.ok(bodyPoolBytes() > before, 'the body buffer went to the pool');
  assert.is(first.responseBody!.bytes().length, 0, 'a released body shows nothing');
  assert.is(first.responseBody!.received, 3000, 'its byte count stays (alert and EVE records read it)');
  // The next bodies take pooled buffers: a shorter one and a chunked one read only their bytes.
  const q = new HttpParser(new AppLayerCounters());
  feed(q, true, request(2));
  feed(q, false, B('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nshort'), 2);
  assert.ok(bodyPoolBytes() < before + 4096, 'a pooled buffer was reused');
  assert.is(S(q.transactions[0]!.buffer('file.data', false)), 'short');
  feed(q, true, request(3));
  feed(q, false, B('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'));
  assert.is(S(q.transactions[1]!.buffer('file.data', false)), 'abc');
});

test('shrinkBytes gives the unused tail of the last slab allocation back, and only that', () => {
  const a = allocBytes(2048);
  a.fill(0x61);
  const kept = shrinkBytes(a, 100);
  assert.is(kept.length, 100);
  const next = allocBytes(64);
  assert.is(next.buffer, a.buffer);
  assert.is(next.byteOffset, a.byteOffset + 104, 'the next allocation starts after the kept bytes (8-aligned)');
  next.fill(0x62);
  assert.ok(kept.every((c) => c === 0x61), 'the kept bytes are untouched');
  // Not the last allocation any more: nothing is given back (it would overlap `next`).
  const again = shrinkBytes(kept, 50);
  assert.is(again.length, 50);
  const after = allocBytes(8);
  assert.ok(after.byteOffset >= next.byteOffset + 64);
});

test('header keys: lowercased names from the cache equal a fresh lowercase, for any case and many names', () => {
  const names = ['Host', 'HOST', 'host', 'Content-Length', 'content-length', 'X-\u00c0b', 'x-\u00e0B', 'N'.repeat(80), ''];
  for (let i = 0; i < 3000; i++) names.push(`X-Custom-${i.toString(36)}-${i % 2 ? 'UP' : 'low'}`);
  for (let round = 0; round < 2; round++) {
    for (const n of names) assert.is(httpHeaderKey(B(n)), n.toLowerCase(), n);
  }
});

test('http.uri: a target returned as it is normalises to exactly itself', () => {
  const alphabet = ['/', '/', 'a', 'b', '.', '%', '2', 'f', '?', '#', '\\', '+', '\u00c3', '\u00a9', 'A'];
  let shortcuts = 0;
  let seed = 7;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (let i = 0; i < 5000; i++) {
    let s = rnd(4) === 0 ? '' : '/';
    const len = rnd(14);
    for (let k = 0; k < len; k++) s += alphabet[rnd(alphabet.length)];
    const raw = B(s);
    const fast = normalizeHttpUri(raw);
    if (fast === raw) shortcuts++;
    assert.is(S(fast), S(normalizeHttpUriCopy(raw)), JSON.stringify(s));
  }
  assert.ok(shortcuts > 50, `the shortcut was taken (${shortcuts})`);
  const plain = B('/index.html?a=1&b=/x#frag');
  assert.is(normalizeHttpUri(plain), plain, 'a plain target is not copied');
});

test.run();
