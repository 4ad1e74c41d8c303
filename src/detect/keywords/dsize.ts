// dsize: packet payload size (Suricata detect-dsize.c). Like Suricata, a rule with dsize
// inspects packets only (SIG_FLAG_REQUIRE_PACKET), never the reassembled stream.

import type { DetectContext } from '../detectContext';
import type { PacketMatch } from '../signature';
import { parseUintCondition, type UintCondition } from '../ruleBuilder';
import type { KeywordDef } from './registry';

export class DsizeMatch implements PacketMatch {
  constructor(readonly cond: UintCondition) {}
  match(ctx: DetectContext): boolean {
    return ctx.packet.l4Offset >= 0 && this.cond.test(ctx.packet.payloadLength);
  }
}

export const dsizeKeyword: KeywordDef = {
  name: 'dsize',
  setup(b, value) {
    b.sig.packetMatches.push(new DsizeMatch(parseUintCondition(value ?? '', b, 'dsize', 65535)));
    b.sig.noStream = true;
  },
};
