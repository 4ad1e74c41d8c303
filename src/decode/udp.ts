// UDP (RFC 768; IPv6 rules from RFC 8200 §8.1: a zero checksum is invalid over IPv6).
import { IpProto, Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { l4Checksum, l4Complete } from './l4Checksum';

export const UDP_HEADER_LENGTH = 8;

export function decodeUdp(p: Packet, ctx: DecodeContext, off: number, end: number): void {
  const data = p.data;
  const stats = ctx.stats;
  stats.udp++;
  if (off + UDP_HEADER_LENGTH > end) {
    p.anomalies |= DecodeAnomaly.UDP_TRUNCATED;
    stats.truncated++;
    return;
  }
  const len = (data[off + 4]! << 8) | data[off + 5]!;
  const complete = l4Complete(p);
  if (len < UDP_HEADER_LENGTH || (complete && off + len > end)) {
    p.anomalies |= DecodeAnomaly.UDP_BAD_LENGTH;
    return;
  }
  // Trailing bytes after the UDP length (Ethernet padding inside IP is not possible, but a
  // shorter UDP length is): the datagram ends where UDP says.
  const udpEnd = Math.min(end, off + len);
  p.l4Offset = off;
  p.srcPort = (data[off]! << 8) | data[off + 1]!;
  p.dstPort = (data[off + 2]! << 8) | data[off + 3]!;
  p.payloadOffset = off + UDP_HEADER_LENGTH;
  p.payloadLength = udpEnd - off - UDP_HEADER_LENGTH;
  const sum = (data[off + 6]! << 8) | data[off + 7]!;
  if (ctx.validate && complete && off + len <= end) {
    if (sum === 0 && p.ipVersion === 4) return; // RFC 768: sender computed none.
    if (sum !== 0 && l4Checksum(p, IpProto.UDP, off, off + len) === 0) p.l4ChecksumValid = 1;
    else {
      p.l4ChecksumValid = 0;
      p.anomalies |= DecodeAnomaly.UDP_BAD_CHECKSUM;
      stats.udpBadChecksum++;
    }
  }
}
