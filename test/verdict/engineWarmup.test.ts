// The engine warm-up the live worker runs before binding its queue: synthetic connections are
// judged by the real engine (its HTTP and DNS paths run, rules can match them), and nothing
// of them reaches the handler that judges real traffic: no flows, no counters, no alerts, no
// threshold state.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createVerdictHandler } from '../../src/verdict/createVerdictHandler';
import { warmUpEngine } from '../../src/verdict/engineWarmup';
import { ipv4BatchOf } from '../support/packetBatch';
import { ip4, ipv4, tcpSegment } from '../decode/craft';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-warm-'));
const rules = path.join(dir, 'warm.rules');
fs.writeFileSync(rules, [
  // Matches the warm-up's HTTP request (its Host header) and its DNS query, through the app layer.
  'alert http any any -> any any (msg:"warm host"; flow:established,to_server; http.host; content:"warmup.invalid"; sid:1; rev:1;)',
  'alert dns any any -> any any (msg:"warm dns"; dns.query; content:"example.com"; sid:2; rev:1;)',
  // At most one alert per source a minute: the warm-up must not use up the real traffic's one.
  'alert tcp any any -> any 80 (msg:"limited"; flow:to_server; content:"GET"; threshold:type limit, track by_src, count 1, seconds 60; sid:3; rev:1;)',
].join('\n'));

test('the warm-up judges HTTP and DNS connections with the engine: its rules match them', () => {
  const created = createVerdictHandler({ queue: 0, ruleFiles: [rules], monitor: false });
  const r = warmUpEngine(created.engine!.inspector.detectEngine, { connections: 40 });
  assert.is(r.connections, 40);
  assert.is(r.packets, 40 * 12, 'ten TCP packets and two DNS packets per connection');
  // Per connection: the host rule once, the DNS rule on the query, and the limited rule only for
  // the first connection (same source, count 1 a minute).
  assert.is(r.alerts, 40 + 40 + 1);
});

test('the live handler never sees the warm-up: no flows, no counters, thresholds cleared', () => {
  const created = createVerdictHandler({ queue: 0, ruleFiles: [rules], monitor: false, warmup: { connections: 30 } });
  assert.is(created.warmup!.connections, 30);
  assert.ok(created.warmup!.alerts >= 30);
  const h = created.engine!;
  assert.is(h.inspector.flows.size, 0, 'no warm-up flow in the real flow table');
  assert.is(h.counters.inspected, 0);
  assert.is(h.counters.alerts, 0);
  let seen = 0;
  h.onAlert = (_i, res) => { seen += res.alertCount; };
  // The same source address the warm-up used: its threshold state must be gone.
  const src = '198.18.255.1';
  const dst = '198.18.255.2';
  const get = ipv4(src, dst, { proto: 6 }, tcpSegment(ip4(src), ip4(dst), { sport: 41000, dport: 80, flags: 0x18, payload: 'GET / HTTP/1.0\r\n\r\n' }));
  h.handleBatch(ipv4BatchOf([get]));
  assert.is(h.counters.inspected, 1);
  assert.is(seen, 1, 'the limited rule alerts on the first real packet');
});

test('a zero budget judges nothing; no rules means no warm-up', () => {
  const created = createVerdictHandler({ queue: 0, ruleFiles: [rules], monitor: false, warmup: { budgetMs: 0 } });
  assert.is(created.warmup!.connections, 0);
  assert.is(created.warmup!.packets, 0);
  assert.is(createVerdictHandler({ queue: 0, ruleFiles: [], monitor: false, warmup: {} }).warmup, null);
});

test.run();
