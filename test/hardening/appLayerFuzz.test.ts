// The HTTP, DNS, TLS and SSH parsers fuzzed directly with fast-check under fixed seeds:
// arbitrary bytes in arbitrary splits, and grammar-aware generators (request/status lines,
// headers with folding and repeats, chunked framing, gzip bodies including bombs, DNS names
// with compression pointers anywhere including loops, TLS records and handshakes with
// arbitrary length fields, X.509 DER with arbitrary lengths). Each input goes through
// AppLayerState the way the pipeline feeds it, then every buffer and EVE record is read.
// Nothing may throw, each input is timed, and what a flow retains stays within its caps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as zlib from 'node:zlib';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { AppLayerState } from '../../src/applayer/appLayerState';
import { appLayerBuffer } from '../../src/applayer/appLayerBuffer';
import { dnsEve, httpEve, sshEve, tlsEve } from '../../src/applayer/appLayerEve';
import { DnsTcpFramer, parseDns, probeDns } from '../../src/applayer/dnsParser';
import { HttpParser } from '../../src/applayer/httpParser';
import { parseSshBanner } from '../../src/applayer/sshParser';
import { TlsParser } from '../../src/applayer/tlsParser';
import { parseX509Names } from '../../src/applayer/x509Name';
import { APP_CAPS, FUZZ_SEED, FuzzTimer, appFootprint, fcOptions, feedInSplits, runs } from './fuzz';
import { cat, derCertificate, derName, OID_CN, OID_O, tlsCertificateMessage, tlsRecords, tlv } from './der';

const BUFFERS = [
  'http.uri', 'http.uri.raw', 'http.method', 'http.request_line', 'http.protocol', 'http.header', 'http.header.raw',
  'http.header_names', 'http.start', 'http.host', 'http.host.raw', 'http.user_agent', 'http.cookie', 'http.content_type',
  'http.content_len', 'http.referer', 'http.accept', 'http.accept_enc', 'http.accept_lang', 'http.connection',
  'http.request_body', 'http.stat_code', 'http.stat_msg', 'http.response_line', 'http.response_body', 'file.data',
  'http.server', 'http.location', 'tls.sni', 'tls.cert_subject', 'tls.cert_issuer', 'ssh.proto', 'ssh.software', 'dns.query',
];

/** A conversation: chunks of bytes with their direction. */
type Chunks = Array<{ toServer: boolean; data: Uint8Array }>;

/** Feeds chunks cut at the given split sizes, closes, and reads every buffer and EVE record. */
function exercise(counters: AppLayerCounters, isTcp: boolean, chunks: Chunks, splits: number[], gapAt = -1): AppLayerState {
  const st = new AppLayerState(isTcp, counters);
  let k = 0;
  chunks.forEach((c, i) => {
    if (i === gapAt) st.gap(c.toServer);
    if (!isTcp) {
      st.feed(c.toServer, c.data);
      return;
    }
    k = feedInSplits(st, c.toServer, c.data, splits, k);
  });
  st.close(true);
  st.close(false);
  const txs = st.http?.transactions.length ?? 0;
  const firstTx = st.http?.transactions[0]?.id ?? 0;
  for (const b of BUFFERS) {
    for (const dir of [true, false]) {
      for (let tx = firstTx; tx < firstTx + Math.min(txs, 8) || tx === firstTx; tx++) appLayerBuffer(st, b, dir, tx);
    }
  }
  for (const t of st.http?.transactions ?? []) JSON.stringify(httpEve(t));
  if (st.tls) JSON.stringify(tlsEve(st.tls));
  if (st.ssh) JSON.stringify(sshEve(st.ssh));
  for (const m of st.dns) JSON.stringify(dnsEve(m.message));
  const f = appFootprint(st);
  if (f.transactions > APP_CAPS.transactions || f.dns > APP_CAPS.dns || f.bodyBytes > APP_CAPS.bodyBytes) throw new Error(`caps exceeded ${JSON.stringify(f)}`);
  if (st.tls && (st.tls.certificates.length > 16 || st.tls.heartbeats.length > 64)) throw new Error('tls lists unbounded');
  return st;
}

const splitsArb = fc.array(fc.integer({ min: 1, max: 1500 }), { maxLength: 12 });
const bytesArb = fc.uint8Array({ maxLength: 3000 });


