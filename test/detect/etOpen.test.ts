// ET Open (24,881 enabled rules) through `rules check`: every enabled rule is counted once
// as loaded, skipped or failed; commented-out rules are not counted; at least 95% load.
// Prints the loaded share, top skip reasons and load/compile time for the report.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { Writable } from 'node:stream';
import { corpusPath } from '../support/corpus';
import { runRulesCheck } from '../../src/cli/rulesCheck';

const ET = corpusPath('et-open', 'et-open.rules');

function capture(): { out: Writable; text: () => string } {
  const chunks: string[] = [];
  const out = new Writable({ write(c: Buffer | string, _e, cb) { chunks.push(c.toString()); cb(); } });
  return { out, text: () => chunks.join('') };
}

interface Report {
  loaded: number;
  skipped: number;
  errors: number;
  reasons: Record<string, number>;
  loadMs: number;
  compileMs: number;
  rules: Array<{ file: string; line: number; sid?: number; status: string; reason: string }>;
}

test('ET Open: counts are consistent, >= 95% loaded, no syntax errors', async () => {
  const enabled = fs.readFileSync(ET, 'utf8').split('\n').filter((l) => /^\s*(alert|drop|pass|reject\w*)\s/.test(l)).length;
  assert.is(enabled, 24881);
  const c = capture();
  const code = await runRulesCheck([ET, '--json'], c.out);
  const r = JSON.parse(c.text()) as Report;
  assert.is(code, 0);
  assert.is(r.errors, 0);
  assert.is(r.loaded + r.skipped + r.errors, enabled);
  assert.is(Object.values(r.reasons).reduce((a, b) => a + b, 0), r.skipped);
  assert.is(r.rules.length, r.skipped + r.errors);
  for (const x of r.rules) assert.ok(x.line > 0 && x.file === ET && x.reason.length > 0);
  const share = r.loaded / enabled;
  assert.ok(share >= 0.95, `loaded ${(share * 100).toFixed(1)}%`);
  const top = Object.entries(r.reasons).sort((a, b) => b[1] - a[1]).slice(0, 8);
  process.stdout.write(`\n  ET Open: ${r.loaded}/${enabled} loaded (${(share * 100).toFixed(2)}%), ${r.skipped} skipped; ` +
    `load ${r.loadMs} ms, compile ${r.compileMs} ms\n  top skips: ${top.map(([k, v]) => `${v} ${k}`).join('; ')}\n`);
});

test('rules check text output and exit codes', async () => {
  const dir = fs.mkdtempSync('/tmp/lateral-rc-');
  fs.writeFileSync(`${dir}/ok.rules`, '# c\n#alert tcp any any -> any any (sid:9;)\nalert tcp any any -> any any (sid:1;)\nalert tcp any any -> any any (flowint:a,=,1; sid:2;)\n');
  fs.writeFileSync(`${dir}/bad.rules`, 'alert tcp any any -> any any (content:"x"; depth:0; sid:1;)\n');
  let c = capture();
  assert.is(await runRulesCheck([`${dir}/ok.rules`], c.out), 0);
  assert.match(c.text(), /^1 loaded, 1 skipped, 0 errors \(of 2 rules/);
  assert.match(c.text(), new RegExp(`skipped: ${dir}/ok.rules:4: sid 2: unsupported keyword: flowint`));
  c = capture();
  assert.is(await runRulesCheck([`${dir}/bad.rules`, '--json'], c.out), 1);
  const r = JSON.parse(c.text()) as Report;
  assert.equal([r.loaded, r.skipped, r.errors], [0, 0, 1]);
  assert.match(r.rules[0]!.reason, /bad\.rules:1: depth 0/);
  c = capture();
  assert.is(await runRulesCheck([], c.out), 2);
  c = capture();
  assert.is(await runRulesCheck([`${dir}/missing.rules`], c.out), 1);
  assert.match(c.text(), /LATERAL_ERR_IO/);
  fs.rmSync(dir, { recursive: true });
});

test.run();
