// IPv4 (RFC 791): header length, total length, options, header checksum, fragments.
//
// Fragments are counted and flagged (DecodeAnomaly.FRAGMENT) but NOT reassembled: the
// transport header is only decoded for unfragmented packets. Suricata reassembles by default
// (defrag); east-west container traffic on one MTU practically never fragments, and an
// unreassembled fragment carries no transport ports to key a flow on. Documented as a gap.
import { Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { fold16, sum16 } from './checksum';
import { decodeTransport } from './transport';

export const IPV4_MIN_HEADER_LENGTH = 20;

export function decodeIpv4(p: Packet, ctx: DecodeContext, off: number): void {
  const data = p.data;
  const stats = ctx.stats;
  stats.ipv4++;
  if (off + IPV4_MIN_HEADER_LENGTH > p.dataEnd) {
    p.anomalies |= DecodeAnomaly.IPV4_TRUNCATED;
    stats.truncated++;
    return;
  }
  if (data[off]! >> 4 !== 4) {
    p.anomalies |= DecodeAnomaly.IP_VERSION_MISMATCH;
    return;
  }
  const hlen = (data[off]! & 0x0f) * 4;
  if (hlen < IPV4_MIN_HEADER_LENGTH) {
    p.anomalies |= DecodeAnomaly.IPV4_BAD_HEADER_LENGTH;
    return;
  }
  if (off + hlen > p.dataEnd) {
    p.anomalies |= DecodeAnomaly.IPV4_TRUNCATED;
    stats.truncated++;
    return;
  }
  let total = (data[off + 2]! << 8) | data[off + 3]!;
  // TSO/GSO super-packets captured on the sending host can carry total length 0 (Suricata
  // accepts them too): the captured length is the packet.
  if (total === 0 && p.dataEnd - off > hlen) total = p.dataEnd - off;
  if (total < hlen) {
    p.anomalies |= DecodeAnomaly.IPV4_BAD_TOTAL_LENGTH;
    return;
  }
  let end = off + total;
  if (end > p.dataEnd) {
    // Snaplen cut the packet: decode what was captured, remember that it is partial.
    p.anomalies |= DecodeAnomaly.CAPTURE_TRUNCATED;
    end = p.dataEnd;
  }

  p.l3Offset = off;
  p.ipVersion = 4;
  p.ipHeaderLength = hlen;
  p.ipTotalLength = end - off;
  p.ipId = (data[off + 4]! << 8) | data[off + 5]!;
  const flagsFrag = (data[off + 6]! << 8) | data[off + 7]!;
  p.moreFragments = (flagsFrag & 0x2000) !== 0;
  p.fragmentOffset = (flagsFrag & 0x1fff) * 8;
  p.ttl = data[off + 8]!;
  p.ipProto = data[off + 9]!;
  const src = p.src;
  const dst = p.dst;
  src.fill(0, 0, 10);
  dst.fill(0, 0, 10);
  src[10] = src[11] = dst[10] = dst[11] = 0xff;
  for (let i = 0; i < 4; i++) {
    src[12 + i] = data[off + 12 + i]!;
    dst[12 + i] = data[off + 16 + i]!;
  }

  if (hlen > IPV4_MIN_HEADER_LENGTH && !optionsWellFormed(data, off + IPV4_MIN_HEADER_LENGTH, off + hlen)) {
    p.anomalies |= DecodeAnomaly.IPV4_BAD_OPTIONS;
  }
  if (ctx.validate) {
    if (fold16(sum16(data, off, hlen, 0)) === 0) p.ipChecksumValid = 1;
    else {
      p.ipChecksumValid = 0;
      p.anomalies |= DecodeAnomaly.IPV4_BAD_CHECKSUM;
      stats.ipv4BadChecksum++;
    }
  }
  if (p.moreFragments || p.fragmentOffset !== 0) {
    p.anomalies |= DecodeAnomaly.FRAGMENT;
    stats.fragments++;
    return;
  }
  decodeTransport(p, ctx, p.ipProto, off + hlen, end);
}

/** RFC 791 option list: EOL (0) and NOP (1) are one byte; the rest are type, length >= 2, value. */
function optionsWellFormed(data: Uint8Array, start: number, end: number): boolean {
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
    i += len;
  }
  return true;
}