// ---------------------------------------------------------------------------------- HTTP

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{0,12}$/);
const ws = fc.constantFrom(' ', '  ', '\t', '', ' \t ');
const eol = fc.constantFrom('\r\n', '\n', '\r\n', '\r\n', '\r\r\n', '');
const uri = fc.oneof(
  fc.webPath(),
  fc.constantFrom('/', '*', 'http://h:80/a?b=c', '/%2e%2e/%c0%af/..%2f/etc/passwd', '/a b c', '//x//y/./z/../', '/?' + 'a'.repeat(300)),
  fc.string({ maxLength: 40 }),
);
const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/0.9', 'HTTP/2', 'http/1.1', 'HTTP/1.1 x', '', 'XTTP/1.1');
const headerName = fc.oneof(
  fc.constantFrom('Host', 'Content-Length', 'Transfer-Encoding', 'Content-Encoding', 'Cookie', 'User-Agent', 'Connection', 'Content-Type', 'Set-Cookie', 'Location'),
  token,
);
const headerValue = fc.oneof(
  fc.constantFrom('chunked', 'gzip', 'deflate', 'x-gzip, chunked', '0', '5', '-1', '99999999999999999', ' 10 ', 'identity', 'a=b; c=d'),
  fc.string({ maxLength: 30 }),
);
const header = fc.tuple(headerName, fc.constantFrom(':', ': ', ' : ', ''), headerValue, eol, fc.boolean()).map(
  ([n, c, v, e, fold]) => `${n}${c}${v}${e}${fold ? ` folded${e}` : ''}`,
);

const GZIP_SMALL = zlib.gzipSync(Buffer.from('hello gzip body '.repeat(50)));
// A bomb: 64 MiB of zeros in ~64 KiB; the body limit (100 KiB) must cap what is inflated.
const GZIP_BOMB = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
const DEFLATE_SMALL = zlib.deflateSync(Buffer.from('deflated '.repeat(40)));

const body = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.uint8Array({ maxLength: 400 }),
  fc.constantFrom(GZIP_SMALL, GZIP_BOMB, DEFLATE_SMALL),
  fc.tuple(fc.constantFrom(GZIP_SMALL, GZIP_BOMB), fc.nat()).map(([g, n]) => g.subarray(0, n % g.length)), // truncated gzip
  fc.tuple(fc.constantFrom(GZIP_SMALL, DEFLATE_SMALL), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([g, n, b]) => {
    const c = Uint8Array.from(g);
    c[n % c.length] = b; // corrupted gzip
    return c;
  }),
);

/** Chunked framing of a body: honest sizes, or sizes/extensions/terminators chosen by the generator. */
const chunked = fc.tuple(body, fc.array(fc.integer({ min: 1, max: 600 }), { maxLength: 6 }), fc.constantFrom('ok', 'ok', 'ext', 'badsize', 'huge', 'noterm')).map(([b, cuts, mode]) => {
  const parts: Uint8Array[] = [];
  let p = 0;
  let i = 0;
  while (p < b.length) {
    const n = Math.min(b.length - p, cuts.length ? cuts[i++ % cuts.length]! : b.length);
    const size = mode === 'badsize' ? 'zz' : mode === 'huge' ? 'fffffffffffff' : n.toString(16);
    parts.push(Buffer.from(`${size}${mode === 'ext' ? ';name=value' : ''}\r\n`), b.subarray(p, p + n), Buffer.from(mode === 'noterm' ? '' : '\r\n'));
    p += n;
  }
  parts.push(Buffer.from('0\r\nTrailer: x\r\n\r\n'));
  return Uint8Array.from(Buffer.concat(parts)); // not cat(...parts): a bomb in 1-byte chunks is 200k arguments
});

const encodings = fc.constantFrom('', 'Content-Encoding: gzip\r\n', 'Content-Encoding: deflate\r\n', 'Content-Encoding: x-gzip, gzip\r\n');

