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
//
// Ranges of nativeMinBytes or more are scanned in C++ (native/patternScan.cc, over these very
// tables, borrowed without a copy; long ranges as two interleaved chains): it writes
// (pattern id, end) pairs into the automaton's hit buffer and the hits are handed to the sink
// afterwards, in the JS loop's order. Shorter ranges stay in JS, where the N-API call would
// cost more than it saves.

import type { NativePatternScan } from '../capture/native';
import { LateralError } from '../errors';
import { LOWER } from './keywords/content';
import { nativePatternScanner } from './nativePatternScan';

const DENSE_STATES = 4096;
const OUT_BIT = 0x80000000 | 0;
const STATE_MASK = 0x7fffffff;
/**
 * Hit pairs per half of the native hit buffer (more if a state has more outputs): a full half
 * hands the hits over and the scan resumes.
 */
const HIT_CAPACITY = 4096;
/** Measured crossover of the native call (docs/performance.md "Native matcher (session 4)"). */
export const NATIVE_MIN_BYTES = 512;
/** Header of the hit buffer: state, position, end, hit count (native/patternScan.cc). */
const IO_HEADER = 4;

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
  /**
   * Ranges at least this long are scanned natively (when the addon is there); Infinity keeps
   * every scan in JS. Tests and benchmarks set it; the engine keeps the default.
   */
  nativeMinBytes = NATIVE_MIN_BYTES;
  private native: NativePatternScan | null = null;
  /** [state, position, end, hit count, then (pattern id, end) pairs]: shared with the native scan. */
  private hits = new Int32Array(0);
  /** A sink that scans with this automaton again from hit() gets the JS loop (hits is in use). */
  private scanning = false;

  constructor(patterns: Uint8Array[]) {
    this.patternCount = patterns.length;
    this.patternLength = Int32Array.from(patterns, (p) => p.length);
    // Trie in flat typed arrays (children as sibling lists, the root's as a table): no object
    // per state, which made building ET Open's ~300k states the main cost of compiling.
    let bound = 1;
    for (const p of patterns) bound += p.length;
    const firstChild = new Int32Array(bound).fill(-1);
    const sibling = new Int32Array(bound).fill(-1);
    const edgeIn = new Uint8Array(bound);
    const rootChild = new Int32Array(256).fill(-1);
    const ownFirst = new Int32Array(bound).fill(-1);
    const ownNext = new Int32Array(patterns.length).fill(-1);
    const child = (s: number, c: number): number => {
      if (s === 0) return rootChild[c]!;
      for (let t = firstChild[s]!; t !== -1; t = sibling[t]!) if (edgeIn[t] === c) return t;
      return -1;
    };
    let N = 1;
    for (let id = 0; id < patterns.length; id++) {
      const p = patterns[id]!;
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = LOWER[p[i]!]!;
        let t = child(s, c);
        if (t === -1) {
          t = N++;
          edgeIn[t] = c;
          sibling[t] = firstChild[s]!;
          firstChild[s] = t;
          if (s === 0) rootChild[c] = t;
        }
        s = t;
      }
      ownNext[id] = ownFirst[s]!;
      ownFirst[s] = id;
    }
    this.stateCount = N;
    // BFS: order and failure links (trie numbering).
    const failOld = new Int32Array(N);
    const order = new Int32Array(N);
    let qn = 1;
    for (let qi = 0; qi < qn; qi++) {
      const s = order[qi]!;
      for (let t = firstChild[s]!; t !== -1; t = sibling[t]!) {
        if (s !== 0) {
          const c = edgeIn[t]!;
          let f = failOld[s]!;
          let ft = child(f, c);
          while (ft === -1 && f !== 0) { f = failOld[f]!; ft = child(f, c); }
          failOld[t] = ft === -1 ? 0 : ft;
        }
        order[qn++] = t;
      }
    }
    // Renumber in BFS order; outputs of a state = its own patterns + its failure state's
    // (already complete: the failure state is shallower, so earlier in BFS order).
    const newId = new Int32Array(N);
    for (let i = 0; i < N; i++) newId[order[i]!] = i;
    this.edgeStart = new Int32Array(N);
    this.edgeCount = new Int32Array(N);
    this.edgeByte = new Uint8Array(Math.max(0, N - 1));
    this.edgeTarget = new Int32Array(Math.max(0, N - 1));
    this.outStart = new Int32Array(N);
    this.outCount = new Int32Array(N);
    this.fail = new Int32Array(N);
    let outsTotal = 0;
    for (let i = 0; i < N; i++) {
      const old = order[i]!;
      const f = newId[failOld[old]!]!;
      this.fail[i] = i === 0 ? 0 : f;
      let own = 0;
      for (let id = ownFirst[old]!; id !== -1; id = ownNext[id]!) own++;
      this.outCount[i] = own + (i === 0 ? 0 : this.outCount[f]!);
      outsTotal += this.outCount[i]!;
    }
    this.outIds = new Int32Array(outsTotal);
    let e = 0, o = 0;
    for (let i = 0; i < N; i++) {
      const old = order[i]!;
      this.edgeStart[i] = e;
      let n = 0;
      for (let t = firstChild[old]!; t !== -1; t = sibling[t]!) { this.edgeByte[e] = edgeIn[t]!; this.edgeTarget[e] = newId[t]!; e++; n++; }
      this.edgeCount[i] = n;
      this.outStart[i] = o;
      for (let id = ownFirst[old]!; id !== -1; id = ownNext[id]!) this.outIds[o++] = id;
      if (i !== 0) {
        const f = this.fail[i]!, fs = this.outStart[f]!, fn = this.outCount[f]!;
        for (let k = 0; k < fn; k++) this.outIds[o++] = this.outIds[fs + k]!;
      }
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
    if (nativePatternScanner !== null) {
      let maxOut = 0;
      for (let i = 0; i < N; i++) if (this.outCount[i]! > maxOut) maxOut = this.outCount[i]!;
      // Two halves: a long range is scanned as two interleaved chains (native/patternScan.cc).
      this.hits = new Int32Array(IO_HEADER + 4 * Math.max(HIT_CAPACITY, maxOut));
      this.native = nativePatternScanner({
        dense, denseCount: D, edgeStart: this.edgeStart, edgeCount: this.edgeCount, edgeByte: this.edgeByte,
        edgeTarget: this.edgeTarget, fail: this.fail, outStart: this.outStart, outCount: this.outCount,
        outIds: this.outIds, hits: this.hits,
      });
    }
  }

  /** Whether the native loop is there for this automaton (ranges of nativeMinBytes or more). */
  get hasNative(): boolean {
    return this.native !== null;
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
    if (end - start >= this.nativeMinBytes && this.native !== null && !this.scanning) return this.scanNative(buf, start, end, state, sink);
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

  /**
   * The native loop: each call fills the hit buffer (or finishes the range) and the hits are
   * handed out before the next call resumes where it stopped, so the sink sees the JS loop's
   * sequence. A bad range or state throws (LateralError / RangeError, code LATERAL_ERR_NATIVE)
   * instead of reading out of bounds.
   */
  private scanNative(buf: Uint8Array, start: number, end: number, state: number, sink: PatternSink): number {
    if (!(start >= 0 && end <= buf.length) || (start | 0) !== start || (end | 0) !== end || (state | 0) !== state) {
      throw new LateralError('LATERAL_ERR_NATIVE', `scanRange: [${start}, ${end}) from state ${state} is not a range of the ${buf.length}-byte buffer`);
    }
    const io = this.hits, scan = this.native!;
    this.scanning = true;
    try {
      io[0] = state;
      io[1] = start;
      io[2] = end;
      for (;;) {
        scan(buf);
        const n = io[3]!;
        for (let k = 0, o = IO_HEADER; k < n; k++, o += 2) sink.hit(io[o]!, io[o + 1]!);
        if (io[1]! >= end) return io[0]!;
      }
    } finally {
      this.scanning = false;
    }
  }
}
