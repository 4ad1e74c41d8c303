// Minimal IPv4/TCP frames (raw IP link type) for the flood and regex-cost tests: one buffer
// per frame, checksums left zero (decode these with checksum mode 'none').
import { LinkType } from '../../src/decode/packet';

export const RAW = LinkType.IPV4;

export const SYN = 0x02;
export const ACK = 0x10;
export const PSH_ACK = 0x18;
export const SYN_ACK = 0x12;
export const FIN_ACK = 0x11;

/** An IPv4 + TCP packet from src:sport to dst:dport (addresses as 32-bit numbers). */
export function tcpFrame(src: number, dst: number, sport: number, dport: number, seq: number, ack: number, flags: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const f = new Uint8Array(40 + payload.length);
  const v = new DataView(f.buffer);
  f[0] = 0x45;
  v.setUint16(2, Math.min(0xffff, f.length));
  f[8] = 64;
  f[9] = 6;
  v.setUint32(12, src >>> 0);
  v.setUint32(16, dst >>> 0);
  v.setUint16(20, sport);
  v.setUint16(22, dport);
  v.setUint32(24, seq >>> 0);
  v.setUint32(28, ack >>> 0);
  f[32] = 5 << 4;
  f[33] = flags;
  v.setUint16(34, 65535);
  f.set(payload, 40);
  return f;
}

export const ip4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
