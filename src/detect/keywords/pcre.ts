// pcre: Perl-compatible regex (Suricata detect-pcre.c), translated once to a JS RegExp that
// runs on the buffer read as latin1 (one char per byte, as PCRE sees bytes without UTF).
//
// Exactness: the translation rewrites the constructs whose JS meaning differs from PCRE's
// (`.` vs \r, `$` before a final newline, \s and \xa0, `[]...]`, POSIX classes, \A \z \Z,
// (?P<n>), (?i) at the start, extended mode). `^` without m is JS's `^` (the subject's start;
// with R the subject starts at the previous match, as Suricata hands it to PCRE). Caseless
// matching is spelled out per letter ([aA]) with PCRE's C-locale tables (ASCII only): JS's `i`
// would also fold latin1 letters. Constructs JS cannot express (possessive quantifiers, atomic
// groups, inline flags mid-pattern, \G \K \Q \R \h \p conditionals, recursion, ungreedy
// mode) make the rule SKIPPED with a reason.
//
// Cost bound (pcreCost.ts): each pcre gets an input window from its shape so that
// backtracking stays within a step budget; nested unbounded repetition is skipped.

import { BufferMatch, type InspectState, type Signature } from '../signature';
import * as v8 from 'node:v8';
import { PCRE_LINEAR_WINDOW, PCRE_MAX_WINDOW, PCRE_MIN_WINDOW, pcreBudget, pcreBudgetChannel, pcreWindow, type PcreBudgetEvent } from '../pcreCost';
import { pcreBufferFlag } from '../buffers';
import { SkipRule, type RuleBuilder } from '../ruleBuilder';
import { requireAlproto } from './stickyBuffers';
import type { KeywordDef } from './registry';
import type { PcreCost } from '../pcreCost';

export interface PcreFlags { i: boolean; s: boolean; m: boolean; x: boolean; E: boolean; A: boolean }


export class PcreMatch extends BufferMatch {
  override readonly retryable = true;
  negated = false;
  /** The pattern ends in PCRE `$`: the last capture group holds the final \n to give back. */
  dollarGroup = false;
  /** Longest subject inspected whole (pcreCost.ts); PCRE_MAX_WINDOW: any buffer. */
  window = PCRE_MAX_WINDOW;
  /**
   * The outcome can depend on bytes after the match ($, \z, \b, lookahead): a cut subject
   * could match where the whole one does not, so over the window it counts as no match.
   */
  endDependent = false;
  /** The rule, for the once-per-pcre budget report (its sid is parsed after the pcre). */
  sig: Signature | null = null;
  /** Execs of this pcre that did not see the whole buffer (over its window). */
  exceeded = 0;
  /** Runs on V8's linear-time engine (flag `l`) rather than backtracking. */
  linear = false;
  /** The pattern's shape for the cost bound (pcreCost.ts). */
  cost: PcreCost = { anchored: false, unbounded: 0, backrefs: 0, factor: 1, det: 0 };
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
    let subject = base > 0 ? st.str.slice(base) : st.str;
    const start = from > base ? from - base : 0;
    if (subject.length > this.window) {
      this.overBudget(subject.length);
      // Like PCRE's match-limit error in Suricata: the keyword fails, negated or not.
      if (this.endDependent || this.negated) return false;
      // Otherwise inspect the first `window` bytes: a match there is a match in the whole.
      subject = subject.slice(0, this.window);
    }
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
    if (this.dollarGroup) st.end -= m[m.length - 1]!.length;
    return true;
  }
  private overBudget(length: number): void {
    pcreBudget.exceeded++;
    if (this.exceeded++ > 0) return;
    pcreBudget.pcres++;
    if (pcreBudgetChannel.hasSubscribers) {
      const ev: PcreBudgetEvent = { sid: this.sig ? this.sig.sid : 0, pattern: this.source, window: this.window, length };
      pcreBudgetChannel.publish(ev);
    }
  }
}

// Enables the `l` (linear engine) RegExp flag; it changes nothing for RegExps without it.
v8.setFlagsFromString('--enable-experimental-regexp-engine');

/** The pattern on V8's linear-time engine, or null when that engine cannot run it. */
export function linearRegExp(source: string, flags: string): RegExp | null {
  try {
    return new RegExp(source, flags + 'l');
  } catch {
    return null; // backreferences, lookarounds, counts above 16, `i`
  }
}

