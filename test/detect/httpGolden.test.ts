// HTTP differential on real ET Open rules: request rules whose contents survive libhtp
// normalisation, one crafted request per rule (golden/httpCraft.ts), alerts per flow from
// real Suricata 7.0.10 (golden/http.golden.json) against our engine fed the same request
// with the buffers an app layer produces (method, uri, host, user agent, ... body).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../support/corpus';
import { FlowState } from '../../src/detect/detectContext';
import { craftHttp } from './golden/httpCraft';
import { httpFlow, type HttpGolden } from './golden/makeHttpGolden';
import { packet, TestContext } from './detectFixture';
import { goldenRules } from './golden/etOpenGoldenRules';

/** Golden rules skipped for pcre cost (measured when the cost bound came in, issue #7). */
const COST_SKIPPED = 1;
const golden = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/detect/golden/http.golden.json'), 'utf8')) as HttpGolden;

test('ET Open HTTP request rules: per-flow alerts agree with Suricata', () => {
  const { all, sigs, flowOf, skippedSids, engine } = goldenRules(golden.lines, COST_SKIPPED);
  const ours = new Set<string>();
  sigs.forEach((s, k) => {
    const i = flowOf[k]!;
    const c = craftHttp(s)!;
    const f = httpFlow(i, c.request);
    const fd = engine.newFlowState();
    const req = Buffer.from(c.request, 'latin1');
    const p = packet({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, payload: req, flags: 0x18 });
    const ctx = new TestContext(p);
    ctx.flowDetect = fd;
    ctx.flowState = FlowState.ESTABLISHED;
    ctx.appProto = 'http';
    ctx.txId = 0;
    ctx.stream = req;
    for (const [id, v] of c.buffers) ctx.buffers.set(id, [Buffer.from(v, 'latin1')]);
    const r = engine.inspect(ctx);
    for (let a = 0; a < r.alertCount; a++) ours.add(`${i}:${r.alerts[a]!.sid}`);
  });
  const theirs = new Set(golden.alerts.filter((k) => {
    const [fi, sid] = k.split(':').map(Number);
    return all[fi!] !== undefined && !skippedSids.has(sid!);
  }));
  const missing = [...theirs].filter((k) => !ours.has(k));
  const extra = [...ours].filter((k) => !theirs.has(k));
  process.stdout.write(`\n  HTTP differential: ${sigs.length} flows (${COST_SKIPPED} rules skipped for pcre cost), Suricata ${theirs.size} alerts, ours ${ours.size}, missing ${missing.length}, extra ${extra.length}\n`);
  const show = (ks: string[]): string[] => ks.slice(0, 10).map((k) => {
    const [fi, sid] = k.split(':').map(Number);
    return `flow ${fi} sid ${sid}: ${craftHttp(all[fi!]!)!.request.split('\r\n')[0]}`;
  });
  assert.equal({ missing: show(missing), extra: show(extra) }, { missing: [], extra: [] });
});

test.run();
