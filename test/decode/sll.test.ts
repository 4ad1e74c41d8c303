// Linux cooked captures v1/v2, null/loopback in both byte orders, raw IP.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeAnomaly, DecodeContext } from '../../src/decode/decodeStats';
import { IpProto, LinkType, Packet } from '../../src/decode/packet';
import { icmpEcho, icmpv6Echo, ip6, ipv4, ipv6, u16 } from './craft';

const v4 = ipv4('10.1.1.1', '10.1.1.2', { proto: IpProto.ICMP }, icmpEcho(8, 7, 1));
const v6 = ipv6('fd00::1', 'fd00::2', 58, icmpv6Echo(ip6('fd00::1'), ip6('fd00::2'), 128, 9, 3));

function decode(bytes: number[], linkType: number): Packet {
  const p = new Packet();
  decodePacket(p, Uint8Array.from(bytes), linkType, new DecodeContext('all'));
  return p;
}

test('SLL (16-byte header) with IPv4 and IPv6', () => {
  const hdr = (proto: number) => [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...u16(proto)];
  const a = decode([...hdr(0x0800), ...v4], LinkType.LINUX_SLL);
  assert.is(a.l3Offset, 16);
  assert.is(a.icmpType, 8);
  assert.is(a.icmpId, 7);
  const b = decode([...hdr(0x86dd), ...v6], LinkType.LINUX_SLL);
  assert.is(b.ipVersion, 6);
  assert.is(b.icmpType, 128);
  assert.is(b.l4ChecksumValid, 1);
});

test('SLL2 (20-byte header, protocol first)', () => {
  const hdr = [...u16(0x0800), 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
  const p = decode([...hdr, ...v4], LinkType.LINUX_SLL2);
  assert.is(p.l3Offset, 20);
  assert.is(p.icmpSeq, 1);
  const short = decode(hdr.slice(0, 10), LinkType.LINUX_SLL2);
  assert.ok(short.anomalies & DecodeAnomaly.LINK_TRUNCATED);
});

test('NULL/loopback: AF_INET in either byte order, AF_INET6 of every BSD flavour', () => {
  assert.is(decode([2, 0, 0, 0, ...v4], LinkType.NULL).ipVersion, 4);
  assert.is(decode([0, 0, 0, 2, ...v4], LinkType.NULL).ipVersion, 4);
  assert.is(decode([0, 0, 0, 2, ...v4], LinkType.LOOP).ipVersion, 4);
  for (const af of [24, 28, 30, 10]) {
    assert.is(decode([af, 0, 0, 0, ...v6], LinkType.NULL).ipVersion, 6, `AF ${af} little-endian`);
    assert.is(decode([0, 0, 0, af, ...v6], LinkType.NULL).ipVersion, 6, `AF ${af} big-endian`);
  }
  const other = decode([7, 0, 0, 0, 1, 2, 3], LinkType.NULL);
  assert.is(other.ipVersion, 0);
  assert.ok(other.anomalies & DecodeAnomaly.UNKNOWN_ETHERTYPE);
});

test('raw IP: version from the first nibble; LINKTYPE_IPV4 holding IPv6 is flagged', () => {
  assert.is(decode(v4, LinkType.RAW).ipVersion, 4);
  assert.is(decode(v6, LinkType.RAW).ipVersion, 6);
  assert.is(decode(v4, LinkType.IPV4).l3Offset, 0);
  const mismatch = decode(v6, LinkType.IPV4);
  assert.ok(mismatch.anomalies & DecodeAnomaly.IP_VERSION_MISMATCH);
});

test.run();
