// The native Aho-Corasick loop (native/patternScan.cc) against the JS loop of the same
// automaton: identical hit sequences (pattern id, end, in order) and end states on random
// pattern sets (case folding, binary bytes, overlaps, deep sparse states past the dense rows,
// states with more outputs than the hit buffer), scans split anywhere and resumed across the
// two loops, hit-buffer overflow, empty ranges, ET Open's payload automaton over the payloads
// of corpus pcaps; bad tables and arguments give clear errors, never a crash.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { corpusPath } from '../support/corpus';
import { AhoCorasick, NATIVE_MIN_BYTES, type PatternSink } from '../../src/detect/ahoCorasick';
import { nativePatternScanner } from '../../src/detect/nativePatternScan';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleFiles } from '../../src/detect/ruleLoader';
import { BufferId } from '../../src/detect/buffers';
import { openPcap } from '../../src/capture/pcapOpen';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeContext } from '../../src/decode/decodeStats';
import { Packet } from '../../src/decode/packet';
import { LateralError } from '../../src/errors';

/** Deterministic PRNG (xorshift32) so a failure reproduces. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

/** Every hit in order, as flat (id, end) pairs. */
class Record implements PatternSink {
  seq: number[] = [];
  hit(id: number, end: number): void { this.seq.push(id, end); }
}

const JS = Infinity, NATIVE = 0;

/** Scans buf in pieces split at `cuts`, each piece by the loop `modes[i % modes.length]`. */
function scanSplit(ac: AhoCorasick, buf: Uint8Array, cuts: number[], modes: number[]): { seq: number[]; state: number } {
  const r = new Record();
  let s = 0, from = 0;
  const ends = [...cuts.filter((c) => c > 0 && c < buf.length).sort((a, b) => a - b), buf.length];
  ends.forEach((end, i) => {
    ac.nativeMinBytes = modes[i % modes.length]!;
    s = ac.scanRange(buf, from, end, s, r);
    from = end;
  });
  ac.nativeMinBytes = NATIVE_MIN_BYTES;
  return { seq: r.seq, state: s };
}

function assertSame(ac: AhoCorasick, buf: Uint8Array, cuts: number[] = [], what = ''): number {
  const js = scanSplit(ac, buf, [], [JS]);
  const nat = scanSplit(ac, buf, cuts, [NATIVE]);
  assert.is(nat.state, js.state, `${what}: end state`);
  assert.is(nat.seq.length, js.seq.length, `${what}: hit count`);
  assert.equal(nat.seq, js.seq, `${what}: hit sequence`);
  // Mixed: pieces alternate between the loops, resuming each other's state.
  const mixed = scanSplit(ac, buf, cuts, [NATIVE, JS]);
  assert.is(mixed.state, js.state, `${what}: mixed end state`);
  assert.equal(mixed.seq, js.seq, `${what}: mixed hit sequence`);
  return js.seq.length / 2;
}

function fixture(seed: number, count: number, alphabet: number[], textLength: number, maxLen = 9): { patterns: Uint8Array[]; text: Uint8Array } {
  const r = rng(seed);
  const pick = (): number => alphabet[r() % alphabet.length]!;
  const patterns: Uint8Array[] = [];
  for (let i = 0; i < count; i++) patterns.push(Uint8Array.from({ length: 1 + (r() % maxLen) }, pick));
  return { patterns, text: Uint8Array.from({ length: textLength }, pick) };
}

function randomCuts(seed: number, n: number, len: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => r() % (len + 1));
}

test('the native loop is built and used (the suite runs with the addon)', () => {
  assert.ok(nativePatternScanner !== null, 'build/Release/lateral_nfq.node without patternScanner: run scripts/setup');
  const ac = new AhoCorasick([Uint8Array.of(0x61)]);
  assert.ok(ac.hasNative);
  assert.is(ac.nativeMinBytes, NATIVE_MIN_BYTES);
});

test('random pattern sets: same hits and end state, case folding and binary bytes', () => {
  for (let seed = 1; seed <= 12; seed++) {
    const { patterns, text } = fixture(seed, 50 + seed * 40, [0x61, 0x41, 0x62, 0x42, 0x63, 0x00, 0xff, 0x5a, 0x7a], 5000);
    const ac = new AhoCorasick(patterns);
    const hits = assertSame(ac, text, randomCuts(seed * 7, 9, text.length), `seed ${seed}`);
    assert.ok(hits > 500, `seed ${seed}: only ${hits} hits`);
  }
  // Every byte value in patterns and text.
  const all = Array.from({ length: 256 }, (_, i) => i);
  const { patterns, text } = fixture(99, 3000, all, 200_000, 4);
  assertSame(new AhoCorasick(patterns), text, randomCuts(5, 20, text.length), 'all bytes');
});

