// Names the top costs in a V8 .cpuprofile (from `node --cpu-prof`; a worker thread writes
// its own file): self time per function (name + file:line), highest first, as a share of
// the sampled time. Used by docs/performance.md to say where `lateral run` spends its time.
//   node dist/bench/cpuProfileTop.js FILE.cpuprofile [TOP]
import * as fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] }

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: cpuProfileTop FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const top = Number(topArg ?? 15);
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;

// Self time per node: sum of the time deltas of the samples that landed in it.
const selfUs = new Map<number, number>();
const samples = profile.samples ?? [];
const deltas = profile.timeDeltas ?? [];
for (let i = 0; i < samples.length; i++) selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + (deltas[i] ?? 0));

const byFunction = new Map<string, number>();
let total = 0;
for (const n of profile.nodes) {
  const us = selfUs.get(n.id) ?? 0;
  if (us <= 0) continue;
  total += us;
  const where = n.callFrame.url ? `${n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}` : '';
  const key = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}
const rows = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
process.stdout.write(`${(total / 1e6).toFixed(2)} s sampled\n`);
for (const [key, us] of rows) process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${key}\n`);
