// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 20-byte header, libpcap >= 1.10): protocol
// first, then reserved, interface index, ARPHRD type, packet type, address length, address.
import { Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { decodeEtherType } from './etherType';

export const SLL2_HEADER_LENGTH = 20;

export function decodeSll2(p: Packet, ctx: DecodeContext): void {
  const data = p.data;
  const s = p.dataStart;
  ctx.stats.sll2++;
  if (p.dataEnd - s < SLL2_HEADER_LENGTH) {
    p.anomalies |= DecodeAnomaly.LINK_TRUNCATED;
    ctx.stats.truncated++;
    return;
  }
  decodeEtherType(p, ctx, (data[s]! << 8) | data[s + 1]!, s + SLL2_HEADER_LENGTH);
}
