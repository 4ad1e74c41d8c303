import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { corpusPath, repoRoot } from './corpus';

test('the shared corpus is found beside the repository', () => {
  assert.ok(fs.existsSync(join(repoRoot, 'package.json')), `no package.json in ${repoRoot}`);
  assert.ok(fs.existsSync(corpusPath('suricata-verify', 'expected.json')), `corpus not at ${corpusPath()}`);
});


test.run();
