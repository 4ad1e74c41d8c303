// TLS differential on real ET Open rules: every tls.sni rule (contents, nocase, dotprefix,
// endswith, bsize, ...), one crafted ClientHello each (golden/tlsCraft.ts), alerts per flow from
// real Suricata 7.0.10 (golden/tls.golden.json) against our engine fed the SNI.
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
import { craftTls } from './golden/tlsCraft';
import { tlsFlow, type TlsGolden } from './golden/makeTlsGolden';
import { packet, TestContext } from './detectFixture';

const golden = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/detect/golden/tls.golden.json'), 'utf8')) as TlsGolden;

test('ET Open tls.sni rules: per-flow alerts agree with Suricata', () => {
  const cfg = defaultDetectConfig();
  const set = loadRuleFiles([corpusPath('et-open', 'et-open.rules')], cfg);
  const byLine = new Map(set.signatures.map((s) => [s.location.line, s]));
  const sigs = golden.lines.map((l) => byLine.get(l)!);
  set.signatures = sigs;
  const engine = DetectEngine.compile(set, cfg);
  const ours = new Set<string>();
  const ext = new Set(golden.external);
  sigs.forEach((s, i) => {
    const c = craftTls(s)!;
    const f = tlsFlow(i, c.hello, ext.has(i));
    const ctx = new TestContext(packet({ proto: 6, src: f.src, dst: f.dst, sport: f.sport, dport: 443, payload: c.hello, flags: 0x18 }));
    ctx.flowDetect = engine.newFlowState();
    ctx.flowState = FlowState.ESTABLISHED;
    ctx.appProto = 'tls';
    ctx.txId = 0;
    ctx.stream = c.hello;
    ctx.buffers.set(BufferId.TLS_SNI, [Buffer.from(c.sni, 'latin1')]);
    const r = engine.inspect(ctx);
    for (let a = 0; a < r.alertCount; a++) ours.add(`${i}:${r.alerts[a]!.sid}`);
  });
  const theirs = new Set(golden.alerts);
  const missing = [...theirs].filter((k) => !ours.has(k));
  const extra = [...ours].filter((k) => !theirs.has(k));
  process.stdout.write(`\n  TLS differential: ${sigs.length} flows, Suricata ${theirs.size} alerts, ours ${ours.size}, missing ${missing.length}, extra ${extra.length}\n`);
  assert.ok(theirs.size > 100);
  assert.equal({ missing: missing.slice(0, 10), extra: extra.slice(0, 10) }, { missing: [], extra: [] });
});

test.run();
