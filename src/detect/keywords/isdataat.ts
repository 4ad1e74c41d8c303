// isdataat: is there data at a position (Suricata detect-isdataat.c)?
// isdataat:[!]<n>[,relative][,rawbytes]. Absolute: n < buffer length. Relative:
// prevEnd + n <= buffer length (Suricata's exact comparison). Does not move the position.

import { BufferMatch, type InspectState } from '../signature';
import { intOrVar, type RuleBuilder } from '../ruleBuilder';
import type { KeywordDef } from './registry';

export class IsdataatMatch extends BufferMatch {
  constructor(readonly n: number, readonly nVar: number, readonly negated: boolean, relative: boolean) {
    super();
    this.relative = relative;
  }
  exec(buf: Uint8Array, prevEnd: number, _from: number, st: InspectState): boolean {
    const n = this.nVar >= 0 ? st.vars[this.nVar]! : this.n;
    const has = this.relative ? prevEnd + n <= buf.length : n < buf.length;
    if (has === this.negated) return false;
    st.start = prevEnd;
    st.end = prevEnd;
    return true;
  }
}

export const isdataatKeyword: KeywordDef = {
  name: 'isdataat',
  setup(b: RuleBuilder, value) {
    const parts = (value ?? '').split(',').map((x) => x.trim());
    let first = parts[0] ?? '';
    let negated = false;
    if (first.startsWith('!')) { negated = true; first = first.slice(1).trim(); }
    const n = intOrVar(first, b, 'isdataat');
    let relative = false;
    for (const p of parts.slice(1)) {
      if (p === 'relative') relative = true;
      else if (p !== 'rawbytes') throw b.error(`isdataat: unknown option "${p}"`);
    }
    b.targetFor(relative).items.push(new IsdataatMatch(n.value, n.varSlot, negated, relative));
  },
};
