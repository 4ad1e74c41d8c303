// Transforms on the current sticky buffer (Suricata detect-transform-*.c): to_lowercase,
// to_uppercase, strip_whitespace, compress_whitespace, dotprefix, url_decode. A transformed
// buffer is its own list (Suricata gives it its own buffer id). Each transform instance owns
// a growable scratch array, so applying it does not allocate per packet once warmed up.

import type { Transform } from '../signature';
import type { RuleBuilder } from '../ruleBuilder';
import type { KeywordDef } from './registry';

abstract class ScratchTransform implements Transform {
  abstract readonly name: string;
  protected scratch = new Uint8Array(256);
  protected room(n: number): Uint8Array {
    if (this.scratch.length < n) this.scratch = new Uint8Array(Math.max(n, this.scratch.length * 2));
    return this.scratch;
  }
  abstract apply(input: Uint8Array): Uint8Array;
}

class ToLowercase extends ScratchTransform {
  readonly name = 'to_lowercase';
  apply(input: Uint8Array): Uint8Array {
    const o = this.room(input.length);
    for (let i = 0; i < input.length; i++) { const c = input[i]!; o[i] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c; }
    return o.subarray(0, input.length);
  }
}
class ToUppercase extends ScratchTransform {
  readonly name = 'to_uppercase';
  apply(input: Uint8Array): Uint8Array {
    const o = this.room(input.length);
    for (let i = 0; i < input.length; i++) { const c = input[i]!; o[i] = c >= 0x61 && c <= 0x7a ? c - 0x20 : c; }
    return o.subarray(0, input.length);
  }
}
/** isspace(): space, \t \n \v \f \r. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}
class StripWhitespace extends ScratchTransform {
  readonly name = 'strip_whitespace';
  apply(input: Uint8Array): Uint8Array {
    const o = this.room(input.length);
    let n = 0;
    for (let i = 0; i < input.length; i++) if (!isSpace(input[i]!)) o[n++] = input[i]!;
    return o.subarray(0, n);
  }
}
class CompressWhitespace extends ScratchTransform {
  readonly name = 'compress_whitespace';
  apply(input: Uint8Array): Uint8Array {
    const o = this.room(input.length);
    let n = 0;
    for (let i = 0; i < input.length; i++) {
      const c = input[i]!;
      if (isSpace(c)) { if (n > 0 && isSpace(o[n - 1]!)) continue; o[n++] = c; } else o[n++] = c;
    }
    return o.subarray(0, n);
  }
}
/** Prepends a dot (for domain suffix matching: dotprefix; content:".example.com"; endswith). */
class DotPrefix extends ScratchTransform {
  readonly name = 'dotprefix';
  apply(input: Uint8Array): Uint8Array {
    if (input.length === 0) return input;
    const o = this.room(input.length + 1);
    o[0] = 0x2e;
    o.set(input, 1);
    return o.subarray(0, input.length + 1);
  }
}
function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
/** %XX decoding and '+' to space (Suricata transform url_decode). */
class UrlDecode extends ScratchTransform {
  readonly name = 'url_decode';
  apply(input: Uint8Array): Uint8Array {
    const o = this.room(input.length);
    let n = 0;
    for (let i = 0; i < input.length; i++) {
      const c = input[i]!;
      if (c === 0x25 && i + 2 < input.length + 0 && i + 2 <= input.length - 1) {
        const h = hexVal(input[i + 1]!), l = hexVal(input[i + 2]!);
        if (h >= 0 && l >= 0) { o[n++] = h * 16 + l; i += 2; continue; }
      }
      o[n++] = c === 0x2b ? 0x20 : c;
    }
    return o.subarray(0, n);
  }
}

function def(name: string, make: () => Transform): KeywordDef {
  return {
    name,
    setup(b: RuleBuilder, value) {
      if (value !== null) throw b.error(`${name} takes no value`);
      const cur = b.current;
      if (!cur) throw b.error(`${name} must follow a sticky buffer`);
      // A transform applies to the whole buffer, also to keywords written before it.
      const next = b.list(cur.bufferId, [...cur.transforms, make()]);
      next.items.push(...cur.items.splice(0));
      if (b.lastContent?.list === cur) b.lastContent = { match: b.lastContent.match, list: next };
      if (b.lastMatch?.list === cur) b.lastMatch = { match: b.lastMatch.match, list: next };
      b.current = next;
    },
  };
}

export const transformKeywords: KeywordDef[] = [
  def('to_lowercase', () => new ToLowercase()),
  def('to_uppercase', () => new ToUppercase()),
  def('strip_whitespace', () => new StripWhitespace()),
  def('compress_whitespace', () => new CompressWhitespace()),
  def('dotprefix', () => new DotPrefix()),
  def('url_decode', () => new UrlDecode()),
];