test('deep sparse states beyond the 4096 dense rows', () => {
  const { patterns, text } = fixture(11, 6000, [0x61, 0x62, 0x43, 0x64], 20_000, 14);
  const ac = new AhoCorasick(patterns);
  assert.ok(ac.stateCount > 4096 + 10_000, `states ${ac.stateCount}`);
  assertSame(ac, text, randomCuts(3, 15, text.length), 'deep');
  // Long patterns that the text follows deep into the sparse region, split inside them.
  const r = rng(77);
  const longs = Array.from({ length: 400 }, () => Uint8Array.from({ length: 200 }, () => 0x61 + (r() % 3)));
  const text2 = new Uint8Array(40_000);
  for (let o = 0; o < text2.length; o += 200) text2.set(longs[r() % longs.length]!.subarray(0, Math.min(200, text2.length - o)), o);
  const ac2 = new AhoCorasick(longs);
  assert.ok(ac2.stateCount > 20_000);
  assert.ok(assertSame(ac2, text2, randomCuts(4, 30, text2.length), 'long') >= 150);
});

test('wide automata: dense rows whose targets need more than 15 bits (16-bit rows end there)', () => {
  // 40,000 random 3-byte patterns: ~35k states at depth 2, so rows of depth-1 states point
  // past 32767 and the native 16-bit copy covers only the rows before the first such one.
  const all = Array.from({ length: 256 }, (_, i) => i);
  const { patterns, text } = fixture(21, 40_000, all, 300_000, 1);
  const r = rng(22);
  const wide = patterns.map(() => Uint8Array.from({ length: 3 }, () => r() & 0xff));
  const ac = new AhoCorasick(wide);
  assert.ok(ac.stateCount > 0x8000 + 20_000, `states ${ac.stateCount}`);
  // The text repeats pattern bytes so that deep states and hits are reached.
  for (let o = 0; o + 3 <= text.length; o += 7) text.set(wide[r() % wide.length]!, o);
  assert.ok(assertSame(ac, text, randomCuts(23, 25, text.length), 'wide') > 40_000);
});

test('overlapping patterns and hit-buffer overflow: nothing lost, order kept', () => {
  // 3 hits per byte: 30,000 hits through a 1,024-pair buffer.
  const aa = new AhoCorasick([Uint8Array.of(0x61), Uint8Array.of(0x61, 0x41), Uint8Array.of(0x41, 0x61, 0x61)]);
  const text = new Uint8Array(10_000).fill(0x61);
  assert.is(assertSame(aa, text, randomCuts(8, 5, text.length), 'aaa'), 3 * 10_000 - 3);
  // Long ranges are scanned as two interleaved halves (native/patternScan.cc): hits only in
  // the second half (it fills its part of the buffer first), only in the first, and both.
  const quiet = new Uint8Array(5000).fill(0x62), loud = new Uint8Array(5000).fill(0x61);
  for (const t of [Buffer.concat([quiet, loud]), Buffer.concat([loud, quiet]), Buffer.concat([loud, loud]), Buffer.concat([quiet, loud, quiet])]) {
    assertSame(aa, t, randomCuts(t.length, 3, t.length), `halves ${t.length}`);
    assertSame(aa, t, [], `halves ${t.length} whole`);
  }
  // A state with more outputs (4,200 suffix patterns) than a half of the default buffer
  // (4,096 pairs) holds: the buffer is sized for it. ~9.5M hits: compared by count and hash.
  const suffixes = Array.from({ length: 4200 }, (_, i) => new Uint8Array(i + 1).fill(0x41));
  const deep = new AhoCorasick(suffixes);
  const t2 = new Uint8Array(4400).fill(0x61);
  const hashed = (min: number, cuts: number[]): [number, number, number] => {
    const h = { n: 0, h: 0, hit(id: number, end: number): void { this.n++; this.h = (Math.imul(this.h, 31) + id * 8191 + end) | 0; } };
    let st = 0, from = 0;
    deep.nativeMinBytes = min;
    for (const end of [...cuts, t2.length]) { st = deep.scanRange(t2, from, end, st, h); from = end; }
    deep.nativeMinBytes = NATIVE_MIN_BYTES;
    return [h.n, h.h, st];
  };
  const want = hashed(JS, []);
  assert.is(want[0], 4200 * 4400 - (4200 * 4199) / 2);
  assert.equal(hashed(NATIVE, []), want);
  assert.equal(hashed(NATIVE, [1000, 1001, 3000]), want);
});

