// ttl: IP TTL / hop limit (Suricata detect-ttl.c), detect-engine-uint forms.

import type { DetectContext } from '../detectContext';
import type { PacketMatch } from '../signature';
import { parseUintCondition, type UintCondition } from '../ruleBuilder';
import type { KeywordDef } from './registry';

export class TtlMatch implements PacketMatch {
  constructor(readonly cond: UintCondition) {}
  match(ctx: DetectContext): boolean {
    return ctx.packet.ipVersion !== 0 && this.cond.test(ctx.packet.ttl);
  }
}

export const ttlKeyword: KeywordDef = {
  name: 'ttl',
  setup(b, value) {
    b.sig.packetMatches.push(new TtlMatch(parseUintCondition(value ?? '', b, 'ttl', 255)));
  },
};
