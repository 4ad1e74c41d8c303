// Regression tests for the bugs the hardening fuzzers found; one test per fix, each named
// after the defect it pins down.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { TlsParser } from '../../src/applayer/tlsParser';
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

test.run();
