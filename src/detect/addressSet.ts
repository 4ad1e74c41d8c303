// Rule header addresses: `any`, IPv4/IPv6 with CIDR or netmask, ranges (a-b), $VARIABLES,
// lists `[..]` with nesting and `!` negation. Parsed (cold path) into sorted interval lists
// per family, matched (hot path) with integer comparisons and no allocation.
//
// Negation follows Suricata's DetectAddressParse: inside a list the result is
// (union of positives) minus (union of negated), per family; a family with only negated
// entries starts from the whole family. So `!$HOME_NET` with an IPv4-only HOME_NET covers
// the rest of IPv4 and no IPv6, exactly like Suricata.
//
// Dynamic address groups (Lateral's extension, docs/docker.md): `@container:web`,
// `@label:tier=db`, `@network:backend`, `@image:redis` stand for the addresses of containers
// and change while rules run. Each distinct expression is one DynamicAddressGroup per thread
// (dynamicAddressGroup()), shared by every AddressSet that names it, directly, in a list or
// through a YAML variable. When its members are replaced (setMembers, cold path), each
// AddressSet that uses it re-evaluates its expression tree into the same flat interval arrays
// match() reads: matching stays the plain allocation-free interval scan, and no rule is
// recompiled. No Suricata address starts with `@`, so plain rules parse exactly as before.

import { LateralError, type SourceLocation } from '../errors';

type Interval = [bigint, bigint];
interface Families { v4: Interval[]; v6: Interval[] }

/** The syntax of a dynamic group: `@kind:value` (values without the list separators , [ ] !). */
export const DYNAMIC_ADDRESS_SYNTAX = /^@(container|label|network|image):([A-Za-z0-9_.\-/:=+@]+)$/;

/**
 * The addresses behind one `@kind:value` expression, replaced at run time. Empty (matching
 * nothing) until setMembers() is first called: `resolved` says whether anyone did.
 */
export class DynamicAddressGroup {
  /** Where the expression was first seen (for "resolves to nothing" warnings). */
  readonly firstSeen: SourceLocation;
  /** False until the first setMembers(): nobody resolved it (no Docker, no --containers). */
  resolved = false;
  /** The member CIDRs as last set. */
  members: readonly string[] = [];
  /** Times setMembers() changed the members. */
  updates = 0;
  fam: Families = { v4: [], v6: [] };
  // Weak: an AddressSet of a rule set replaced by a reload must not be kept alive by us.
  private users: WeakRef<AddressSet>[] = [];

  constructor(readonly expr: string, where: SourceLocation) {
    this.firstSeen = where;
  }

  /** @internal AddressSet registers itself here when its expression names the group. */
  addUser(set: AddressSet): void {
    this.users.push(new WeakRef(set));
  }

  /**
   * Replaces the members (CIDRs or addresses) and re-evaluates every AddressSet using the
   * group. Throws LATERAL_ERR_CONFIG for a bad address, leaving the members unchanged.
   */
  setMembers(cidrs: readonly string[]): void {
    const where: SourceLocation = { file: this.expr, line: 0 };
    const fam: Families = { v4: [], v6: [] };
    for (const c of cidrs) {
      let f: Families;
      try {
        f = parseSingle(c.trim(), where, () => undefined, 0);
      } catch (e) {
        throw new LateralError('LATERAL_ERR_CONFIG', `${this.expr}: bad member address ${JSON.stringify(c)}`, undefined, { cause: e });
      }
      if (f.v4.length === 1 && f.v6.length === 1) throw new LateralError('LATERAL_ERR_CONFIG', `${this.expr}: member "any" is not an address`);
      fam.v4.push(...f.v4); fam.v6.push(...f.v6);
    }
    this.fam = { v4: normalize(fam.v4), v6: normalize(fam.v6) };
    this.members = [...cidrs];
    this.resolved = true;
    this.updates++;
    const alive: WeakRef<AddressSet>[] = [];
    for (const ref of this.users) {
      const set = ref.deref();
      if (set === undefined) continue;
      set.refresh();
      alive.push(ref);
    }
    this.users = alive;
  }
}

/** One group object per distinct expression in this thread (each worker has its own). */
const groups = new Map<string, DynamicAddressGroup>();

/** The thread's group for `expr` (created empty and unresolved on first use). */
export function dynamicAddressGroup(expr: string, where: SourceLocation = { file: '', line: 0 }): DynamicAddressGroup {
  const key = expr.trim();
  let g = groups.get(key);
  if (g === undefined) { g = new DynamicAddressGroup(key, where); groups.set(key, g); }
  return g;
}

