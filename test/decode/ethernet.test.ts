import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeAnomaly, DecodeContext } from '../../src/decode/decodeStats';
import { IpProto, LinkType, Packet } from '../../src/decode/packet';
import { ethernet, ip4, ipv4, udpDatagram } from './craft';

const udp = ipv4('192.168.1.1', '192.168.1.2', { proto: IpProto.UDP }, udpDatagram(ip4('192.168.1.1'), ip4('192.168.1.2'), 5353, 53, 'q'));

function decode(frame: number[]): { p: Packet; ctx: DecodeContext } {
  const p = new Packet();
  const ctx = new DecodeContext('all');
  decodePacket(p, Uint8Array.from(frame), LinkType.ETHERNET, ctx);
  return { p, ctx };
}

test('plain Ethernet II carries IPv4', () => {
  const { p } = decode(ethernet(0x0800, udp));
  assert.is(p.l2Offset, 0);
  assert.is(p.etherType, 0x0800);
  assert.is(p.l3Offset, 14);
  assert.is(p.vlanCount, 0);
  assert.is(p.dstPort, 53);
  assert.is(p.l4ChecksumValid, 1);
});

test('802.1Q tag: VLAN id recorded, IP found after the tag', () => {
  const { p, ctx } = decode(ethernet(0x0800, udp, [[0x8100, 0x2064]]));
  assert.is(p.vlanCount, 1);
  assert.is(p.vlanId0, 100); // TCI 0x2064: priority 1, VID 100
  assert.is(p.l3Offset, 18);
  assert.is(p.srcPort, 5353);
  assert.is(ctx.stats.vlan, 1);
});

test('QinQ (802.1ad outer, 802.1Q inner): both ids, outer first', () => {
  const { p } = decode(ethernet(0x0800, udp, [[0x88a8, 10], [0x8100, 20]]));
  assert.is(p.vlanCount, 2);
  assert.is(p.vlanId0, 10);
  assert.is(p.vlanId1, 20);
  assert.is(p.l3Offset, 22);
  assert.is(p.ipProto, IpProto.UDP);
});

test('four VLAN tags are an anomaly, not a crash', () => {
  const { p } = decode(ethernet(0x0800, udp, [[0x8100, 1], [0x8100, 2], [0x8100, 3], [0x8100, 4]]));
  assert.ok(p.anomalies & DecodeAnomaly.VLAN_TOO_MANY);
  assert.is(p.ipVersion, 0);
});

test('a tag cut by the end of the frame is counted as truncated', () => {
  const frame = ethernet(0x0800, [], [[0x8100, 5]]).slice(0, 16);
  const { p, ctx } = decode(frame);
  assert.ok(p.anomalies & DecodeAnomaly.LINK_TRUNCATED);
  assert.is(ctx.stats.truncated, 1);
});

test('ARP is non-IP without anomaly; an unknown EtherType is flagged', () => {
  const arp = decode(ethernet(0x0806, new Array(28).fill(0)));
  assert.is(arp.ctx.stats.nonIp, 1);
  assert.is(arp.p.anomalies, 0);
  const odd = decode(ethernet(0x88b5, [1, 2, 3]));
  assert.ok(odd.p.anomalies & DecodeAnomaly.UNKNOWN_ETHERTYPE);
});

test('a frame shorter than an Ethernet header', () => {
  const { p, ctx } = decode([1, 2, 3, 4, 5]);
  assert.ok(p.anomalies & DecodeAnomaly.LINK_TRUNCATED);
  assert.is(ctx.stats.ethernet, 1);
});

test.run();
