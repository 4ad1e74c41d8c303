// fast-check generators of packets for the hardening tests: IPv4/IPv6 with TCP, UDP, ICMP or
// another protocol; arbitrary header fields, options, fragments, wrong checksums, zero-length
// and GSO-sized (up to 64 KiB) payloads, Ethernet (with VLAN tags) or raw IP framing.
// Addresses, ports and sequence numbers come from small pools so packets meet in flows and
// streams instead of each making its own flow. Checksums are computed here, apart from
// src/decode/checksum.ts, so a bug there cannot hide in both.
import fc from 'fast-check';
import { LinkType } from '../../src/decode/packet';

export interface PacketSpec {
  v6: boolean;
  src: number;
  dst: number;
  /** 6, 17, 1/58 (ICMP for the IP version), or another protocol number. */
  proto: number;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  tcpOptions: Uint8Array;
  /** TCP data offset override (words) or -1 for the right one. */
  dataOffset: number;
  payloadLength: number;
  payloadSeed: number;
  /** HTTP/TLS/SSH/DNS-looking payload start, so app-layer detection engages. */
  payloadKind: number;
  ipOptions: Uint8Array;
  /** IPv4 total length / IPv6 payload length: 'ok', 0 (TSO), or an arbitrary value. */
  lengthMode: 'ok' | 'zero' | 'random';
  lengthValue: number;
  udpLengthMode: 'ok' | 'random';
  fragment: { more: boolean; offset: number } | null;
  badIpChecksum: boolean;
  badL4Checksum: boolean;
  ttl: number;
  link: 'eth' | 'vlan' | 'raw';
  /** Cut the frame to this many bytes (snaplen), or -1. */
  cut: number;
}

const V4 = [[10, 0, 0, 1], [10, 0, 0, 2], [172, 17, 0, 3]];
const V6 = [[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]];
const PORTS = [53, 80, 443, 22, 40000, 40001];
const ISNS = [1000, 0xfffff000, 0x7fffffff];
const PREFIXES = [
  '', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n',
  'SSH-2.0-OpenSSH_9.0\r\n', '\x16\x03\x01\x00\x30\x01\x00\x00\x2c\x03\x03', '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01',
];

export const packetSpec: fc.Arbitrary<PacketSpec> = fc.record({
  v6: fc.boolean(),
  src: fc.integer({ min: 0, max: 2 }),
  dst: fc.integer({ min: 0, max: 2 }),
  proto: fc.oneof({ weight: 6, arbitrary: fc.constant(6) }, { weight: 3, arbitrary: fc.constant(17) }, { weight: 1, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  sport: fc.constantFrom(...PORTS),
  dport: fc.constantFrom(...PORTS),
  seq: fc.tuple(fc.constantFrom(...ISNS), fc.integer({ min: -3, max: 70000 })).map(([b, o]) => (b + o) >>> 0),
  ack: fc.oneof(fc.tuple(fc.constantFrom(...ISNS), fc.integer({ min: -3, max: 70000 })).map(([b, o]) => (b + o) >>> 0), fc.integer({ min: 0, max: 0xffffffff })),
  flags: fc.oneof(fc.constantFrom(0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x19), fc.integer({ min: 0, max: 255 })),
  window: fc.integer({ min: 0, max: 0xffff }),
  tcpOptions: fc.oneof(
    fc.constant(new Uint8Array(0)),
    fc.constant(Uint8Array.from([2, 4, 5, 0xb4, 1, 3, 3, 14, 4, 2, 0, 0])),
    fc.uint8Array({ maxLength: 40 }),
  ),
  dataOffset: fc.oneof({ weight: 8, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
  payloadLength: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 1460 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1461, max: 65535 - 60 - 60 }) }, // GSO super-packets
  ),
  payloadSeed: fc.integer(),
  payloadKind: fc.integer({ min: 0, max: PREFIXES.length - 1 }),
  ipOptions: fc.oneof({ weight: 6, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) }),
  lengthMode: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'zero', 'random'),
  lengthValue: fc.integer({ min: 0, max: 0xffff }),
  udpLengthMode: fc.constantFrom('ok', 'ok', 'ok', 'random'),
  fragment: fc.option(fc.record({ more: fc.boolean(), offset: fc.integer({ min: 0, max: 0x1fff }) }), { freq: 8 }),
  badIpChecksum: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  badL4Checksum: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  ttl: fc.integer({ min: 0, max: 255 }),
  link: fc.constantFrom('eth', 'eth', 'vlan', 'raw'),
  cut: fc.oneof({ weight: 9, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 200 }) }),
}) as fc.Arbitrary<PacketSpec>;

