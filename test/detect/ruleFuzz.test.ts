// Robustness: damaged rules (ET Open rules cut, duplicated and byte-flipped at
// deterministic positions) must each end as loaded, skipped or a LateralError naming
// file:line — never an exception escaping the loader or an "internal error".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { corpusPath } from '../support/corpus';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleSources, ruleLines } from '../../src/detect/ruleLoader';
import { DetectEngine } from '../../src/detect/detectEngine';
import { packet, TestContext } from './detectFixture';

test('mutated ET rules never crash the loader, compiler or engine', () => {
  const lines = fs.readFileSync(corpusPath('et-open', 'et-open.rules'), 'utf8').split('\n').filter((l) => l.startsWith('alert '));
  let seed = 12345;
  const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
  const noise = ['"', ';', '\\', ':', '|', '(', ')', '[', ']', '!', ',', ' ', '$', '0', 'x', '/'];
  const out: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const l = lines[rnd(lines.length)]!;
    const kind = rnd(4);
    const at = rnd(l.length);
    if (kind === 0) out.push(l.slice(0, at));
    else if (kind === 1) out.push(l.slice(0, at) + noise[rnd(noise.length)] + l.slice(at + 1));
    else if (kind === 2) out.push(l.slice(0, at) + l.slice(at, at + rnd(40)) + l.slice(at));
    else out.push(l.slice(0, at) + l.slice(at + 1 + rnd(20)));
  }
  const cfg = defaultDetectConfig();
  const set = loadRuleSources([{ file: 'fuzz.rules', text: out.join('\n') }], cfg);
  const internal = set.errors.filter((e) => e.message.includes('internal error'));
  assert.equal(internal.map((e) => e.message).slice(0, 5), []);
  // Cuts can leave empty lines or a trailing backslash (joins the next line): count logical rules.
  assert.is(set.signatures.length + set.skipped.length + set.errors.length, ruleLines(out.join('\n')).length);
  for (const e of set.errors) assert.match(e.message, /^fuzz\.rules:\d+: /);
  // Whatever loaded must compile and inspect without throwing.
  const engine = DetectEngine.compile(set, cfg);
  const payloads = ['GET / HTTP/1.1\r\n', '\x00\x01\x02\x03', 'x'.repeat(3000), ''];
  for (const pl of payloads) {
    const c = new TestContext(packet({ payload: pl }));
    c.flowDetect = engine.newFlowState();
    engine.inspect(c);
  }
  process.stdout.write(`\n  fuzz: ${set.signatures.length} loaded, ${set.skipped.length} skipped, ${set.errors.length} errors\n`);
});

test.run();
