// Byte-level Aho-Corasick automaton for the prefilter (Suricata util-mpm-ac.c's role):
// one pass over a buffer reports every pattern id occurring in it. Patterns are matched
// case-insensitively; the full signature evaluation re-checks case, so this is a superset
// filter.
//
// Layout: states are numbered in BFS order. The first DENSE_STATES states (the shallow ones,
// where a scan spends nearly all its time) get full 256-entry DFA rows indexed by the RAW
// input byte: failure transitions and case folding are both folded into the table, so the
// inner loop is one typed-array load per byte. An entry holds the next state, with the sign
// bit set when that state has outputs (so the loop tests the loaded value, no second table).
// Deeper states keep a sparse edge list plus a failure link, which bounds memory (ET Open:
// ~21k patterns, ~300k states). Outputs are merged along failure links at build time and
// stored as index ranges into one Int32Array, so a scan allocates nothing.
//
// A scan can stop and resume (scanRange takes and returns the automaton state): the engine
// uses it to scan each reassembled stream byte once across packets (detectEngine.ts).

import { LOWER } from './keywords/content';

const DENSE_STATES = 4096;
const OUT_BIT = 0x80000000 | 0;
const STATE_MASK = 0x7fffffff;

/** Receives pattern hits: `end` is the index just past the match in the scanned buffer. */
export interface PatternSink {
  hit(patternId: number, end: number): void;
}

export class AhoCorasick {
  private dense = new Int32Array(0);
  private denseCount = 0;
  private edgeStart = new Int32Array(0);
  private edgeCount = new Int32Array(0);
  private edgeByte = new Uint8Array(0);
  private edgeTarget = new Int32Array(0);
  private fail = new Int32Array(0);
  private outStart = new Int32Array(0);
  private outCount = new Int32Array(0);
  private outIds = new Int32Array(0);
  /** Length of each pattern (a hit's start is end - length). */
  readonly patternLength: Int32Array;
  readonly patternCount: number;
  readonly stateCount: number;

  constructor(patterns: Uint8Array[]) {
    this.patternCount = patterns.length;
    this.patternLength = Int32Array.from(patterns, (p) => p.length);
    // Trie with Maps (cold path).
    const children: Array<Map<number, number>> = [new Map()];
    const outs: number[][] = [[]];
    patterns.forEach((p, id) => {
      let s = 0;
      for (const raw of p) {
        const c = LOWER[raw]!;
        let n = children[s]!.get(c);
        if (n === undefined) { n = children.length; children.push(new Map()); outs.push([]); children[s]!.set(c, n); }
        s = n;
      }
      outs[s]!.push(id);
    });
    const N = children.length;
    this.stateCount = N;
    // BFS: order and failure links (old numbering).
    const failOld = new Int32Array(N);
    const order: number[] = [0];
    for (let qi = 0; qi < order.length; qi++) {
      const s = order[qi]!;
      for (const [c, t] of children[s]!) {
        if (s === 0) failOld[t] = 0;
        else {
          let f = failOld[s]!;
          while (f !== 0 && !children[f]!.has(c)) f = failOld[f]!;
          const ft = children[f]!.get(c);
          failOld[t] = ft !== undefined ? ft : 0;
        }
        order.push(t);
      }
    }
    for (const s of order) if (s !== 0 && failOld[s] !== 0) outs[s]!.push(...outs[failOld[s]!]!);
    // Renumber in BFS order.
    const newId = new Int32Array(N);
    order.forEach((old, i) => { newId[old] = i; });
    let edges = 0, outsTotal = 0;
    for (let s = 0; s < N; s++) { edges += children[s]!.size; outsTotal += outs[s]!.length; }
    this.edgeStart = new Int32Array(N);
    this.edgeCount = new Int32Array(N);
    this.edgeByte = new Uint8Array(edges);
    this.edgeTarget = new Int32Array(edges);
    this.outStart = new Int32Array(N);
    this.outCount = new Int32Array(N);
    this.outIds = new Int32Array(outsTotal);
    this.fail = new Int32Array(N);
    let e = 0, o = 0;
    for (let i = 0; i < N; i++) {
      const old = order[i]!;
      this.fail[i] = newId[failOld[old]!]!;
      this.edgeStart[i] = e;
      this.edgeCount[i] = children[old]!.size;
      for (const [c, t] of children[old]!) { this.edgeByte[e] = c; this.edgeTarget[e] = newId[t]!; e++; }
      this.outStart[i] = o;
      this.outCount[i] = outs[old]!.length;
      for (const id of outs[old]!) this.outIds[o++] = id;
    }
    // Dense DFA rows for the shallow states, over lowered bytes first; a state's missing edge
    // is its failure state's row entry, computed in BFS order so that row is already complete.
    const D = Math.min(N, DENSE_STATES);
    this.denseCount = D;
    const dense = new Int32Array(D * 256);
    for (let s = 0; s < D; s++) {
      const row = s * 256;
      if (s !== 0) {
        const f = this.fail[s]!;
        if (f < D) dense.copyWithin(row, f * 256, f * 256 + 256);
        else for (let c = 0; c < 256; c++) dense[row + c] = this.sparseNext(f, c, dense);
      }
      const st = this.edgeStart[s]!, n = this.edgeCount[s]!;
      for (let k = 0; k < n; k++) dense[row + this.edgeByte[st + k]!] = this.edgeTarget[st + k]!;
    }
    // Case folding by table: an upper-case byte goes where its lower-case form goes. Then mark
    // targets that have outputs (sign bit). Rows were complete before this, so marking last
    // keeps the copyWithin above free of flags.
    for (let s = 0; s < D; s++) {
      const row = s * 256;
      for (let c = 0x41; c <= 0x5a; c++) dense[row + c] = dense[row + c + 0x20]!;
      for (let c = 0; c < 256; c++) {
        const t = dense[row + c]!;
        if (this.outCount[t]! !== 0) dense[row + c] = t | OUT_BIT;
      }
    }
    this.dense = dense;
  }

  /** Transition from a deep (sparse) state on a lowered byte, following failure links. */
  private sparseNext(s: number, c: number, dense: Int32Array): number {
    for (;;) {
      if (s < this.denseCount) return dense[s * 256 + c]! & STATE_MASK;
      const st = this.edgeStart[s]!, n = this.edgeCount[s]!;
      for (let i = 0; i < n; i++) if (this.edgeByte[st + i] === c) return this.edgeTarget[st + i]!;
      s = this.fail[s]!;
    }
  }

  /** Scans all of buf from the start state (sink.hit(patternId, end) per occurrence). */
  scan(buf: Uint8Array, sink: PatternSink): void {
    this.scanRange(buf, 0, buf.length, 0, sink);
  }

  /**
   * Scans buf[start, end) continuing from automaton `state` (0: the start state) and returns
   * the state after the last byte, so a later call can resume where this one stopped. The
   * sink is a long-lived object (no closure per call).
   */
  scanRange(buf: Uint8Array, start: number, end: number, state: number, sink: PatternSink): number {
    let s = state;
    const dense = this.dense, D = this.denseCount;
    for (let i = start; i < end; i++) {
      let t: number;
      if (s < D) {
        t = dense[(s << 8) | buf[i]!]!;
        if (t >= 0) { s = t; continue; }
        s = t & STATE_MASK;
      } else {
        s = this.sparseNext(s, LOWER[buf[i]!]!, dense);
        if (this.outCount[s]! === 0) continue;
      }
      const n = this.outCount[s]!, o = this.outStart[s]!;
      for (let k = 0; k < n; k++) sink.hit(this.outIds[o + k]!, i + 1);
    }
    return s;
  }
}
