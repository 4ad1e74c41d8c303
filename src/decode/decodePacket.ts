// The decoder entry point: one captured frame into a reused Packet, by link type.
// Never throws on packet content; see decodeStats.ts for the counters and anomaly bits.
import { LinkType, Packet } from './packet';
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
 */
export function decodePacket(p: Packet, data: Uint8Array, linkType: number, ctx: DecodeContext): boolean {
  p.clearDecoded();
  p.data = data;
  p.linkType = linkType;
  const stats = ctx.stats;
  stats.packets++;
  stats.bytes += data.length;
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
  if (p.anomalies !== 0) stats.anomalous++;
  if (ctx.mode === 'auto') {
    const checked = p.ipChecksumValid !== -1 || p.l4ChecksumValid !== -1;
    ctx.noteChecksum(checked, p.ipChecksumValid === 0 || p.l4ChecksumValid === 0);
  }
  return p.ipVersion !== 0;
}
