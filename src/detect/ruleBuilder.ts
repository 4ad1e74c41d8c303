// The state a rule is built in while its options are read left to right: the current sticky
// buffer, the last content (which nocase/depth/within/... modify), byte_extract variables,
// and the flowbit name table. Keyword setup functions (keywords/*.ts) act on it, as
// Suricata's Setup callbacks act on a Signature under construction.

import { LateralError, type SourceLocation } from '../errors';
import { BufferId } from './buffers';
import type { DetectConfig } from './detectConfig';
import type { BufferList, BufferMatch, Signature, Transform } from './signature';
import { XbitTable } from './xbitTable';

/** Thrown by a keyword that parses but cannot be evaluated exactly: the rule is skipped. */
export class SkipRule extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Flowbit names → slots, shared by all rules of one load; also the load's xbits state. */
export class FlowbitTable {
  readonly slots = new Map<string, number>();
  /** xbits (host / ip pair bits) of this rule set; their names have their own slots. */
  readonly xbits = new XbitTable();
  private readonly xbitSlots = new Map<string, number>();
  slot(name: string): number {
    let s = this.slots.get(name);
    if (s === undefined) { s = this.slots.size; this.slots.set(name, s); }
    return s;
  }
  /** Suricata keeps host bits and ip-pair bits apart: the slot is per (name, track kind). */
  xbitSlot(name: string, track: number): number {
    const key = `${track === 2 ? 'pair' : 'host'}:${name}`;
    let s = this.xbitSlots.get(key);
    if (s === undefined) { s = this.xbitSlots.size; this.xbitSlots.set(key, s); }
    return s;
  }
}

/** Anything the builder can report as "the previous match" for relative keywords. */
export interface Placed {
  match: BufferMatch;
  list: BufferList;
}

export class RuleBuilder {
  /** The sticky buffer set by the last sticky keyword, or null (payload). */
  current: BufferList | null = null;
  /** Last content keyword (target of nocase, depth, within, fast_pattern, ...). */
  lastContent: Placed | null = null;
  /** Last content or pcre (what relative byte_test/isdataat/... attach to). */
  lastMatch: Placed | null = null;
  /** Buffer lists with transforms get their own key, like Suricata's transformed buffer ids. */
  private readonly lists = new Map<string, BufferList>();
  readonly byteVars = new Map<string, number>();
  /** Names of keywords seen (for "appears twice" checks and post-parse validation). */
  readonly seen = new Set<string>();
  classtypeName = '';
  classtypePriority = 255;
  priorityExplicit = false;

  constructor(
    readonly sig: Signature,
    readonly config: DetectConfig,
    readonly flowbits: FlowbitTable,
    readonly where: SourceLocation,
  ) {}

  error(msg: string): LateralError {
    return new LateralError('LATERAL_ERR_RULE_PARSE', msg, this.where);
  }

  /** The list for a buffer (created on first use, in rule order). */
  list(bufferId: number, transforms: Transform[] = []): BufferList {
    const key = `${bufferId}|${transforms.map((t) => t.name).join(',')}`;
    let l = this.lists.get(key);
    if (!l) {
      l = { bufferId, transforms, items: [] };
      this.lists.set(key, l);
      this.sig.buffers.push(l);
    }
    return l;
  }

  /** Where a new content/pcre without buffer modifier goes: the sticky buffer or payload. */
  target(): BufferList {
    return this.current ?? this.list(BufferId.PAYLOAD);
  }

  /**
   * Where byte_test/byte_jump/isdataat/pcre go (Suricata's DetectIsdataatSetup,
   * DetectByteTestSetup): the active sticky buffer if any; else, when relative, the buffer
   * of the last content/pcre (which may have been moved by a legacy modifier); else the
   * payload.
   */
  targetFor(relative: boolean): BufferList {
    if (this.current) return this.current;
    if (relative && this.lastMatch) return this.lastMatch.list;
    return this.target();
  }

  requireLastContent(keyword: string): Placed {
    if (!this.lastContent) throw this.error(`${keyword} needs a preceding content`);
    return this.lastContent;
  }

  byteVar(name: string): number | undefined {
    return this.byteVars.get(name);
  }
}

// ---- value helpers shared by keywords ----

/** Removes surrounding double quotes (Suricata accepts most values quoted or not). */
export function unquote(v: string): string {
  const s = v.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) return s.slice(1, -1);
  return s;
}

/**
 * Content string → bytes: `|hex|` blocks, and the escapes Suricata accepts in content
 * (\" \; \\ \:). Any other backslash escape is an error, as in Suricata.
 */