const httpMessage = (toServer: boolean): fc.Arbitrary<Uint8Array> =>
  fc.tuple(
    toServer
      ? fc.tuple(fc.oneof(fc.constantFrom('GET', 'POST', 'HEAD', 'CONNECT', 'PUT', 'OPTIONS'), token), ws, uri, ws, version, eol).map((x) => x.join(''))
      : fc.tuple(version, ws, fc.oneof(fc.constantFrom('200', '100', '101', '204', '304', '404', '500', '0', '999'), fc.string({ maxLength: 4 })), ws, fc.string({ maxLength: 20 }), eol).map((x) => x.join('')),
    fc.array(header, { maxLength: 12 }),
    encodings,
    fc.oneof(
      body.map((b) => ({ framing: `Content-Length: ${b.length}\r\n`, bytes: b })),
      chunked.map((b) => ({ framing: 'Transfer-Encoding: chunked\r\n', bytes: b })),
      body.map((b) => ({ framing: '', bytes: b })), // until close (responses) / no body (requests)
      fc.tuple(body, fc.integer({ min: -50, max: 50 })).map(([b, d]) => ({ framing: `Content-Length: ${Math.max(0, b.length + d)}\r\n`, bytes: b })),
    ),
  ).map(([start, headers, enc, b]) => cat(Buffer.from(start + headers.join('') + enc + b.framing + '\r\n', 'latin1'), b.bytes));

const httpConversation: fc.Arbitrary<Chunks> = fc.array(
  fc.boolean().chain((toServer) => httpMessage(toServer).map((data) => ({ toServer, data }))),
  { minLength: 1, maxLength: 6 },
).map((msgs) => (msgs[0]!.toServer ? msgs : [{ toServer: true, data: Buffer.from('GET / HTTP/1.1\r\n\r\n') }, ...msgs]));

test('http: grammar-aware requests/responses (headers, chunked, gzip incl. bombs) in any split', () => {
  const timer = new FuzzTimer('http grammar-aware');
  const counters = new AppLayerCounters();
  fc.assert(
    fc.property(httpConversation, splitsArb, fc.integer({ min: -1, max: 8 }), (conv, splits, gapAt) => {
      timer.time(() => exercise(counters, true, conv, splits, gapAt));
    }),
    fcOptions(FUZZ_SEED, 5000),
  );
  timer.finish();
  assert.ok(counters.httpTransactions > 1000, 'deep enough to make transactions');
  assert.ok(counters.httpDecompressTruncated > 0, 'a gzip bomb was capped at the body limit');
  assert.ok(counters.httpInvalidChunk > 0 && counters.httpDecompressFailed > 0, 'bad chunks and bad gzip counted');
});

test('http: arbitrary bytes after a request line, both directions, any split', () => {
  const timer = new FuzzTimer('http arbitrary bytes');
  const counters = new AppLayerCounters();
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), bytesArb), { maxLength: 6 }), splitsArb, (parts, splits) => {
      const conv: Chunks = [{ toServer: true, data: Buffer.from('POST /x HTTP/1.1\r\n') }, ...parts.map(([toServer, data]) => ({ toServer, data }))];
      timer.time(() => exercise(counters, true, conv, splits));
    }),
    fcOptions(FUZZ_SEED + 1, 5000),
  );
  timer.finish();
});

test('http: many pipelined requests without responses stay within maxTransactions', () => {
  const timer = new FuzzTimer('http pipelined flood');
  const counters = new AppLayerCounters();
  const p = new HttpParser(counters);
  const req = Buffer.from('GET /a HTTP/1.1\r\nHost: x\r\nA: 1\r\nA: 2\r\n\r\n');
  for (let i = 0; i < runs(5000); i++) timer.time(() => p.feed(true, req));
  assert.is(p.transactions.length, APP_CAPS.transactions);
  assert.is(counters.httpTxEvicted, runs(5000) - APP_CAPS.transactions, 'every evicted transaction counted');
  timer.finish();
});

// ----------------------------------------------------------------------------------- DNS

/** A DNS message: header, questions and records whose names may hold pointers anywhere. */
const dnsName = fc.array(
  fc.oneof(
    { weight: 12, arbitrary: fc.string({ minLength: 1, maxLength: 20 }).map((s) => { const b = Buffer.from(s, 'latin1').subarray(0, 63); return cat(Uint8Array.of(b.length), b); }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x3fff }).map((ptr) => Uint8Array.of(0xc0 | (ptr >> 8), ptr & 0xff)) }, // pointer anywhere
    { weight: 1, arbitrary: fc.integer({ min: 12, max: 40 }).map((ptr) => Uint8Array.of(0xc0, ptr)) }, // pointer into the message
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).map((b) => Uint8Array.of(b)) }, // odd label byte
  ),
  { maxLength: 6 },
).map((labels) => cat(...labels, Uint8Array.of(0)));

