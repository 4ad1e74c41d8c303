// IPv6 (RFC 8200) with its extension headers: hop-by-hop (0), routing (43), fragment (44),
// destination options (60) and AH (51, RFC 4302: length in 4-byte units). ESP (50) and
// "no next header" (59) end decoding. Fragments are counted, not reassembled (see ipv4.ts);
// an atomic fragment (offset 0, M=0, RFC 6946) is treated as a whole packet, as Suricata does.
import { Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { decodeTransport } from './transport';

export const IPV6_HEADER_LENGTH = 40;

/** Bits of Packet.ipv6ExtHeaders. */
export const Ipv6Ext = {
  HOP_BY_HOP: 1,
  ROUTING: 2,
  FRAGMENT: 4,
  DEST_OPTIONS: 8,
  AH: 16,
  ESP: 32,
} as const;

/** Enough for any honest packet; a longer chain is an evasion attempt or garbage. */
const MAX_EXTENSION_HEADERS = 8;

export function decodeIpv6(p: Packet, ctx: DecodeContext, off: number): void {
  const data = p.data;
  const stats = ctx.stats;
  stats.ipv6++;
  if (off + IPV6_HEADER_LENGTH > p.dataEnd) {
    p.anomalies |= DecodeAnomaly.IPV6_TRUNCATED;
    stats.truncated++;
    return;
  }
  if (data[off]! >> 4 !== 6) {
    p.anomalies |= DecodeAnomaly.IP_VERSION_MISMATCH;
    return;
  }
  const payloadLength = (data[off + 4]! << 8) | data[off + 5]!;
  let end = off + IPV6_HEADER_LENGTH + payloadLength;
  if (end > p.dataEnd) {
    p.anomalies |= DecodeAnomaly.CAPTURE_TRUNCATED;
    end = p.dataEnd;
  }
  p.l3Offset = off;
  p.ipVersion = 6;
  p.ipTotalLength = end - off;
  p.ttl = data[off + 7]!;
  for (let i = 0; i < 16; i++) {
    p.src[i] = data[off + 8 + i]!;
    p.dst[i] = data[off + 24 + i]!;
  }

  let next = data[off + 6]!;
  let at = off + IPV6_HEADER_LENGTH;
  let count = 0;
  let fragment = false;
  for (;;) {
    if (next !== 0 && next !== 43 && next !== 44 && next !== 60 && next !== 51) break;
    if (++count > MAX_EXTENSION_HEADERS || at + 8 > end) {
      p.anomalies |= DecodeAnomaly.IPV6_BAD_EXTENSION;
      p.ipProto = next;
      p.ipHeaderLength = at - off;
      return;
    }
    let len: number;
    if (next === 44) {
      p.ipv6ExtHeaders |= Ipv6Ext.FRAGMENT;
      const fo = (data[at + 2]! << 8) | data[at + 3]!;
      p.fragmentOffset = fo & 0xfff8;
      p.moreFragments = (fo & 1) !== 0;
      p.ipId = ((data[at + 4]! << 24) | (data[at + 5]! << 16) | (data[at + 6]! << 8) | data[at + 7]!) >>> 0;
      if (p.fragmentOffset !== 0 || p.moreFragments) fragment = true;
      len = 8;
    } else if (next === 51) {
      p.ipv6ExtHeaders |= Ipv6Ext.AH;
      len = (data[at + 1]! + 2) * 4;
    } else {
      p.ipv6ExtHeaders |= next === 0 ? Ipv6Ext.HOP_BY_HOP : next === 43 ? Ipv6Ext.ROUTING : Ipv6Ext.DEST_OPTIONS;
      // RFC 8200 §4.3: hop-by-hop must come first.
      if (next === 0 && count !== 1) p.anomalies |= DecodeAnomaly.IPV6_BAD_EXTENSION;
      len = (data[at + 1]! + 1) * 8;
    }
    if (at + len > end) {
      p.anomalies |= DecodeAnomaly.IPV6_BAD_EXTENSION;
      p.ipProto = next;
      p.ipHeaderLength = at - off;
      return;
    }
    next = data[at]!;
    at += len;
  }
  if (next === 50) p.ipv6ExtHeaders |= Ipv6Ext.ESP;
  p.ipProto = next;
  p.ipHeaderLength = at - off;
  if (fragment) {
    p.anomalies |= DecodeAnomaly.FRAGMENT;
    stats.fragments++;
    return;
  }
  decodeTransport(p, ctx, next, at, end);
}