const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z',
  space: '\\t\\n\\x0b\\f\\r ', blank: ' \\t', xdigit: '0-9A-Fa-f', word: '\\w',
  punct: '!-\\/:-@\\[-`{-~', cntrl: '\\x00-\\x1f\\x7f', print: ' -~', graph: '!-~',
};
const PCRE_SPACE = '\\t\\n\\x0b\\f\\r ';
/** PCRE `$` (not multiline): the end, or before a final newline. */
const DOLLAR_LOOK = '(?=\\n?$)';

function hex2(n: number): string {
  return '\\x' + n.toString(16).padStart(2, '0');
}

export interface Translated {
  source: string;
  flags: string;
  hasBackrefOrLook: boolean;
  risky: boolean;
  /**
   * The pattern ends in a PCRE `$` (not multiline, no E): translated to a last capture group
   * `(\n?)$` so V8's linear engine can run it (a lookahead would exclude it); exec()
   * subtracts the group's length from the match end, which is where PCRE's match ends.
   */
  dollarGroup: boolean;
  /** Uses $, \z, \Z, \b, \B or a lookahead: the outcome can depend on bytes after the match. */
  endDependent: boolean;
  /** Inputs to the backtracking cost bound (pcreCost.ts); see PcreCost. */
  cost: PcreCost;
}

const LETTER = /[a-zA-Z]/;

