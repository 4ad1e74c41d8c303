// Parser differential: 3,000 damaged ET Open rules; which ones real Suricata 7.0.10 refuses
// (golden/parse.golden.json) against what our loader does. We must never load a rule
// Suricata refuses; we may refuse a handful Suricata lets through (it reads numbers like
// strtol, "0tance:0" as 0, and tolerates some garbage) — those are listed when they occur.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { corpusPath, repoRoot } from '../support/corpus';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleSources } from '../../src/detect/ruleLoader';
import { mutateRules } from './golden/ruleMutations';
import type { ParseGolden } from './golden/makeParseGolden';

const golden = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/detect/golden/parse.golden.json'), 'utf8')) as ParseGolden;

test('damaged rules: refused like Suricata', () => {
  const rules = mutateRules(fs.readFileSync(corpusPath('et-open', 'et-open.rules'), 'utf8'), golden.seed, golden.count);
  const set = loadRuleSources([{ file: 'fz.rules', text: rules.join('\n') }], defaultDetectConfig());
  const suricataFailed = new Set(golden.failed);
  const loaded = new Set(set.signatures.map((s) => s.location.line));
  const errored = new Map(set.errors.map((e) => [e.location?.line ?? 0, e.message]));
  const acceptInvalid = [...loaded].filter((l) => suricataFailed.has(l));
  const falseErrors = [...errored.keys()].filter((l) => !suricataFailed.has(l));
  process.stdout.write(`\n  parse differential: ${rules.length} damaged rules; Suricata refused ${suricataFailed.size}, ` +
    `we errored ${errored.size}, skipped ${set.skipped.length}; loaded-but-Suricata-refuses ${acceptInvalid.length}, ` +
    `error-but-Suricata-loads ${falseErrors.length}\n`);
  for (const l of falseErrors) process.stdout.write(`    stricter than Suricata: ${errored.get(l)}\n`);
  assert.equal(acceptInvalid.map((l) => rules[l - 1]), []);
  assert.ok(suricataFailed.size > 1000);
  assert.ok(falseErrors.length <= 10, `${falseErrors.length} rules refused that Suricata loads`);
});

test.run();
