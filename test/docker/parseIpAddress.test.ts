// Text addresses to the 16-byte form the decoder uses (IPv4-mapped for v4), and back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatIpAddress, isIpv4Mapped, parseIpAddress, parseIpv4 } from '../../src/docker/parseIpAddress';

const hex = (a: Uint8Array): string => Buffer.from(a).toString('hex');

test('IPv4 becomes ::ffff:a.b.c.d', () => {
  const out = new Uint8Array(16);
  assert.ok(parseIpAddress('172.18.0.2', out));
  assert.is(hex(out), '00000000000000000000ffffac120002');
  assert.ok(isIpv4Mapped(out));
  assert.is(formatIpAddress(out), '172.18.0.2');
  assert.is(parseIpv4('255.255.255.255'), 0xffffffff);
});

test('IPv6 forms: compressed, full, embedded IPv4, zone', () => {
  const out = new Uint8Array(16);
  assert.ok(parseIpAddress('fd00:1a7e:d0c::2', out));
  assert.is(hex(out), 'fd001a7e0d0c00000000000000000002');
  assert.is(formatIpAddress(out), 'fd00:1a7e:d0c::2');
  assert.ok(parseIpAddress('2001:db8:0:0:1:0:0:1', out));
  assert.is(formatIpAddress(out), '2001:db8::1:0:0:1'); // RFC 5952 §4.2.3: first longest run
  assert.ok(parseIpAddress('::', out));
  assert.is(hex(out), '0'.repeat(32));
  assert.is(formatIpAddress(out), '::');
  assert.ok(parseIpAddress('::ffff:10.0.0.1', out));
  assert.is(formatIpAddress(out), '10.0.0.1');
  assert.ok(parseIpAddress('fe80::1%eth0', out));
  assert.is(formatIpAddress(out), 'fe80::1');
});

test('malformed addresses are refused, not guessed', () => {
  const out = new Uint8Array(16);
  for (const bad of ['', '1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'fd00:::1', '1:2:3:4:5:6:7']) {
    assert.not.ok(parseIpAddress(bad, out), bad);
  }
});

test.run();