/** A literal byte, case-folded like PCRE's default (C locale) tables when caseless: ASCII only. */
function literal(code: number, ci: boolean): string {
  const ch = String.fromCharCode(code);
  if (ci && code < 0x80 && LETTER.test(ch)) return `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
  return hex2(code);
}

/** PCRE pattern + Suricata flags → JS source, or a SkipRule with the construct. */
export function translatePcre(pattern: string, flagsIn: PcreFlags): Translated {
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

  // Caseless matching is spelled out ([aA]) rather than left to JS's `i` flag: V8's linear
  // engine refuses `i`, and JS `i` also folds latin1 letters (é/É) that PCRE's C-locale
  // tables do not. Only a backreference needs `i` itself (it must compare caselessly).
  const hasBackref = /\\[1-9k]|\(\?P=/.test(p);
  const fold = ci && !hasBackref;
  const cost: PcreCost = { anchored: flagsIn.A, unbounded: 0, backrefs: 0, factor: 1, det: 0 };
  let topAlternation = false;
  let endDependent = false;
  let out = '';
  let hasBackrefOrLook = false;
  // Output length right after the last top-level `$` (see Translated.dollarGroup).
  let dollarAt = -1;
  let nonAscii = false;
  // Group stack for the static backtracking check: [hasUnbounded, hasAlternation].
  // [hasUnbounded, hasAlternation]
  const groups: Array<[boolean, boolean]> = [[false, false]];
  let lastAtomGroup: [boolean, boolean] | null = null;
  let lastWasQuantifiable = false;
  let risky = false;

  const markUnbounded = (): void => {
    if (lastAtomGroup && (lastAtomGroup[0] || lastAtomGroup[1])) risky = true;
    groups[groups.length - 1]![0] = true;
  };

  // A quantifier over one character is counted once the next token is known: if that
  // token is one character outside the quantified set, giving characters back cannot help
  // (pcreCost.ts: a "deterministic" quantifier), otherwise each count is a choice.
  type Pending = { unbounded: boolean; range: number; set: Uint8Array };
  let pending: Pending | null = null;
  let lastAtomText: string | null = null;
  let quantToken = false;
  const setFlags = ci && !fold ? 'i' : '';
  const choose = (q: { unbounded: boolean; range: number }): void => {
    if (q.unbounded) cost.unbounded++; else cost.factor *= q.range;
  };
  const quantify = (unbounded: boolean, range: number): void => {
    quantToken = true;
    if (!unbounded && range <= 1) return;
    if (lastAtomText !== null) pending = { unbounded, range, set: charSet(lastAtomText, setFlags) };
    else choose({ unbounded, range });
  };

  for (let k = 0; k < p.length; k++) {
    const c = p[k]!;
    if (ext) {
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') continue;
      if (c === '#') { while (k < p.length && p[k] !== '\n') k++; continue; }
    }
    const o0 = out.length;
    const pend = pending as Pending | null;
    pending = null;
    quantToken = false;
    switch (c) {
      case '\\': {
        const n = p[k + 1] ?? '';
        k++;
        lastWasQuantifiable = true; lastAtomGroup = null;
        if (n === 's') out += `[${PCRE_SPACE}]`;
        else if (n === 'S') out += `[^${PCRE_SPACE}]`;
        // We never set JS's `m` flag, so JS ^ and $ are the subject's start and end.
        else if (n === 'A') { out += '^'; lastWasQuantifiable = false; }
        else if (n === 'z') { out += '$'; endDependent = true; lastWasQuantifiable = false; }
        else if (n === 'Z') { out += dollar(); lastWasQuantifiable = false; }
        else if (n === 'x') { const r = hexEscape(p, k); if (r.value > 0x7f) nonAscii = true; out += literal(r.value, fold); k = r.end; }
        else if (n === 'e') out += '\\x1b';
        else if (n === 'a') out += '\\x07';
        else if (n === '0') { const r = octal(p, k); out += literal(r.value & 0xff, fold); k = r.end; }
        else if (/[1-9]/.test(n)) { hasBackrefOrLook = true; cost.backrefs++; out += '\\' + n; }
        else if (n === 'k') {
          hasBackrefOrLook = true; cost.backrefs++;
          const e = /^k(<[^>]*>|\{[^}]*\}|'[^']*')/.exec(p.slice(k));
          if (!e) skip('\\k without a name');
          out += `\\k<${e![1]!.slice(1, -1)}>`;
          k += e![0].length - 1;
        }
        else if ('GKQEhHvVRNpPXCgLlUuc'.includes(n) && n !== 'c') skip(`\\${n}`);
        else if (/[a-zA-Z]/.test(n) && !'dDwWbBntrf'.includes(n) && n !== 'c') skip(`unknown escape \\${n}`);
        else { if (n === 'b' || n === 'B') endDependent = true; out += '\\' + n; }
        break;
      }
      case '.':
        out += dotall ? '[^]' : '[^\\n]';
        lastWasQuantifiable = true; lastAtomGroup = null;
        break;
      case '$':
        // PCRE: multiline, before any \n or at the end; else at the end or before a final
        // \n; with E (DOLLAR_ENDONLY) only at the end. JS's `m` would also take \r.
        endDependent = true;
        if (multi) { out += '(?![^\\n])'; hasBackrefOrLook = true; } else if (flagsIn.E) out += '$'; else out += dollar();
        lastWasQuantifiable = false;
        break;
      case '^':
        // Not multiline: the start of the subject (with R, the end of the previous match,
        // since exec hands over the rest of the buffer as Suricata does).
        if (multi) { out += '(?<![^\\n])'; hasBackrefOrLook = true; } else {
          if (out.length === 0 && groups.length === 1) cost.anchored = true;
          out += '^';
        }
        lastWasQuantifiable = false;
        break;
      case '[': {
        const cls = parseClass(p, k, fold);
        if (cls.nonAscii) nonAscii = true;
        out += cls.text; k = cls.end;
        lastWasQuantifiable = true; lastAtomGroup = null;
        break;
      }
      case '(': {
        if (p[k + 1] === '?') {
          const rest = p.slice(k + 2);
          if (rest.startsWith('#')) { const e = p.indexOf(')', k); k = e < 0 ? p.length : e; break; }
          if (rest.startsWith(':')) { out += '(?:'; k += 2; }
          else if (rest.startsWith('=') || rest.startsWith('!')) { hasBackrefOrLook = true; endDependent = true; out += '(?' + rest[0]; k += 2; }
          else if (rest.startsWith('<=') || rest.startsWith('<!')) { hasBackrefOrLook = true; out += '(?' + rest.slice(0, 2); k += 3; }
          else if (rest.startsWith('P<')) { out += '(?<'; k += 3; }
          else if (rest.startsWith('<') || rest.startsWith("'")) {
            if (rest.startsWith("'")) skip("(?'name')");
            out += '(?<'; k += 2;
          } else if (rest.startsWith('P=')) {
            const e = p.indexOf(')', k);
            out += `\\k<${p.slice(k + 4, e)}>`; k = e; hasBackrefOrLook = true; cost.backrefs++; lastWasQuantifiable = true; lastAtomGroup = null;
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
        if (groups.length === 1) topAlternation = true;
        out += '|';
        lastWasQuantifiable = false;
        break;
      case '*': case '+': case '?': {
        if (!lastWasQuantifiable) { out += c; break; }
        const nx = p[k + 1];
        if (nx === '+') skip('possessive quantifier');
        if (c !== '?') markUnbounded();
        quantify(c !== '?', 2);
        out += c;
        if (nx === '?') { out += '?'; k++; }
        lastWasQuantifiable = false; lastAtomGroup = null;
        break;
      }
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(k));
        if (!m || !lastWasQuantifiable) { out += '\\{'; break; }
        const lo = Number(m[1]);
        const hi = m[2] === undefined ? lo : m[3] === '' ? Infinity : Number(m[3]);
        if (hi < lo) skip('quantifier range out of order');
        out += m[0];
        k += m[0].length - 1;
        const nx = p[k + 1];
        if (nx === '+') skip('possessive quantifier');
        if (hi === Infinity) markUnbounded(); else if (hi > 16) markUnbounded();
        quantify(hi === Infinity, hi - lo + 1);
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
        out += fold && LETTER.test(c) ? literal(c.charCodeAt(0), true) : c;
        lastWasQuantifiable = true; lastAtomGroup = null;
    }
    const text = out.slice(o0);
    const single = !quantToken && lastWasQuantifiable && lastAtomGroup === null && text.length > 0 && !/^\\(?:[1-9bB]|k<)/.test(text);
    if (pend !== null) {
      if (single && disjoint(pend.set, charSet(text, setFlags))) cost.det++; else choose(pend);
    }
    lastAtomText = single ? text : null;
  }
  if ((pending as Pending | null) !== null) cost.det++; // last in the pattern: the greedy take succeeds at once
  if (groups.length !== 1) skip('unbalanced parenthesis');
  // JS's `i` (kept only for backreferences) would fold latin1 letters PCRE does not.
  if (ci && !fold && nonAscii) skip('case-insensitive backreference with non-ASCII bytes');
  let dollarGroup = false;
  if (dollarAt === out.length) {
    out = out.slice(0, out.length - DOLLAR_LOOK.length) + '(\\n?)$';
    dollarGroup = true;
  } else if (dollarAt >= 0) hasBackrefOrLook = true;
  if (topAlternation) cost.anchored = flagsIn.A;
  return { source: out, flags: ci && !fold ? 'gi' : 'g', hasBackrefOrLook, risky, dollarGroup, endDependent, cost };

  function dollar(): string {
    endDependent = true;
    if (dollarAt >= 0) hasBackrefOrLook = true; // the earlier one stays a lookahead
    if (groups.length === 1) dollarAt = out.length + DOLLAR_LOOK.length;
    else hasBackrefOrLook = true;
    return DOLLAR_LOOK;
  }
}

/**
 * A PCRE character class starting at p[k] === '[' → JS class text and the index of its ']'.
 * Parsed item by item so that ranges can be case-folded (caseless [a-f] → [a-fA-F]).
 */
function parseClass(p: string, k: number, ci: boolean): { text: string; end: number; nonAscii: boolean } {
  const skip = (what: string): never => {
    throw new SkipRule(`pcre: ${what} not expressible in JS`);
  };
  let j = k + 1;
  let text = '[';
  if (p[j] === '^') { text += '^'; j++; }
  let nonAscii = false;
  // Singles and ranges as [lo, hi] byte pairs (folded at the end); sets (\d, POSIX) as text.
  const ranges: Array<[number, number]> = [];
  let sets = '';
  let first = true;
  // One item: a byte code, or -1 after appending a set to `sets`.
  const item = (): number => {
    const c = p[j]!;
    if (c === '[' && p[j + 1] === ':') {
      const e = p.indexOf(':]', j + 2);
      if (e > 0) {
        const name = p.slice(j + 2, e);
        if (name.startsWith('^')) skip('negated POSIX class');
        // Caseless [[:upper:]] / [[:lower:]] take both cases in PCRE.
        const set = ci && (name === 'upper' || name === 'lower') ? 'a-zA-Z' : POSIX[name];
        if (set === undefined) skip(`POSIX class [:${name}:]`);
        sets += set; j = e + 2; return -1;
      }
    }
    if (c !== '\\') { j++; return c.charCodeAt(0); }
    const n = p[j + 1] ?? '';
    j += 2;
    switch (n) {
      case 'd': case 'D': case 'w': case 'W': sets += '\\' + n; return -1;
      case 's': sets += PCRE_SPACE; return -1;
      // JS \S also excludes \xa0, which PCRE \S (C locale) includes.
      case 'S': sets += '\\S\\xa0'; return -1;
      case 'x': { const r = hexEscape(p, j - 1); j = r.end + 1; return r.value; }
      case 'e': return 0x1b;
      case 'a': return 0x07;
      case 'b': return 0x08;
      case 'n': return 0x0a;
      case 't': return 0x09;
      case 'r': return 0x0d;
      case 'f': return 0x0c;
      case 'v': skip('\\v'); break;
      case '': skip('unterminated character class'); break;
      default:
        if (/[0-7]/.test(n)) { const r = octal(p, j - 1); j = r.end + 1; return r.value & 0xff; }
        if (/[a-zA-Z0-9]/.test(n)) skip(`\\${n} in a character class`);
        return n.charCodeAt(0);
    }
    return -1;
  };
  for (;;) {
    if (j >= p.length) skip('unterminated character class');
    if (p[j] === ']' && !first) break;
    first = false;
    const lo = item();
    if (lo < 0) continue;
    // A range needs single bytes at both ends; `-` first, last or after a set is literal.
    if (p[j] === '-' && j + 1 < p.length && p[j + 1] !== ']') {
      const save = j;
      j++;
      const hi = item();
      if (hi < 0) { j = save; ranges.push([lo, lo]); continue; }
      if (hi < lo) skip('range out of order in character class');
      ranges.push([lo, hi]);
      continue;
    }
    ranges.push([lo, lo]);
  }
  const folded: Array<[number, number]> = [];
  for (const [lo, hi] of ranges) {
    if (hi > 0x7f) nonAscii = true;
    folded.push([lo, hi]);
    if (!ci) continue;
    // The other case of the letters in [lo, hi] (PCRE C-locale tables: ASCII only).
    const a = Math.max(lo, 0x61); const b = Math.min(hi, 0x7a);
    if (a <= b) folded.push([a - 0x20, b - 0x20]);
    const c = Math.max(lo, 0x41); const d = Math.min(hi, 0x5a);
    if (c <= d) folded.push([c + 0x20, d + 0x20]);
  }
  for (const [lo, hi] of folded) text += lo === hi ? hex2(lo) : `${hex2(lo)}-${hex2(hi)}`;
  return { text: text + sets + ']', end: j, nonAscii };
}

const charSets = new Map<string, Uint8Array>();

/** The bytes one translated single-character atom matches (memoized; load time only). */
function charSet(atom: string, flags: string): Uint8Array {
  const key = flags + atom;
  let set = charSets.get(key);
  if (set === undefined) {
    const re = new RegExp(`^(?:${atom})$`, flags);
    set = new Uint8Array(256);
    for (let b = 0; b < 256; b++) set[b] = re.test(String.fromCharCode(b)) ? 1 : 0;
    charSets.set(key, set);
  }
  return set;
}

function disjoint(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 256; i++) if (a[i]! & b[i]!) return false;
  return true;
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
    // A (anchored) pins the match to where the search starts: the sticky flag.
    const reFlags = t.flags + (f.A ? 'y' : '');
    let re: RegExp;
    try {
      re = new RegExp(t.source, reFlags);
    } catch (e) {
      throw new SkipRule(`pcre: JS rejects the translated pattern (${(e as Error).message.split(':').pop()!.trim()})`);
    }
    // Engine and window (pcreCost.ts): backtracking within the step budget; where that
    // window is small (or the shape exponential), V8's linear engine on PCRE_LINEAR_WINDOW.
    let window = pcreWindow(t.cost);
    let linear = false;
    if (t.risky || window < PCRE_LINEAR_WINDOW) {
      const lin = linearRegExp(t.source, reFlags);
      if (lin !== null) { re = lin; window = PCRE_LINEAR_WINDOW; linear = true; }
      // Nested unbounded repetition backtracks exponentially: no input window bounds it.
      else if (t.risky) throw new SkipRule('pcre: nested unbounded repetition (exponential backtracking) outside V8\'s linear engine');
      else if (window < PCRE_MIN_WINDOW) {
        throw new SkipRule(`pcre: backtracking cost over budget below a ${PCRE_MIN_WINDOW}-byte window, outside V8's linear engine`);
      }
    }
    const m = new PcreMatch(re, pattern);
    m.window = window;
    m.linear = linear;
    m.negated = negated;
    m.relative = relative;
    m.dollarGroup = t.dollarGroup;
    m.sig = b.sig;
    m.endDependent = t.endDependent;
    m.cost = t.cost;
    const list = bufferId >= 0 ? b.list(bufferId) : b.targetFor(relative);
    list.items.push(m);
    b.lastMatch = { match: m, list };
  },
};
