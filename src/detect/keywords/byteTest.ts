// byte_test: read a number from the buffer and compare it (Suricata detect-bytetest.c):
// byte_test:<bytes>,[!]<op>,<value>,<offset>[,relative][,big|little][,string,<base>][,bitmask <m>]
// Operators < > = <= >= & ^ (and ! negation). Does not move the "previous match" position.

import { BufferMatch, type InspectState } from '../signature';
import { intOrVar, parseIntStrict, type RuleBuilder } from '../ruleBuilder';
import { defaultByteOptions, parseByteFlags, readByteValue, type ByteOptions } from './byteValue';
import type { KeywordDef } from './registry';

const OPS = ['<', '>', '=', '<=', '>=', '&', '^'];

export class ByteTestMatch extends BufferMatch {
  constructor(readonly o: ByteOptions, readonly op: string, readonly negated: boolean, readonly value: number, readonly valueVar: number) {
    super();
    this.relative = o.relative;
  }
  exec(buf: Uint8Array, prevEnd: number, _from: number, st: InspectState): boolean {
    const o = this.o;
    const off = o.offsetVar >= 0 ? st.vars[o.offsetVar]! : o.offset;
    const v = readByteValue(buf, (o.relative ? prevEnd : 0) + off, o);
    if (v < 0) return false;
    const x = this.valueVar >= 0 ? st.vars[this.valueVar]! : this.value;
    let r: boolean;
    switch (this.op) {
      case '<': r = v < x; break;
      case '>': r = v > x; break;
      case '=': r = v === x; break;
      case '<=': r = v <= x; break;
      case '>=': r = v >= x; break;
      case '&': r = v <= 0xffffffff && x <= 0xffffffff ? (v & x) !== 0 : (BigInt(v) & BigInt(x)) !== 0n; break;
      default: r = v <= 0xffffffff && x <= 0xffffffff ? (v ^ x) !== 0 : v !== x; break;
    }
    if (this.negated) r = !r;
    if (!r) return false;
    st.start = prevEnd;
    st.end = prevEnd;
    return true;
  }
}

const FLAGS = new Set(['relative', 'big', 'little', 'string', 'hex', 'dec', 'oct', 'dce', 'bitmask']);

export const byteTestKeyword: KeywordDef = {
  name: 'byte_test',
  setup(b: RuleBuilder, value) {
    const parts = (value ?? '').split(',').map((x) => x.trim());
    if (parts.length < 4) throw b.error(`byte_test needs at least 4 arguments: ${value}`);
    const o = defaultByteOptions();
    o.nbytes = parseIntStrict(parts[0]!, b, 'byte_test bytes');
    let op = parts[1]!.replace(/\s+/g, '');
    let negated = false;
    if (op.startsWith('!')) { negated = true; op = op.slice(1); }
    if (op === '') op = '=';
    if (!OPS.includes(op)) throw b.error(`byte_test: bad operator "${parts[1]}"`);
    const val = intOrVar(/^0x/i.test(parts[2]!) ? String(parseInt(parts[2]!, 16)) : parts[2]!, b, 'byte_test value');
    const off = intOrVar(parts[3]!, b, 'byte_test offset');
    o.offset = off.value; o.offsetVar = off.varSlot;
    parseByteFlags(b, 'byte_test', parts.slice(4), o, FLAGS);
    const m = new ByteTestMatch(o, op, negated, val.value, val.varSlot);
    b.targetFor(o.relative).items.push(m);
  },
};
