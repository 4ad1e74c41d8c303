// itype, icode (detect-engine-uint forms), icmp_id, icmp_seq (Suricata detect-itype.c,
// detect-icode.c, detect-icmp-id.c, detect-icmp-seq.c). ICMPv4 and ICMPv6 packets only.

import type { DetectContext } from '../detectContext';
import type { PacketMatch } from '../signature';
import { parseUintCondition, unquote, type UintCondition } from '../ruleBuilder';
import type { KeywordDef } from './registry';

export class IcmpFieldMatch implements PacketMatch {
  /** field: 0 type, 1 code, 2 id, 3 seq */
  constructor(readonly field: number, readonly cond: UintCondition) {}
  match(ctx: DetectContext): boolean {
    const p = ctx.packet;
    if ((p.ipProto !== 1 && p.ipProto !== 58) || p.l4Offset < 0) return false;
    const v = this.field === 0 ? p.icmpType : this.field === 1 ? p.icmpCode : this.field === 2 ? p.icmpId : p.icmpSeq;
    return v >= 0 && this.cond.test(v);
  }
}

function def(name: string, field: number, max: number, plainOnly: boolean): KeywordDef {
  return {
    name,
    setup(b, value) {
      const v = unquote(value ?? '').trim();
      if (plainOnly && !/^\d+$/.test(v)) throw b.error(`${name}: bad value "${v}"`);
      b.sig.packetMatches.push(new IcmpFieldMatch(field, parseUintCondition(v, b, name, max)));
    },
  };
}

export const icmpKeywords: KeywordDef[] = [
  def('itype', 0, 255, false),
  def('icode', 1, 255, false),
  def('icmp_id', 2, 65535, true),
  def('icmp_seq', 3, 65535, true),
];
