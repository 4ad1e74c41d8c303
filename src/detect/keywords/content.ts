// content: the byte pattern keyword (Suricata detect-content.c), with its modifiers stored
// on the match (nocase, offset, depth, distance, within, startswith, endswith,
// fast_pattern). Positions follow Suricata's DetectEngineContentInspection:
//   absolute: match starts >= offset and ends <= offset + depth;
//   relative: match starts >= prevEnd + distance and ends <= prevEnd + distance + within.
// A negated content succeeds when the pattern is absent from that window and does not move
// the "previous match" position.

import { BufferMatch, type InspectState } from '../signature';
import { parseContentBytes, type RuleBuilder } from '../ruleBuilder';
import type { KeywordDef } from './registry';

export const LOWER = new Uint8Array(256);
for (let i = 0; i < 256; i++) LOWER[i] = i >= 0x41 && i <= 0x5a ? i + 0x20 : i;

export class ContentMatch extends BufferMatch {
  override readonly retryable = true;
  nocase = false;
  negated = false;
  offset = 0;
  offsetVar = -1;
  depth = -1;
  depthVar = -1;
  distance = 0;
  distanceVar = -1;
  within = -1;
  withinVar = -1;
  hasOffset = false;
  hasDepth = false;
  hasDistance = false;
  hasWithin = false;
  startswith = false;
  endswith = false;
  fastPattern = false;
  fastPatternOnly = false;
  fpOffset = -1;
  fpLength = -1;
  /** Lowercased copy for nocase comparison. */
  lower: Uint8Array;

  constructor(readonly pattern: Uint8Array) {
    super();
    this.lower = pattern.map((c) => LOWER[c]!);
  }

  exec(buf: Uint8Array, prevEnd: number, from: number, st: InspectState): boolean {
    const plen = this.pattern.length;
    const blen = buf.length;
    let start: number;
    let end = blen;
    if (this.relative) {
      const dist = this.distanceVar >= 0 ? st.vars[this.distanceVar]! : this.distance;
      start = prevEnd + dist;
      if (this.hasWithin) {
        const w = this.withinVar >= 0 ? st.vars[this.withinVar]! : this.within;
        end = prevEnd + dist + w;
      }
      if (start < 0) start = 0;
    } else {
      start = this.offsetVar >= 0 ? st.vars[this.offsetVar]! : this.offset;
      if (this.hasDepth) end = start + (this.depthVar >= 0 ? st.vars[this.depthVar]! : this.depth);
    }
    if (end > blen) end = blen;
    if (from > start) start = from;
    let found = -1;
    if (this.endswith) {
      const pos = blen - plen;
      if (pos >= start && pos + plen <= end && this.at(buf, pos)) found = pos;
    } else {
      const last = end - plen;
      if (this.nocase) {
        const l0 = this.lower[0]!;
        for (let i = start; i <= last; i++) if (LOWER[buf[i]!] === l0 && this.at(buf, i)) { found = i; break; }
      } else {
        const p0 = this.pattern[0]!;
        for (let i = start; i <= last; i++) {
          i = buf.indexOf(p0, i);
          if (i < 0 || i > last) break;
          if (this.at(buf, i)) { found = i; break; }
        }
      }
    }
    if (this.negated) {
      if (found >= 0) return false;
      st.start = prevEnd;
      st.end = prevEnd;
      return true;
    }
    if (found < 0) return false;
    st.start = found;
    st.end = found + plen;
    return true;
  }

  private at(buf: Uint8Array, pos: number): boolean {
    const n = this.pattern.length;
    if (this.nocase) {
      const l = this.lower;
      for (let j = 0; j < n; j++) if (LOWER[buf[pos + j]!] !== l[j]) return false;
    } else {
      const p = this.pattern;
      for (let j = 0; j < n; j++) if (buf[pos + j] !== p[j]) return false;
    }
    return true;
  }
}

/** content:["!"]"bytes" — goes to the sticky buffer or the payload list. */
export function setupContent(b: RuleBuilder, value: string | null, listId?: number): ContentMatch {
  if (value === null) throw b.error('content needs a value');
  let v = value.trim();
  let negated = false;
  if (v.startsWith('!')) { negated = true; v = v.slice(1).trim(); }
  const m = new ContentMatch(parseContentBytes(v, b));
  m.negated = negated;
  const list = listId === undefined ? b.target() : b.list(listId);
  list.items.push(m);
  b.lastContent = { match: m, list };
  b.lastMatch = b.lastContent;
  return m;
}

export const contentKeyword: KeywordDef = {
  name: 'content',
  setup(b, value) {
    setupContent(b, value);
  },
};

/** The last content, typed (modifiers need one). */
export function lastContentMatch(b: RuleBuilder, keyword: string): ContentMatch {
  const p = b.requireLastContent(keyword);
  if (!(p.match instanceof ContentMatch)) throw b.error(`${keyword} needs a preceding content`);
  return p.match;
}
