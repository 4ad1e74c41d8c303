// pcre: Perl-compatible regex (Suricata detect-pcre.c), translated once to a JS RegExp that
// runs on the buffer read as latin1 (one char per byte, as PCRE sees bytes without UTF).
//
// Exactness: the translation rewrites the constructs whose JS meaning differs from PCRE's
// (`.` vs \r, `$` before a final newline, \s and \xa0, `[]...]`, POSIX classes, \A \z \Z,
// (?P<n>), (?i) at the start, extended mode). Constructs JS cannot express (possessive
// quantifiers, atomic groups, inline flags mid-pattern, \G \K \Q \R \h \p conditionals,
// recursion, ungreedy mode, case-insensitive non-ASCII) make the rule SKIPPED with a reason.
//
// Cost bound: V8's linear-time engine takes over from backtracking after
// --regexp-backtracks-before-fallback (50,000) backtracks when
// --enable-experimental-regexp-engine-on-excessive-backtracks is on; we set it when this
// module loads, before any rule RegExp exists. That engine cannot run backreferences or
// lookarounds, so patterns using those must also pass a static check (no unbounded
// quantifier on a group that itself holds an unbounded quantifier or an alternation) or are
// skipped. Suricata bounds PCRE with match-limit instead (a hit counts as no match).

import * as v8 from 'node:v8';
import { BufferMatch, type InspectState } from '../signature';
import { pcreBufferFlag } from '../buffers';
import { SkipRule, type RuleBuilder } from '../ruleBuilder';
import { requireAlproto } from './stickyBuffers';
import type { KeywordDef } from './registry';

v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

export class PcreMatch extends BufferMatch {
  override readonly retryable = true;
  negated = false;
  constructor(readonly re: RegExp, readonly source: string) {
    super();
  }
  exec(buf: Uint8Array, prevEnd: number, from: number, st: InspectState): boolean {
    if (st.strOf !== buf) {
      st.str = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1');
      st.strOf = buf;
    }
    // With R, Suricata hands PCRE the buffer from the previous match on, so ^ and
    // lookbehinds see that position as the start of the subject.
    const base = this.relative ? prevEnd : 0;
    if (this.re.sticky && from > base) return false; // anchored: one position only
    const subject = base > 0 ? st.str.slice(base) : st.str;
    const start = from > base ? from - base : 0;
    const re = this.re;
    re.lastIndex = start;
    const m = start <= subject.length ? re.exec(subject) : null;
    if (this.negated) {
      if (m !== null) return false;
      st.start = prevEnd;
      st.end = prevEnd;
      return true;
    }
    if (m === null) return false;
    st.start = base + m.index;
    st.end = base + m.index + m[0].length;
    return true;
  }
}

const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z',
  space: '\\t\\n\\x0b\\f\\r ', blank: ' \\t', xdigit: '0-9A-Fa-f', word: '\\w',
  punct: '!-\\/:-@\\[-`{-~', cntrl: '\\x00-\\x1f\\x7f', print: ' -~', graph: '!-~',
};
const PCRE_SPACE = '\\t\\n\\x0b\\f\\r ';

function hex2(n: number): string {
  return '\\x' + n.toString(16).padStart(2, '0');
}

interface Translated {
  source: string;
  flags: string;
  hasBackrefOrLook: boolean;
  risky: boolean;
}

