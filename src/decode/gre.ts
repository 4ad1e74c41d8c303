// GRE (IP protocol 47) decapsulation: RFC 2784 with the RFC 2890 key and sequence fields,
// RFC 1701's routing present bit, and ERSPAN type II (Cisco, draft-foschiano-erspan) carried in
// GRE, as Suricata 7's decode-gre.c and decode-erspan.c do.
//
// As in Suricata, the inner packet is what flows and rules see: the Packet view is re-decoded
// in place over the inner bytes (IPv4, IPv6, transparent Ethernet bridging 0x6558, or the
// Ethernet frame behind an ERSPAN II header), so a tunnelled TCP session is tracked,
// reassembled and matched like any other. One difference: Suricata also runs the outer packet
// through detection as a separate "tunnel root" packet; here the outer headers are replaced, so
// a rule on the outer GRE packet itself (ip_proto:47) does not see it once it was opened.
//
// Version 1 (PPTP's enhanced GRE, RFC 2637) carries PPP, which we do not decode; ERSPAN type I
// (no sequence number) is off by default in Suricata 7 (decoder.erspan.typeI.enabled: false):
// both are counted as greUnsupported and left as an opaque IP payload. Malformed headers set
// DecodeAnomaly.GRE_MALFORMED, like Suricata's gre.* decoder events.
import { Packet } from './packet';
import { DecodeAnomaly, DecodeContext } from './decodeStats';
import { decodeEtherType } from './etherType';
import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';

export const IPPROTO_GRE = 47;
export const GRE_HEADER_LENGTH = 4;

export const GreProto = {
  // Literals, not EtherTypeValue: etherType → ipv4 → transport → gre is an import cycle, so
  // another module's constants are not yet defined while this one loads.
  IPV4: 0x0800,
  IPV6: 0x86dd,
  /** Transparent Ethernet bridging (RFC 1701): a whole Ethernet frame. */
  ETHERNET: 0x6558,
  ERSPAN: 0x88be,
  PPP: 0x880b,
} as const;

// Flag bits of the first 16-bit word (RFC 1701 layout; RFC 2784 reserves all but C).
const F_CHECKSUM = 0x8000;
const F_ROUTING = 0x4000;
const F_KEY = 0x2000;
const F_SEQUENCE = 0x1000;
const RECURSION_MASK = 0x0700;
const V0_RESERVED = 0x00f8;
const VERSION_MASK = 0x0007;

const ERSPAN_II_HEADER_LENGTH = 8;
const ETHERNET_HEADER_LENGTH = 14;

/**
 * Suricata bounds the decoder layers of one packet (PacketIncreaseCheckLayers, 16 by default);
 * tunnels nest far less in practice, so a handful is plenty and stops GRE-in-GRE bombs.
 */
export const MAX_TUNNEL_DEPTH = 8;

function malformed(p: Packet, ctx: DecodeContext): false {
  p.anomalies |= DecodeAnomaly.GRE_MALFORMED;
  ctx.stats.greMalformed++;
  return false;
}

/**
 * Decode the GRE header at data[off, end) and, for a payload we open, the inner packet into p
 * (replacing the outer layers). Returns true when an inner packet was decoded; false leaves p
 * as the outer IP packet with an undecoded transport (the caller exposes its payload).
 */
