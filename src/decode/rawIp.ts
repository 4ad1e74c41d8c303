// Raw IP link types: LINKTYPE_RAW (version from the first nibble), LINKTYPE_IPV4, LINKTYPE_IPV6.
import { LinkType, Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';

export function decodeRawIp(p: Packet, ctx: DecodeContext, linkType: number): void {
  const data = p.data;
  const s = p.dataStart;
  ctx.stats.rawIp++;
  if (p.dataEnd - s < 1) {
    p.anomalies |= DecodeAnomaly.LINK_TRUNCATED;
    ctx.stats.truncated++;
    return;
  }
  const version = data[s]! >> 4;
  if (linkType === LinkType.IPV4 && version !== 4) p.anomalies |= DecodeAnomaly.IP_VERSION_MISMATCH;
  else if (linkType === LinkType.IPV6 && version !== 6) p.anomalies |= DecodeAnomaly.IP_VERSION_MISMATCH;
  if (version === 4) decodeIpv4(p, ctx, s);
  else if (version === 6) decodeIpv6(p, ctx, s);
  else {
    ctx.stats.nonIp++;
    p.anomalies |= DecodeAnomaly.IP_VERSION_MISMATCH;
  }
}
