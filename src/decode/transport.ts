// Dispatch on the IP protocol number to the transport decoders.
import { IpProto, Packet } from './packet';
import { DecodeContext } from './decodeStats';
import { decodeTcp } from './tcp';
import { decodeUdp } from './udp';
import { decodeIcmpv4 } from './icmpv4';
import { decodeIcmpv6 } from './icmpv6';
import { decodeGre, IPPROTO_GRE } from './gre';

/** Decode the transport header at data[off, end) (end = end of the IP payload as captured). */
export function decodeTransport(p: Packet, ctx: DecodeContext, proto: number, off: number, end: number): void {
  if (proto === IpProto.TCP) decodeTcp(p, ctx, off, end);
  else if (proto === IpProto.UDP) decodeUdp(p, ctx, off, end);
  else if (proto === IpProto.ICMP && p.ipVersion === 4) decodeIcmpv4(p, ctx, off, end);
  else if (proto === IpProto.ICMPV6 && p.ipVersion === 6) decodeIcmpv6(p, ctx, off, end);
  else if (proto === IPPROTO_GRE && decodeGre(p, ctx, off, end)) return;
  else {
    ctx.stats.otherIpProto++;
    // No transport decoded: expose the IP payload so packet-level rules can still match.
    p.payloadOffset = off;
    p.payloadLength = end - off;
  }
}

