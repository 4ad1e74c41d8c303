// byte_extract: read a number into a rule variable for later offset/depth/distance/within/
// byte_test/byte_jump/isdataat (Suricata detect-byte-extract.c):
// byte_extract:<bytes>,<offset>,<name>[,relative][,multiplier n][,big|little][,string[,<base>]]
// [,align 2|4][,bitmask m]. Moves the position to the end of the bytes read.

import { BufferMatch, type InspectState } from '../signature';
import { parseIntStrict, type RuleBuilder } from '../ruleBuilder';
import { defaultByteOptions, parseByteFlags, readByteValue, type ByteOptions } from './byteValue';
import type { KeywordDef } from './registry';

export class ByteExtractMatch extends BufferMatch {
  constructor(readonly o: ByteOptions, readonly slot: number) {
    super();
    this.relative = o.relative;
  }
  exec(buf: Uint8Array, prevEnd: number, _from: number, st: InspectState): boolean {
    const o = this.o;
    const pos = (o.relative ? prevEnd : 0) + o.offset;
    let v = readByteValue(buf, pos, o);
    if (v < 0) return false;
    v *= o.multiplier;
    if (o.align > 1 && v % o.align !== 0) v += o.align - (v % o.align);
    st.vars[this.slot] = v;
    st.start = pos;
    st.end = pos + o.nbytes;
    return true;
  }
}

const FLAGS = new Set(['relative', 'big', 'little', 'string', 'hex', 'dec', 'oct', 'dce', 'bitmask', 'multiplier', 'align']);

export const byteExtractKeyword: KeywordDef = {
  name: 'byte_extract',
  setup(b: RuleBuilder, value) {
    const parts = (value ?? '').split(',').map((x) => x.trim());
    if (parts.length < 3) throw b.error(`byte_extract needs at least 3 arguments: ${value}`);
    const o = defaultByteOptions();
    o.nbytes = parseIntStrict(parts[0]!, b, 'byte_extract bytes');
    o.offset = parseIntStrict(parts[1]!, b, 'byte_extract offset');
    const name = parts[2]!;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw b.error(`byte_extract: bad variable name "${name}"`);
    parseByteFlags(b, 'byte_extract', parts.slice(3), o, FLAGS);
    if (o.align !== 0 && o.align !== 2 && o.align !== 4) throw b.error('byte_extract: align must be 2 or 4');
    if (b.byteVars.size >= 16) throw b.error('byte_extract: more than 16 variables');
    const slot = b.byteVars.size;
    b.byteVars.set(name, slot);
    b.sig.byteVarCount = b.byteVars.size;
    const m = new ByteExtractMatch(o, slot);
    const list = b.targetFor(o.relative);
    list.items.push(m);
    b.lastMatch = { match: m, list };
  },
};
