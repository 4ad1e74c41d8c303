// flowbits: named booleans on the flow (Suricata detect-flowbits.c).
// set/unset/toggle run after the whole rule matched (post-match); isset/isnotset are
// conditions. Suricata 7 lists: isset,a|b = a or b; isnotset,a|b = a unset or b unset;
// `&` = all of them.
// flowbits:noalert makes the rule silent.

import type { DetectContext } from '../detectContext';
import type { PacketMatch, PostMatch } from '../signature';
import type { RuleBuilder } from '../ruleBuilder';
import type { KeywordDef } from './registry';

export class FlowbitCondition implements PacketMatch {
  constructor(readonly slots: number[], readonly isset: boolean, readonly any: boolean) {}
  match(ctx: DetectContext): boolean {
    const fd = ctx.flowDetect;
    // Suricata: flowbits need a flow; without one neither isset nor isnotset matches.
    if (fd === null) return false;
    const bits = fd.flowbits;
    if (this.any) {
      for (let i = 0; i < this.slots.length; i++) {
        const v = bits[this.slots[i]!] === 1;
        if (v === this.isset) return true;
      }
      return false;
    }
    for (let i = 0; i < this.slots.length; i++) {
      const v = bits[this.slots[i]!] === 1;
      if (v !== this.isset) return false;
    }
    return true;
  }
}

export const FlowbitOp = { SET: 0, UNSET: 1, TOGGLE: 2 } as const;

export class FlowbitAction implements PostMatch {
  constructor(readonly slots: number[], readonly op: number) {}
  apply(ctx: DetectContext): void {
    const fd = ctx.flowDetect;
    if (!fd) return;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      fd.setFlowbit(s, this.op === FlowbitOp.SET ? 1 : this.op === FlowbitOp.UNSET ? 0 : fd.flowbits[s]! ^ 1);
    }
  }
}

function names(b: RuleBuilder, s: string | undefined, sep: string): string[] {
  if (!s || !s.trim()) throw b.error('flowbits: missing name');
  const out = s.split(sep).map((x) => x.trim());
  for (const n of out) if (!/^[^\s,;|&]+$/.test(n)) throw b.error(`flowbits: bad name "${n}"`);
  return out;
}

export const flowbitsKeyword: KeywordDef = {
  name: 'flowbits',
  setup(b, value) {
    const v = (value ?? '').trim();
    const comma = v.indexOf(',');
    const cmd = (comma < 0 ? v : v.slice(0, comma)).trim().toLowerCase();
    const arg = comma < 0 ? undefined : v.slice(comma + 1).trim();
    const sig = b.sig;
    const mark = (kind: 'set' | 'read'): void => {
      const cur = sig.flowbitsOrder;
      if (kind === 'set') sig.flowbitsOrder = cur === 2 || cur === 3 ? 3 : 4;
      else sig.flowbitsOrder = cur === 4 || cur === 3 ? 3 : 2;
    };
    switch (cmd) {
      case 'noalert':
        if (arg !== undefined) throw b.error('flowbits:noalert takes no name');
        sig.noalert = true;
        return;
      case 'set': case 'unset': case 'toggle': {
        if (arg?.includes('|')) throw b.error(`flowbits:${cmd} does not take a | list`);
        const ns = names(b, arg, '&');
        sig.postMatches.push(new FlowbitAction(ns.map((n) => b.flowbits.slot(n)), cmd === 'set' ? FlowbitOp.SET : cmd === 'unset' ? FlowbitOp.UNSET : FlowbitOp.TOGGLE));
        sig.flowbitNames.push(...ns);
        mark('set');
        return;
      }
      case 'isset': case 'isnotset': {
        if (arg?.includes('|') && arg.includes('&')) throw b.error('flowbits: mixing | and &');
        const any = arg?.includes('|') ?? false;
        const ns = names(b, arg, any ? '|' : '&');
        sig.packetMatches.push(new FlowbitCondition(ns.map((n) => b.flowbits.slot(n)), cmd === 'isset', any));
        sig.flowbitNames.push(...ns);
        mark('read');
        return;
      }
      default:
        throw b.error(`flowbits: unknown command "${cmd}"`);
    }
  },
};
