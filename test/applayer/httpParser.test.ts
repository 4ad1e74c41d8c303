// HTTP/1.x parser: crafted streams (every split point), pipelining, bodies, and real
// traffic from the corpus. Expected corpus values were read with tshark 4.0
// (`tshark -r X -T fields -e http.request.uri ...`, `-z follow,tcp,ascii,0`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as zlib from 'node:zlib';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { DEFAULT_HTTP_LIMITS, HttpAnomaly, HttpParser } from '../../src/applayer/httpParser';
import { HttpProgress, HttpTransaction } from '../../src/applayer/httpTransaction';
import { corpusPath } from '../support/corpus';
import { readCapture } from './pcapStreams';

const B = (s: string): Buffer => Buffer.from(s, 'latin1');
const S = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('latin1'));

function buf(tx: HttpTransaction, name: string, toServer = true): string | null {
  return S(tx.buffer(name, toServer));
}

const REQS = B(
  'GET /a/../b%20c?x=%41 HTTP/1.1\r\n' +
    'Host: WWW.Example.com:8080\r\n' +
    'User-Agent: test-agent\r\n' +
    'Cookie: s=1\r\n' +
    'X-Dup: one\r\n' +
    'X-Folded: first\r\n' +
    '\tsecond\r\n' +
    'x-dup: two\r\n' +
    '\r\n' +
    'POST /up HTTP/1.1\r\n' +
    'Host: h\r\n' +
    'Transfer-Encoding: chunked\r\n' +
    '\r\n' +
    '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n' +
    'HEAD /h HTTP/1.0\r\n\r\n',
);

