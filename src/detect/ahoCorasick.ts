// Byte-level Aho-Corasick automaton for the prefilter (Suricata util-mpm-ac.c's role):
// one pass over a buffer reports every pattern id occurring in it. Patterns are matched
// case-insensitively (lowercased at build, input lowered through a table while scanning);
// the full signature evaluation re-checks case, so this is a superset filter.
//
// Layout: a dense 256-entry table for the root (the hottest state) and, for all other
// states, a sparse edge list in flat typed arrays plus failure links; outputs are merged
// along failure links at build time, so a scan is allocation-free.

import { LOWER } from './keywords/content';

export class AhoCorasick {
  private rootNext = new Int32Array(256);
  private edgeStart = new Int32Array(0);
  private edgeCount = new Int32Array(0);
  private edgeByte = new Uint8Array(0);
  private edgeTarget = new Int32Array(0);
  private fail = new Int32Array(0);
  private outStart = new Int32Array(0);
  private outCount = new Int32Array(0);
  private outIds = new Int32Array(0);
  readonly patternCount: number;

  constructor(patterns: Uint8Array[]) {
    this.patternCount = patterns.length;
    // Build a trie with Maps (cold path), then flatten.
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
    const fail = new Int32Array(N);
    const order: number[] = [];
    const queue: number[] = [];
    for (const [, t] of children[0]!) { fail[t] = 0; queue.push(t); }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi]!;
      order.push(s);
      for (const [c, t] of children[s]!) {
        let f = fail[s]!;
        while (f !== 0 && !children[f]!.has(c)) f = fail[f]!;
        const ft = children[f]!.get(c);
        fail[t] = ft !== undefined && ft !== t ? ft : 0;
        queue.push(t);
      }
    }
    // Merge outputs along failure links (BFS order guarantees the fail state is done).
    for (const s of order) if (fail[s] !== 0) outs[s]!.push(...outs[fail[s]!]!);
    let edges = 0, outsTotal = 0;
    for (let s = 0; s < N; s++) { edges += children[s]!.size; outsTotal += outs[s]!.length; }
    this.edgeStart = new Int32Array(N);
    this.edgeCount = new Int32Array(N);
    this.edgeByte = new Uint8Array(edges);
    this.edgeTarget = new Int32Array(edges);
    this.outStart = new Int32Array(N);
    this.outCount = new Int32Array(N);
    this.outIds = new Int32Array(outsTotal);
    let e = 0, o = 0;
    for (let s = 0; s < N; s++) {
      this.edgeStart[s] = e;
      this.edgeCount[s] = children[s]!.size;
      for (const [c, t] of children[s]!) { this.edgeByte[e] = c; this.edgeTarget[e] = t; e++; }
      this.outStart[s] = o;
      this.outCount[s] = outs[s]!.length;
      for (const id of outs[s]!) this.outIds[o++] = id;
    }
    this.fail = fail;
    this.rootNext.fill(0);
    for (const [c, t] of children[0]!) this.rootNext[c] = t;
  }

  private next(s: number, c: number): number {
    for (;;) {
      if (s === 0) return this.rootNext[c]!;
      const st = this.edgeStart[s]!, n = this.edgeCount[s]!;
      for (let i = 0; i < n; i++) if (this.edgeByte[st + i] === c) return this.edgeTarget[st + i]!;
      s = this.fail[s]!;
    }
  }

  /**
   * Scans buf; for each pattern occurrence calls sink.hit(patternId). The sink is a
   * long-lived object (no closure per call).
   */
  scan(buf: Uint8Array, sink: { hit(id: number): void }): void {
    let s = 0;
    const outCount = this.outCount, outStart = this.outStart, outIds = this.outIds;
    for (let i = 0; i < buf.length; i++) {
      s = this.next(s, LOWER[buf[i]!]!);
      const n = outCount[s]!;
      if (n !== 0) {
        const o = outStart[s]!;
        for (let k = 0; k < n; k++) sink.hit(outIds[o + k]!);
      }
    }
  }
}
