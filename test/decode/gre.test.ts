// GRE decapsulation (src/decode/gre.ts): crafted RFC 2784/2890 headers around IPv4, IPv6 and
// Ethernet, ERSPAN II from the corpus, malformed and unsupported headers, nesting bound.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeAnomaly, DecodeContext } from '../../src/decode/decodeStats';
import { IpProto, LinkType, Packet } from '../../src/decode/packet';
import { MAX_TUNNEL_DEPTH } from '../../src/decode/gre';
import { openPcap } from '../../src/capture/pcapOpen';
import { corpusPath } from '../support/corpus';
import { ethernet, ip4, ip6, ipv4, ipv6, tcpSegment, u16, u32, udpDatagram } from './craft';

const innerTcp = ipv4('192.168.1.1', '192.168.1.2', { proto: IpProto.TCP },
  tcpSegment(ip4('192.168.1.1'), ip4('192.168.1.2'), { sport: 40000, dport: 80, flags: 0x18, payload: 'GET / HTTP/1.1\r\n' }));

function gre(flags: number, proto: number, fields: number[], payload: number[]): number[] {
  return [...u16(flags), ...u16(proto), ...fields, ...payload];
}

function outer(grePayload: number[]): Uint8Array {
  return Uint8Array.from(ethernet(0x0800, ipv4('10.0.0.1', '10.0.0.2', { proto: 47 }, grePayload)));
}

function decode(frame: Uint8Array, ctx = new DecodeContext('all')): { p: Packet; ctx: DecodeContext } {
  const p = new Packet();
  decodePacket(p, frame, LinkType.ETHERNET, ctx);
  return { p, ctx };
}

function addr(a: Uint8Array): string {
  return [...a.subarray(12)].join('.');
}

test('plain GRE (RFC 2784) around IPv4/TCP: the inner packet is what the Packet shows', () => {
  const { p, ctx } = decode(outer(gre(0, 0x0800, [], innerTcp)));
  assert.is(p.ipVersion, 4);
  assert.is(p.ipProto, IpProto.TCP);
  assert.is(addr(p.src), '192.168.1.1');
  assert.is(addr(p.dst), '192.168.1.2');
  assert.is(p.dstPort, 80);
  assert.is(Buffer.from(p.payload()).toString('latin1'), 'GET / HTTP/1.1\r\n');
  assert.is(p.l4ChecksumValid, 1);
  assert.is(ctx.stats.gre, 1);
  assert.is(ctx.stats.greDecapsulated, 1);
  assert.is(ctx.stats.ipv4, 2);
  assert.is(ctx.stats.otherIpProto, 0);
  assert.is(p.anomalies, 0);
});

test('checksum, key and sequence fields (RFC 2890) are skipped by their flags', () => {
  // C + K + S: checksum/offset word, key, sequence number, then the payload.
  const { p } = decode(outer(gre(0x8000 | 0x2000 | 0x1000, 0x0800, [0, 0, 0, 0, ...u32(7), ...u32(99)], innerTcp)));
  assert.is(p.ipProto, IpProto.TCP);
  assert.is(p.dstPort, 80);
  const keyOnly = decode(outer(gre(0x2000, 0x0800, u32(0xdeadbeef), innerTcp))).p;
  assert.is(keyOnly.dstPort, 80);
});

test('IPv6 inside GRE over IPv6', () => {
  const udp = udpDatagram(ip6('fd00::1'), ip6('fd00::2'), 5353, 53, 'hello');
  const inner = ipv6('fd00::1', 'fd00::2', IpProto.UDP, udp);
  const frame = Uint8Array.from(ethernet(0x86dd, ipv6('2001:db8::1', '2001:db8::2', 47, gre(0, 0x86dd, [], inner))));
  const { p, ctx } = decode(frame);
  assert.is(p.ipVersion, 6);
  assert.is(p.ipProto, IpProto.UDP);
  assert.is(p.dstPort, 53);
  assert.is(p.src[15], 1);
  assert.is(p.src[0], 0xfd);
  assert.is(ctx.stats.ipv6, 2);
});

test('transparent Ethernet bridging (0x6558): the inner frame, its MACs and VLAN tag', () => {
  const frame = ethernet(0x0800, innerTcp, [[0x8100, 42]]);
  const { p } = decode(outer(gre(0, 0x6558, [], frame)));
  assert.is(p.dstPort, 80);
  assert.is(p.vlanCount, 1);
  assert.is(p.vlanId0, 42);
  // l2Offset points at the inner Ethernet header: outer Ethernet 14 + IPv4 20 + GRE 4.
  assert.is(p.l2Offset, 38);
});

