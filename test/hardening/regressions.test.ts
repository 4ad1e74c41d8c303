// Regression tests for the bugs the hardening fuzzers found; one test per fix, each named
// after the defect it pins down.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { HttpAnomaly, HttpParser } from '../../src/applayer/httpParser';
import { TlsParser } from '../../src/applayer/tlsParser';
import { AppLayerState } from '../../src/applayer/appLayerState';
import { openPcap } from '../../src/capture/pcapOpen';
import { LateralError } from '../../src/errors';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseX509Names } from '../../src/applayer/x509Name';
import { derCertificate, derName, OID_CN, OID_O, tlsCertificateMessage, tlsRecords } from './der';

test('x509: a BMPString of odd length is malformed input, not an exception', () => {
  // Found by the X.509 fuzzer: Buffer.swap16 throws RangeError on an odd length, although
  // parseX509Names promises null-or-names on any input.
  const subject = derName([[OID_CN, 0x1e, Uint8Array.of(0, 0x41, 0)], [OID_O, 0x13, Buffer.from('Acme')]]);
  const issuer = derName([[OID_CN, 0x1e, Uint8Array.of(0, 0x42)]]);
  const names = parseX509Names(derCertificate(issuer, subject));
  assert.equal(names, { subject: 'CN=A, O=Acme', issuer: 'CN=B' });
});

test('x509: odd BMPString in a served certificate still yields its subject through the TLS parser', () => {
  const c = new AppLayerCounters();
  const t = new TlsParser(c);
  const cert = derCertificate(derName([[OID_CN, 0x13, Buffer.from('ca')]]), derName([[OID_CN, 0x1e, Uint8Array.of(0, 0x78, 0)]]));
  t.feed(false, tlsRecords(22, tlsCertificateMessage([cert])));
  assert.is(t.certSubject, 'CN=x');
  assert.is(c.tlsMalformed, 0);
});

test('tls: repeated Certificate messages no longer grow the certificate list without bound', () => {
  // Found by the TLS fuzzer: every Certificate handshake message appended its certificates,
  // so a server (or anything on port 443 answering) could grow one flow's memory forever.
  const c = new AppLayerCounters();
  const t = new TlsParser(c);
  const cert = derCertificate(derName([[OID_CN, 0x13, Buffer.from('ca')]]), derName([[OID_CN, 0x13, Buffer.from('srv')]]));
  const chain = Array.from({ length: 100 }, () => cert);
  const rec = tlsRecords(22, tlsCertificateMessage(chain));
  for (let i = 0; i < 200; i++) t.feed(false, rec);
  assert.is(t.certificates.length, 16);
  assert.is(c.tlsCertificatesDropped, 100 * 200 - 16, 'every certificate not kept is counted');
  assert.is(t.certSubject, 'CN=srv');
  assert.is(c.tlsMalformed, 0);
});