/** Every group this thread has seen, in first-seen order. */
export function dynamicAddressGroups(): DynamicAddressGroup[] {
  return [...groups.values()];
}

/**
 * Parsed address expression. Fully static expressions collapse to one STATIC node at parse
 * time (so plain Suricata addresses keep exactly their old evaluation); only lists that
 * contain a group stay a tree, re-evaluated on group updates (cold path).
 */
type AddrNode =
  | { k: 'static'; fam: Families }
  | { k: 'group'; group: DynamicAddressGroup }
  | { k: 'list'; pos: AddrNode[]; neg: AddrNode[]; fill4: boolean; fill6: boolean };

const V4_MAX = (1n << 32n) - 1n;
const V6_MAX = (1n << 128n) - 1n;

export type VarLookup = (name: string) => string | undefined;

export class AddressSet {
  // Replaced as a whole (never edited in place) when a dynamic group changes.
  any = false;
  /** IPv4 ranges as [lo, hi] pairs of uint32 values. */
  v4: Float64Array = EMPTY_V4;
  /** IPv6 ranges: 8 uint32 words per range (lo[0..3], hi[0..3]), most significant first. */
  v6: Uint32Array = EMPTY_V6;
  readonly text: string;
  /** The dynamic groups the expression names (empty for plain Suricata addresses). */
  readonly groups: readonly DynamicAddressGroup[];
  private readonly tree: AddrNode | null;

  /** fam: static intervals; or tree: an expression with dynamic groups, evaluated now. */
  constructor(text: string, fam: Families, tree: AddrNode | null = null) {
    this.text = text;
    this.tree = tree;
    const gs: DynamicAddressGroup[] = [];
    if (tree !== null) collectGroups(tree, gs);
    this.groups = gs;
    for (const g of gs) g.addUser(this);
    this.setIntervals(tree !== null ? evaluate(tree) : fam);
  }

  /** Re-evaluates from the groups' current members (DynamicAddressGroup.setMembers). */
  refresh(): void {
    if (this.tree !== null) this.setIntervals(evaluate(this.tree));
  }