const gz = zlib.gzipSync(B('<html>compressed body</html>'));
const RESPS = Buffer.concat([
  B('HTTP/1.1 200 OK\r\nServer: nginx\r\nSet-Cookie: id=9\r\nContent-Length: 5\r\n\r\nabcde'),
  B(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nLocation: /up/1\r\n\r\n`),
  B(`${gz.length.toString(16)}\r\n`), gz, B('\r\n0\r\n\r\n'),
  B('HTTP/1.0 200 OK\r\nContent-Length: 999\r\n\r\n'), // HEAD: no body follows
]);

function checkAll(p: HttpParser): void {
  assert.is(p.transactions.length, 3);
  const [t0, t1, t2] = p.transactions as [HttpTransaction, HttpTransaction, HttpTransaction];
  assert.is(buf(t0, 'http.method'), 'GET');
  assert.is(buf(t0, 'http.uri.raw'), '/a/../b%20c?x=%41');
  assert.is(buf(t0, 'http.uri'), '/b c?x=A');
  assert.is(buf(t0, 'http.protocol'), 'HTTP/1.1');
  assert.is(buf(t0, 'http.request_line'), 'GET /a/../b%20c?x=%41 HTTP/1.1');
  assert.is(buf(t0, 'http.host'), 'www.example.com');
  assert.is(buf(t0, 'http.host.raw'), 'WWW.Example.com:8080');
  assert.is(buf(t0, 'http.user_agent'), 'test-agent');
  assert.is(buf(t0, 'http.cookie'), 's=1');
  // Cookie is left out of http.header; the repeated X-Dup is joined under its first spelling;
  // the folded header keeps the continuation's whitespace.
  assert.is(buf(t0, 'http.header'),
    'Host: WWW.Example.com:8080\r\nUser-Agent: test-agent\r\nX-Dup: one, two\r\nX-Folded: first\tsecond\r\n');
  assert.is(buf(t0, 'http.header_names'), '\r\nHost\r\nUser-Agent\r\nCookie\r\nX-Dup\r\nX-Folded\r\n\r\n');
  assert.ok(buf(t0, 'http.header.raw')!.startsWith('Host: WWW.Example.com:8080\r\n'));
  assert.ok(buf(t0, 'http.header.raw')!.endsWith('x-dup: two\r\n\r\n'));
  assert.is(buf(t0, 'http.start'), 'GET /a/../b%20c?x=%41 HTTP/1.1\r\nHost: WWW.Example.com:8080\r\nUser-Agent: test-agent\r\n' +
    'Cookie: s=1\r\nX-Dup: one, two\r\nX-Folded: first\tsecond\r\n\r\n');
  assert.ok((t0.anomalies & HttpAnomaly.FOLDED_HEADER) !== 0);
  assert.is(buf(t0, 'http.stat_code', false), '200');
  assert.is(buf(t0, 'http.stat_msg', false), 'OK');
  assert.is(buf(t0, 'http.server', false), 'nginx');
  assert.is(buf(t0, 'http.cookie', false), 'id=9');
  assert.is(buf(t0, 'http.header', false), 'Server: nginx\r\nContent-Length: 5\r\n');
  assert.is(buf(t0, 'http.response_body', false), 'abcde');
  assert.is(buf(t0, 'http.content_len', false), '5');

  assert.is(buf(t1, 'http.method'), 'POST');
  assert.is(buf(t1, 'http_client_body'), 'hello world');
  assert.is(t1.requestProgress, HttpProgress.COMPLETE);
  assert.is(buf(t1, 'http.stat_code', false), '201');
  assert.ok((t1.anomalies & HttpAnomaly.INTERIM_RESPONSE) !== 0);
  assert.is(buf(t1, 'http.location', false), '/up/1');
  assert.is(buf(t1, 'file.data', false), '<html>compressed body</html>');
  assert.is(t1.responseProgress, HttpProgress.COMPLETE);

  assert.is(buf(t2, 'http.method'), 'HEAD');
  assert.is(buf(t2, 'http.protocol'), 'HTTP/1.0');
  assert.is(buf(t2, 'http.stat_code', false), '200');
  // No request headers: no http.header / http.header_names; http.start is the line alone.
  assert.is(buf(t2, 'http.header'), null);
  assert.is(buf(t2, 'http.header_names'), null);
  assert.is(buf(t2, 'http.start'), 'HEAD /h HTTP/1.0\r\n');
  assert.is(t2.responseProgress, HttpProgress.COMPLETE);
  assert.is(t2.responseBody, null);
}

test('pipelined requests and responses in one piece', () => {
  const p = new HttpParser();
  p.feed(true, REQS);
  p.feed(false, RESPS);
  checkAll(p);
});

test('same streams split at every byte boundary (two pieces each)', () => {
  for (let i = 1; i < REQS.length; i++) {
    const p = new HttpParser();
    p.feed(true, REQS.subarray(0, i));
    p.feed(true, REQS.subarray(i));
    const j = i % RESPS.length || 1;
    p.feed(false, RESPS.subarray(0, j));
    p.feed(false, RESPS.subarray(j));
    checkAll(p);
  }
});

test('one byte at a time, directions interleaved (each response after its request)', () => {
  const p = new HttpParser();
  const firstReqEnd = REQS.indexOf('\r\n\r\n') + 4;
  for (let i = 0; i < firstReqEnd; i++) p.feed(true, REQS, i, i + 1);
  const n = Math.max(REQS.length - firstReqEnd, RESPS.length);
  for (let i = 0; i < n; i++) {
    if (firstReqEnd + i < REQS.length) p.feed(true, REQS, firstReqEnd + i, firstReqEnd + i + 1);
    if (i < RESPS.length) p.feed(false, RESPS, i, i + 1);
  }
  checkAll(p);
});

test('progress: buffers appear only when their part is complete', () => {
  const p = new HttpParser();
  p.feed(true, B('GET /x HTTP/1.1\r\nHost: a\r\n'));
  const tx = p.transactions[0]!;
  assert.is(tx.requestProgress, HttpProgress.LINE);
  assert.is(buf(tx, 'http.uri'), '/x');
  assert.is(buf(tx, 'http.header'), null);
  assert.is(tx.bufferFinal('http.uri', true), true);
  assert.is(tx.bufferFinal('http.header', true), false);
  p.feed(true, B('\r\n'));
  assert.is(tx.requestProgress, HttpProgress.COMPLETE);
  assert.is(buf(tx, 'http.header'), 'Host: a\r\n');
});

test('response body delimited by connection close; deflate body', () => {
  const p = new HttpParser();
  p.feed(true, B('GET / HTTP/1.1\r\n\r\n'));
  const body = zlib.deflateSync(B('deflated!'));
  p.feed(false, Buffer.concat([B('HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n\r\n'), body]));
  const tx = p.transactions[0]!;
  assert.is(tx.responseProgress, HttpProgress.BODY);
  assert.is(buf(tx, 'http.response_body', false), 'deflated!');
  p.close(false);
  assert.is(tx.responseProgress, HttpProgress.COMPLETE);
});

test('gzip bomb is cut at the body limit and counted', () => {
  const c = new AppLayerCounters();
  const p = new HttpParser(c, { ...DEFAULT_HTTP_LIMITS, responseBodyLimit: 4096 });
  const bomb = zlib.gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x41));
  p.feed(true, B('GET / HTTP/1.1\r\n\r\n'));
  p.feed(false, Buffer.concat([B(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`), bomb]));
  const out = p.transactions[0]!.buffer('http.response_body', false)!;
  assert.ok(out.length > 0 && out.length <= 4096, `got ${out.length}`);
  assert.is(out[0], 0x41);
  assert.is(c.httpDecompressTruncated, 1);
});

