// The Internet checksum (RFC 1071) and the TCP/UDP/ICMPv6 pseudo-header sums (RFC 793,
// RFC 768, RFC 8200 §8.1). Plain integer arithmetic over the captured bytes, no allocation.

/** Ones-complement sum of data[off, off+len) added to `initial`, not folded. */
export function sum16(data: Uint8Array, off: number, len: number, initial: number): number {
  let sum = initial;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (i < end) sum += data[i]! << 8;
  return sum;
}

/** Fold a sum to 16 bits and complement it: 0 means a packet whose checksum verifies. */
export function fold16(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Pseudo-header sum for IPv4 (addresses at l3 offsets 12 and 16). */
export function pseudoSumV4(data: Uint8Array, l3: number, proto: number, l4Length: number): number {
  return sum16(data, l3 + 12, 8, 0) + proto + l4Length;
}

/** Pseudo-header sum for IPv6 (addresses at l3 offsets 8 and 24; upper-layer length 32 bits). */
export function pseudoSumV6(data: Uint8Array, l3: number, proto: number, l4Length: number): number {
  return sum16(data, l3 + 8, 32, 0) + proto + (l4Length >>> 16) + (l4Length & 0xffff);
}