const dnsMessage = fc.tuple(
  fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }),
  fc.array(dnsName, { maxLength: 3 }), fc.array(fc.tuple(dnsName, fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 30 }), fc.integer({ min: -5, max: 5 })), { maxLength: 4 }),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 4, maxLength: 4 }), fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
).map(([id, flags, qs, rrs, counts, honest]) => {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  const c = honest ? [qs.length, rrs.length, 0, 0] : counts;
  for (let i = 0; i < 4; i++) h.writeUInt16BE(c[i]!, 4 + 2 * i);
  const parts: Uint8Array[] = [h];
  for (const q of qs) parts.push(q, Uint8Array.of(0, 1, 0, 1));
  for (const [n, type, rdata, lenSkew] of rrs) {
    const rr = Buffer.alloc(10);
    rr.writeUInt16BE([1, 5, 28, 15, 12, 2, type][type % 7]!, 0);
    rr.writeUInt16BE(1, 2);
    rr.writeUInt32BE(300, 4);
    rr.writeUInt16BE(Math.max(0, rdata.length + lenSkew), 8);
    parts.push(n, rr, rdata);
  }
  return cat(...parts);
});

test('dns: generated messages with compression pointers anywhere, over UDP and TCP in any split', () => {
  const timer = new FuzzTimer('dns grammar-aware');
  const counters = new AppLayerCounters();
  const direct = { parsed: 0, malformed: 0 };
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), dnsMessage), { minLength: 1, maxLength: 5 }), splitsArb, fc.boolean(), (msgs, splits, tcp) => {
      // Mostly an honest QR bit and opcode for the direction, so detection lets the parser see them.
      for (const [toServer, m] of msgs) if (m[3]! & 1) m[2] = toServer ? m[2]! & 0x07 : (m[2]! & 0x07) | 0x80;
      const chunks: Chunks = msgs.map(([toServer, m]) => ({ toServer, data: tcp ? cat(Uint8Array.of(m.length >> 8, m.length & 0xff), m) : m }));
      timer.time(() => {
        for (const [toServer, m] of msgs) {
          if (parseDns(m, 0, m.length) === null) direct.malformed++;
          else direct.parsed++;
          probeDns(m, 0, m.length, false, toServer);
        }
        exercise(counters, tcp, chunks, splits);
      });
    }),
    fcOptions(FUZZ_SEED + 2, 10000),
  );
  timer.finish();
  console.log(`[fuzz]   parseDns: ${direct.parsed} parsed, ${direct.malformed} malformed; through AppLayerState: ${counters.dnsMessages} parsed, ${counters.dnsMalformed} malformed`);
  assert.ok(direct.parsed > 1000 && direct.malformed > 1000, 'both well-formed and malformed messages generated');
  assert.ok(counters.dnsMessages > 200 && counters.dnsMalformed > 50, 'and both reach the parser through detection');
});

test('dns: arbitrary bytes to parseDns, probeDns and the TCP framer', () => {
  const timer = new FuzzTimer('dns arbitrary bytes');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 700 }), splitsArb, (b, splits) => {
      timer.time(() => {
        parseDns(b, 0, b.length);
        probeDns(b, 0, b.length, true, true);
        probeDns(b, 0, b.length, false, false);
        const f = new DnsTcpFramer();
        let p = 0;
        let k = 0;
        while (p < b.length) {
          const n = splits.length ? splits[k++ % splits.length]! : b.length;
          f.feed(b, p, Math.min(b.length, p + n), (d, s, e) => void parseDns(d, s, e));
          p += n;
        }
      });
    }),
    fcOptions(FUZZ_SEED + 3, 15000),
  );
  timer.finish();
});