/** PCRE pattern + Suricata flags → JS source, or a SkipRule with the construct. */
export function translatePcre(pattern: string, flagsIn: { i: boolean; s: boolean; m: boolean; x: boolean; E: boolean; A: boolean }): Translated {
  const skip = (what: string): never => {
    throw new SkipRule(`pcre: ${what} not expressible in JS`);
  };
  let { i: ci, s: dotall, m: multi, x: ext } = flagsIn;
  let p = pattern;
  // Leading inline option settings apply to the whole pattern: fold them into flags.
  for (;;) {
    const lead = /^\(\?([imsx]+)\)/.exec(p);
    if (!lead) break;
    for (const f of lead[1]!) { if (f === 'i') ci = true; if (f === 's') dotall = true; if (f === 'm') multi = true; if (f === 'x') ext = true; }
    p = p.slice(lead[0].length);
  }
  // UTF-8 characters in the rule file are bytes to PCRE: spell them as \xHH.
  p = Array.from(p).map((ch) => (ch.charCodeAt(0) > 0x7f ? Array.from(Buffer.from(ch, 'utf8')).map(hex2).join('') : ch)).join('');

  let out = '';
  let inClass = false;
  let classStart = false;
  let hasBackrefOrLook = false;
  let nonAscii = false;
  // Group stack for the static backtracking check: [hasUnbounded, hasAlternation].
  const groups: Array<[boolean, boolean]> = [[false, false]];
  let lastAtomGroup: [boolean, boolean] | null = null;
  let lastWasQuantifiable = false;
  let risky = false;

  const markUnbounded = (): void => {
    if (lastAtomGroup && (lastAtomGroup[0] || lastAtomGroup[1])) risky = true;
    groups[groups.length - 1]![0] = true;
  };

  for (let k = 0; k < p.length; k++) {
    const c = p[k]!;
    if (inClass) {
      if (c === ']' && !classStart) { inClass = false; out += ']'; lastWasQuantifiable = true; lastAtomGroup = null; continue; }
      if (c === ']' && classStart) { out += '\\]'; classStart = false; continue; }
      if (c === '^' && classStart && out.endsWith('[')) { out += '^'; continue; }
      classStart = false;
      if (c === '[' && p[k + 1] === ':') {
        const end = p.indexOf(':]', k + 2);
        if (end > 0) {
          const name = p.slice(k + 2, end);
          if (name.startsWith('^')) skip('negated POSIX class');
          const cls = POSIX[name];
          if (!cls) skip(`POSIX class [:${name}:]`);
          out += cls; k = end + 1; continue;
        }
      }
      if (c === '\\') {
        const n = p[k + 1] ?? '';
        k++;
        if (n === 's') { out += PCRE_SPACE; continue; }
        if (n === 'S') skip('\\S inside a character class');
        if (n === 'x') { const r = hexEscape(p, k); if (r.value > 0x7f) nonAscii = true; out += hex2(r.value); k = r.end; continue; }
        if ('hHvVRNpPXC'.includes(n)) skip(`\\${n}`);
        if (n === 'e') { out += '\\x1b'; continue; }
        if (n === 'a') { out += '\\x07'; continue; }
        if (/[0-7]/.test(n)) { const r = octal(p, k); if (r.value > 0x7f) nonAscii = true; out += hex2(r.value & 0xff); k = r.end; continue; }
        out += '\\' + n;
        continue;
      }
      if (c.charCodeAt(0) > 0x7f) nonAscii = true;
      out += c;
      continue;
    }
    if (ext) {
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') continue;
      if (c === '#') { while (k < p.length && p[k] !== '\n') k++; continue; }
    }
    switch (c) {
      case '\\': {
        const n = p[k + 1] ?? '';
        k++;
        lastWasQuantifiable = true; lastAtomGroup = null;
        if (n === 's') out += `[${PCRE_SPACE}]`;
        else if (n === 'S') out += `[^${PCRE_SPACE}]`;
        else if (n === 'A') out += '(?<![^])';
        else if (n === 'z') out += '(?![^])';
        else if (n === 'Z') out += '(?=\\n?(?![^]))';
        else if (n === 'x') { const r = hexEscape(p, k); if (r.value > 0x7f) nonAscii = true; out += hex2(r.value); k = r.end; }
        else if (n === 'e') out += '\\x1b';
        else if (n === 'a') out += '\\x07';
        else if (n === '0') { const r = octal(p, k); out += hex2(r.value & 0xff); k = r.end; }
        else if (/[1-9]/.test(n)) { hasBackrefOrLook = true; out += '\\' + n; }
        else if (n === 'k') { hasBackrefOrLook = true; out += '\\k'; }
        else if ('GKQEhHvVRNpPXCgLlUuc'.includes(n) && n !== 'c') skip(`\\${n}`);
        else if (/[a-zA-Z]/.test(n) && !'dDwWbBntrf'.includes(n) && n !== 'c') skip(`unknown escape \\${n}`);
        else out += '\\' + n;
        break;
      }
      case '.':
        out += dotall ? '[^]' : '[^\\n]';
        lastWasQuantifiable = true; lastAtomGroup = null;
        break;
      case '$':
        out += multi ? '(?![^\\n])' : flagsIn.E ? '(?![^])' : '(?=\\n?(?![^]))';
        lastWasQuantifiable = false;
        break;
      case '^':
        out += multi ? '(?<![^\\n])' : '(?<![^])';
        lastWasQuantifiable = false;
        break;
      case '[':
        inClass = true; classStart = true; out += '[';
        break;
      case '(': {
        if (p[k + 1] === '?') {
          const rest = p.slice(k + 2);
          if (rest.startsWith('#')) { const e = p.indexOf(')', k); k = e < 0 ? p.length : e; break; }
          if (rest.startsWith(':')) { out += '(?:'; k += 2; }
          else if (rest.startsWith('=') || rest.startsWith('!')) { hasBackrefOrLook = true; out += '(?' + rest[0]; k += 2; }
          else if (rest.startsWith('<=') || rest.startsWith('<!')) { hasBackrefOrLook = true; out += '(?' + rest.slice(0, 2); k += 3; }
          else if (rest.startsWith('P<')) { out += '(?<'; k += 3; }
          else if (rest.startsWith('<') || rest.startsWith("'")) {
            if (rest.startsWith("'")) skip("(?'name')");
            out += '(?<'; k += 2;
          } else if (rest.startsWith('P=')) {
            const e = p.indexOf(')', k);
            out += `\\k<${p.slice(k + 4, e)}>`; k = e; hasBackrefOrLook = true; lastWasQuantifiable = true; lastAtomGroup = null;
            break;
          } else skip(`group construct (?${rest.slice(0, 2)}`);
        } else out += '(';
        groups.push([false, false]);
        lastWasQuantifiable = false;
        break;
      }
      case ')': {
        const g = groups.pop();
        if (!g || groups.length === 0) skip('unbalanced parenthesis');
        out += ')';
        lastAtomGroup = g!;
        // A group's inner risk propagates to the enclosing group.
        const parent = groups[groups.length - 1]!;
        if (g![0]) parent[0] = true;
        lastWasQuantifiable = true;
        break;
      }
      case '|':
        groups[groups.length - 1]![1] = true;
        out += '|';
        lastWasQuantifiable = false;
        break;
      case '*': case '+': case '?': {
        if (!lastWasQuantifiable) { out += c; break; }
        const nx = p[k + 1];
        if (nx === '+') skip('possessive quantifier');
        if (c !== '?') markUnbounded();
        out += c;
        if (nx === '?') { out += '?'; k++; }
        lastWasQuantifiable = false; lastAtomGroup = null;
        break;
      }
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(k));
        if (!m || !lastWasQuantifiable) { out += '\\{'; break; }
        out += m[0];
        k += m[0].length - 1;
        const nx = p[k + 1];
        if (nx === '+') skip('possessive quantifier');
        if (m[2] !== undefined && m[3] === '') markUnbounded();
        else if (m[3] !== undefined && Number(m[3]) > 16) markUnbounded();
        if (nx === '?') { out += '?'; k++; }
        lastWasQuantifiable = false; lastAtomGroup = null;
        break;
      }
      case '/':
        out += '\\/';
        lastWasQuantifiable = true; lastAtomGroup = null;
        break;
      default:
        if (c.charCodeAt(0) > 0x7f) nonAscii = true;
        out += c;
        lastWasQuantifiable = true; lastAtomGroup = null;
    }
  }
  if (inClass) skip('unterminated character class');
  if (groups.length !== 1) skip('unbalanced parenthesis');
  if (ci && nonAscii) skip('case-insensitive match of non-ASCII bytes');
  return { source: out, flags: ci ? 'gi' : 'g', hasBackrefOrLook, risky };
}

