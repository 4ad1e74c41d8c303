// Which stream timing the CLI picks: `lateral replay` follows `suricata -r` (IDS timing) unless
// --simulate-ips or `--set stream.inline=...` asks for inline, and `lateral watch` is IDS unless
// --inline. Then one corpus case whose alerts differ between the two timings, replayed both
// ways through the real command path (detect-engine-proto's rules on tcp-fastopen-01's pcap).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { prepareReplayEngine, replayCapture } from '../../src/cli/replay';
import { parseWatchOptions } from '../../src/cli/watch';
import { corpusPath } from '../support/corpus';

const verify = corpusPath('suricata-verify');
const rules = path.join(verify, 'tests', 'detect-engine-proto', 'test.rules');

test('replay: IDS timing by default, inline with --simulate-ips or stream.inline', () => {
  const base = { ruleFiles: [rules], simulateIps: false, settings: {} as Record<string, string> };
  assert.is(prepareReplayEngine(base).idsMode, true);
  assert.is(prepareReplayEngine({ ...base, simulateIps: true }).idsMode, false);
  assert.is(prepareReplayEngine({ ...base, settings: { 'stream.inline': 'yes' } }).idsMode, false);
  assert.is(prepareReplayEngine({ ...base, settings: { 'stream.inline': 'false' } }).idsMode, true);
  assert.equal(prepareReplayEngine({ ...base, settings: { 'stream.inline': 'yes' } }).ignoredSettings, []);
});

test('watch: IDS timing unless --inline', () => {
  assert.is(parseWatchOptions(['--bridge', 'lo']).inline, false);
  assert.is(parseWatchOptions(['--bridge', 'lo', '--inline']).inline, true);
});

test('detect-engine-proto: sid 4 alerts 3 times in IDS timing (suricata -r), 5 times inline (--simulate-ips)', async () => {
  const count = async (simulateIps: boolean): Promise<Record<string, number>> => {
    const r = await replayCapture({
      pcapPaths: [path.join(verify, 'tests', 'tcp-fastopen-01', 'tfo.pcap')], ruleFiles: [rules],
      checksumMode: 'none', simulateIps, settings: {},
    });
    const c: Record<string, number> = {};
    for (const a of r.alerts) c[a.sid] = (c[a.sid] ?? 0) + 1;
    return c;
  };
  assert.equal(await count(false), { 2: 7, 3: 7, 4: 3 });
  assert.equal(await count(true), { 2: 7, 3: 7, 4: 5 });
});

test.run();
