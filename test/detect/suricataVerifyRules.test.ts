// The rule files of the suricata-verify cases load: every rule is loaded or skipped with a
// reason, and none fails with a syntax error (Suricata 7 loads them all).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { corpusPath } from '../support/corpus';
import { loadDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleFiles } from '../../src/detect/ruleLoader';
import { DetectEngine } from '../../src/detect/detectEngine';

const root = corpusPath('suricata-verify', 'tests');

test('every suricata-verify rule file loads without syntax errors', () => {
  let loaded = 0, skipped = 0, files = 0;
  for (const c of fs.readdirSync(root)) {
    const dir = path.join(root, c);
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.rules'))) {
      const yaml = path.join(dir, 'suricata.yaml');
      const cfg = loadDetectConfig(fs.existsSync(yaml) ? yaml : undefined);
      const set = loadRuleFiles([path.join(dir, f)], cfg);
      assert.equal(set.errors.map((e) => e.message), [], `${c}/${f}`);
      DetectEngine.compile(set, cfg);
      loaded += set.signatures.length;
      skipped += set.skipped.length;
      files++;
    }
  }
  assert.ok(files >= 30);
  assert.ok(loaded > skipped * 3, `${loaded} loaded, ${skipped} skipped`);
});

test('the subset rule files of expected.json load completely', () => {
  const dir = corpusPath('suricata-verify', 'subset-rules');
  const files = fs.readdirSync(dir).filter((x) => x.endsWith('.rules')).map((f) => path.join(dir, f));
  assert.ok(files.length >= 10);
  let loaded = 0;
  for (const f of files) {
    const set = loadRuleFiles([f], loadDetectConfig());
    assert.equal(set.errors.map((e) => e.message), []);
    assert.equal(set.skipped, [], f);
    loaded += set.signatures.length;
  }
  assert.ok(loaded >= 40);
});

test.run();
