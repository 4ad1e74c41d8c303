// Mutated real captures through the whole pipeline (decode → flow → stream → app layer):
// per packet bit flips, truncations, length-field edits and header field swaps at the
// offsets the decoder found in the original; per capture duplicated, reordered and dropped
// packets. Nothing may throw or hang, stream memory stays within its memcap at every
// packet and is all returned when the flows end, app-layer state stays within its caps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openPcap } from '../../src/capture/pcapOpen';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeContext } from '../../src/decode/decodeStats';
import { Packet } from '../../src/decode/packet';
import { corpusPath } from '../support/corpus';
import { APP_CAPS, FUZZ_SEED, FuzzTimer, MAX_MS_PER_INPUT, Pipeline, randInt, rng, runs } from './fuzz';
import * as fs from 'node:fs';

interface Frame {
  data: Uint8Array;
  linkType: number;
  tsSec: number;
  /** Offsets found by decoding the original (-1 when absent). */
  l3: number;
  l4: number;
  ipVersion: number;
  ipProto: number;
}

function loadFrames(file: string): Frame[] {
  const out: Frame[] = [];
  const ctx = new DecodeContext('none');
  const p = new Packet();
  const r = openPcap(file);
  try {
    for (const rec of r) {
      const data = Uint8Array.from(rec.data);
      decodePacket(p, data, rec.linkType, ctx);
      out.push({ data, linkType: rec.linkType, tsSec: rec.tsSec, l3: p.ipVersion !== 0 ? p.l3Offset : -1, l4: p.l4Offset, ipVersion: p.ipVersion, ipProto: p.ipProto });
    }
  } finally {
    r.close();
  }
  return out;
}

const PCAPS = fs.readdirSync(corpusPath('pcaps')).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => corpusPath('pcaps', f));

// Values a length field is set to: the edges where off-by-one errors live.
const EDGES = [0, 1, 2, 3, 4, 5, 7, 8, 19, 20, 21, 39, 40, 41, 60, 0x7f, 0x80, 0xff, 0x100, 0x5dc, 0x7fff, 0x8000, 0xfffe, 0xffff];

function put16(d: Uint8Array, at: number, v: number): void {
  if (at + 1 < d.length) {
    d[at] = (v >>> 8) & 0xff;
    d[at + 1] = v & 0xff;
  }
}

function swapBytes(d: Uint8Array, a: number, b: number, n: number): void {
  if (a + n > d.length || b + n > d.length) return;
  for (let i = 0; i < n; i++) {
    const t = d[a + i]!;
    d[a + i] = d[b + i]!;
    d[b + i] = t;
  }
}

/** One mutation of one frame, chosen by r; returns the kind applied (for the tally). */
function mutate(f: Frame, r: () => number): { data: Uint8Array; kind: string } {
  const d = Uint8Array.from(f.data);
  const kind = randInt(r, 5);
  switch (kind) {
    case 0: {
      const flips = 1 + randInt(r, 8);
      for (let i = 0; i < flips && d.length > 0; i++) d[randInt(r, d.length)] ^= 1 << randInt(r, 8);
      return { data: d, kind: 'bitflip' };
    }
    case 1:
      return { data: d.subarray(0, randInt(r, d.length + 1)), kind: 'truncate' };
    case 2: {
      const v = r() < 0.7 ? EDGES[randInt(r, EDGES.length)]! : randInt(r, 0x10000);
      const l3 = f.l3;
      const l4 = f.l4;
      if (l3 < 0) return { data: d, kind: 'length' };
      const which = randInt(r, 4);
      if (f.ipVersion === 4 && which === 0) put16(d, l3 + 2, v); // total length
      else if (f.ipVersion === 4 && which === 1) d[l3] = 0x40 | (v & 0x0f); // IHL
      else if (f.ipVersion === 6 && which <= 1) put16(d, l3 + 4, v); // payload length
      else if (l4 >= 0 && f.ipProto === 6 && l4 + 12 < d.length) d[l4 + 12] = (v & 0x0f) << 4 | (d[l4 + 12]! & 0x0f); // data offset
      else if (l4 >= 0 && f.ipProto === 17) put16(d, l4 + 4, v); // UDP length
      else if (f.ipVersion === 4) put16(d, l3 + 6, v); // flags + fragment offset
      return { data: d, kind: 'length' };
    }
    case 3: {
      const l3 = f.l3;
      const l4 = f.l4;
      if (l3 < 0) return { data: d, kind: 'swap' };
      const which = randInt(r, 4);
      if (which === 0) {
        if (f.ipVersion === 4) swapBytes(d, l3 + 12, l3 + 16, 4);
        else swapBytes(d, l3 + 8, l3 + 24, 16);
      } else if (which === 1 && l4 >= 0) swapBytes(d, l4, l4 + 2, 2); // ports
      else if (which === 2 && l4 >= 0 && f.ipProto === 6) swapBytes(d, l4 + 4, l4 + 8, 4); // seq <-> ack
      else if (l4 >= 0 && f.ipProto === 6 && l4 + 13 < d.length) d[l4 + 13] = randInt(r, 256); // any flag combination
      else if (f.ipVersion === 4) d[l3 + 9] = [1, 6, 17, 41, 47, 58, randInt(r, 256)][randInt(r, 7)]!; // protocol
      else d[l3 + 6] = [0, 6, 17, 43, 44, 58, 59, 60][randInt(r, 8)]!; // next header
      return { data: d, kind: 'swap' };
    }
    default: {
      // Random bytes from a random point: payload garbage after valid headers.
      const from = randInt(r, d.length + 1);
      for (let i = from; i < d.length; i++) d[i] = randInt(r, 256);
      return { data: d, kind: 'garbage' };
    }
  }
}

