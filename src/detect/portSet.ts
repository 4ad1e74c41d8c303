// Rule header ports: `any`, single ports, ranges `a:b`, `a:`, `:b`, $VARIABLES, lists with
// nesting and `!` negation (positives minus negated; only-negated lists start from all
// ports, as Suricata's DetectPortParse). Matched with integer range checks.

import { LateralError, type SourceLocation } from '../errors';
import { splitList, type VarLookup } from './addressSet';

type Range = [number, number];

export class PortSet {
  readonly any: boolean;
  /** [lo, hi] pairs, sorted, merged. */
  readonly ranges: Uint16Array;
  readonly text: string;
  constructor(text: string, ranges: Range[]) {
    this.text = text;
    this.any = ranges.length === 1 && ranges[0]![0] === 0 && ranges[0]![1] === 65535;
    this.ranges = new Uint16Array(ranges.length * 2);
    ranges.forEach(([lo, hi], i) => { this.ranges[i * 2] = lo; this.ranges[i * 2 + 1] = hi; });
  }
  match(port: number): boolean {
    if (this.any) return true;
    const r = this.ranges;
    for (let i = 0; i < r.length; i += 2) if (port >= r[i]! && port <= r[i + 1]!) return true;
    return false;
  }
}

function normalize(list: Range[]): Range[] {
  const s = [...list].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function subtract(a: Range[], b: Range[]): Range[] {
  let cur = normalize(a);
  for (const [lo, hi] of normalize(b)) {
    const next: Range[] = [];
    for (const [x, y] of cur) {
      if (hi < x || lo > y) { next.push([x, y]); continue; }
      if (lo > x) next.push([x, lo - 1]);
      if (hi < y) next.push([hi + 1, y]);
    }
    cur = next;
  }
  return cur;
}

function port(s: string, where: SourceLocation): number {
  if (!/^\d+$/.test(s)) throw new LateralError('LATERAL_ERR_RULE_PARSE', `bad port "${s}"`, where);
  const n = Number(s);
  if (n > 65535) throw new LateralError('LATERAL_ERR_RULE_PARSE', `port ${s} out of range`, where);
  return n;
}

function parseRanges(text: string, where: SourceLocation, vars: VarLookup, depth: number): Range[] {
  const s = text.trim();
  if (s.length === 0) throw new LateralError('LATERAL_ERR_RULE_PARSE', 'empty port', where);
  if (s === 'any') return [[0, 65535]];
  if (s.startsWith('$')) {
    const v = vars(s.slice(1));
    if (v === undefined) throw new LateralError('LATERAL_ERR_RULE_PARSE', `undefined port variable ${s}`, where);
    if (depth > 16) throw new LateralError('LATERAL_ERR_RULE_PARSE', `port variable ${s} refers to itself`, where);
    return parseRanges(String(v), where, vars, depth + 1);
  }
  if (s.startsWith('[') || s.startsWith('!')) {
    let items: string[];
    if (s.startsWith('[')) {
      if (!s.endsWith(']')) throw new LateralError('LATERAL_ERR_RULE_PARSE', `unbalanced brackets in port "${s}"`, where);
      items = splitList(s.slice(1, -1));
      if (items.length === 0) throw new LateralError('LATERAL_ERR_RULE_PARSE', 'empty port list', where);
    } else items = [s];
    const pos: Range[] = [], neg: Range[] = [];
    for (const item of items) {
      if (item.startsWith('!')) {
        const inner = item.slice(1).trim();
        if (inner === 'any') throw new LateralError('LATERAL_ERR_RULE_PARSE', '"!any" matches no port', where);
        neg.push(...parseRanges(inner, where, vars, depth + 1));
      } else pos.push(...parseRanges(item, where, vars, depth + 1));
    }
    if (pos.length === 0) pos.push([0, 65535]);
    return subtract(pos, neg);
  }
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const lo = colon === 0 ? 0 : port(s.slice(0, colon).trim(), where);
    const hi = colon === s.length - 1 ? 65535 : port(s.slice(colon + 1).trim(), where);
    if (lo > hi) throw new LateralError('LATERAL_ERR_RULE_PARSE', `bad port range "${s}"`, where);
    return [[lo, hi]];
  }
  const p = port(s, where);
  return [[p, p]];
}

export function parsePortSet(text: string, where: SourceLocation, vars: VarLookup): PortSet {
  const r = normalize(parseRanges(text, where, vars, 0));
  if (r.length === 0) throw new LateralError('LATERAL_ERR_RULE_PARSE', `port "${text}" matches nothing`, where);
  return new PortSet(text, r);
}

/** The ports of any of `sets`, as sorted, merged [lo, hi] pairs (signature grouping; cold). */
export function portRangesUnion(sets: PortSet[]): Uint16Array {
  const all: Range[] = [];
  for (const s of sets) for (let i = 0; i < s.ranges.length; i += 2) all.push([s.ranges[i]!, s.ranges[i + 1]!]);
  const merged = normalize(all);
  const out = new Uint16Array(merged.length * 2);
  merged.forEach(([lo, hi], i) => { out[i * 2] = lo; out[i * 2 + 1] = hi; });
  return out;
}
