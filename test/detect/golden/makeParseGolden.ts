// Regenerates parse.golden.json: 3,000 damaged ET Open rules (ruleMutations.ts) checked by
// real Suricata (`suricata -T`); records which lines Suricata refuses. The test checks our
// parser refuses no fewer (never loads what Suricata rejects) and errors on almost none that
// Suricata loads. Run: `npx tsc -p . && node dist/test/detect/golden/makeParseGolden.js`.

import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corpusPath, repoRoot } from '../../support/corpus';
import { mutateRules } from './ruleMutations';

export interface ParseGolden {
  suricata: string;
  seed: number;
  count: number;
  /** 1-based lines of the mutated file that Suricata failed to load. */
  failed: number[];
}

export const PARSE_SEED = 12345;
export const PARSE_COUNT = 3000;

function main(): void {
  const rules = mutateRules(fs.readFileSync(corpusPath('et-open', 'et-open.rules'), 'utf8'), PARSE_SEED, PARSE_COUNT);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-parsegolden-'));
  const file = path.join(dir, 'fz.rules');
  fs.writeFileSync(file, rules.join('\n') + '\n');
  const r = cp.spawnSync('suricata', ['-T', '-S', file, '-l', dir, '-v'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const log = r.stdout + r.stderr;
  const failed = [...new Set([...log.matchAll(/from file .*fz\.rules at line (\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
  const out: ParseGolden = { suricata: cp.execFileSync('suricata', ['-V']).toString().trim(), seed: PARSE_SEED, count: PARSE_COUNT, failed };
  fs.writeFileSync(path.join(repoRoot, 'test/detect/golden/parse.golden.json'), JSON.stringify(out) + '\n');
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${rules.length} rules, Suricata refused ${failed.length}\n`);
}

if (require.main === module) main();
