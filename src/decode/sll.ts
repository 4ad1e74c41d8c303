// Linux "cooked" capture v1 (LINKTYPE_LINUX_SLL, 16-byte header), as tcpdump -i any writes:
// packet type, ARPHRD type, address length, 8 address bytes, then the protocol (EtherType).
import { Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { decodeEtherType } from './etherType';

export const SLL_HEADER_LENGTH = 16;

export function decodeSll(p: Packet, ctx: DecodeContext): void {
  const data = p.data;
  const s = p.dataStart;
  ctx.stats.sll++;
  if (p.dataEnd - s < SLL_HEADER_LENGTH) {
    p.anomalies |= DecodeAnomaly.LINK_TRUNCATED;
    ctx.stats.truncated++;
    return;
  }
  decodeEtherType(p, ctx, (data[s + 14]! << 8) | data[s + 15]!, s + SLL_HEADER_LENGTH);
}
