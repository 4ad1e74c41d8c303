// flags / tcp.flags: TCP header flags (Suricata detect-tcp-flags.c).
// flags:[+*!]<FSRPAUCE0 12>[,<ignore mask>]. Default: exactly these (after masking);
// + all of these and maybe others; * any of these; ! not all of these (Suricata's
// MODIFIER_NOT). Requires a TCP packet; inspects packets, not the stream.

import type { DetectContext } from '../detectContext';
import type { PacketMatch } from '../signature';
import type { RuleBuilder } from '../ruleBuilder';
import type { KeywordDef } from './registry';

const BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, C: 0x80, E: 0x40, '1': 0x80, '2': 0x40 };

export class FlagsMatch implements PacketMatch {
  constructor(readonly flags: number, readonly ignore: number, readonly mod: string) {}
  match(ctx: DetectContext): boolean {
    const p = ctx.packet;
    if (p.ipProto !== 6 || p.l4Offset < 0) return false;
    const f = p.tcpFlags & ~this.ignore & 0xff;
    switch (this.mod) {
      case '+': return (f & this.flags) === this.flags;
      case '*': return (f & this.flags) !== 0;
      case '!': return (f & this.flags) !== this.flags;
      default: return f === this.flags;
    }
  }
}

function bits(b: RuleBuilder, s: string): number {
  let v = 0;
  for (const ch of s.toUpperCase()) {
    if (ch === '0') continue;
    const x = BITS[ch];
    if (x === undefined) throw b.error(`flags: unknown flag "${ch}"`);
    v |= x;
  }
  return v;
}

function setup(b: RuleBuilder, value: string | null): void {
  const [a, mask] = (value ?? '').split(',').map((x) => x.trim());
  let s = a ?? '';
  let mod = '';
  while (s && '+*!'.includes(s[0]!)) { if (mod) throw b.error('flags: more than one modifier'); mod = s[0]!; s = s.slice(1); }
  // Suricata also accepts the modifier after the flags (flags:SA+).
  while (s && '+*!'.includes(s[s.length - 1]!)) { if (mod) throw b.error('flags: more than one modifier'); mod = s[s.length - 1]!; s = s.slice(0, -1); }
  if (!s) throw b.error('flags: no flags');
  b.sig.packetMatches.push(new FlagsMatch(bits(b, s), mask ? bits(b, mask) : 0, mod));
  b.sig.noStream = true;
}

export const flagsKeyword: KeywordDef = { name: 'flags', setup };
export const tcpFlagsKeyword: KeywordDef = { name: 'tcp.flags', setup };
