// ip_proto: the IP protocol number (Suricata detect-ipproto.c): N, name, !N, <N, >N.

import type { DetectContext } from '../detectContext';
import type { PacketMatch } from '../signature';
import type { KeywordDef } from './registry';

const NAMES: Record<string, number> = {
  icmp: 1, igmp: 2, ipip: 4, tcp: 6, egp: 8, udp: 17, ipv6: 41, rsvp: 46, gre: 47, esp: 50, ah: 51,
  'ipv6-icmp': 58, icmpv6: 58, ospf: 89, pim: 103, vrrp: 112, l2tp: 115, sctp: 132,
};

export class IpProtoMatch implements PacketMatch {
  constructor(readonly op: string, readonly value: number) {}
  match(ctx: DetectContext): boolean {
    const p = ctx.packet.ipProto;
    if (ctx.packet.ipVersion === 0) return false;
    switch (this.op) {
      case '!': return p !== this.value;
      case '<': return p < this.value;
      case '>': return p > this.value;
      default: return p === this.value;
    }
  }
}

export const ipProtoKeyword: KeywordDef = {
  name: 'ip_proto',
  setup(b, value) {
    // Suricata: "Signature can use ip_proto keyword only when we use alert ip".
    if (b.sig.ipProtos.length > 0 || b.sig.alproto !== '') throw b.error('ip_proto can only be used in "ip" rules');
    let s = (value ?? '').trim();
    let op = '=';
    if (s && '!<>'.includes(s[0]!)) { op = s[0]!; s = s.slice(1).trim(); }
    const n = /^\d+$/.test(s) ? Number(s) : NAMES[s.toLowerCase()];
    if (n === undefined || n > 255) throw b.error(`ip_proto: unknown protocol "${s}"`);
    b.sig.packetMatches.push(new IpProtoMatch(op, n));
  },
};