export function parseContentBytes(raw: string, b: RuleBuilder): Uint8Array {
  const s = raw.trim();
  if (!(s.length >= 2 && s.startsWith('"') && s.endsWith('"'))) throw b.error(`content must be quoted: ${raw}`);
  const body = s.slice(1, -1);
  const out: number[] = [];
  let hex = false;
  let nib = -1;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (hex) {
      if (c === '|') { if (nib >= 0) throw b.error(`odd number of hex digits in content ${raw}`); hex = false; continue; }
      if (c === ' ' || c === '\t') continue;
      const v = parseInt(c, 16);
      if (Number.isNaN(v)) throw b.error(`bad hex digit "${c}" in content ${raw}`);
      if (nib < 0) nib = v; else { out.push(nib * 16 + v); nib = -1; }
      continue;
    }
    if (c === '|') { hex = true; continue; }
    if (c === '\\') {
      const n = body[i + 1];
      if (n === '"' || n === ';' || n === '\\' || n === ':') { out.push(n.charCodeAt(0)); i++; continue; }
      throw b.error(`bad escape "\\${n ?? ''}" in content ${raw}`);
    }
    if (c === '"') throw b.error(`unescaped quote in content ${raw}`);
    const code = c.charCodeAt(0);
    if (code > 0xff) {
      for (const byte of Buffer.from(c, 'utf8')) out.push(byte);
    } else out.push(code);
  }
  if (hex) throw b.error(`unterminated hex block in content ${raw}`);
  if (out.length === 0) throw b.error('empty content');
  return Uint8Array.from(out);
}

/** Integer or byte_extract variable name → {value, var}. */
export function intOrVar(v: string, b: RuleBuilder, what: string): { value: number; varSlot: number } {
  const s = v.trim();
  if (/^[-+]?\d+$/.test(s)) return { value: Number(s), varSlot: -1 };
  const slot = b.byteVar(s);
  if (slot === undefined) throw b.error(`${what}: "${s}" is neither a number nor a byte_extract variable`);
  return { value: 0, varSlot: slot };
}

export function parseIntStrict(v: string, b: RuleBuilder, what: string): number {
  const s = v.trim();
  if (/^[-+]?\d+$/.test(s)) return Number(s);
  if (/^0x[0-9a-f]+$/i.test(s)) return parseInt(s, 16);
  throw b.error(`${what}: bad number "${v}"`);
}

/** Suricata's detect-engine-uint forms: N, =N, <N, >N, <=N, >=N, !N, N-M, N<>M (exclusive range). */
export const UintMode = { EQ: 0, LT: 1, GT: 2, LTE: 3, GTE: 4, NE: 5, RANGE: 6, NRANGE: 7 } as const;

export class UintCondition {
  constructor(readonly mode: number, readonly a: number, readonly b: number) {}
  test(x: number): boolean {
    switch (this.mode) {
      case UintMode.EQ: return x === this.a;
      case UintMode.LT: return x < this.a;
      case UintMode.GT: return x > this.a;
      case UintMode.LTE: return x <= this.a;
      case UintMode.GTE: return x >= this.a;
      case UintMode.NE: return x !== this.a;
      case UintMode.RANGE: return x > this.a && x < this.b;
      default: return !(x > this.a && x < this.b);
    }
  }
}

export function parseUintCondition(v: string, b: RuleBuilder, what: string, max: number): UintCondition {
  const s = unquote(v).replace(/\s+/g, '');
  const num = (t: string): number => {
    if (!/^\d+$/.test(t)) throw b.error(`${what}: bad value "${v}"`);
    const n = Number(t);
    if (n > max) throw b.error(`${what}: ${n} out of range (max ${max})`);
    return n;
  };
  let m: RegExpExecArray | null;
  if ((m = /^(!?)(\d+)(?:<>|-)(\d+)$/.exec(s))) {
    const lo = num(m[2]!), hi = num(m[3]!);
    if (lo >= hi) throw b.error(`${what}: empty range "${v}"`);
    return new UintCondition(m[1] ? UintMode.NRANGE : UintMode.RANGE, lo, hi);
  }
  if ((m = /^(<=|>=|<|>|!|=)?(\d+)$/.exec(s))) {
    const op = m[1] ?? '=';
    const n = num(m[2]!);
    const mode = op === '<' ? UintMode.LT : op === '>' ? UintMode.GT : op === '<=' ? UintMode.LTE
      : op === '>=' ? UintMode.GTE : op === '!' ? UintMode.NE : UintMode.EQ;
    return new UintCondition(mode, n, 0);
  }
  throw b.error(`${what}: bad value "${v}"`);
}
