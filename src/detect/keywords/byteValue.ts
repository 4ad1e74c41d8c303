// Reading a number out of a buffer for byte_test, byte_jump and byte_extract: binary big or
// little endian, or as text in base 8/10/16 (strtoull-like: leading digits, at least one).
// Values stay exact as JS numbers because rules may only read up to 6 binary bytes or 15
// digits; wider reads are skipped at setup (see byteOptions).

import { SkipRule, parseIntStrict, type RuleBuilder } from '../ruleBuilder';

export interface ByteOptions {
  nbytes: number;
  offset: number;
  offsetVar: number;
  relative: boolean;
  little: boolean;
  /** 0 = binary, else the text base (8, 10, 16). */
  base: number;
  bitmask: number;
  bitmaskShift: number;
  multiplier: number;
  align: number;
  fromBeginning: boolean;
  fromEnd: boolean;
  postOffset: number;
}

export function defaultByteOptions(): ByteOptions {
  return {
    nbytes: 0, offset: 0, offsetVar: -1, relative: false, little: false, base: 0, bitmask: 0, bitmaskShift: 0,
    multiplier: 1, align: 0, fromBeginning: false, fromEnd: false, postOffset: 0,
  };
}

/** Parses the trailing flag list shared by byte_test/byte_jump/byte_extract. */
export function parseByteFlags(b: RuleBuilder, kw: string, parts: string[], o: ByteOptions, allowed: Set<string>): void {
  for (let i = 0; i < parts.length; i++) {
    const raw = parts[i]!.trim();
    const [word, ...args] = raw.split(/\s+/);
    const w = word!.toLowerCase();
    if (!allowed.has(w)) throw b.error(`${kw}: unknown option "${raw}"`);
    switch (w) {
      case 'relative': o.relative = true; break;
      case 'big': o.little = false; break;
      case 'little': o.little = true; break;
      case 'dce': throw new SkipRule(`${kw}: dce option needs the DCERPC parser`);
      case 'string': {
        const next = (parts[i + 1] ?? '').trim().toLowerCase();
        if (next === 'hex' || next === 'dec' || next === 'oct') { o.base = next === 'hex' ? 16 : next === 'dec' ? 10 : 8; i++; }
        else o.base = 10;
        break;
      }
      case 'hex': o.base = 16; break;
      case 'dec': o.base = 10; break;
      case 'oct': o.base = 8; break;
      case 'bitmask': {
        const m = parseIntStrict(args[0] ?? '', b, `${kw} bitmask`);
        o.bitmask = m;
        let shift = 0;
        while (m !== 0 && ((m / 2 ** shift) % 2) === 0) shift++;
        o.bitmaskShift = shift;
        break;
      }
      case 'multiplier': o.multiplier = parseIntStrict(args[0] ?? '', b, `${kw} multiplier`); break;
      case 'post_offset': o.postOffset = parseIntStrict(args[0] ?? '', b, `${kw} post_offset`); break;
      case 'align': o.align = args[0] ? parseIntStrict(args[0], b, `${kw} align`) : 4; break;
      case 'from_beginning': o.fromBeginning = true; break;
      case 'from_end': o.fromEnd = true; break;
      default: throw b.error(`${kw}: unknown option "${raw}"`);
    }
  }
  if (o.nbytes === 0) throw new SkipRule(`${kw}: 0 bytes (variable-length read)`);
  const max = o.base === 0 ? 6 : 15;
  if (o.nbytes < 1 || o.nbytes > (o.base === 0 ? 8 : 23)) throw b.error(`${kw}: bad byte count ${o.nbytes}`);
  if (o.nbytes > max) throw new SkipRule(`${kw}: ${o.nbytes}-byte values exceed exact JS integer range`);
}

/** Reads the value at pos, or returns -1 when it is out of bounds or not a number. */
export function readByteValue(buf: Uint8Array, pos: number, o: ByteOptions): number {
  const n = o.nbytes;
  if (pos < 0 || pos + n > buf.length) return -1;
  let v = 0;
  if (o.base === 0) {
    if (o.little) for (let i = n - 1; i >= 0; i--) v = v * 256 + buf[pos + i]!;
    else for (let i = 0; i < n; i++) v = v * 256 + buf[pos + i]!;
  } else {
    let i = 0;
    let digits = 0;
    while (i < n && (buf[pos + i] === 0x20 || buf[pos + i] === 0x09)) i++;
    for (; i < n; i++) {
      const c = buf[pos + i]!;
      let d = 99;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      if (d >= o.base) break;
      v = v * o.base + d;
      digits++;
    }
    if (digits === 0) return -1;
  }
  if (o.bitmask !== 0) {
    v = v <= 0xffffffff && o.bitmask <= 0xffffffff ? (v & o.bitmask) >>> 0 : Number(BigInt(v) & BigInt(o.bitmask));
    if (o.bitmaskShift) v = Math.floor(v / 2 ** o.bitmaskShift);
  }
  return v;
}
