import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeAnomaly, DecodeContext } from '../../src/decode/decodeStats';
import { IpProto, LinkType, Packet } from '../../src/decode/packet';
import { ip4, ipv4, tcpSegment, udpDatagram } from './craft';

const seg = tcpSegment(ip4('10.0.0.1'), ip4('10.0.0.2'), { sport: 40000, dport: 443, flags: 0x02, seq: 5 });

function decode(bytes: number[]): { p: Packet; ctx: DecodeContext } {
  const p = new Packet();
  const ctx = new DecodeContext('all');
  decodePacket(p, Uint8Array.from(bytes), LinkType.RAW, ctx);
  return { p, ctx };
}

test('header fields, mapped addresses and a valid checksum', () => {
  const { p } = decode(ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.TCP, ttl: 17, id: 0x1234 }, seg));
  assert.is(p.ipVersion, 4);
  assert.is(p.ipHeaderLength, 20);
  assert.is(p.ttl, 17);
  assert.is(p.ipId, 0x1234);
  assert.equal([...p.src], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]);
  assert.equal([...p.dst.subarray(12)], [10, 0, 0, 2]);
  assert.is(p.ipChecksumValid, 1);
  assert.is(p.dstPort, 443);
});

test('options are skipped (RR option) and malformed options flagged', () => {
  const rr = [7, 7, 4, 0, 0, 0, 0, 1]; // record route with room for one address, then EOL
  const ok = decode(ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.TCP, options: rr }, seg)).p;
  assert.is(ok.ipHeaderLength, 28);
  assert.is(ok.l4Offset, 28);
  assert.is(ok.anomalies & DecodeAnomaly.IPV4_BAD_OPTIONS, 0);
  const bad = decode(ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.TCP, options: [7, 40, 4, 0] }, seg)).p;
  assert.ok(bad.anomalies & DecodeAnomaly.IPV4_BAD_OPTIONS);
});

test('bad header checksum is flagged and counted, the packet still decoded', () => {
  const { p, ctx } = decode(ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.TCP, badChecksum: true }, seg));
  assert.is(p.ipChecksumValid, 0);
  assert.ok(p.anomalies & DecodeAnomaly.IPV4_BAD_CHECKSUM);
  assert.is(ctx.stats.ipv4BadChecksum, 1);
  assert.is(p.ipProto, IpProto.TCP);
  assert.is(p.l4ChecksumValid, 1);
});

test('header length below 20, total length below header, truncated header', () => {
  const small = ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.TCP }, seg);
  small[0] = 0x44;
  assert.ok(decode(small).p.anomalies & DecodeAnomaly.IPV4_BAD_HEADER_LENGTH);
  const tot = ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.TCP }, seg);
  tot[2] = 0;
  tot[3] = 10;
  assert.ok(decode(tot).p.anomalies & DecodeAnomaly.IPV4_BAD_TOTAL_LENGTH);
  const { p, ctx } = decode(ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.TCP }, seg).slice(0, 12));
  assert.ok(p.anomalies & DecodeAnomaly.IPV4_TRUNCATED);
  assert.is(p.ipVersion, 0);
  assert.is(ctx.stats.truncated, 1);
});

test('snaplen-cut packet: decoded as far as captured, flagged, L4 checksum not judged', () => {
  const full = ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.TCP }, tcpSegment(ip4('10.0.0.1'), ip4('10.0.0.2'), { payload: 'hello world' }));
  const { p } = decode(full.slice(0, full.length - 5));
  assert.ok(p.anomalies & DecodeAnomaly.CAPTURE_TRUNCATED);
  assert.is(p.payloadLength, 6);
  assert.is(p.l4ChecksumValid, -1);
});

test('fragments are counted and not decoded past IP (first, middle, last)', () => {
  const udp = udpDatagram(ip4('10.0.0.1'), ip4('10.0.0.2'), 1, 2, 'x'.repeat(40));
  const first = decode(ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.UDP, flagsFrag: 0x2000 }, udp));
  assert.ok(first.p.moreFragments);
  assert.is(first.p.fragmentOffset, 0);
  assert.ok(first.p.anomalies & DecodeAnomaly.FRAGMENT);
  assert.is(first.p.l4Offset, -1);
  assert.is(first.ctx.stats.fragments, 1);
  const last = decode(ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.UDP, flagsFrag: 0x0003 }, [1, 2, 3, 4]));
  assert.is(last.p.fragmentOffset, 24);
  assert.not.ok(last.p.moreFragments);
  assert.ok(last.p.anomalies & DecodeAnomaly.FRAGMENT);
  const df = decode(ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.UDP, flagsFrag: 0x4000 }, udp));
  assert.is(df.p.anomalies & DecodeAnomaly.FRAGMENT, 0);
  assert.is(df.p.dstPort, 2);
});

test('total length 0 (a TSO super-packet captured on the sender) means the captured length', () => {
  const tso = ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.TCP }, tcpSegment(ip4('10.0.0.1'), ip4('10.0.0.2'), { payload: 'y'.repeat(100) }));
  tso[2] = tso[3] = 0;
  const { p } = decode(tso);
  assert.is(p.ipTotalLength, tso.length);
  assert.is(p.payloadLength, 100);
  assert.is(p.anomalies & ~(DecodeAnomaly.IPV4_BAD_CHECKSUM), 0);
});

test('an unknown transport protocol keeps the IP payload for packet rules', () => {
  const { p, ctx } = decode(ipv4('10.0.0.1', '10.0.0.2', { proto: 47 }, [0, 0, 8, 0, 1, 2, 3, 4]));
  assert.is(p.ipProto, 47);
  assert.is(p.l4Offset, -1);
  assert.is(p.payloadLength, 8);
  assert.is(ctx.stats.otherIpProto, 1);
});

test.run();