test('body beyond the limit is counted, not kept', () => {
  const c = new AppLayerCounters();
  const p = new HttpParser(c, { ...DEFAULT_HTTP_LIMITS, requestBodyLimit: 10 });
  p.feed(true, B('POST / HTTP/1.1\r\nContent-Length: 25\r\n\r\n0123456789abcdefghijklmno'));
  assert.is(buf(p.transactions[0]!, 'http.request_body'), '0123456789');
  assert.is(c.httpBodyTruncatedBytes, 15);
  assert.is(p.transactions[0]!.requestProgress, HttpProgress.COMPLETE);
});

test('not-gzip data under Content-Encoding: gzip passes through', () => {
  const c = new AppLayerCounters();
  const p = new HttpParser(c);
  p.feed(true, B('GET / HTTP/1.1\r\n\r\n'));
  p.feed(false, B('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nplain'));
  assert.is(buf(p.transactions[0]!, 'http.response_body', false), 'plain');
  assert.is(c.httpDecompressFailed, 1);
});

test('overlong line stops the direction and is counted', () => {
  const c = new AppLayerCounters();
  const p = new HttpParser(c, { ...DEFAULT_HTTP_LIMITS, maxLine: 64 });
  p.feed(true, B('GET /' + 'a'.repeat(100) + ' HTTP/1.1\r\n\r\n'));
  assert.is(c.httpLineTooLong, 1);
  assert.is(p.transactions.length, 0);
});

test('invalid chunk size is counted and stops the direction', () => {
  const c = new AppLayerCounters();
  const p = new HttpParser(c);
  p.feed(true, B('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'));
  assert.is(c.httpInvalidChunk, 1);
  assert.ok((p.transactions[0]!.anomalies & HttpAnomaly.INVALID_CHUNK) !== 0);
});