test('dns: compression-pointer loops terminate and count as malformed', () => {
  const counters = new AppLayerCounters();
  const header = Uint8Array.of(0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0);
  const loops = [
    cat(header, Uint8Array.of(0xc0, 12)), // points at itself
    cat(header, Uint8Array.of(1, 0x61, 0xc0, 12)), // a label, then back to its start
    cat(header, Uint8Array.of(0xc0, 14, 0xc0, 12)), // two pointers at each other
    cat(header, Uint8Array.of(1, 0x61, 0xc0, 16, 1, 0x62, 0xc0, 12)), // a longer cycle
  ];
  for (const m of loops) {
    const t0 = process.hrtime.bigint();
    assert.is(parseDns(m, 0, m.length), null);
    assert.is(probeDns(m, 0, m.length, false, true), -1);
    const st = new AppLayerState(false, counters);
    st.feed(true, Uint8Array.of(0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1)); // detected as DNS
    st.feed(true, m);
    assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 50, 'terminates at once');
  }
  assert.is(counters.dnsMalformed, loops.length, 'each loop is one malformed message');
});

// ----------------------------------------------------------------------------------- TLS

const CLIENT_HELLO_HEAD = Uint8Array.from([3, 3, ...new Array(32).fill(7)]);

/** A ClientHello whose every length field may lie. */
const clientHello = fc.tuple(
  fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: -3, max: 3 }),
  fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 60 }), fc.integer({ min: -4, max: 4 })), { maxLength: 6 }),
  fc.string({ maxLength: 40 }), fc.integer({ min: -4, max: 4 }),
).map(([sid, ciphers, cipherSkew, exts, sni, sniSkew]) => {
  const sniBytes = Buffer.from(sni, 'latin1');
  const sniList = cat(Uint8Array.of(0, (sniBytes.length + sniSkew) >> 8 & 0xff, (sniBytes.length + sniSkew) & 0xff), sniBytes);
  const sniExt = cat(Uint8Array.of(0, 0, (sniList.length + 2) >> 8, (sniList.length + 2) & 0xff, sniList.length >> 8, sniList.length & 0xff), sniList);
  const others = exts.map(([t, d, skew]) => cat(Uint8Array.of(t >> 8, t & 0xff, ((d.length + skew) >> 8) & 0xff, (d.length + skew) & 0xff), d));
  const extBlock = cat(sniExt, ...others);
  const body = cat(
    CLIENT_HELLO_HEAD, Uint8Array.of(sid), new Uint8Array(sid),
    Uint8Array.of(((ciphers + cipherSkew) >> 8) & 0xff, (ciphers + cipherSkew) & 0xff), new Uint8Array(ciphers),
    Uint8Array.of(1, 0), Uint8Array.of(extBlock.length >> 8, extBlock.length & 0xff), extBlock,
  );
  return cat(Uint8Array.of(1, 0, body.length >> 8, body.length & 0xff), body);
});

/** DER with arbitrary lengths: a certificate skeleton with its bytes edited, or random TLV trees. */
const derTree: fc.Arbitrary<Uint8Array> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(fc.constantFrom(0x02, 0x04, 0x06, 0x0c, 0x13, 0x1e, 0x17), fc.uint8Array({ maxLength: 20 })).map(([t, b]) => tlv(t, b)),
    fc.tuple(fc.constantFrom(0x30, 0x31, 0xa0), fc.array(tie('node') as fc.Arbitrary<Uint8Array>, { maxLength: 4 })).map(([t, kids]) => tlv(t, cat(...kids))),
  ),
})).node as fc.Arbitrary<Uint8Array>;

const certificate = fc.oneof(
  fc.tuple(fc.string({ maxLength: 30 }), fc.constantFrom(0x0c, 0x13, 0x16, 0x1e, 0x14), fc.uint8Array({ maxLength: 9 })).map(([cn, tag, o]) =>
    derCertificate(derName([[OID_CN, 0x13, Buffer.from('ca')]]), derName([[OID_CN, tag, Buffer.from(cn, 'latin1')], [OID_O, tag, o]]))),
  fc.tuple(fc.constant(0), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })).map(([, edits]) => {
    const c = Uint8Array.from(derCertificate(derName([[OID_CN, 0x13, Buffer.from('issuer')]]), derName([[OID_CN, 0x0c, Buffer.from('subject')]])));
    for (const [at, v] of edits) c[at % c.length] = v; // lengths and tags edited
    return c;
  }),
  derTree.map((t) => tlv(0x30, tlv(0x30, t))),
);

