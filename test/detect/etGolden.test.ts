// Differential conformance on real ET Open rules: the ~2,400 ET rules that need no
// app-layer parser, one crafted flow each (golden/makeEtGolden.ts), alerts per flow from
// real Suricata 7.0.10 (golden/et.golden.json) against our engine on the same packets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { corpusPath, repoRoot } from '../support/corpus';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleFiles } from '../../src/detect/ruleLoader';
import { DetectEngine } from '../../src/detect/detectEngine';
import { FlowState } from '../../src/detect/detectContext';
import { flowPackets, type EtGolden } from './golden/makeEtGolden';
import { packet, TestContext } from './detectFixture';
import { PCRE_COST_SKIP } from './golden/etOpenGoldenRules';

/** Golden rules skipped for pcre cost (measured when the cost bound came in, issue #7). */
const COST_SKIPPED = 163;
const golden = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/detect/golden/et.golden.json'), 'utf8')) as EtGolden;

test('ET Open non-app-layer rules: per-flow alerts agree with Suricata', () => {
  const cfg = defaultDetectConfig();
  const set = loadRuleFiles([corpusPath('et-open', 'et-open.rules')], cfg);
  const want = new Set(golden.lines);
  set.signatures = set.signatures.filter((s) => want.has(s.location.line));
  // Rules whose pcre has no bounded cost are skipped at load (pcre.ts, pcreCost.ts; Suricata
  // runs them under PCRE's match-limit instead): their Suricata alerts are not expected.
  const costSkipped = set.skipped.filter((s) => want.has(s.line) && PCRE_COST_SKIP.test(s.reason));
  const costSkippedSids = new Set(costSkipped.map((s) => s.sid));
  assert.is(set.signatures.length + costSkipped.length, golden.lines.length);
  assert.is(costSkipped.length, COST_SKIPPED);
  const engine = DetectEngine.compile(set, cfg);
  const ours = new Set<string>();
  golden.flows.forEach((f, i) => {
    const { packets, dataIndex } = flowPackets(f);
    const fd = engine.newFlowState();
    const clientIp = packets[0]!.src;
    packets.forEach((w, k) => {
      const p = packet({ proto: w.proto, src: w.src, dst: w.dst, sport: w.sport, dport: w.dport, payload: w.payload, flags: w.flags, ttl: 64, ts: 1000 });
      p.tcpSeq = w.seq; p.tcpAck = w.ack;
      const ctx = new TestContext(p);
      ctx.flowDetect = fd;
      ctx.toServer = w.src === clientIp && (w.proto === 17 || w.sport === packets[0]!.sport);
      ctx.flowState = w.proto === 17 ? FlowState.NEW : k < 2 ? FlowState.NEW : FlowState.ESTABLISHED;
      ctx.stream = k === dataIndex && w.proto === 6 ? w.payload : null;
      const r = engine.inspect(ctx);
      for (let a = 0; a < r.alertCount; a++) ours.add(`${i}:${r.alerts[a]!.sid}`);
    });
  });
  const theirs = new Set(golden.alerts.filter((k) => !costSkippedSids.has(Number(k.split(':')[1]))));
  const missing = [...theirs].filter((k) => !ours.has(k));
  const extra = [...ours].filter((k) => !theirs.has(k));
  const show = (ks: string[]): string[] => ks.slice(0, 15).map((k) => {
    const [fi, sid] = k.split(':').map(Number);
    return `flow ${fi} sid ${sid} payload ${golden.flows[fi!]!.payload.slice(0, 60)}`;
  });
  process.stdout.write(`\n  ET differential: ${golden.flows.length} flows, Suricata ${theirs.size} alerts (rules skipped for pcre cost: ${costSkipped.length}), ours ${ours.size}, missing ${missing.length}, extra ${extra.length}\n`);
  assert.equal({ missing: show(missing), extra: show(extra) }, { missing: [], extra: [] });
});

test.run();
