// Regex cost (issue #7): every pcre that ET Open loads, against adversarial 64 KiB (GSO-sized)
// buffers: runs of one char, alternating chars, line-shaped runs, and near-misses built from
// the pattern's own literals (the literal repeated, the literal without its last byte
// repeated). Each exec is timed in CPU time (process.cpuUsage: a loaded CI box stretches wall
// time, not the work done) and must stay under the bound; wall time is reported too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { corpusPath } from '../support/corpus';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleFiles } from '../../src/detect/ruleLoader';
import { PcreMatch } from '../../src/detect/keywords/pcre';
import { InspectState } from '../../src/detect/signature';
import { PCRE_MAX_WINDOW, pcreBudget } from '../../src/detect/pcreCost';

const SIZE = 64 * 1024;
/** CPU ms per exec on a 64 KiB buffer. */
const BOUND_MS = 50;

function fill(unit: string): Buffer {
  return Buffer.from(unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE), 'latin1');
}

const GENERIC = ['a', 'ab', ' ', '0', 'A', '%', '.', 'a\n', 'a\r\n', 'aa=', '\\x'].map((u) => ({ name: JSON.stringify(u), buf: fill(u) }));

/** Literal runs of the pattern source (letters, digits and a few punctuation marks). */
function literals(pattern: string): string[] {
  const out = pattern.replace(/\\x[0-9a-fA-F]{2}|\\./g, ' ').match(/[A-Za-z0-9=&/._-]{3,}/g) ?? [];
  return [...new Set(out)].sort((a, b) => b.length - a.length).slice(0, 2);
}

interface Row { ms: number; wall: number; sid: number; input: string; window: number; source: string }

test('every loaded ET Open pcre: worst CPU time per exec on adversarial 64 KiB buffers is bounded', () => {
  const set = loadRuleFiles([corpusPath('et-open', 'et-open.rules')], defaultDetectConfig());
  const pcres: Array<{ sid: number; m: PcreMatch }> = [];
  for (const s of set.signatures) for (const l of s.buffers) for (const m of l.items) if (m instanceof PcreMatch) pcres.push({ sid: s.sid, m });
  assert.ok(pcres.length > 4000, `${pcres.length} pcres`);
  const st = new InspectState();
  const worst = new Map<PcreMatch, Row>();
  const all: number[] = [];
  const t0 = Date.now();
  const budget0 = pcreBudget.exceeded;
  const run = (p: { sid: number; m: PcreMatch }, name: string, buf: Buffer): void => {
    // The latin1 string is made once per buffer (st.strOf), as in the engine: not timed here.
    if (st.strOf !== buf) { st.str = buf.toString('latin1'); st.strOf = buf; }
    const w0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    p.m.exec(buf, 0, 0, st);
    const c = process.cpuUsage(c0);
    const wall = Number(process.hrtime.bigint() - w0) / 1e6;
    const ms = (c.user + c.system) / 1000;
    all.push(ms);
    const prev = worst.get(p.m);
    if (!prev || ms > prev.ms) worst.set(p.m, { ms, wall, sid: p.sid, input: name, window: p.m.window, source: p.m.source.slice(0, 70) });
  };
  for (const g of GENERIC) for (const p of pcres) run(p, g.name, g.buf);
  let inputs = GENERIC.length;
  for (const p of pcres) {
    for (const lit of literals(p.m.source)) {
      run(p, `${lit}*`, fill(lit));
      run(p, `${lit.slice(0, -1)}*`, fill(lit.slice(0, -1) + ' '));
      inputs += 2;
    }
  }
  const rows = [...worst.values()].sort((a, b) => b.ms - a.ms);
  const sorted = all.slice().sort((a, b) => a - b);
  const p99 = sorted[Math.floor(sorted.length * 0.99)]!;
  const sum = sorted.reduce((a, b) => a + b, 0);
  const windowed = pcres.filter((p) => p.m.window < PCRE_MAX_WINDOW).length;
  process.stdout.write(`\n  pcre cost: ${pcres.length} pcres (${windowed} windowed), ${all.length} execs on 64 KiB in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
    `CPU per exec: worst ${rows[0]!.ms.toFixed(1)} ms, p99 ${p99.toFixed(2)} ms, sum ${(sum / 1000).toFixed(1)} s; budget exceeded ${pcreBudget.exceeded - budget0}\n` +
    rows.slice(0, 5).map((r) => `    ${r.ms.toFixed(1)} ms cpu (${r.wall.toFixed(1)} wall) sid ${r.sid} ${r.input} window ${r.window}: ${r.source}`).join('\n') + '\n');
  assert.ok(inputs > GENERIC.length);
  const over = rows.filter((r) => r.ms > BOUND_MS);
  assert.equal(over.map((r) => `${r.sid} ${r.input} ${r.ms.toFixed(1)} ms`), []);
});

test.run();
