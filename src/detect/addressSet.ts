// Rule header addresses: `any`, IPv4/IPv6 with CIDR or netmask, ranges (a-b), $VARIABLES,
// lists `[..]` with nesting and `!` negation. Parsed (cold path) into sorted interval lists
// per family, matched (hot path) with integer comparisons and no allocation.
//
// Negation follows Suricata's DetectAddressParse: inside a list the result is
// (union of positives) minus (union of negated), per family; a family with only negated
// entries starts from the whole family. So `!$HOME_NET` with an IPv4-only HOME_NET covers
// the rest of IPv4 and no IPv6, exactly like Suricata.

import { LateralError, type SourceLocation } from '../errors';

type Interval = [bigint, bigint];
interface Families { v4: Interval[]; v6: Interval[] }

const V4_MAX = (1n << 32n) - 1n;
const V6_MAX = (1n << 128n) - 1n;

export type VarLookup = (name: string) => string | undefined;

export class AddressSet {
  readonly any: boolean;
  /** IPv4 ranges as [lo, hi] pairs of uint32 values. */
  readonly v4: Float64Array;
  /** IPv6 ranges: 8 uint32 words per range (lo[0..3], hi[0..3]), most significant first. */
  readonly v6: Uint32Array;
  readonly text: string;

  constructor(text: string, fam: Families) {
    this.text = text;
    this.any = fam.v4.length === 1 && fam.v4[0]![0] === 0n && fam.v4[0]![1] === V4_MAX &&
      fam.v6.length === 1 && fam.v6[0]![0] === 0n && fam.v6[0]![1] === V6_MAX;
    this.v4 = new Float64Array(fam.v4.length * 2);
    fam.v4.forEach(([lo, hi], i) => { this.v4[i * 2] = Number(lo); this.v4[i * 2 + 1] = Number(hi); });
    this.v6 = new Uint32Array(fam.v6.length * 8);
    fam.v6.forEach(([lo, hi], i) => {
      for (let w = 0; w < 4; w++) {
        this.v6[i * 8 + w] = Number((lo >> BigInt(96 - 32 * w)) & 0xffffffffn);
        this.v6[i * 8 + 4 + w] = Number((hi >> BigInt(96 - 32 * w)) & 0xffffffffn);
      }
    });
  }

  /** addr: 16 bytes, IPv4 stored IPv4-mapped (Packet.src/dst). */
  match(addr: Uint8Array): boolean {
    if (this.any) return true;
    if (isV4Mapped(addr)) {
      const v = ((addr[12]! << 24) >>> 0) + (addr[13]! << 16) + (addr[14]! << 8) + addr[15]!;
      const r = this.v4;
      for (let i = 0; i < r.length; i += 2) if (v >= r[i]! && v <= r[i + 1]!) return true;
      return false;
    }
    const r = this.v6;
    for (let i = 0; i < r.length; i += 8) {
      if (cmp6(addr, r, i) >= 0 && cmp6(addr, r, i + 4) <= 0) return true;
    }
    return false;
  }
}

function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

function cmp6(a: Uint8Array, r: Uint32Array, off: number): number {
  for (let w = 0; w < 4; w++) {
    const v = ((a[w * 4]! << 24) >>> 0) + (a[w * 4 + 1]! << 16) + (a[w * 4 + 2]! << 8) + a[w * 4 + 3]!;
    const x = r[off + w]!;
    if (v !== x) return v < x ? -1 : 1;
  }
  return 0;
}

// ---- interval algebra (cold path) ----

function normalize(list: Interval[]): Interval[] {
  const s = [...list].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Interval[] = [];
  for (const iv of s) {
    const last = out[out.length - 1];
    if (last && iv[0] <= last[1] + 1n) { if (iv[1] > last[1]) last[1] = iv[1]; } else out.push([iv[0], iv[1]]);
  }
  return out;
}

export function subtractIntervals(a: Interval[], b: Interval[]): Interval[] {
  let cur = normalize(a);
  for (const [lo, hi] of normalize(b)) {
    const next: Interval[] = [];
    for (const [x, y] of cur) {
      if (hi < x || lo > y) { next.push([x, y]); continue; }
      if (lo > x) next.push([x, lo - 1n]);
      if (hi < y) next.push([hi + 1n, y]);
    }
    cur = next;
  }
  return cur;
}

/** Splits at commas not nested in brackets. */
export function splitList(s: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ',' && depth === 0) { out.push(s.slice(start, i).trim()); start = i + 1; }
  }
  out.push(s.slice(start).trim());
  return out.filter((x) => x.length > 0);
}

function parseV4(s: string): bigint | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return null;
    v = (v << 8n) | BigInt(o);
  }
  return v;
}

function parseV6(s: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return null;
  let str = s;
  // Embedded IPv4 tail (::ffff:1.2.3.4).
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(str);
  if (v4tail) {
    const v = parseV4(v4tail[1]!);
    if (v === null) return null;
    str = str.slice(0, -v4tail[1]!.length) + ((v >> 16n) & 0xffffn).toString(16) + ':' + (v & 0xffffn).toString(16);
  }
  const halves = str.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? head.length !== 8 : fill < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail];
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  return v;
}

function allFamilies(): Families {
  return { v4: [[0n, V4_MAX]], v6: [[0n, V6_MAX]] };
}

