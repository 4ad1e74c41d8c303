// ICMPv4 (RFC 792): type, code, checksum over the whole message, id/seq for the query types
// that carry them (echo, timestamp, information, address mask).
import { Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { fold16, sum16 } from './checksum';
import { l4Complete } from './l4Checksum';

export const ICMP_HEADER_LENGTH = 8;

export function decodeIcmpv4(p: Packet, ctx: DecodeContext, off: number, end: number): void {
  const data = p.data;
  ctx.stats.icmpv4++;
  if (off + ICMP_HEADER_LENGTH > end) {
    p.anomalies |= DecodeAnomaly.ICMP_TRUNCATED;
    ctx.stats.truncated++;
    return;
  }
  p.l4Offset = off;
  const type = data[off]!;
  p.icmpType = type;
  p.icmpCode = data[off + 1]!;
  if (type === 0 || type === 8 || (type >= 13 && type <= 18)) {
    p.icmpId = (data[off + 4]! << 8) | data[off + 5]!;
    p.icmpSeq = (data[off + 6]! << 8) | data[off + 7]!;
  }
  p.payloadOffset = off + ICMP_HEADER_LENGTH;
  p.payloadLength = end - off - ICMP_HEADER_LENGTH;
  if (ctx.validate && l4Complete(p)) {
    if (fold16(sum16(data, off, end - off, 0)) === 0) p.l4ChecksumValid = 1;
    else {
      p.l4ChecksumValid = 0;
      p.anomalies |= DecodeAnomaly.ICMP_BAD_CHECKSUM;
      ctx.stats.icmpBadChecksum++;
    }
  }
}