test('empty ranges and buffers return the given state with no hits', () => {
  const ac = new AhoCorasick([Uint8Array.of(0x61, 0x62)]);
  const r = new Record();
  ac.nativeMinBytes = NATIVE;
  const buf = Uint8Array.of(0x61, 0x62, 0x61);
  const s1 = ac.scanRange(buf, 0, 1, 0, r);
  assert.ok(s1 !== 0);
  assert.is(ac.scanRange(buf, 1, 1, s1, r), s1);
  assert.is(ac.scanRange(new Uint8Array(0), 0, 0, s1, r), s1);
  assert.is(ac.scanRange(buf, 3, 3, s1, r), s1);
  assert.equal(r.seq, []);
  assert.is(ac.scanRange(buf, 1, 2, s1, r), 0 + ac.scanRange(buf, 1, 2, s1, new Record()));
  assert.equal(r.seq, [0, 2]);
  // A Buffer (subclass of Uint8Array) and a view at an offset of a larger ArrayBuffer.
  const big = Buffer.from('xxxxABxxab');
  assert.equal(scanSplit(ac, big.subarray(2), [3], [NATIVE]).seq, [0, 4, 0, 8]);
});

test('ET Open payload automaton over corpus pcap payloads: same hits as the JS loop', () => {
  const set = loadRuleFiles([corpusPath('et-open', 'et-open.rules')], defaultDetectConfig());
  const patterns = new Map<string, Uint8Array>();
  for (const s of set.signatures) {
    const fp = s.fastPattern;
    if (fp && fp.bufferId === BufferId.PAYLOAD) patterns.set(Buffer.from(fp.bytes).toString('latin1').toLowerCase(), fp.bytes);
  }
  const ac = new AhoCorasick([...patterns.values()]);
  assert.ok(patterns.size > 1500 && ac.stateCount > 4096, `${patterns.size} patterns, ${ac.stateCount} states`);
  const p = new Packet();
  const ctx = new DecodeContext();
  let payloads = 0, bytes = 0, hits = 0;
  for (const name of ['log4shell-cve-2021-44228.pcap', 'dvwa-sqli.pcapng', 'nmap-nse-http.pcap', 'selenium-grid-rce.pcap', 'heartbleed-success.pcap']) {
    const reader = openPcap(corpusPath('pcaps', name));
    const js = new Record(), nat = new Record();
    let sJs = 0, sNat = 0;
    for (let rec = reader.next(); rec !== null; rec = reader.next()) {
      if (!decodePacket(p, rec.data, rec.linkType, ctx, false) || p.payloadLength === 0) continue;
      const from = p.payloadOffset, to = from + p.payloadLength;
      payloads++;
      bytes += p.payloadLength;
      // Each payload alone, and all of them as one resumed stream (state carried over).
      ac.nativeMinBytes = JS;
      const a = new Record();
      ac.scanRange(p.data, from, to, 0, a);
      sJs = ac.scanRange(p.data, from, to, sJs, js);
      ac.nativeMinBytes = NATIVE;
      const b = new Record();
      ac.scanRange(p.data, from, to, 0, b);
      sNat = ac.scanRange(p.data, from, to, sNat, nat);
      assert.equal(b.seq, a.seq, `${name} #${rec.index}`);
      assert.is(sNat, sJs, `${name} #${rec.index}: state`);
    }
    reader.close();
    assert.equal(nat.seq, js.seq, name);
    hits += js.seq.length / 2;
  }
  ac.nativeMinBytes = NATIVE_MIN_BYTES;
  process.stdout.write(`\n  ET Open payload automaton: ${patterns.size} patterns, ${ac.stateCount} states; ${payloads} payloads, ${bytes} bytes, ${hits} hits (stream order)\n`);
  assert.ok(payloads > 100 && hits > 100, `${payloads} payloads, ${hits} hits`);
});

test('a sink that scans again from hit() gets the same results (JS loop while the buffer is busy)', () => {
  const ac = new AhoCorasick([Uint8Array.of(0x61), Uint8Array.of(0x62, 0x62)]);
  const text = Buffer.from('ab'.repeat(100) + 'bb'.repeat(100));
  const inner = new Record();
  const outer = {
    seq: [] as number[],
    hit(id: number, end: number): void { this.seq.push(id, end); ac.scanRange(text, 0, text.length, 0, inner); },
  };
  ac.nativeMinBytes = NATIVE;
  ac.scanRange(text, 0, text.length, 0, outer);
  const want = scanSplit(ac, text, [], [JS]).seq;
  assert.equal(outer.seq, want);
  assert.is(inner.seq.length, want.length * (want.length / 2));
  ac.nativeMinBytes = NATIVE_MIN_BYTES;
});