function parseSingle(s: string, where: SourceLocation, vars: VarLookup, depth: number): Families {
  if (s === 'any') return allFamilies();
  if (s.startsWith('$')) {
    const v = vars(s.slice(1));
    if (v === undefined) throw new LateralError('LATERAL_ERR_RULE_PARSE', `undefined address variable ${s}`, where);
    if (depth > 16) throw new LateralError('LATERAL_ERR_RULE_PARSE', `address variable ${s} refers to itself`, where);
    return parseFamilies(String(v), where, vars, depth + 1);
  }
  const dash = s.indexOf('-');
  if (dash > 0 && !s.includes('/')) {
    const a = s.slice(0, dash).trim(), b = s.slice(dash + 1).trim();
    const a4 = parseV4(a), b4 = parseV4(b);
    if (a4 !== null && b4 !== null && a4 <= b4) return { v4: [[a4, b4]], v6: [] };
    const a6 = parseV6(a), b6 = parseV6(b);
    if (a6 !== null && b6 !== null && a6 <= b6) return { v4: [], v6: [[a6, b6]] };
    throw new LateralError('LATERAL_ERR_RULE_PARSE', `bad address range "${s}"`, where);
  }
  const slash = s.indexOf('/');
  const ip = slash >= 0 ? s.slice(0, slash) : s;
  const mask = slash >= 0 ? s.slice(slash + 1) : null;
  const v4 = parseV4(ip);
  if (v4 !== null) {
    let bits = 32;
    if (mask !== null) {
      if (/^\d+$/.test(mask)) bits = Number(mask);
      else {
        const m = parseV4(mask);
        if (m === null) throw new LateralError('LATERAL_ERR_RULE_PARSE', `bad netmask in "${s}"`, where);
        const ones = m.toString(2).replace(/0+$/, '');
        if (m !== 0n && (ones.includes('0') || ones.length === 0)) throw new LateralError('LATERAL_ERR_RULE_PARSE', `non-contiguous netmask in "${s}"`, where);
        bits = m === 0n ? 0 : ones.length;
      }
      if (bits > 32) throw new LateralError('LATERAL_ERR_RULE_PARSE', `bad CIDR prefix in "${s}"`, where);
    }
    const size = 1n << BigInt(32 - bits);
    const lo = (v4 / size) * size;
    return { v4: [[lo, lo + size - 1n]], v6: [] };
  }
  const v6 = parseV6(ip);
  if (v6 !== null) {
    const bits = mask === null ? 128 : Number(mask);
    if (!Number.isInteger(bits) || bits < 0 || bits > 128) throw new LateralError('LATERAL_ERR_RULE_PARSE', `bad CIDR prefix in "${s}"`, where);
    const size = 1n << BigInt(128 - bits);
    const lo = (v6 / size) * size;
    return { v4: [], v6: [[lo, lo + size - 1n]] };
  }
  throw new LateralError('LATERAL_ERR_RULE_PARSE', `bad address "${s}"`, where);
}

function parseFamilies(text: string, where: SourceLocation, vars: VarLookup, depth: number): Families {
  const s = text.trim();
  if (s.length === 0) throw new LateralError('LATERAL_ERR_RULE_PARSE', 'empty address', where);
  let items: string[];
  if (s.startsWith('[')) {
    if (!s.endsWith(']')) throw new LateralError('LATERAL_ERR_RULE_PARSE', `unbalanced brackets in address "${s}"`, where);
    items = splitList(s.slice(1, -1));
    if (items.length === 0) throw new LateralError('LATERAL_ERR_RULE_PARSE', 'empty address list', where);
  } else if (s.startsWith('!')) {
    items = [s];
  } else {
    return parseSingle(s, where, vars, depth);
  }
  const pos: Families = { v4: [], v6: [] };
  const neg: Families = { v4: [], v6: [] };
  for (const item of items) {
    if (item.startsWith('!')) {
      const inner = item.slice(1).trim();
      if (inner === 'any') throw new LateralError('LATERAL_ERR_RULE_PARSE', '"!any" matches nothing', where);
      const f = parseFamilies(inner, where, vars, depth + 1);
      neg.v4.push(...f.v4); neg.v6.push(...f.v6);
    } else {
      const f = parseFamilies(item, where, vars, depth + 1);
      pos.v4.push(...f.v4); pos.v6.push(...f.v6);
    }
  }
  if (pos.v4.length === 0 && neg.v4.length > 0) pos.v4.push([0n, V4_MAX]);
  if (pos.v6.length === 0 && neg.v6.length > 0) pos.v6.push([0n, V6_MAX]);
  return { v4: subtractIntervals(pos.v4, neg.v4), v6: subtractIntervals(pos.v6, neg.v6) };
}

export function parseAddressSet(text: string, where: SourceLocation, vars: VarLookup): AddressSet {
  const fam = parseFamilies(text, where, vars, 0);
  const f = { v4: normalize(fam.v4), v6: normalize(fam.v6) };
  if (f.v4.length === 0 && f.v6.length === 0) {
    throw new LateralError('LATERAL_ERR_RULE_PARSE', `address "${text}" matches nothing`, where);
  }
  return new AddressSet(text, f);
}