test('mutated corpus packets, duplicated/reordered/dropped, through decode → flow → stream → app layer', () => {
  const timer = new FuzzTimer('pipeline: mutated corpus packets');
  const rounds = runs(64);
  const kinds = new Map<string, number>();
  let peak = 0;
  let refused = 0;
  let flows = 0;
  for (const file of PCAPS) {
    const frames = loadFrames(file);
    for (let round = 0; round < rounds; round++) {
      const r = rng(FUZZ_SEED ^ (round * 0x9e3779b1) ^ file.length * 7919);
      // Odd rounds: a tight memcap and queue bound so the refusal paths run too.
      const tight = round % 2 === 1;
      const pipe = new Pipeline(round % 3 === 0 ? 'all' : 'none', tight ? { memcap: 48 * 1024, limits: { depth: 64 * 1024, lookbehind: 1024, maxQueuedBytes: 8192, maxQueuedSegments: 8 } } : {}, tight ? 16 : 1024);
      // Capture-level edits: drop, duplicate, swap with the next (reorder).
      const order: Frame[] = [];
      for (let i = 0; i < frames.length; i++) {
        const x = r();
        if (x < 0.05) continue;
        order.push(frames[i]!);
        if (x < 0.1) order.push(frames[i]!);
        else if (x < 0.15 && i + 1 < frames.length) {
          order.push(frames[i + 1]!);
          order.push(frames[i]!);
          i++;
        }
      }
      for (const f of order) {
        let data = f.data;
        if (r() < 0.6) {
          const m = mutate(f, r);
          data = m.data;
          kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
        }
        timer.time(() => pipe.push(data, f.linkType, f.tsSec, r() < 0.9));
        const used = pipe.tracker.memory.used;
        if (used > pipe.tracker.memory.memcap || used < 0) assert.unreachable(`stream memory ${used} outside [0, memcap] in ${file}`);
      }
      peak = Math.max(peak, pipe.tracker.memory.peak);
      refused += pipe.tracker.memory.refused + pipe.tracker.stats.segmentsDropped;
      flows += pipe.table.stats.created;
      pipe.flush();
      assert.is(pipe.table.size, 0);
      assert.is(pipe.tracker.memory.used, 0, `all stream memory released after flush (${file}, round ${round})`);
      assert.is(pipe.ended, pipe.table.stats.created, 'every flow ended exactly once');
      assert.ok(pipe.worstApp.transactions <= APP_CAPS.transactions);
      assert.ok(pipe.worstApp.dns <= APP_CAPS.dns);
      assert.ok(pipe.worstApp.bodyBytes <= APP_CAPS.bodyBytes);
    }
  }
  timer.report();
  console.log(`[fuzz]   mutations ${JSON.stringify(Object.fromEntries(kinds))}, flows ${flows}, stream peak ${peak} B, refused/dropped ${refused}`);
  assert.ok(timer.inputs > 10000, `enough inputs (${timer.inputs})`);
  for (const k of ['bitflip', 'truncate', 'length', 'swap', 'garbage']) assert.ok((kinds.get(k) ?? 0) > 100, `mutation ${k} used`);
  assert.ok(refused > 0, 'the tight rounds reached the memcap / queue bound');
  assert.ok(timer.worstMs < MAX_MS_PER_INPUT, `worst ${timer.worstMs} ms per packet`);
});

test.run();
