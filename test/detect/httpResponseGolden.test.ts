// HTTP response differential on real ET Open rules (file.data, http.stat_code, stat_msg,
// content_type, server, location): one GET + crafted response per rule
// (golden/httpResponseCraft.ts), alerts per flow from real Suricata 7.0.10
// (golden/http-response.golden.json) against our engine fed the response buffers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../support/corpus';
import { FlowState } from '../../src/detect/detectContext';
import { craftHttpResponse } from './golden/httpResponseCraft';
import type { HttpResponseGolden } from './golden/makeHttpResponseGolden';
import { packet, TestContext } from './detectFixture';
import { goldenRules } from './golden/etOpenGoldenRules';

/** Golden rules skipped for pcre cost (measured when the cost bound came in, issue #7). */
const COST_SKIPPED = 48;
const golden = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/detect/golden/http-response.golden.json'), 'utf8')) as HttpResponseGolden;

test('ET Open HTTP response rules: per-flow alerts agree with Suricata', () => {
  const { all, sigs, flowOf, skippedSids, engine } = goldenRules(golden.lines, COST_SKIPPED);
  const ours = new Set<string>();
  sigs.forEach((s, k) => {
    const i = flowOf[k]!;
    const c = craftHttpResponse(s)!;
    const [client, server] = golden.hosts[i]!;
    const fd = engine.newFlowState();
    // The request packet (its tx has no response yet), then the response packet.
    const req = Buffer.from(c.request, 'latin1'), resp = Buffer.from(c.response, 'latin1');
    const q = new TestContext(packet({ src: client, dst: server, sport: 30000 + (i % 30000), dport: 80, payload: req }));
    q.flowDetect = fd; q.flowState = FlowState.ESTABLISHED; q.appProto = 'http'; q.txId = 0; q.stream = req;
    for (const [id, v] of c.buffers.slice(0, 5)) q.buffers.set(id, [Buffer.from(v, 'latin1')]);
    const r1 = engine.inspect(q);
    for (let a = 0; a < r1.alertCount; a++) ours.add(`${i}:${r1.alerts[a]!.sid}`);
    const ctx = new TestContext(packet({ src: server, dst: client, sport: 80, dport: 30000 + (i % 30000), payload: resp }));
    ctx.flowDetect = fd; ctx.flowState = FlowState.ESTABLISHED; ctx.toServer = false; ctx.appProto = 'http'; ctx.txId = 0; ctx.stream = resp;
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
  process.stdout.write(`\n  HTTP response differential: ${sigs.length} flows (${COST_SKIPPED} rules skipped for pcre cost), Suricata ${theirs.size} alerts, ours ${ours.size}, missing ${missing.length}, extra ${extra.length}\n`);
  assert.ok(theirs.size > 100);
  assert.equal({ missing: missing.slice(0, 10), extra: extra.slice(0, 10) }, { missing: [], extra: [] });
});

test.run();
