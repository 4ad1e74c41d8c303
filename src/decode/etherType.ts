// Dispatch on an EtherType (Ethernet, VLAN, SLL and SLL2 all end in one): IPv4, IPv6 or
// 802.1Q/802.1ad tags. Anything else is counted as non-IP, not an error: ARP and LLDP are
// normal on a bridge.
import { Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';

export const EtherTypeValue = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  /** Pre-standard QinQ still seen on some switches. */
  QINQ_OLD: 0x9100,
  IPV6: 0x86dd,
} as const;

/** Suricata decodes up to three VLAN layers; more is an anomaly. */
const MAX_VLAN_LAYERS = 3;

export function decodeEtherType(p: Packet, ctx: DecodeContext, etherType: number, off: number): void {
  const data = p.data;
  let type = etherType;
  let at = off;
  let layers = 0;
  while (type === EtherTypeValue.VLAN || type === EtherTypeValue.QINQ || type === EtherTypeValue.QINQ_OLD) {
    if (at + 4 > p.dataEnd) {
      p.anomalies |= DecodeAnomaly.LINK_TRUNCATED;
      ctx.stats.truncated++;
      return;
    }
    if (layers === 0) ctx.stats.vlan++;
    const vid = ((data[at]! << 8) | data[at + 1]!) & 0x0fff;
    if (layers === 0) p.vlanId0 = vid;
    else if (layers === 1) p.vlanId1 = vid;
    layers++;
    if (layers > MAX_VLAN_LAYERS) {
      p.anomalies |= DecodeAnomaly.VLAN_TOO_MANY;
      return;
    }
    p.vlanCount = layers;
    type = (data[at + 2]! << 8) | data[at + 3]!;
    at += 4;
  }
  p.etherType = type;
  if (type === EtherTypeValue.IPV4) decodeIpv4(p, ctx, at);
  else if (type === EtherTypeValue.IPV6) decodeIpv6(p, ctx, at);
  else {
    ctx.stats.nonIp++;
    if (type !== EtherTypeValue.ARP && type >= 0x0600) p.anomalies |= DecodeAnomaly.UNKNOWN_ETHERTYPE;
  }
}
