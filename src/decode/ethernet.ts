// Ethernet II (LINKTYPE_ETHERNET): 6+6 bytes of MAC, EtherType, then VLAN tags if any.
// 802.3 length-framed frames (EtherType < 0x0600, LLC) carry no IP here and count as non-IP.
import { Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { decodeEtherType } from './etherType';

export const ETHERNET_HEADER_LENGTH = 14;

export function decodeEthernet(p: Packet, ctx: DecodeContext): void {
  const data = p.data;
  const s = p.dataStart;
  ctx.stats.ethernet++;
  if (p.dataEnd - s < ETHERNET_HEADER_LENGTH) {
    p.anomalies |= DecodeAnomaly.LINK_TRUNCATED;
    ctx.stats.truncated++;
    return;
  }
  p.l2Offset = s;
  decodeEtherType(p, ctx, (data[s + 12]! << 8) | data[s + 13]!, s + ETHERNET_HEADER_LENGTH);
}