test('ERSPAN type II from the corpus: 60 inner TCP packets, the HTTP request visible', () => {
  const ctx = new DecodeContext('none');
  const p = new Packet();
  const reader = openPcap(corpusPath('pcaps', 'mirai-jaws-mvpower-gre.pcap'));
  let http = 0;
  let tcp = 0;
  try {
    for (const rec of reader) {
      decodePacket(p, rec.data, rec.linkType, ctx);
      if (p.ipProto === IpProto.TCP && p.l4Offset >= 0) tcp++;
      if (p.payloadLength > 0 && Buffer.from(p.payload()).toString('latin1').startsWith('GET /shell?')) http++;
    }
  } finally {
    reader.close();
  }
  assert.is(ctx.stats.gre, 60);
  assert.is(ctx.stats.greDecapsulated, 60);
  assert.is(tcp, 60);
  // tshark shows the same request through the two mirrored tunnels, twice each (frames 14, 17, ...).
  assert.ok(http >= 2, `${http} inner HTTP requests`);
});

test('ERSPAN type I (no sequence) and type III are not opened, and counted', () => {
  const erspanII = [0x10, 0, 0, 1, 0, 0, 0, 0];
  const eth = ethernet(0x0800, innerTcp);
  const t1 = decode(outer(gre(0, 0x88be, [], eth)));
  assert.is(t1.p.ipProto, 47);
  assert.is(t1.ctx.stats.greUnsupported, 1);
  const t3 = decode(outer(gre(0x1000, 0x88be, u32(1), [0x20, ...erspanII.slice(1), ...eth])));
  assert.is(t3.p.ipProto, 47);
  assert.is(t3.ctx.stats.greUnsupported, 1);
  const t2 = decode(outer(gre(0x1000, 0x88be, u32(1), [...erspanII, ...eth])));
  assert.is(t2.p.ipProto, IpProto.TCP);
});

test('malformed: short header, bad version, recursion bits, truncated fields, bad SRE list', () => {
  const cases: number[][] = [
    [0, 0], // shorter than 4 bytes
    gre(0x0002, 0x0800, [], innerTcp), // version 2
    gre(0x0100, 0x0800, [], innerTcp), // recursion control set
    gre(0x2000 | 0x1000, 0x0800, [0, 0], []), // key + sequence announced, 2 bytes there
    gre(0x4000, 0x0800, [0, 0, 0, 0, 0, 1, 0, 200], innerTcp.slice(0, 8)), // route entry runs past the end
    gre(0, 0x0800, [], innerTcp.slice(0, 12)), // inner IPv4 header cut short
  ];
  for (const c of cases) {
    const { p, ctx } = decode(outer(c));
    assert.ok(p.anomalies & DecodeAnomaly.GRE_MALFORMED, JSON.stringify(c.slice(0, 4)));
    assert.is(ctx.stats.greMalformed, 1);
    // The outer packet stays, its GRE bytes exposed as payload for packet rules.
    assert.is(p.ipProto, 47);
    assert.is(p.payloadLength, c.length);
  }
});

test('PPTP (version 1, PPP) is counted as unsupported, not malformed', () => {
  const { p, ctx } = decode(outer(gre(0x2001, 0x880b, [0, 4, 0, 1], [0xff, 3, 0, 0x21])));
  assert.is(ctx.stats.greUnsupported, 1);
  assert.is(p.anomalies & DecodeAnomaly.GRE_MALFORMED, 0);
  assert.is(p.ipProto, 47);
});

test('nesting is bounded: GRE in GRE stops at MAX_TUNNEL_DEPTH', () => {
  let pkt = innerTcp;
  for (let i = 0; i < MAX_TUNNEL_DEPTH + 3; i++) pkt = ipv4('10.9.0.1', '10.9.0.2', { proto: 47 }, gre(0, 0x0800, [], pkt));
  const { p, ctx } = decode(Uint8Array.from(ethernet(0x0800, pkt)));
  assert.ok(p.anomalies & DecodeAnomaly.GRE_MALFORMED);
  assert.is(ctx.stats.greDecapsulated, MAX_TUNNEL_DEPTH);
  assert.is(ctx.tunnelDepth, 0);
  // Two levels decode fine.
  const two = ipv4('10.9.0.1', '10.9.0.2', { proto: 47 }, gre(0, 0x0800, [], ipv4('10.8.0.1', '10.8.0.2', { proto: 47 }, gre(0, 0x0800, [], innerTcp))));
  const ok = decode(Uint8Array.from(ethernet(0x0800, two))).p;
  assert.is(ok.dstPort, 80);
  assert.is(ok.anomalies, 0);
});

test.run();
