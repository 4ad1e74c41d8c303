// The prefilter automaton against a naive search: every (pattern, end) occurrence reported,
// case-insensitively, whatever the state table layout (shallow dense rows, deep sparse
// states), and a scan split anywhere and resumed from the returned state reports the same.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AhoCorasick } from '../../src/detect/ahoCorasick';
import { LOWER } from '../../src/detect/keywords/content';

/** Deterministic PRNG (xorshift32) so a failure reproduces. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

function naive(patterns: Uint8Array[], buf: Uint8Array): string[] {
  const out: string[] = [];
  for (let end = 1; end <= buf.length; end++) {
    patterns.forEach((p, id) => {
      if (p.length > end) return;
      for (let k = 0; k < p.length; k++) if (LOWER[p[k]!] !== LOWER[buf[end - p.length + k]!]) return;
      out.push(`${id}@${end}`);
    });
  }
  return out.sort();
}

class Collect {
  hits: string[] = [];
  hit(id: number, end: number): void { this.hits.push(`${id}@${end}`); }
}

/** Patterns over a small alphabet (many overlaps, deep states) with upper and lower case. */
function fixture(seed: number, count: number, alphabet: number[], textLength = 3000): { patterns: Uint8Array[]; text: Uint8Array } {
  const r = rng(seed);
  const pick = (): number => alphabet[r() % alphabet.length]!;
  const patterns: Uint8Array[] = [];
  for (let i = 0; i < count; i++) patterns.push(Uint8Array.from({ length: 1 + (r() % 9) }, pick));
  const text = Uint8Array.from({ length: textLength }, pick);
  return { patterns, text };
}

test('reports every occurrence a naive search finds, case-insensitively', () => {
  // a/A, b/B, c, 0x00, 0xff: case folding by table and binary bytes both exercised.
  const { patterns, text } = fixture(7, 300, [0x61, 0x41, 0x62, 0x42, 0x63, 0x00, 0xff]);
  const ac = new AhoCorasick(patterns);
  const c = new Collect();
  ac.scan(text, c);
  const want = naive(patterns, text);
  assert.ok(want.length > 1000, 'the fixture must produce many hits');
  assert.equal(c.hits.sort(), want);
});

test('deep states beyond the dense rows are followed correctly (sparse path)', () => {
  // 6000 patterns make far more than the 4096 dense states.
  const { patterns, text } = fixture(11, 6000, [0x61, 0x62, 0x43, 0x64], 1000);
  const ac = new AhoCorasick(patterns);
  assert.ok(ac.stateCount > 4096 + 1000, `states ${ac.stateCount}`);
  const c = new Collect();
  ac.scan(text, c);
  assert.equal(c.hits.sort(), naive(patterns, text));
});

test('a scan stopped anywhere and resumed from the returned state reports the same hits', () => {
  const { patterns, text } = fixture(3, 400, [0x78, 0x59, 0x7a]);
  const ac = new AhoCorasick(patterns);
  const whole = new Collect();
  ac.scan(text, whole);
  const r = rng(5);
  for (let trial = 0; trial < 50; trial++) {
    const c = new Collect();
    let s = 0, at = 0;
    while (at < text.length) {
      const next = Math.min(text.length, at + 1 + (r() % 200));
      s = ac.scanRange(text, at, next, s, c);
      at = next;
    }
    assert.equal(c.hits, whole.hits);
  }
});

test('patternLength gives each pattern its length (hit start = end - length)', () => {
  const ac = new AhoCorasick([Uint8Array.of(1, 2, 3), Uint8Array.of(9)]);
  assert.equal(Array.from(ac.patternLength), [3, 1]);
});

test.run();