function hexEscape(p: string, k: number): { value: number; end: number } {
  // k is at 'x'. PCRE: \x{hh..} or up to two hex digits (\xA = 0x0A).
  if (p[k + 1] === '{') {
    const e = p.indexOf('}', k);
    const v = parseInt(p.slice(k + 2, e), 16);
    if (e < 0 || Number.isNaN(v) || v > 0xff) throw new SkipRule('pcre: \\x{...} above 0xff not expressible in JS');
    return { value: v, end: e };
  }
  let s = '';
  let j = k + 1;
  while (s.length < 2 && j < p.length && /[0-9a-fA-F]/.test(p[j]!)) { s += p[j]; j++; }
  return { value: s ? parseInt(s, 16) : 0, end: j - 1 };
}

function octal(p: string, k: number): { value: number; end: number } {
  let s = '';
  let j = k;
  while (s.length < 3 && j < p.length && /[0-7]/.test(p[j]!)) { s += p[j]; j++; }
  return { value: parseInt(s, 8), end: j - 1 };
}

export const pcreKeyword: KeywordDef = {
  name: 'pcre',
  setup(b: RuleBuilder, value) {
    if (value === null) throw b.error('pcre needs a value');
    let v = value.trim();
    let negated = false;
    if (v.startsWith('!')) { negated = true; v = v.slice(1).trim(); }
    // Suricata's pcre parse regex makes the quotes optional (pcre:/one/U; loads in Suricata 7).
    const quoted = v.startsWith('"');
    if (quoted && !(v.endsWith('"') && v.length >= 2)) throw b.error(`pcre has no closing quote: ${value}`);
    if (quoted) v = v.slice(1, -1);
    if (v.startsWith('!')) { negated = true; v = v.slice(1); }
    if (!v.startsWith('/')) throw b.error(`pcre must start with /: ${value}`);
    const last = v.lastIndexOf('/');
    if (last <= 0) throw b.error(`pcre has no closing /: ${value}`);
    const pattern = v.slice(1, last);
    const flags = v.slice(last + 1);
    const f = { i: false, s: false, m: false, x: false, E: false, A: false };
    let relative = false;
    let bufferId = -1;
    for (const ch of flags) {
      switch (ch) {
        case 'i': f.i = true; break;
        case 's': f.s = true; break;
        case 'm': f.m = true; break;
        case 'x': f.x = true; break;
        case 'E': f.E = true; break;
        case 'A': f.A = true; break;
        case 'R': relative = true; break;
        case 'O': case 'B': break; // match-limit override / rawbytes: no effect here
        case 'G': throw new SkipRule('pcre: ungreedy flag G not expressible in JS');
        default: {
          const info = pcreBufferFlag(ch);
          if (!info) throw b.error(`unknown pcre flag "${ch}"`);
          if (bufferId >= 0) throw b.error('pcre with two buffer flags');
          requireAlproto(b, info);
          bufferId = info.id;
        }
      }
    }
    if (relative && bufferId >= 0 && b.lastMatch && b.lastMatch.list.bufferId !== bufferId) {
      throw b.error('pcre R relative to a match in another buffer');
    }
    const t = translatePcre(pattern, f);
    if (t.hasBackrefOrLook && t.risky) throw new SkipRule('pcre: nested unbounded repetition with backreference/lookaround (unbounded cost)');
    let re: RegExp;
    try {
      // A (anchored) pins the match to where the search starts: the sticky flag.
      re = new RegExp(t.source, t.flags + (f.A ? 'y' : ''));
    } catch (e) {
      throw new SkipRule(`pcre: JS rejects the translated pattern (${(e as Error).message.split(':').pop()!.trim()})`);
    }
    const m = new PcreMatch(re, pattern);
    m.negated = negated;
    m.relative = relative;
    const list = bufferId >= 0 ? b.list(bufferId) : b.targetFor(relative);
    list.items.push(m);
    b.lastMatch = { match: m, list };
  },
};
