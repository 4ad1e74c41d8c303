// byte_jump: read a number and move the inspection position by it (Suricata
// detect-bytejump.c): byte_jump:<bytes>,<offset>[,relative][,multiplier n][,big|little]
// [,string,<base>][,align][,from_beginning|from_end][,post_offset n][,bitmask m].
// The new position must stay inside the buffer (checked against Suricata 7.0.10: landing exactly at the end is allowed).

import { BufferMatch, type InspectState } from '../signature';
import { intOrVar, parseIntStrict, type RuleBuilder } from '../ruleBuilder';
import { defaultByteOptions, parseByteFlags, readByteValue, type ByteOptions } from './byteValue';
import type { KeywordDef } from './registry';

export class ByteJumpMatch extends BufferMatch {
  constructor(readonly o: ByteOptions) {
    super();
    this.relative = o.relative;
  }
  exec(buf: Uint8Array, prevEnd: number, _from: number, st: InspectState): boolean {
    const o = this.o;
    const pos = (o.relative ? prevEnd : 0) + (o.offsetVar >= 0 ? st.vars[o.offsetVar]! : o.offset);
    let v = readByteValue(buf, pos, o);
    if (v < 0) return false;
    v *= o.multiplier;
    if (o.align && v % 4 !== 0) v += 4 - (v % 4);
    const base = o.fromBeginning ? 0 : o.fromEnd ? buf.length : pos + o.nbytes;
    const to = base + v + o.postOffset;
    if (to < 0 || to > buf.length) return false;
    st.start = to;
    st.end = to;
    return true;
  }
}

const FLAGS = new Set(['relative', 'big', 'little', 'string', 'hex', 'dec', 'oct', 'dce', 'bitmask', 'multiplier', 'post_offset', 'align', 'from_beginning', 'from_end']);

export const byteJumpKeyword: KeywordDef = {
  name: 'byte_jump',
  setup(b: RuleBuilder, value) {
    const parts = (value ?? '').split(',').map((x) => x.trim());
    if (parts.length < 2) throw b.error(`byte_jump needs at least 2 arguments: ${value}`);
    const o = defaultByteOptions();
    o.nbytes = parseIntStrict(parts[0]!, b, 'byte_jump bytes');
    const off = intOrVar(parts[1]!, b, 'byte_jump offset');
    o.offset = off.value; o.offsetVar = off.varSlot;
    parseByteFlags(b, 'byte_jump', parts.slice(2), o, FLAGS);
    if (o.fromBeginning && o.fromEnd) throw b.error('byte_jump: from_beginning and from_end together');
    const m = new ByteJumpMatch(o);
    b.targetFor(o.relative).items.push(m);
  },
};
