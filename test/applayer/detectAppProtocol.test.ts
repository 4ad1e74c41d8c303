// Protocol detection by content: crafted first bytes (with "need more" prefixes) and the
// corpus captures, whose protocols are known from the corpus README and tshark's dissectors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AppProto, appProtoByName, appProtoName } from '../../src/applayer/appProto';
import { DETECT_NEED_MORE, detectAppProtocol } from '../../src/applayer/detectAppProtocol';
import { AppLayerState } from '../../src/applayer/appLayerState';
import { corpusPath } from '../support/corpus';
import { readCapture } from './pcapStreams';

const det = (s: string | Buffer, toServer: boolean): number => {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  return detectAppProtocol(b, 0, b.length, toServer, true);
};

test('HTTP: methods to server, HTTP/ to client; prefixes need more', () => {
  assert.is(det('GET / HTTP/1.1\r\n', true), AppProto.HTTP);
  assert.is(det('PROPFIND /x', true), AppProto.HTTP);
  assert.is(det('GE', true), DETECT_NEED_MORE);
  assert.is(det('HTTP/1.1 200 OK', false), AppProto.HTTP);
  assert.is(det('HTT', false), DETECT_NEED_MORE);
  assert.is(det('HTTP/1.1 200 OK', true), AppProto.UNKNOWN);
});

test('SSH, TLS, FTP, SMTP', () => {
  assert.is(det('SSH-2.0-x\r\n', true), AppProto.SSH);
  assert.is(det('SS', false), DETECT_NEED_MORE);
  assert.is(det(Buffer.from([0x16, 3, 1, 0, 100, 1]), true), AppProto.TLS);
  assert.is(det(Buffer.from([0x16, 3, 3, 0, 100, 2]), false), AppProto.TLS);
  assert.is(det(Buffer.from([0x16, 3]), true), DETECT_NEED_MORE);
  assert.is(det('220 ProFTPD Server ready\r\n', false), AppProto.FTP);
  assert.is(det('220 mx.example ESMTP Postfix\r\n', false), AppProto.SMTP);
  assert.is(det('220 hello there, welcome\r\n', false), AppProto.UNKNOWN);
  // Short: could still be a length-prefixed DNS message.
  assert.is(det('220 hello\r\n', false), DETECT_NEED_MORE);
  assert.is(det('EHLO client\r\n', true), AppProto.SMTP);
  assert.is(det('USER anonymous\r\n', true), AppProto.FTP);
});

test('east-west: redis, pgsql, mysql, mongodb', () => {
  assert.is(det('*2\r\n$3\r\nGET\r\n', true), AppProto.REDIS);
  assert.is(det('*2\r\n', true), DETECT_NEED_MORE);
  assert.is(det('+OK\r\n', false), AppProto.REDIS);
  assert.is(det(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]), true), AppProto.PGSQL); // SSLRequest
  assert.is(det(Buffer.from([0, 0, 0, 40, 0, 3, 0, 0]), true), AppProto.PGSQL); // StartupMessage 3.0
  const greeting = Buffer.concat([Buffer.from([40, 0, 0, 0, 10]), Buffer.from('8.0.36\0'), Buffer.alloc(30, 1)]);
  assert.is(det(greeting, false), AppProto.MYSQL);
  const hdr = Buffer.alloc(16);
  hdr.writeInt32LE(60, 0);
  hdr.writeInt32LE(7, 4);
  hdr.writeInt32LE(0, 8);
  hdr.writeInt32LE(2013, 12);
  assert.is(det(hdr, true), AppProto.MONGODB);
  assert.is(det(hdr.subarray(0, 10), true), DETECT_NEED_MORE);
});

test('random bytes: unknown', () => {
  assert.is(det(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e]), true), AppProto.UNKNOWN);
});

test('names follow Suricata', () => {
  assert.is(appProtoName(AppProto.HTTP), 'http');
  assert.is(appProtoName(AppProto.PGSQL), 'pgsql');
  assert.is(appProtoByName('http1'), AppProto.HTTP);
  assert.is(appProtoByName('failed'), AppProto.FAILED);
  assert.is(appProtoByName('nope'), -1);
});

// Protocol of every TCP connection that carries data, per corpus file.
const EXPECTED: Record<string, string> = {
  'docker-api-create-attach.pcap': 'http',
  'dvwa-sqli.pcapng': 'http',
  'etc-passwd-traversal-tfo.pcap': 'http',
  'ftp-bruteforce.pcap': 'ftp',
  'heartbleed-success.pcap': 'tls',
  'mysql-bruteforce-auth.pcap': 'mysql',
  'mysql-session.pcap': 'mysql',
  'nmap-nse-http.pcap': 'http',
  'postgres-app-traffic.pcap': 'pgsql',
  'postgres-ddl-dml.pcap': 'pgsql',
  'postgres-login-fail.pcap': 'pgsql',
  'redis-auth.pcap': 'redis',
  'redis-set.pcap': 'redis',
  'mongodb-pymongo.pcap': 'mongodb',
  'selenium-grid-rce.pcap': 'http',
  'sqli-agent-tfo-segmented.pcap': 'http',
  'sqli-chr-body.pcap': 'http',
  'ssh-password-guessing.pcap': 'ssh',
};

for (const [file, proto] of Object.entries(EXPECTED)) {
  test(`corpus ${file}: ${proto}`, () => {
    const cap = readCapture(corpusPath('pcaps', file));
    const conns = cap.connections.filter((c) => c.chunks.length > 0);
    assert.ok(conns.length > 0);
    for (const c of conns) {
      const st = new AppLayerState(true);
      for (const ch of c.chunks) st.feed(ch.toServer, ch.data);
      assert.is(appProtoName(st.proto), proto, c.key);
    }
  });
}

test('corpus log4shell: HTTP flows, the LDAP and reverse-shell flows fail like in Suricata 7', () => {
  const cap = readCapture(corpusPath('pcaps', 'log4shell-cve-2021-44228.pcap'));
  const got = cap.connections.filter((c) => c.chunks.length > 0).map((c) => {
    const st = new AppLayerState(true);
    for (const ch of c.chunks) st.feed(ch.toServer, ch.data);
    return `${c.serverPort}:${appProtoName(st.proto)}`;
  });
  assert.equal(got.sort(), ['1389:failed', '1389:failed', '8080:http', '80:http', '80:http', '9001:failed']);
});

test.run();
