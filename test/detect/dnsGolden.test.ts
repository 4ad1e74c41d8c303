// DNS differential on real ET Open rules: every dns.query rule (contents, nocase, dotprefix,
// endswith, bsize, ...), one crafted query each (golden/dnsCraft.ts), alerts per flow from
// real Suricata 7.0.10 (golden/dns.golden.json) against our engine fed the query name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { corpusPath, repoRoot } from '../support/corpus';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleFiles } from '../../src/detect/ruleLoader';
import { DetectEngine } from '../../src/detect/detectEngine';
import { BufferId } from '../../src/detect/buffers';
import { FlowState } from '../../src/detect/detectContext';
import { craftDns } from './golden/dnsCraft';
import { dnsFlow, type DnsGolden } from './golden/makeDnsGolden';
import { packet, TestContext } from './detectFixture';

const golden = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/detect/golden/dns.golden.json'), 'utf8')) as DnsGolden;

test('ET Open dns.query rules: per-flow alerts agree with Suricata', () => {
  const cfg = defaultDetectConfig();
  const set = loadRuleFiles([corpusPath('et-open', 'et-open.rules')], cfg);
  const byLine = new Map(set.signatures.map((s) => [s.location.line, s]));
  const sigs = golden.lines.map((l) => byLine.get(l)!);
  set.signatures = sigs;
  const engine = DetectEngine.compile(set, cfg);
  const ours = new Set<string>();
  sigs.forEach((s, i) => {
    const c = craftDns(s, i)!;
    const f = dnsFlow(i, c.packet);
    const ctx = new TestContext(packet({ proto: 17, src: f.src, dst: f.dst, sport: f.sport, dport: 53, payload: c.packet }));
    ctx.flowDetect = engine.newFlowState();
    ctx.flowState = FlowState.NEW;
    ctx.appProto = 'dns';
    ctx.txId = 0;
    ctx.buffers.set(BufferId.DNS_QUERY, [Buffer.from(c.name, 'latin1')]);
    const r = engine.inspect(ctx);
    for (let a = 0; a < r.alertCount; a++) ours.add(`${i}:${r.alerts[a]!.sid}`);
  });
  const theirs = new Set(golden.alerts);
  const missing = [...theirs].filter((k) => !ours.has(k));
  const extra = [...ours].filter((k) => !theirs.has(k));
  process.stdout.write(`\n  DNS differential: ${sigs.length} flows, Suricata ${theirs.size} alerts, ours ${ours.size}, missing ${missing.length}, extra ${extra.length}\n`);
  assert.ok(theirs.size > 100);
  assert.equal({ missing: missing.slice(0, 10), extra: extra.slice(0, 10) }, { missing: [], extra: [] });
});

test.run();
