import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeAnomaly, DecodeContext } from '../../src/decode/decodeStats';
import { Ipv6Ext } from '../../src/decode/ipv6';
import { IpProto, LinkType, Packet } from '../../src/decode/packet';
import { ip6, ipv6, tcpSegment, udpDatagram } from './craft';

const S = 'fd00::a';
const D = 'fd00::b';
const tcp = tcpSegment(ip6(S), ip6(D), { sport: 1111, dport: 2222, flags: 0x02 });

function decode(bytes: number[]): { p: Packet; ctx: DecodeContext } {
  const p = new Packet();
  const ctx = new DecodeContext('all');
  decodePacket(p, Uint8Array.from(bytes), LinkType.RAW, ctx);
  return { p, ctx };
}

/** A generic extension header of 8 bytes (hop-by-hop, routing, destination options). */
const ext = (next: number) => [next, 0, 1, 4, 0, 0, 0, 0];

test('plain IPv6/TCP with a valid checksum', () => {
  const { p } = decode(ipv6(S, D, 6, tcp));
  assert.is(p.ipVersion, 6);
  assert.is(p.ipHeaderLength, 40);
  assert.is(p.ttl, 64);
  assert.equal([...p.src], ip6(S));
  assert.is(p.srcPort, 1111);
  assert.is(p.l4ChecksumValid, 1);
});

test('a chain of hop-by-hop, routing, destination options and AH before TCP', () => {
  const ah = [6, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // AH length 4 → (4+2)*4 = 24 bytes
  const chain = [...ext(43), ...ext(60), ...[51, 0, 0, 0, 0, 0, 0, 0], ...ah];
  const { p } = decode(ipv6(S, D, 0, [...chain, ...tcp]));
  assert.is(p.ipv6ExtHeaders, Ipv6Ext.HOP_BY_HOP | Ipv6Ext.ROUTING | Ipv6Ext.DEST_OPTIONS | Ipv6Ext.AH);
  assert.is(p.ipProto, IpProto.TCP);
  assert.is(p.ipHeaderLength, 40 + 24 + 24);
  assert.is(p.dstPort, 2222);
  assert.is(p.l4ChecksumValid, 1);
  assert.is(p.anomalies, 0);
});

test('hop-by-hop not first is an anomaly (RFC 8200 4.3)', () => {
  const { p } = decode(ipv6(S, D, 60, [...ext(0), ...ext(6), ...tcp]));
  assert.ok(p.anomalies & DecodeAnomaly.IPV6_BAD_EXTENSION);
});

test('fragment header: fragments counted, atomic fragment decoded as a whole packet', () => {
  const udp = udpDatagram(ip6(S), ip6(D), 53, 53, 'abcd');
  const first = decode(ipv6(S, D, 44, [17, 0, 0, 1, 0, 0, 0, 42, ...udp]));
  assert.ok(first.p.anomalies & DecodeAnomaly.FRAGMENT);
  assert.ok(first.p.moreFragments);
  assert.is(first.p.ipId, 42);
  assert.is(first.p.l4Offset, -1);
  assert.is(first.ctx.stats.fragments, 1);
  const later = decode(ipv6(S, D, 44, [17, 0, 0, 0x10, 0, 0, 0, 42, 1, 2, 3, 4]));
  assert.is(later.p.fragmentOffset, 16);
  assert.ok(later.p.anomalies & DecodeAnomaly.FRAGMENT);
  const atomic = decode(ipv6(S, D, 44, [17, 0, 0, 0, 0, 0, 0, 42, ...udp]));
  assert.is(atomic.p.anomalies & DecodeAnomaly.FRAGMENT, 0);
  assert.is(atomic.p.ipv6ExtHeaders, Ipv6Ext.FRAGMENT);
  assert.is(atomic.p.dstPort, 53);
  assert.is(atomic.p.l4ChecksumValid, 1);
});

test('an extension header running past the packet, and a truncated fixed header', () => {
  const over = decode(ipv6(S, D, 0, [6, 5, 0, 0, 0, 0, 0, 0]));
  assert.ok(over.p.anomalies & DecodeAnomaly.IPV6_BAD_EXTENSION);
  assert.is(over.p.l4Offset, -1);
  const short = decode(ipv6(S, D, 6, tcp).slice(0, 30));
  assert.ok(short.p.anomalies & DecodeAnomaly.IPV6_TRUNCATED);
  assert.is(short.ctx.stats.truncated, 1);
});

test('an endless chain of extension headers stops at the limit', () => {
  const chain: number[] = [];
  for (let i = 0; i < 20; i++) chain.push(...ext(60));
  const { p } = decode(ipv6(S, D, 60, chain));
  assert.ok(p.anomalies & DecodeAnomaly.IPV6_BAD_EXTENSION);
});

test.run();