  private setIntervals(fam: Families): void {
    this.any = fam.v4.length === 1 && fam.v4[0]![0] === 0n && fam.v4[0]![1] === V4_MAX &&
      fam.v6.length === 1 && fam.v6[0]![0] === 0n && fam.v6[0]![1] === V6_MAX;
    const v4 = new Float64Array(fam.v4.length * 2);
    fam.v4.forEach(([lo, hi], i) => { v4[i * 2] = Number(lo); v4[i * 2 + 1] = Number(hi); });
    const v6 = new Uint32Array(fam.v6.length * 8);
    fam.v6.forEach(([lo, hi], i) => {
      for (let w = 0; w < 4; w++) {
        v6[i * 8 + w] = Number((lo >> BigInt(96 - 32 * w)) & 0xffffffffn);
        v6[i * 8 + 4 + w] = Number((hi >> BigInt(96 - 32 * w)) & 0xffffffffn);
      }
    });
    this.v4 = v4;
    this.v6 = v6;
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

const EMPTY_V4 = new Float64Array(0);
const EMPTY_V6 = new Uint32Array(0);

function collectGroups(n: AddrNode, out: DynamicAddressGroup[]): void {
  if (n.k === 'group') { if (!out.includes(n.group)) out.push(n.group); return; }
  if (n.k === 'list') for (const c of [...n.pos, ...n.neg]) collectGroups(c, out);
}

/** Current intervals of a tree (cold path: at parse and on each group update). */
function evaluate(n: AddrNode): Families {
  if (n.k === 'static') return n.fam;
  if (n.k === 'group') return n.group.fam;
  const pos: Families = { v4: [], v6: [] };
  const neg: Families = { v4: [], v6: [] };
  for (const c of n.pos) { const f = evaluate(c); pos.v4.push(...f.v4); pos.v6.push(...f.v6); }
  for (const c of n.neg) { const f = evaluate(c); neg.v4.push(...f.v4); neg.v6.push(...f.v6); }
  if (n.fill4) pos.v4.push([0n, V4_MAX]);
  if (n.fill6) pos.v6.push([0n, V6_MAX]);
  return { v4: normalize(subtractIntervals(pos.v4, neg.v4)), v6: normalize(subtractIntervals(pos.v6, neg.v6)) };
}

/**
 * Whether a node may hold addresses of a family, decided at parse time. A group may hold
 * either family whatever its members are now, so `[@label:x,!10.0.0.5]` never turns into
 * "all of IPv4" while the group happens to be empty, and `!@container:web` is "all but web".
 */
function mayHold(n: AddrNode, fam: 'v4' | 'v6'): boolean {
  if (n.k === 'static') return n.fam[fam].length > 0;
  if (n.k === 'group') return true;
  return (fam === 'v4' ? n.fill4 : n.fill6) || n.pos.some((c) => mayHold(c, fam));
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

/** One list item: a group, a variable (expanded), or a static address. */
function parseSingleNode(s: string, where: SourceLocation, vars: VarLookup, depth: number): AddrNode {
  if (s.startsWith('$')) {
    const v = vars(s.slice(1));
    if (v === undefined) throw new LateralError('LATERAL_ERR_RULE_PARSE', `undefined address variable ${s}`, where);
    if (depth > 16) throw new LateralError('LATERAL_ERR_RULE_PARSE', `address variable ${s} refers to itself`, where);
    return parseNode(String(v), where, vars, depth + 1);
  }
  if (s.startsWith('@')) {
    if (!DYNAMIC_ADDRESS_SYNTAX.test(s) || s.startsWith('@label:=')) {
      throw new LateralError('LATERAL_ERR_RULE_PARSE', `bad container address "${s}": expected @container:NAME, @label:KEY[=VALUE], @network:NAME or @image:REF`, where);
    }
    return { k: 'group', group: dynamicAddressGroup(s, where) };
  }
  return { k: 'static', fam: parseSingle(s, where, vars, depth) };
}

function parseSingle(s: string, where: SourceLocation, _vars: VarLookup, _depth: number): Families {
  if (s === 'any') return allFamilies();
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

function parseNode(text: string, where: SourceLocation, vars: VarLookup, depth: number): AddrNode {
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
    return parseSingleNode(s, where, vars, depth);
  }
  const posNodes: AddrNode[] = [];
  const negNodes: AddrNode[] = [];
  for (const item of items) {
    if (item.startsWith('!')) {
      const inner = item.slice(1).trim();
      if (inner === 'any') throw new LateralError('LATERAL_ERR_RULE_PARSE', '"!any" matches nothing', where);
      negNodes.push(parseNode(inner, where, vars, depth + 1));
    } else {
      posNodes.push(parseNode(item, where, vars, depth + 1));
    }
  }
  if ([...posNodes, ...negNodes].some((n) => n.k !== 'static')) {
    return {
      k: 'list', pos: posNodes, neg: negNodes,
      fill4: !posNodes.some((n) => mayHold(n, 'v4')) && negNodes.some((n) => mayHold(n, 'v4')),
      fill6: !posNodes.some((n) => mayHold(n, 'v6')) && negNodes.some((n) => mayHold(n, 'v6')),
    };
  }
  const pos: Families = { v4: [], v6: [] };
  const neg: Families = { v4: [], v6: [] };
  for (const n of posNodes) { const f = evaluate(n); pos.v4.push(...f.v4); pos.v6.push(...f.v6); }
  for (const n of negNodes) { const f = evaluate(n); neg.v4.push(...f.v4); neg.v6.push(...f.v6); }
  if (pos.v4.length === 0 && neg.v4.length > 0) pos.v4.push([0n, V4_MAX]);
  if (pos.v6.length === 0 && neg.v6.length > 0) pos.v6.push([0n, V6_MAX]);
  return { k: 'static', fam: { v4: subtractIntervals(pos.v4, neg.v4), v6: subtractIntervals(pos.v6, neg.v6) } };
}

export function parseAddressSet(text: string, where: SourceLocation, vars: VarLookup): AddressSet {
  const node = parseNode(text, where, vars, 0);
  // An expression with a container group may match nothing now and something later.
  if (node.k !== 'static') return new AddressSet(text, { v4: [], v6: [] }, node);
  const f = { v4: normalize(node.fam.v4), v6: normalize(node.fam.v6) };
  if (f.v4.length === 0 && f.v6.length === 0) {
    throw new LateralError('LATERAL_ERR_RULE_PARSE', `address "${text}" matches nothing`, where);
  }
  return new AddressSet(text, f);
}