const tlsConversation: fc.Arbitrary<Chunks> = fc.tuple(
  clientHello, fc.array(certificate, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 16384 }),
  fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 40 })), { maxLength: 3 }),
).map(([hello, certs, recordSize, raw]) => [
  { toServer: true, data: tlsRecords(22, hello, recordSize) },
  { toServer: false, data: tlsRecords(22, cat(Uint8Array.of(2, 0, 0, 38, 3, 3), new Uint8Array(32), Uint8Array.of(0, 0x13, 0x01, 0)), recordSize) },
  { toServer: false, data: tlsRecords(22, tlsCertificateMessage(certs), recordSize) },
  // Records with lying length fields (heartbeats, alerts, any type).
  ...raw.map(([type, len, b]) => ({ toServer: (len & 1) === 0, data: cat(Uint8Array.of(type === 0 ? 24 : 20 + (type % 6), 3, type % 4, len >> 8, len & 0xff), b) })),
]);

test('tls: handshakes, certificates and records with lying length fields, in any split', () => {
  const timer = new FuzzTimer('tls grammar-aware');
  const counters = new AppLayerCounters();
  fc.assert(
    fc.property(tlsConversation, splitsArb, (conv, splits) => {
      timer.time(() => exercise(counters, true, conv, splits));
    }),
    fcOptions(FUZZ_SEED + 4, 6000),
  );
  timer.finish();
  assert.ok(counters.tlsRecords > 2000 && counters.tlsMalformed > 0, `records ${counters.tlsRecords}, malformed ${counters.tlsMalformed}`);
});

test('tls/x509: DER with arbitrary lengths and tags to parseX509Names', () => {
  const timer = new FuzzTimer('x509 DER');
  let parsed = 0;
  fc.assert(
    fc.property(fc.oneof(certificate, derTree, fc.uint8Array({ maxLength: 300 })), (der) => {
      timer.time(() => {
        if (parseX509Names(der) !== null) parsed++;
      });
    }),
    fcOptions(FUZZ_SEED + 5, 15000),
  );
  timer.finish();
  assert.ok(parsed > 100, 'well-formed certificates still parse');
});

test('tls: arbitrary bytes to a TlsParser in both directions', () => {
  const timer = new FuzzTimer('tls arbitrary bytes');
  const counters = new AppLayerCounters();
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), bytesArb), { maxLength: 5 }), (parts) => {
      timer.time(() => {
        const t = new TlsParser(counters);
        // A valid record header first, so the fuzz reaches the handshake parser.
        t.feed(true, Uint8Array.of(22, 3, 1, 0, 200));
        for (const [toServer, b] of parts) t.feed(toServer, b);
        JSON.stringify(tlsEve(t));
      });
    }),
    fcOptions(FUZZ_SEED + 6, 10000),
  );
  timer.finish();
});

// ----------------------------------------------------------------------------------- SSH

test('ssh: banner-like lines and arbitrary bytes, in any split', () => {
  const timer = new FuzzTimer('ssh');
  const counters = new AppLayerCounters();
  const line = fc.oneof(
    fc.tuple(fc.constantFrom('SSH-', 'SSH-2.0-', 'SSH-1.99-', 'ssh-', 'SSH'), fc.string({ maxLength: 300 }), fc.constantFrom('\r\n', '\n', '')).map((x) => x.join('')),
    fc.string({ maxLength: 80 }).map((s) => `${s}\n`),
    fc.constant('x'.repeat(2000)),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), line), { minLength: 1, maxLength: 20 }), splitsArb, (lines, splits) => {
      const conv: Chunks = [{ toServer: false, data: Buffer.from('SSH-2.0-OpenSSH_9\r\n') }, ...lines.map(([toServer, l]) => ({ toServer, data: Buffer.from(l, 'latin1') }))];
      timer.time(() => {
        for (const [, l] of lines) parseSshBanner(Buffer.from(l, 'latin1'));
        exercise(counters, true, conv, splits);
      });
    }),
    fcOptions(FUZZ_SEED + 7, 6000),
  );
  timer.finish();
  assert.ok(counters.sshBanners > 0 && counters.sshMalformed > 0);
});

test.run();
