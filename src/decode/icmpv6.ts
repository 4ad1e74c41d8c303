// ICMPv6 (RFC 4443): type, code, checksum with the IPv6 pseudo-header, id/seq for echo
// request (128) and reply (129).
import { IpProto, Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { l4Checksum, l4Complete } from './l4Checksum';

export const ICMPV6_HEADER_LENGTH = 8;

export function decodeIcmpv6(p: Packet, ctx: DecodeContext, off: number, end: number): void {
  const data = p.data;
  ctx.stats.icmpv6++;
  // Some ICMPv6 messages (e.g. router solicitation) are 8 bytes; all have at least 4.
  if (off + 4 > end) {
    p.anomalies |= DecodeAnomaly.ICMP_TRUNCATED;
    ctx.stats.truncated++;
    return;
  }
  p.l4Offset = off;
  const type = data[off]!;
  p.icmpType = type;
  p.icmpCode = data[off + 1]!;
  if ((type === 128 || type === 129) && off + ICMPV6_HEADER_LENGTH <= end) {
    p.icmpId = (data[off + 4]! << 8) | data[off + 5]!;
    p.icmpSeq = (data[off + 6]! << 8) | data[off + 7]!;
  }
  const hdr = Math.min(ICMPV6_HEADER_LENGTH, end - off);
  p.payloadOffset = off + hdr;
  p.payloadLength = end - off - hdr;
  if (ctx.validate && l4Complete(p)) {
    if (l4Checksum(p, IpProto.ICMPV6, off, end) === 0) p.l4ChecksumValid = 1;
    else {
      p.l4ChecksumValid = 0;
      p.anomalies |= DecodeAnomaly.ICMP_BAD_CHECKSUM;
      ctx.stats.icmpBadChecksum++;
    }
  }
}