export function decodeGre(p: Packet, ctx: DecodeContext, off: number, end: number): boolean {
  const data = p.data;
  ctx.stats.gre++;
  if (off + GRE_HEADER_LENGTH > end) return malformed(p, ctx);
  const flags = (data[off]! << 8) | data[off + 1]!;
  const proto = (data[off + 2]! << 8) | data[off + 3]!;
  if ((flags & VERSION_MASK) !== 0) {
    // Version 1 is PPTP (PPP inside, not decoded); anything else is invalid (GRE_WRONG_VERSION).
    if ((flags & VERSION_MASK) === 1 && proto === GreProto.PPP) {
      ctx.stats.greUnsupported++;
      return false;
    }
    return malformed(p, ctx);
  }
  // Version 0: a recursion count or the RFC 1701 reserved flags are invalid (GRE_VERSION0_RECUR /
  // GRE_VERSION0_FLAGS); Suricata stops there rather than guess where the payload starts.
  if ((flags & RECURSION_MASK) !== 0 || (flags & V0_RESERVED) !== 0) return malformed(p, ctx);
  let at = off + GRE_HEADER_LENGTH;
  // Checksum and offset share one 4-byte word, present when either C or R is set.
  if ((flags & (F_CHECKSUM | F_ROUTING)) !== 0) at += 4;
  if ((flags & F_KEY) !== 0) at += 4;
  if ((flags & F_SEQUENCE) !== 0) at += 4;
  if (at > end) return malformed(p, ctx);
  if ((flags & F_ROUTING) !== 0) {
    // RFC 1701 source route entries: address family (2), offset (1), length (1), then length
    // bytes; a family 0 with length 0 ends the list.
    for (;;) {
      if (at + 4 > end) return malformed(p, ctx);
      const af = (data[at]! << 8) | data[at + 1]!;
      const len = data[at + 3]!;
      at += 4;
      if (af === 0 && len === 0) break;
      at += len;
      if (at > end) return malformed(p, ctx);
    }
  }

  if (ctx.tunnelDepth >= MAX_TUNNEL_DEPTH) return malformed(p, ctx);
  switch (proto) {
    case GreProto.IPV4:
    case GreProto.IPV6:
      return inner(p, ctx, proto, at);
    case GreProto.ETHERNET:
      return innerEthernet(p, ctx, at, end);
    case GreProto.ERSPAN: {
      // Type I has no sequence number and no ERSPAN header (Suricata 7: off by default).
      if ((flags & F_SEQUENCE) === 0) {
        ctx.stats.greUnsupported++;
        return false;
      }
      if (at + ERSPAN_II_HEADER_LENGTH > end) return malformed(p, ctx);
      // Type II header: version 1 in the top 4 bits (type III, version 2, is not decoded by
      // Suricata 7 either: ERSPAN_UNSUPPORTED_VERSION).
      if (data[at]! >> 4 !== 1) {
        ctx.stats.greUnsupported++;
        return false;
      }
      return innerEthernet(p, ctx, at + ERSPAN_II_HEADER_LENGTH, end);
    }
    default:
      ctx.stats.greUnsupported++;
      return false;
  }
}

function innerEthernet(p: Packet, ctx: DecodeContext, at: number, end: number): boolean {
  if (at + ETHERNET_HEADER_LENGTH > end) return malformed(p, ctx);
  const data = p.data;
  p.l2Offset = at;
  p.vlanCount = 0;
  p.vlanId0 = p.vlanId1 = 0;
  return inner(p, ctx, (data[at + 12]! << 8) | data[at + 13]!, at + ETHERNET_HEADER_LENGTH);
}

// Decodes the inner layer-3 packet over the outer one. The inner decoders bound themselves by
// their own IP length fields (and data.length), as they do for a packet at the link layer.
function inner(p: Packet, ctx: DecodeContext, etherType: number, at: number): boolean {
  // Too short to hold the inner IP header: leave the outer packet as it was (its payload stays
  // visible to packet rules) rather than a half-replaced view.
  const min = etherType === GreProto.IPV4 ? 20 : etherType === GreProto.IPV6 ? 40 : 0;
  if (at + min > p.data.length) return malformed(p, ctx);
  ctx.stats.greDecapsulated++;
  // Forget the outer transport view: the inner decode sets what it finds.
  p.l4Offset = -1;
  p.srcPort = p.dstPort = 0;
  p.payloadOffset = 0;
  p.payloadLength = 0;
  p.ipv6ExtHeaders = 0;
  p.ipChecksumValid = -1;
  p.l4ChecksumValid = -1;
  ctx.tunnelDepth++;
  if (etherType === GreProto.IPV4) {
    p.etherType = etherType;
    decodeIpv4(p, ctx, at);
  } else if (etherType === GreProto.IPV6) {
    p.etherType = etherType;
    decodeIpv6(p, ctx, at);
  } else {
    decodeEtherType(p, ctx, etherType, at);
  }
  ctx.tunnelDepth--;
  return true;
}
