// TCP (RFC 9293) header and options: MSS (2), window scale (3), SACK-permitted (4),
// timestamps (8, RFC 7323), TCP Fast Open (34, or 254 + ExID 0xF989, RFC 7413); checksum with
// pseudo-header.
import { IpProto, Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { l4Checksum, l4Complete } from './l4Checksum';

export const TCP_MIN_HEADER_LENGTH = 20;

export function decodeTcp(p: Packet, ctx: DecodeContext, off: number, end: number): void {
  const data = p.data;
  const stats = ctx.stats;
  stats.tcp++;
  if (off + TCP_MIN_HEADER_LENGTH > end) {
    p.anomalies |= DecodeAnomaly.TCP_TRUNCATED;
    stats.truncated++;
    return;
  }
  const hlen = (data[off + 12]! >> 4) * 4;
  if (hlen < TCP_MIN_HEADER_LENGTH) {
    p.anomalies |= DecodeAnomaly.TCP_BAD_HEADER_LENGTH;
    return;
  }
  if (off + hlen > end) {
    p.anomalies |= DecodeAnomaly.TCP_TRUNCATED;
    stats.truncated++;
    return;
  }
  p.l4Offset = off;
  p.srcPort = (data[off]! << 8) | data[off + 1]!;
  p.dstPort = (data[off + 2]! << 8) | data[off + 3]!;
  p.tcpSeq = ((data[off + 4]! << 24) | (data[off + 5]! << 16) | (data[off + 6]! << 8) | data[off + 7]!) >>> 0;
  p.tcpAck = ((data[off + 8]! << 24) | (data[off + 9]! << 16) | (data[off + 10]! << 8) | data[off + 11]!) >>> 0;
  p.tcpFlags = data[off + 13]!;
  p.tcpWindow = (data[off + 14]! << 8) | data[off + 15]!;
  p.tcpHeaderLength = hlen;
  p.payloadOffset = off + hlen;
  p.payloadLength = end - off - hlen;
  if (hlen > TCP_MIN_HEADER_LENGTH && !decodeOptions(p, data, off + TCP_MIN_HEADER_LENGTH, off + hlen)) {
    p.anomalies |= DecodeAnomaly.TCP_BAD_OPTIONS;
  }
  if (ctx.validate && l4Complete(p)) {
    if (l4Checksum(p, IpProto.TCP, off, end) === 0) p.l4ChecksumValid = 1;
    else {
      p.l4ChecksumValid = 0;
      p.anomalies |= DecodeAnomaly.TCP_BAD_CHECKSUM;
      stats.tcpBadChecksum++;
    }
  }
}

/** Parses the option list into the packet; false when it is malformed (kept: what parsed). */
function decodeOptions(p: Packet, data: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const kind = data[i]!;
    if (kind === 0) return true;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= end) return false;
    const len = data[i + 1]!;
    if (len < 2 || i + len > end) return false;
    switch (kind) {
      case 2:
        if (len !== 4) return false;
        p.tcpMss = (data[i + 2]! << 8) | data[i + 3]!;
        break;
      case 3:
        if (len !== 3) return false;
        // RFC 7323 §2.3: a shift above 14 is used as 14.
        p.tcpWindowScale = Math.min(data[i + 2]!, 14);
        break;
      case 4:
        if (len !== 2) return false;
        p.tcpSackPermitted = true;
        break;
      case 8:
        if (len !== 10) return false;
        p.tcpTsVal = ((data[i + 2]! << 24) | (data[i + 3]! << 16) | (data[i + 4]! << 8) | data[i + 5]!) >>> 0;
        p.tcpTsEcr = ((data[i + 6]! << 24) | (data[i + 7]! << 16) | (data[i + 8]! << 8) | data[i + 9]!) >>> 0;
        break;
      case 34:
        // RFC 7413: empty (cookie request) or a 4..16 byte cookie.
        if (len !== 2 && (len < 6 || len > 18)) return false;
        p.tcpFastOpen = true;
        break;
      case 254:
        // Experimental-option form of TFO used before kind 34 was assigned (RFC 7413 §4.1.1,
        // ExID 0xF989), still sent by older Linux kernels.
        if (len >= 4 && data[i + 2] === 0xf9 && data[i + 3] === 0x89) p.tcpFastOpen = true;
        break;
      default:
        break;
    }
    i += len;
  }
  return true;
}