/** RFC 1071 ones-complement sum of bytes, folded (not inverted). */
function sum16(b: Uint8Array, s: number, e: number, init: number): number {
  let sum = init;
  let i = s;
  for (; i + 1 < e; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < e) sum += b[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

function payloadOf(spec: PacketSpec): Uint8Array {
  const out = new Uint8Array(spec.payloadLength);
  const pre = Buffer.from(PREFIXES[spec.payloadKind]!, 'latin1');
  out.set(pre.subarray(0, out.length));
  let x = spec.payloadSeed >>> 0 || 1;
  for (let i = pre.length; i < out.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    // Mostly printable with CR/LF, so line-based parsers see lines.
    out[i] = (x & 0x1f) === 0 ? 0x0a : 0x20 + (x % 95);
  }
  return out;
}

/** The frame for a spec, and the link type to decode it with. */
export function buildPacket(spec: PacketSpec): { data: Uint8Array; linkType: number } {
  const payload = payloadOf(spec);
  const src = spec.v6 ? V6[spec.src]! : V4[spec.src]!;
  const dst = spec.v6 ? V6[spec.dst]! : V4[spec.dst]!;
  const proto = spec.proto === -1 ? (spec.v6 ? 58 : 1) : spec.proto;
  // Transport header + payload.
  let l4: Uint8Array;
  if (proto === 6) {
    const opts = spec.tcpOptions;
    const optLen = (opts.length + 3) & ~3;
    const hlen = 20 + optLen;
    l4 = new Uint8Array(hlen + payload.length);
    const v = new DataView(l4.buffer);
    v.setUint16(0, spec.sport);
    v.setUint16(2, spec.dport);
    v.setUint32(4, spec.seq);
    v.setUint32(8, spec.ack);
    l4[12] = (spec.dataOffset >= 0 ? spec.dataOffset : hlen / 4) << 4;
    l4[13] = spec.flags;
    v.setUint16(14, spec.window);
    l4.set(opts, 20);
    l4.set(payload, hlen);
  } else if (proto === 17) {
    l4 = new Uint8Array(8 + payload.length);
    const v = new DataView(l4.buffer);
    v.setUint16(0, spec.sport);
    v.setUint16(2, spec.dport);
    v.setUint16(4, spec.udpLengthMode === 'ok' ? Math.min(0xffff, l4.length) : spec.lengthValue);
    l4.set(payload, 8);
  } else if (proto === 1 || proto === 58) {
    l4 = new Uint8Array(8 + payload.length);
    l4[0] = proto === 1 ? 8 : 128;
    l4.set(payload, 8);
  } else {
    l4 = payload;
  }
  // L4 checksum over the pseudo-header.
  const ck = proto === 6 ? 16 : proto === 17 ? 6 : proto === 1 || proto === 58 ? 2 : -1;
  if (ck >= 0) {
    let init = 0;
    if (proto !== 1) {
      init = sum16(Uint8Array.from(src), 0, src.length, 0) + sum16(Uint8Array.from(dst), 0, dst.length, 0) + proto + l4.length;
    }
    let c = ~sum16(l4, 0, l4.length, init) & 0xffff;
    if (proto === 17 && c === 0) c = 0xffff;
    if (spec.badL4Checksum) c = (c + 1) & 0xffff;
    l4[ck] = c >>> 8;
    l4[ck + 1] = c & 0xff;
  }
  // IP header.
  let ip: Uint8Array;
  if (spec.v6) {
    const frag = spec.fragment !== null;
    ip = new Uint8Array(40 + (frag ? 8 : 0) + l4.length);
    ip[0] = 0x60;
    const plen = ip.length - 40;
    const v = new DataView(ip.buffer);
    v.setUint16(4, spec.lengthMode === 'ok' ? Math.min(0xffff, plen) : spec.lengthMode === 'zero' ? 0 : spec.lengthValue);
    ip[6] = frag ? 44 : proto;
    ip[7] = spec.ttl;
    ip.set(src, 8);
    ip.set(dst, 24);
    let at = 40;
    if (frag) {
      ip[40] = proto;
      v.setUint16(42, ((spec.fragment!.offset << 3) & 0xfff8) | (spec.fragment!.more ? 1 : 0));
      v.setUint32(44, spec.payloadSeed >>> 0);
      at = 48;
    }
    ip.set(l4, at);
  } else {
    const optLen = (Math.min(40, spec.ipOptions.length) + 3) & ~3;
    const hlen = 20 + optLen;
    ip = new Uint8Array(hlen + l4.length);
    const v = new DataView(ip.buffer);
    ip[0] = 0x40 | (hlen / 4);
    v.setUint16(2, spec.lengthMode === 'ok' ? Math.min(0xffff, ip.length) : spec.lengthMode === 'zero' ? 0 : spec.lengthValue);
    v.setUint16(4, spec.payloadSeed & 0xffff);
    if (spec.fragment !== null) v.setUint16(6, (spec.fragment.more ? 0x2000 : 0) | spec.fragment.offset);
    ip[8] = spec.ttl;
    ip[9] = proto;
    ip.set(src, 12);
    ip.set(dst, 16);
    ip.set(spec.ipOptions.subarray(0, 40), 20);
    let c = ~sum16(ip, 0, hlen, 0) & 0xffff;
    if (spec.badIpChecksum) c = (c + 1) & 0xffff;
    v.setUint16(10, c);
    ip.set(l4, hlen);
  }
  let frame: Uint8Array;
  let linkType: number = LinkType.ETHERNET;
  if (spec.link === 'raw') {
    frame = ip;
    linkType = LinkType.RAW;
  } else {
    const tags = spec.link === 'vlan' ? 4 : 0;
    frame = new Uint8Array(14 + tags + ip.length);
    frame.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
    const et = spec.v6 ? 0x86dd : 0x0800;
    if (tags) frame.set([0x81, 0x00, 0x00, 0x0a], 12);
    frame[12 + tags] = et >>> 8;
    frame[13 + tags] = et & 0xff;
    frame.set(ip, 14 + tags);
  }
  if (spec.cut >= 0 && spec.cut < frame.length) frame = frame.subarray(0, spec.cut);
  return { data: frame, linkType };
}
