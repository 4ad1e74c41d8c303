// TLS: the corpus Heartbleed session (values from tshark: `-e tls.handshake.version
// -e tls.heartbeat_message.payload_length -e tls.record.length`, and the certificate's
// RDNSequence items from `tshark -V`), plus a crafted ClientHello with SNI fed at every split.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tlsEve } from '../../src/applayer/appLayerEve';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { TlsParser, tlsVersionName } from '../../src/applayer/tlsParser';
import { corpusPath } from '../support/corpus';
import { readCapture } from './pcapStreams';

test('corpus heartbleed-success: version, certificate names, heartbeats', () => {
  const cap = readCapture(corpusPath('pcaps', 'heartbleed-success.pcap'));
  const c = new AppLayerCounters();
  const t = new TlsParser(c);
  for (const ch of cap.connections[0]!.chunks) t.feed(ch.toServer, ch.data);
  assert.is(t.clientVersion, 0x0303);
  assert.is(t.version, 0x0303);
  assert.is(t.sni, null); // the ClientHello has no server_name extension
  assert.is(t.certificates.length, 2);
  assert.is(t.certSubject, 'C=US, CN=www.lilawelt.de, emailAddress=postmaster@lilawelt.de');
  assert.is(t.certIssuer, 'C=IL, O=StartCom Ltd., OU=Secure Digital Certificate Signing, CN=StartCom Class 1 Primary Intermediate Server CA');
  assert.equal(t.heartbeats, [
    { toServer: true, type: 1, recordLength: 16368, payloadLength: 16365 },
    { toServer: false, type: 2, recordLength: 16384, payloadLength: 16365 },
  ]);
  assert.is(c.tlsMalformed, 0);
  assert.equal(tlsEve(t), {
    subject: 'C=US, CN=www.lilawelt.de, emailAddress=postmaster@lilawelt.de',
    issuerdn: 'C=IL, O=StartCom Ltd., OU=Secure Digital Certificate Signing, CN=StartCom Class 1 Primary Intermediate Server CA',
    version: 'TLS 1.2',
  });
});

// A TLS 1.3-style ClientHello record with SNI "db.internal" (RFC 6066) and a ServerHello
// selecting 0x0304 through supported_versions.
function clientHello(host: string): Buffer {
  const name = Buffer.from(host);
  const sni = Buffer.concat([Buffer.from([0, 0]), u16(name.length + 5), u16(name.length + 3), Buffer.from([0]), u16(name.length), name]);
  const body = Buffer.concat([
    Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0]), u16(2), Buffer.from([0x13, 0x01]), Buffer.from([1, 0]),
    u16(sni.length), sni,
  ]);
  return record(22, Buffer.concat([Buffer.from([1]), u24(body.length), body]));
}
function serverHello(): Buffer {
  const ext = Buffer.concat([u16(43), u16(2), u16(0x0304)]);
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 9), Buffer.from([0]), Buffer.from([0x13, 0x01, 0]), u16(ext.length), ext]);
  return record(22, Buffer.concat([Buffer.from([2]), u24(body.length), body]));
}
function u16(n: number): Buffer {
  return Buffer.from([n >> 8, n & 255]);
}
function u24(n: number): Buffer {
  return Buffer.from([n >> 16, (n >> 8) & 255, n & 255]);
}
function record(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, 3, 1]), u16(body.length), body]);
}

test('crafted ClientHello SNI and TLS 1.3 version, split at every byte', () => {
  const ch = clientHello('db.internal');
  const sh = serverHello();
  for (let i = 0; i <= ch.length; i++) {
    const t = new TlsParser(new AppLayerCounters());
    t.feed(true, ch.subarray(0, i));
    t.feed(true, ch.subarray(i));
    t.feed(false, sh);
    assert.is(Buffer.from(t.sni!).toString(), 'db.internal');
    assert.is(tlsVersionName(t.version), 'TLS 1.3');
  }
});

test('garbage record header is counted, not thrown', () => {
  const c = new AppLayerCounters();
  const t = new TlsParser(c);
  t.feed(true, Buffer.from([0x99, 3, 3, 0, 5, 1, 2, 3, 4, 5]));
  assert.is(c.tlsMalformed, 1);
  // A ClientHello whose extensions are cut short inside the record.
  const bad = clientHello('x.y');
  const cut = Buffer.concat([Buffer.from([22, 3, 1]), u16(bad.length - 5 - 4), bad.subarray(5, bad.length - 4)]);
  cut[5 + 3] = cut[5 + 3]! - 4; // keep the handshake length consistent with the cut
  const t2 = new TlsParser(c);
  t2.feed(true, cut);
  assert.is(t2.sni, null);
  assert.is(c.tlsMalformed, 2);
});

test.run();