test('bad arguments: a clear error, never an out-of-bounds read', () => {
  const ac = new AhoCorasick([Uint8Array.of(0x61, 0x62)]);
  ac.nativeMinBytes = NATIVE;
  const buf = new Uint8Array(100);
  const sink = new Record();
  for (const [start, end, state] of [[0, 101, 0], [-1, 50, 0], [0, 1e12, 0], [0.5, 50, 0], [0, 50, 99], [0, 50, -1], [0, 50, 1.5]]) {
    assert.throws(() => ac.scanRange(buf, start!, end!, state!, sink), (e: unknown) =>
      (e instanceof LateralError || e instanceof RangeError) && (e as { code?: string }).code === 'LATERAL_ERR_NATIVE' &&
      /range|state/.test((e as Error).message), `[${start}, ${end}) state ${state}`);
  }
  // The raw binding checks what arrives through the hit buffer itself.
  const scanner = nativePatternScanner!;
  const hits = new Int32Array(4 + 2 * 8);
  const tables = (): Parameters<typeof scanner>[0] => {
    const dense = new Int32Array(256 * 2);
    dense[0x61] = 1; dense[256 + 0x61] = 1 | (0x80000000 | 0);
    return {
      dense, denseCount: 2, edgeStart: Int32Array.of(0, 1), edgeCount: Int32Array.of(1, 0), edgeByte: Uint8Array.of(0x61),
      edgeTarget: Int32Array.of(1), fail: Int32Array.of(0, 0), outStart: Int32Array.of(0, 0), outCount: Int32Array.of(0, 1),
      outIds: Int32Array.of(0), hits,
    };
  };
  const scan = scanner(tables());
  hits.set([0, 0, 3]);
  scan(Uint8Array.of(0x61, 0x61, 0x61));
  assert.equal([...hits.subarray(0, 8)], [1, 3, 3, 2, 0, 2, 0, 3]);
  const codeIs = (re: RegExp) => (e: unknown): boolean => (e as { code?: string }).code === 'LATERAL_ERR_NATIVE' && re.test((e as Error).message);
  hits.set([0, 0, 4]);
  assert.throws(() => scan(Uint8Array.of(0x61, 0x61, 0x61)), codeIs(/range \[0, 4\) is not inside the buffer of 3 bytes/));
  hits.set([0, 2, 1]);
  assert.throws(() => scan(Uint8Array.of(0x61, 0x61, 0x61)), codeIs(/range/));
  hits.set([2, 0, 1]);
  assert.throws(() => scan(Uint8Array.of(0x61)), codeIs(/state 2 is not one of the automaton's 2 states/));
  hits.set([0, 0, 1]);
  assert.throws(() => (scan as (b: unknown) => void)(new Int32Array(4)), codeIs(/Uint8Array/));
  assert.throws(() => (scan as (b: unknown) => void)('abc'), codeIs(/Uint8Array/));
  assert.throws(() => (scan as () => void)(), codeIs(/Uint8Array/));
  // Tables that would let a scan leave its arrays are refused when borrowed.
  const bad: Array<[string, (t: ReturnType<typeof tables>) => void, RegExp]> = [
    ['dense entry past the states', (t) => { t.dense[7] = 5; }, /dense entry 7 is not a state/],
    ['dense not denseCount rows', (t) => { t.denseCount = 3; }, /dense must hold/],
    ['edge range', (t) => { t.edgeCount[0] = 2; }, /state 0: edges out of range/],
    ['output range', (t) => { t.outStart[1] = 1; }, /state 1: outputs out of range/],
    ['edge target', (t) => { t.edgeTarget[0] = 9; }, /edge 0 targets no state/],
    ['wrong type', (t) => { (t as unknown as { fail: unknown }).fail = [0, 0]; }, /tables\.fail must be a Int32Array/],
    ['state tables disagree', (t) => { t.fail = Int32Array.of(0); }, /one entry per state/],
    ['hit buffer too small', (t) => { t.hits = new Int32Array(5); }, /tables\.hits/],
  ];
  for (const [what, spoil, re] of bad) {
    const t = tables();
    spoil(t);
    assert.throws(() => scanner(t), codeIs(re), what);
  }
  assert.throws(() => (scanner as (x: unknown) => unknown)(42), codeIs(/tables must be an object/));
  // Deep state whose failure link does not lead to a shallower state: refused (no endless walk).
  const t = tables();
  t.denseCount = 1; t.dense = t.dense.slice(0, 256); t.fail[1] = 1;
  assert.throws(() => scanner(t), codeIs(/failure link/));
});

test('LATERAL_JS_MATCHER=1 keeps every scan in JS', () => {
  const mod = path.resolve(__dirname, '../../src/detect/nativePatternScan.js');
  const run = (env: NodeJS.ProcessEnv): string => execFileSync(process.execPath,
    ['-e', `process.stdout.write(String(require(${JSON.stringify(mod)}).nativePatternScanner === null))`], { env: { ...process.env, ...env } }).toString();
  assert.is(run({ LATERAL_JS_MATCHER: '1' }), 'true');
  assert.is(run({ LATERAL_JS_MATCHER: '' }), 'false');
});

test.run();
