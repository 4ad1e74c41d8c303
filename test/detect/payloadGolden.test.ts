// Differential conformance: the packets and rules of golden/payloadCases.ts, with the
// alerts real Suricata 7.0.10 raised on them (golden/payload.golden.json, made by
// golden/makeGolden.ts). Every (packet, sid) pair must agree, both ways.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../support/corpus';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleSources } from '../../src/detect/ruleLoader';
import { DetectEngine } from '../../src/detect/detectEngine';
import { FlowState } from '../../src/detect/detectContext';
import type { GoldenFile } from './golden/makeGolden';
import { packet, TestContext } from './detectFixture';

const golden = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/detect/golden/payload.golden.json'), 'utf8')) as GoldenFile;

test('golden file is a real Suricata run', () => {
  assert.match(golden.suricata, /Suricata version 7\./);
  assert.ok(golden.alerts.length > 100);
});

test('rules Suricata refuses are refused by us; the rest load', () => {
  const cfg = defaultDetectConfig();
  const set = loadRuleSources([{ file: 'golden.rules', text: golden.rules.join('\n') }], cfg);
  assert.equal(set.skipped, []);
  const ours = set.errors.map((e) => Number(/sid:(\d+)/.exec(golden.rules[(e.location?.line ?? 1) - 1]!)![1]));
  assert.equal(ours.sort((a, b) => a - b), [...golden.failed].sort((a, b) => a - b));
});

test('every (packet, sid) alert agrees with Suricata', () => {
  const cfg = defaultDetectConfig();
  const set = loadRuleSources([{ file: 'golden.rules', text: golden.rules.join('\n') }], cfg);
  const engine = DetectEngine.compile(set, cfg);
  const ours = new Set<string>();
  golden.packets.forEach((g, i) => {
    const p = packet({
      proto: g.proto === 'udp' ? 17 : 1, payload: Buffer.from(g.payload, 'hex'), sport: g.sport, dport: 5555,
      ts: g.ts, icmpType: g.icmpType, icmpCode: g.icmpCode,
    });
    const ctx = new TestContext(p);
    // Each packet opens a new flow in Suricata: to_server, not yet established.
    ctx.flowState = FlowState.NEW;
    ctx.flowDetect = engine.newFlowState();
    const r = engine.inspect(ctx);
    for (let k = 0; k < r.alertCount; k++) ours.add(`${i + 1}:${r.alerts[k]!.sid}`);
  });
  const theirs = new Set(golden.alerts);
  const missing = [...theirs].filter((k) => !ours.has(k));
  const extra = [...ours].filter((k) => !theirs.has(k));
  assert.equal({ missing, extra }, { missing: [], extra: [] });
  assert.is(ours.size, theirs.size);
});

test.run();
