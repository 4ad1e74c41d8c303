// bsize: the length of the current sticky buffer (Suricata detect-bsize.c), with the
// detect-engine-uint forms (N, <N, >N, <=, >=, !N, N<>M exclusive range).

import { BufferMatch, type InspectState } from '../signature';
import { parseUintCondition, type RuleBuilder, type UintCondition } from '../ruleBuilder';
import type { KeywordDef } from './registry';

export class BsizeMatch extends BufferMatch {
  constructor(readonly cond: UintCondition) {
    super();
  }
  exec(buf: Uint8Array, prevEnd: number, _from: number, st: InspectState): boolean {
    if (!this.cond.test(buf.length)) return false;
    st.start = prevEnd;
    st.end = prevEnd;
    return true;
  }
}

export const bsizeKeyword: KeywordDef = {
  name: 'bsize',
  setup(b: RuleBuilder, value) {
    if (!b.current) throw b.error('bsize needs a sticky buffer');
    b.current.items.push(new BsizeMatch(parseUintCondition(value ?? '', b, 'bsize', Number.MAX_SAFE_INTEGER)));
  },
};
