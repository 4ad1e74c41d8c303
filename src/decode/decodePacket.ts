// The decoder entry point: one captured frame into a reused Packet, by link type.
// Never throws on packet content; see decodeStats.ts for the counters and anomaly bits.
import { IpProto, LinkType, Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { decodeEthernet } from './ethernet';
import { decodeSll } from './sll';
import { decodeSll2 } from './sll2';
import { decodeNullLoopback } from './nullLoopback';
import { decodeRawIp } from './rawIp';

/**
 * Decode `data` (starting at the link layer `linkType`) into `p`. Capture fields
 * (timestamps, wireLength, pcapIndex, queue metadata) are left as the caller set them;
 * every decoded field is cleared first. Returns p.ipVersion !== 0 (an IP packet was found).
 * verifyChecksums = false skips checksum validation for this packet only.
 */
export function decodePacket(p: Packet, data: Uint8Array, linkType: number, ctx: DecodeContext, verifyChecksums = true): boolean {
  return decodePacketAt(p, data, 0, data.length, linkType, ctx, verifyChecksums);
}

/**
 * As decodePacket, for the frame buffer[offset, offset + length) of a larger buffer (the live
 * batch arena): the Packet keeps `buffer` itself and every offset it records (l2Offset,
 * l3Offset, payloadOffset...) indexes into it, so no view is made per packet.
 */
export function decodePacketAt(
  p: Packet, buffer: Uint8Array, offset: number, length: number, linkType: number, ctx: DecodeContext, verifyChecksums = true,
): boolean {
  p.clearDecoded();
  // The live path passes false for packets the kernel flags NFQA_SKB_CSUMNOTREADY / GSO:
  // their checksums are not filled in yet (see DESIGN.md), so judging them would be wrong.
  const validate = ctx.validate;
  if (!verifyChecksums) ctx.validate = false;
  const end = Math.min(buffer.length, offset + length);
  p.data = buffer;
  p.dataStart = offset;
  p.dataEnd = end > offset ? end : offset;
  p.linkType = linkType;
  const stats = ctx.stats;
  stats.packets++;
  stats.bytes += p.dataEnd - p.dataStart;
  switch (linkType) {
    case LinkType.ETHERNET:
      decodeEthernet(p, ctx);
      break;
    case LinkType.LINUX_SLL:
      decodeSll(p, ctx);
      break;
    case LinkType.LINUX_SLL2:
      decodeSll2(p, ctx);
      break;
    case LinkType.NULL:
    case LinkType.LOOP:
      decodeNullLoopback(p, ctx);
      break;
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6:
      decodeRawIp(p, ctx, linkType);
      break;
    default:
      stats.unknownLinkType++;
      p.anomalies |= DecodeAnomaly.UNKNOWN_LINK_TYPE;
      break;
  }
  ctx.validate = validate;
  if (p.anomalies !== 0) stats.anomalous++;
  if (ctx.mode === 'auto' && verifyChecksums) {
    // Suricata's auto mode counts the TCP checksums its stream engine rejects
    // (livedev invalid_checksums) against all packets read; IPv4/UDP/ICMP checksums only
    // matter to keywords (ipv4-csum, udpv4-csum, ...), so they do not count here either.
    ctx.noteChecksum(p.ipProto === IpProto.TCP && p.l4ChecksumValid === 0);
  }
  return p.ipVersion !== 0;
}