// Best of five runs of f, in ms, after three warm-ups: the cost of the work itself, not of a
// GC pause that happened to fall into one run.
function bestMs(f: () => void): number {
  for (let i = 0; i < 3; i++) f();
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    f();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

function request(headerLines: string): Uint8Array {
  return Buffer.from(`GET / HTTP/1.1\r\n${headerLines}\r\n`, 'latin1');
}

test('http: a header folded over thousands of continuation lines costs linear time', () => {
  // Found by the HTTP fuzzer: each continuation line re-copied the whole value so far, so a
  // 64 KiB header block (about 20000 " b" lines) cost ~250 ms of the single worker thread.
  const big = request(`X: a\r\n${' b\n'.repeat(16000)}`);
  const p = new HttpParser();
  p.feed(true, big);
  const tx = p.transactions[0]!;
  assert.is(tx.requestHeaders[0]!.value.length, 1 + 2 * 16000, 'every continuation line kept');
  assert.ok((tx.anomalies & HttpAnomaly.FOLDED_HEADER) !== 0);
  // Quadratic: ~150 ms here for this block; linear: ~5 ms (best of 5, so GC pauses do not count).
  const ms = bestMs(() => new HttpParser().feed(true, big));
  assert.ok(ms < 80, `${ms.toFixed(1)} ms for 16000 continuation lines`);
});

test('http: repeated header names are joined at most 64 times per message, the rest counted (libhtp)', () => {
  // Found by the HTTP fuzzer: every repeat re-copied the joined value, quadratic in the
  // number of lines (~330 ms per 64 KiB request of "a:" lines).
  const c = new AppLayerCounters();
  const p = new HttpParser(c);
  p.feed(true, request('a: x\r\n'.repeat(100) + 'Host: h\r\n'));
  const tx = p.transactions[0]!;
  assert.is(tx.requestHeaders.length, 2);
  assert.is(tx.requestHeaders[0]!.value.length, 65 * 3 - 2, 'the first and 64 repeats, joined by ", "');
  assert.is(c.httpHeadersDropped, 35);
  assert.ok((tx.anomalies & HttpAnomaly.HEADER_LIMIT) !== 0);
  assert.ok(tx.buffer('http.host', true) !== null, 'headers after the dropped ones still parsed');
  // Quadratic: ~250 ms here for this request; linear: ~5 ms (best of 5).
  const big = request('a:\n'.repeat(16000));
  const ms = bestMs(() => new HttpParser().feed(true, big));
  assert.ok(ms < 80, `${ms.toFixed(1)} ms for 16000 repeats`);
});

test('http: at most 1024 distinct header names per message, the rest counted', () => {
  const c = new AppLayerCounters();
  const p = new HttpParser(c);
  let lines = '';
  for (let i = 0; i < 3000; i++) lines += `h${i}: v\r\n`;
  p.feed(true, request(lines));
  const tx = p.transactions[0]!;
  assert.is(tx.requestHeaders.length, 1024);
  assert.is(c.httpHeadersDropped, 3000 - 1024);
  assert.is(tx.requestProgress, 4, 'the request still completes');
});

test('pcap: an unrecognised or too short file names byte 0 like every other LATERAL_ERR_PCAP', () => {
  // Found by the pcap reader fuzzer: these two errors of openPcap gave no offset.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-hardening-reg-'));
  try {
    for (const [bytes, cause] of [[Buffer.from('hello world, not a capture'), /not a pcap or pcapng file/], [Buffer.from([0xd4, 0xc3]), /too short/]] as const) {
      const file = path.join(dir, 'x.pcap');
      fs.writeFileSync(file, bytes);
      try {
        openPcap(file);
        assert.unreachable('must fail');
      } catch (e) {
        assert.instance(e, LateralError);
        assert.is((e as LateralError).code, 'LATERAL_ERR_PCAP');
        assert.match((e as LateralError).message, cause);
        assert.match((e as LateralError).message, new RegExp(`^${file}: .* at byte 0$`));
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('app layer: bytes beyond the detection window count as dropped only when they are dropped', () => {
  // Found by the counted-paths test: a 64 KiB GSO segment starting an HTTP request was
  // parsed whole, yet ~60 KiB were counted in detectBufferOverflow as if lost.
  const c = new AppLayerCounters();
  const st = new AppLayerState(true, c);
  const body = 'x'.repeat(20000);
  st.feed(true, Buffer.from(`POST / HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
  assert.is(c.detectBufferOverflow, 0);
  assert.is(st.http!.transactions[0]!.requestBody!.received, body.length);
  const junk = new AppLayerState(true, c);
  junk.feed(true, new Uint8Array(10000).fill(0x01));
  assert.is(c.detectBufferOverflow, 10000 - 4096, 'undetected bytes past the 4 KiB window are counted');
});

test('http: evicting the transaction a direction is still parsing no longer leaves it without one (TypeError)', () => {
  // Found by the HTTP fuzzer: past maxTransactions the oldest transaction was evicted and, if
  // a direction was mid-message in it, that direction kept its header state with tx = null;
  // its next folded header line or end of headers threw, on every later packet of the flow.
  for (const midRequest of [false, true]) {
    const c = new AppLayerCounters();
    const p = new HttpParser(c);
    if (midRequest) {
      p.feed(true, Buffer.from('GET /first HTTP/1.1\r\nHost: a\r\n'));
      // 300 responses nobody asked for: each makes a transaction, the first one is evicted.
      for (let i = 0; i < 300; i++) p.feed(false, Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'));
      p.feed(true, Buffer.from('X: 1\r\n folded\r\n\r\n'));
    } else {
      p.feed(true, Buffer.from('GET /first HTTP/1.1\r\n\r\n'));
      p.feed(false, Buffer.from('HTTP/1.1 200 OK\r\nServer: s\r\n'));
      // 300 one-line HTTP/0.9 requests: each is a complete transaction.
      p.feed(true, Buffer.from('GET /x\r\n'.repeat(300)));
      p.feed(false, Buffer.from('X: 1\r\n folded\r\nContent-Length: 2\r\n\r\nok'));
    }
    assert.is(p.transactions.length, 256);
    assert.ok(c.httpTxEvicted > 0);
    // The flow goes on: a new exchange is parsed and paired normally.
    p.feed(true, Buffer.from('GET /after HTTP/1.1\r\nHost: b\r\n\r\n'));
    const last = p.transactions[p.transactions.length - 1]!;
    assert.is(Buffer.from(last.uriRaw!).toString(), '/after');
    assert.is(last.requestProgress, 4);
  }
});

test('http: a gzip bomb read after every segment is inflated once it fills the body limit, not again per segment', () => {
  // Found by the hardening tests: every append threw the decoded body away, so reading the
  // body buffer after each of the 715 segments of a 1 MiB bomb (1 GiB of zeros) re-ran the
  // bounded inflate each time: ~4 s of CPU, up to ~200 ms per segment, on the worker thread.
  const bomb = zlib.gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 });
  const c = new AppLayerCounters();
  const p = new HttpParser(c);
  p.feed(true, Buffer.from(`POST / HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`));
  const tx = p.transactions[0]!;
  let first: Uint8Array | null = null;
  const t0 = process.hrtime.bigint();
  for (let o = 0; o < bomb.length; o += 1460) {
    p.feed(true, bomb.subarray(o, Math.min(bomb.length, o + 1460)));
    const b = tx.buffer('http.request_body', true)!;
    if (b.length >= 100 * 1024 - 1460) {
      if (first === null) first = b;
      else assert.ok(b === first, 'the capped body is kept, not inflated again');
    }
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.ok(first !== null && first.length <= 100 * 1024);
  assert.is(c.httpDecompressTruncated, 1, 'one body cut at the limit, counted once');
  assert.ok(c.httpBodyTruncatedBytes > 0, 'compressed bytes past that point are counted as not kept');
  assert.is(tx.requestProgress, 4, 'the request still completes');
  assert.ok(ms < 1500, `${ms.toFixed(0)} ms for the whole upload`);
});

test('http: what one flow keeps in transactions is bounded in bytes too, the oldest evicted and counted', () => {
  // Found by the hardening tests: 256 pipelined requests with 60 KiB of headers and a
  // 100 KiB body each, never answered, kept ~75 MB alive for one connection.
  const c = new AppLayerCounters();
  const st = new AppLayerState(true, c);
  const headers = `X-Pad: ${'a'.repeat(15000)}\r\n`.repeat(4);
  const body = 'b'.repeat(100 * 1024);
  for (let i = 0; i < 300; i++) st.feed(true, Buffer.from(`POST /u${i} HTTP/1.1\r\nHost: h\r\n${headers}Content-Length: ${body.length}\r\n\r\n${body}`));
  const txs = st.http!.transactions;
  const kept = txs.reduce((n, t) => n + t.retainedBytes(), 0);
  const one = txs[txs.length - 1]!.retainedBytes();
  assert.ok(kept <= 8 * 1024 * 1024 + one, `${kept} bytes kept`);
  assert.ok(txs.length < 100, `${txs.length} transactions kept`);
  assert.is(c.httpTxEvicted, 300 - txs.length, 'every evicted transaction counted');
  const last = txs[txs.length - 1]!;
  assert.is(Buffer.from(last.uriRaw!).toString(), '/u299');
  assert.is(last.requestBody!.received, body.length, 'the newest request is whole');
});

test.run();
