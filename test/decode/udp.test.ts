// UDP and ICMP (v4 and v6).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeAnomaly, DecodeContext } from '../../src/decode/decodeStats';
import { IpProto, LinkType, Packet } from '../../src/decode/packet';
import { icmpEcho, icmpv6Echo, ip4, ip6, ipv4, ipv6, udpDatagram } from './craft';

function decode(bytes: number[]): { p: Packet; ctx: DecodeContext } {
  const p = new Packet();
  const ctx = new DecodeContext('all');
  decodePacket(p, Uint8Array.from(bytes), LinkType.RAW, ctx);
  return { p, ctx };
}

const v4udp = (payload: string, bad = false) => ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.UDP }, udpDatagram(ip4('10.0.0.1'), ip4('10.0.0.2'), 1000, 53, payload, bad));

test('UDP ports, payload, checksum', () => {
  const { p } = decode(v4udp('query'));
  assert.ok(p.isUdp);
  assert.is(p.srcPort, 1000);
  assert.is(p.dstPort, 53);
  assert.is(Buffer.from(p.payload()).toString(), 'query');
  assert.is(p.l4ChecksumValid, 1);
});

test('UDP bad checksum; zero checksum means none over IPv4 but is invalid over IPv6', () => {
  const bad = decode(v4udp('q', true));
  assert.ok(bad.p.anomalies & DecodeAnomaly.UDP_BAD_CHECKSUM);
  assert.is(bad.ctx.stats.udpBadChecksum, 1);
  const zero = v4udp('q');
  zero[26] = zero[27] = 0;
  assert.is(decode(zero).p.l4ChecksumValid, -1);
  const u6 = udpDatagram(ip6('fd00::1'), ip6('fd00::2'), 1, 2, 'q');
  u6[6] = u6[7] = 0;
  assert.is(decode(ipv6('fd00::1', 'fd00::2', 17, u6)).p.l4ChecksumValid, 0);
});

test('UDP length field shorter than 8 or past the datagram', () => {
  const short = v4udp('abc');
  short[24] = 0;
  short[25] = 4;
  assert.ok(decode(short).p.anomalies & DecodeAnomaly.UDP_BAD_LENGTH);
  const long = v4udp('abc');
  long[25] = 200;
  assert.ok(decode(long).p.anomalies & DecodeAnomaly.UDP_BAD_LENGTH);
  const trunc = decode(v4udp('abc').slice(0, 24));
  assert.ok(trunc.p.anomalies & DecodeAnomaly.UDP_TRUNCATED);
});

test('ICMPv4 echo: type, code, id, seq, checksum', () => {
  const { p } = decode(ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.ICMP }, icmpEcho(0, 0x1234, 77, [1, 2, 3])));
  assert.ok(p.isIcmp);
  assert.is(p.icmpType, 0);
  assert.is(p.icmpCode, 0);
  assert.is(p.icmpId, 0x1234);
  assert.is(p.icmpSeq, 77);
  assert.is(p.payloadLength, 3);
  assert.is(p.l4ChecksumValid, 1);
  const unreach = ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.ICMP }, icmpEcho(3, 0, 0));
  const u = decode(unreach).p;
  assert.is(u.icmpType, 3);
  assert.is(u.icmpId, -1);
  const bad = icmpEcho(8, 1, 1);
  bad[2] ^= 1;
  const b = decode(ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.ICMP }, bad));
  assert.ok(b.p.anomalies & DecodeAnomaly.ICMP_BAD_CHECKSUM);
});

test('ICMPv6 echo request with the pseudo-header checksum', () => {
  const { p } = decode(ipv6('fd00::1', 'fd00::2', 58, icmpv6Echo(ip6('fd00::1'), ip6('fd00::2'), 128, 5, 6)));
  assert.is(p.icmpType, 128);
  assert.is(p.icmpId, 5);
  assert.is(p.icmpSeq, 6);
  assert.is(p.l4ChecksumValid, 1);
  const wrongSrc = icmpv6Echo(ip6('fd00::9'), ip6('fd00::2'), 128, 5, 6);
  assert.is(decode(ipv6('fd00::1', 'fd00::2', 58, wrongSrc)).p.l4ChecksumValid, 0);
});

test('ICMP shorter than its header', () => {
  const { p } = decode(ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.ICMP }, [8, 0, 0]));
  assert.ok(p.anomalies & DecodeAnomaly.ICMP_TRUNCATED);
});

test.run();
