// The symmetric flow key: a 52-bit integer hash of (addresses, ports, protocol, VLANs) that is
// the same for both directions, plus the exact comparison that resolves hash collisions.
// Integer keys keep the flow table free of per-packet string building.
//
// The hash is keyed: both murmur3 lanes start from a per-process random seed, so an attacker
// who can choose addresses and ports cannot precompute keys that share a hash (hash flooding,
// as in Crosby & Wallach 2003). murmur3 is not a PRF — it has seed-independent differentials
// (Aumasson & Bernstein 2012) — so the seed only raises the cost; FlowTable's chain cap is
// what bounds the worst case.
import { randomBytes } from 'node:crypto';
import { Packet } from '../decode/packet';
import { Flow } from './flow';

/** Packet direction relative to a flow. */
export const KeyMatch = {
  NONE: 0,
  TO_SERVER: 1,
  TO_CLIENT: 2,
} as const;

/** ICMP has no ports; Suricata keys ICMP flows on addresses only (and echo id — not here). */
function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17 || proto === 132;
}

function word(a: Uint8Array, i: number): number {
  return (a[i]! << 24) | (a[i + 1]! << 16) | (a[i + 2]! << 8) | a[i + 3]!;
}

function mix(h: number, k: number): number {
  // murmur3 32-bit block step.
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Compares (a, portA) with (b, portB): negative, 0 or positive. */
function compareEndpoints(a: Uint8Array, portA: number, b: Uint8Array, portB: number): number {
  for (let i = 0; i < 16; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return portA - portB;
}

/** Two 32-bit words keying flowHash. */
export type FlowHashSeed = readonly [number, number];

/** A fresh random seed (once per FlowTable; cold path). */
export function randomFlowHashSeed(): FlowHashSeed {
  const b = randomBytes(8);
  return [b.readUInt32LE(0) | 0, b.readUInt32LE(4) | 0];
}

/** The same value for a packet and its reply, keyed by (seed0, seed1). */
export function flowHash(p: Packet, seed0 = 0, seed1 = 0): number {
  const ports = hasPorts(p.ipProto);
  const sp = ports ? p.srcPort : 0;
  const dp = ports ? p.dstPort : 0;
  const srcFirst = compareEndpoints(p.src, sp, p.dst, dp) <= 0;
  const lo = srcFirst ? p.src : p.dst;
  const hi = srcFirst ? p.dst : p.src;
  const loPort = srcFirst ? sp : dp;
  const hiPort = srcFirst ? dp : sp;
  let h1 = 0x9747b28c ^ seed0;
  let h2 = 0x1b873593 ^ seed1;
  for (let i = 0; i < 16; i += 4) {
    const a = word(lo, i);
    const b = word(hi, i);
    h1 = mix(mix(h1, a), b);
    h2 = mix(mix(h2, b), a);
  }
  const ports32 = (loPort << 16) | hiPort;
  // The IP version is part of the key: IPv4 is stored IPv4-mapped, and a real IPv6 packet
  // between ::ffff:a.b.c.d addresses must not join the IPv4 flow.
  const meta = p.ipProto | (p.vlanId0 << 8) | (p.vlanId1 << 20);
  h1 = finish(mix(mix(mix(h1, ports32), meta), p.ipVersion));
  h2 = finish(mix(mix(mix(h2, meta), ports32), p.ipVersion));
  return h1 * 0x100000 + (h2 >>> 12);
}

function sameAddr(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 15; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether p belongs to flow, and in which direction. */
export function flowKeyMatch(flow: Flow, p: Packet): number {
  if (flow.proto !== p.ipProto || flow.ipVersion !== p.ipVersion || flow.vlanId0 !== p.vlanId0 || flow.vlanId1 !== p.vlanId1) return KeyMatch.NONE;
  const ports = hasPorts(p.ipProto);
  const sp = ports ? p.srcPort : 0;
  const dp = ports ? p.dstPort : 0;
  if (flow.clientPort === sp && flow.serverPort === dp && sameAddr(flow.clientAddr, p.src) && sameAddr(flow.serverAddr, p.dst)) {
    return KeyMatch.TO_SERVER;
  }
  if (flow.clientPort === dp && flow.serverPort === sp && sameAddr(flow.clientAddr, p.dst) && sameAddr(flow.serverAddr, p.src)) {
    return KeyMatch.TO_CLIENT;
  }
  return KeyMatch.NONE;
}

/** Fill a new flow's key from the packet that opens it (its sender becomes the client). */
export function flowKeyInit(flow: Flow, p: Packet, hash: number): void {
  const ports = hasPorts(p.ipProto);
  flow.hash = hash;
  flow.ipVersion = p.ipVersion;
  flow.proto = p.ipProto;
  flow.clientAddr.set(p.src);
  flow.serverAddr.set(p.dst);
  flow.clientPort = ports ? p.srcPort : 0;
  flow.serverPort = ports ? p.dstPort : 0;
  flow.vlanId0 = p.vlanId0;
  flow.vlanId1 = p.vlanId1;
}