test('101 Switching Protocols turns the connection into a tunnel', () => {
  const p = new HttpParser();
  p.feed(true, B('GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
  p.feed(false, B('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello'));
  p.feed(true, B('GET /not-http HTTP/1.1\r\n\r\n'));
  assert.is(p.tunnel, true);
  assert.is(p.transactions.length, 1);
});

test('CONNECT: client bytes wait for the answer; 200 tunnels, 407 resumes HTTP', () => {
  const ok = new HttpParser();
  ok.feed(true, B('CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\nGET /not-http HTTP/1.1\r\n\r\n'));
  assert.is(ok.transactions.length, 1);
  assert.is(buf(ok.transactions[0]!, 'http.host'), 'db.internal');
  ok.feed(false, B('HTTP/1.1 200 Connection established\r\n\r\n'));
  assert.is(ok.tunnel, true);
  assert.is(ok.transactions.length, 1);

  const no = new HttpParser();
  no.feed(true, B('CONNECT db.internal:5432 HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n'));
  no.feed(false, B('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n'));
  assert.is(no.tunnel, false);
  assert.equal(no.transactions.map((t) => buf(t, 'http.uri.raw')), ['db.internal:5432', '/next']);
});

test('server line without HTTP/: HTTP/0.9-style body until close (libhtp)', () => {
  const c = new AppLayerCounters();
  const p = new HttpParser(c);
  p.feed(true, B('GET / HTTP/1.1\r\n\r\n'));
  p.feed(false, B('<html>no status line\r\nmore\r\n'));
  const t = p.transactions[0]!;
  assert.is(buf(t, 'http.response_body', false), '<html>no status line\r\nmore\r\n');
  assert.is(t.statusCode, null);
  assert.is(c.httpInvalidResponseLine, 1);
  p.close(false);
  assert.is(t.responseProgress, HttpProgress.COMPLETE);
});

test('http.request_header / http.response_header lines', () => {
  const p = new HttpParser();
  p.feed(true, B('GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\n\r\n'));
  assert.equal(p.transactions[0]!.headerLines(true).map(S), ['Host: a', 'X-A: 1, 2']);
  assert.equal(p.transactions[0]!.headerLines(false), []);
});

test('response without request gets its own transaction', () => {
  const p = new HttpParser();
  p.feed(false, B('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  assert.is(p.transactions.length, 1);
  assert.ok((p.transactions[0]!.anomalies & HttpAnomaly.RESPONSE_WITHOUT_REQUEST) !== 0);
});

test('releaseBefore drops only transactions complete in both directions', () => {
  const p = new HttpParser();
  p.feed(true, B('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n'));
  p.feed(false, B('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  p.releaseBefore(2);
  assert.is(p.transactions.length, 1);
  assert.is(p.transactions[0]!.id, 1);
  assert.is(buf(p.transaction(1)!, 'http.uri'), '/2');
});

function parseConnection(file: string, index = 0): HttpParser {
  const cap = readCapture(corpusPath('pcaps', file));
  const c = cap.connections.filter((x) => x.chunks.length > 0)[index]!;
  const p = new HttpParser();
  for (const ch of c.chunks) p.feed(ch.toServer, ch.data);
  return p;
}

// URIs of the 40 pipelined Nmap NSE requests, from `tshark -z follow,tcp,ascii,0`.
const NSE_URIS = [
  '/postinfo.html', '/_vti_bin/_vti_aut/author.dll', '/_vti_bin/_vti_aut/author.exe', '/_vti_bin/_vti_aut/dvwssr.dll',
  '/_vti_bin/_vti_adm/admin.dll', '/_vti_bin/_vti_adm/admin.exe', '/_vti_bin/fpcount.exe?Page=default.asp|Image=3',
  '/_vti_bin/shtml.dll', '/_vti_bin/shtml.exe', '/_vti_pvt/_x_todo.htm', '/_vti_pvt/_x_todoh.htm', '/_vti_pvt/access.cnf',
  '/_vti_pvt/administrator.pwd', '/_vti_pvt/administrators.pwd', '/_vti_pvt/authors.pwd', '/_vti_pvt/bots.cnf',
  '/_vti_pvt/botinfs.cnf', '/_vti_pvt/deptodoc.btr', '/_vti_pvt/doctodep.btr', '/_vti_pvt/frontpg.lck',
  '/_vti_pvt/linkinfo.cnf', '/_vti_pvt/service.cnf', '/_vti_pvt/service.grp', '/_vti_pvt/service.lck',
  '/_vti_pvt/service.pwd', '/_vti_pvt/Service.stp', '/_vti_pvt/services.cnf', '/_vti_pvt/services.org',
  '/_vti_pvt/structure.cnf', '/_vti_pvt/svcacl.cnf', '/_vti_pvt/users.pwd', '/_vti_pvt/uniqueperm.cnf',
  '/_vti_pvt/writeto.cnf', '/.svn/', '/.svn/text-base/.htaccess.svn-base', '/.svn/text-base/.htpasswd.svn-base',
  '/.svn/text-base/Web.config.svn-base', '/.git/HEAD', '/.hg/requires', '/.bzr/README',
];

test('corpus nmap-nse-http: 40 pipelined requests, each paired with its 404', () => {
  const p = parseConnection('nmap-nse-http.pcap');
  assert.equal(p.transactions.map((t) => buf(t, 'http.uri.raw')), NSE_URIS);
  for (const t of p.transactions) {
    assert.is(buf(t, 'http.method'), 'GET');
    assert.is(buf(t, 'http.stat_code', false), '404');
    assert.ok(/Nmap Scripting Engine/.test(buf(t, 'http.user_agent') ?? ''));
  }
});

test('corpus dvwa-sqli: URI, host, user agent, cookie, status (tshark fields)', () => {
  const p = parseConnection('dvwa-sqli.pcapng', 1);
  const t = p.transactions[0]!;
  assert.is(buf(t, 'http.uri.raw'), '/dvwa/vulnerabilities/sqli/?id=1%27+UNION+SELECT+NULL%2C+version%28%29+%23&Submit=Submit');
  assert.is(buf(t, 'http.uri'), "/dvwa/vulnerabilities/sqli/?id=1'+UNION+SELECT+NULL,+version()+#&Submit=Submit");
  assert.is(buf(t, 'http.host'), '192.168.111.154');
  assert.is(buf(t, 'http.user_agent'), 'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0');
  assert.is(buf(t, 'http.cookie'), 'security=low; PHPSESSID=456ec6eeb2fa0f99ed26aedc5eb25698');
  assert.is(buf(t, 'http.stat_code', false), '200');
  assert.is(buf(t, 'http.server', false), 'Apache/2.2.8 (Ubuntu) DAV/2');
  assert.is(buf(t, 'http.content_type', false), 'text/html;charset=utf-8');
  // Chunked response, dechunked: starts like tshark's http.file_data.
  assert.ok(buf(t, 'file.data', false)!.startsWith('\r\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"'));
});

test('corpus sqli-chr-body: multipart request body holds the CHR() payload', () => {
  const p = parseConnection('sqli-chr-body.pcap');
  const t = p.transactions[0]!;
  const body = buf(t, 'http.request_body')!;
  assert.is(body.length, 300); // Content-Length: 300
  assert.ok(body.includes('eval(chr(114)+chr(101)+chr(113)'));
  assert.is(buf(t, 'http.content_len'), '300');
  assert.is(buf(t, 'http.host'), 'xxx.xxxxxxxxxxxx.xxx.xx');
  assert.is(buf(t, 'http.stat_code', false), '200');
  // The capture ends inside the 3388-byte response body.
  assert.is(t.responseProgress, HttpProgress.BODY);
});

test('suricata-verify http-post-data-decompression: gzip request body is inflated', () => {
  const cap = readCapture(corpusPath('suricata-verify', 'tests', 'http-post-data-decompression', 'input.pcap'));
  const p = new HttpParser();
  for (const ch of cap.connections[0]!.chunks) p.feed(ch.toServer, ch.data);
  const t = p.transactions[0]!;
  assert.is(buf(t, 'http.request_body'), 'name=john dauny mladshiy\n');
  assert.is(buf(t, 'http.response_body', false), 'Hi john dauny mladshiy\n!');
});

test('corpus docker-api-create-attach: attach upgrade (101) ends HTTP parsing', () => {
  const cap = readCapture(corpusPath('pcaps', 'docker-api-create-attach.pcap'));
  const seen: Array<[string | null, string | null]> = [];
  for (const c of cap.connections) {
    const p = new HttpParser();
    for (const ch of c.chunks) p.feed(ch.toServer, ch.data);
    for (const t of p.transactions) seen.push([buf(t, 'http.uri.raw'), buf(t, 'http.stat_code', false)]);
  }
  const attach = seen.find(([u]) => u !== null && u.includes('/attach?'));
  assert.ok(attach);
  assert.is(attach![1], '101');
  const create = seen.find(([u]) => u === '/v1.41/containers/create');
  assert.is(create![1], '201');
  assert.ok(seen.some(([u, s]) => u === '/_ping' && s === '200'));
});

test.run();
