// BSD loopback encapsulation: LINKTYPE_NULL (4-byte address family in the *capturing host's*
// byte order) and LINKTYPE_LOOP (the same, always big-endian, OpenBSD). AF_INET is 2
// everywhere; AF_INET6 differs per OS: 24 (NetBSD/OpenBSD/BSD/OS), 28 (FreeBSD, DragonFly),
// 30 (macOS), 10 (Linux). Since families are < 256, whichever byte order gives a small value
// is the right one, so both orders decode without knowing the capturing host.
import { Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';

export const NULL_HEADER_LENGTH = 4;

export function decodeNullLoopback(p: Packet, ctx: DecodeContext): void {
  const data = p.data;
  const s = p.dataStart;
  ctx.stats.nullLoopback++;
  if (p.dataEnd - s < NULL_HEADER_LENGTH) {
    p.anomalies |= DecodeAnomaly.LINK_TRUNCATED;
    ctx.stats.truncated++;
    return;
  }
  const little = data[s]! | (data[s + 1]! << 8) | (data[s + 2]! << 16) | (data[s + 3]! << 24);
  const big = (data[s]! << 24) | (data[s + 1]! << 16) | (data[s + 2]! << 8) | data[s + 3]!;
  const family = (little >>> 0) < 256 ? little : big >>> 0;
  if (family === 2) decodeIpv4(p, ctx, s + NULL_HEADER_LENGTH);
  else if (family === 24 || family === 28 || family === 30 || family === 10) decodeIpv6(p, ctx, s + NULL_HEADER_LENGTH);
  else {
    ctx.stats.nonIp++;
    p.anomalies |= DecodeAnomaly.UNKNOWN_ETHERTYPE;
  }
}
