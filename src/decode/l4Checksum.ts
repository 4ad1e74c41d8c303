// Checksum of a TCP/UDP/ICMPv6 segment including the pseudo-header of its IP version.
import { Packet } from './packet';
import { DecodeAnomaly } from './decodeStats';
import { fold16, pseudoSumV4, pseudoSumV6, sum16 } from './checksum';

/** 0 when the segment data[off, end) verifies against its pseudo-header. */
export function l4Checksum(p: Packet, proto: number, off: number, end: number): number {
  const len = end - off;
  const pseudo = p.ipVersion === 4 ? pseudoSumV4(p.data, p.l3Offset, proto, len) : pseudoSumV6(p.data, p.l3Offset, proto, len);
  return fold16(sum16(p.data, off, len, pseudo));
}

/** The pseudo-header checksum can only be verified when the whole segment was captured. */
export function l4Complete(p: Packet): boolean {
  return (p.anomalies & DecodeAnomaly.CAPTURE_TRUNCATED) === 0;
}
