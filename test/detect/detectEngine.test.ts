import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { BufferId } from '../../src/detect/buffers';
import { FlowState } from '../../src/detect/detectContext';
import { Verdict } from '../../src/detect/detectEngine';
import { engine, hits, packet, sids, TestContext } from './detectFixture';

function ctxFor(e: ReturnType<typeof engine>, payload: string, spec = {}): TestContext {
  const c = new TestContext(packet({ ...spec, payload }));
  c.flowDetect = e.newFlowState();
  return c;
}

test('prefilter: only rules whose fast pattern occurs are evaluated, content-less rules always', () => {
  const e = engine([
    'alert tcp any any -> any any (content:"alpha"; sid:1;)',
    'alert tcp any any -> any any (content:"beta"; nocase; sid:2;)',
    'alert tcp any any -> any any (dsize:>3; sid:3;)',
    'alert udp any any -> any any (content:"alpha"; sid:4;)',
  ].join('\n'));
  assert.equal(sids(e, ctxFor(e, 'xx ALPHA BETA')), [2, 3]);
  assert.equal(sids(e, ctxFor(e, 'xxalphax')), [1, 3]);
  assert.equal(sids(e, ctxFor(e, 'al')), []);
  assert.is(e.stats.withFastPattern, 3);
});

test('payload rules inspect packet and stream; only_stream / no_stream select one', () => {
  const rules = [
    'alert tcp any any -> any any (content:"split"; sid:1;)',
    'alert tcp any any -> any any (flow:only_stream; content:"split"; sid:2;)',
    'alert tcp any any -> any any (flow:no_stream; content:"split"; sid:3;)',
  ].join('\n');
  const e = engine(rules);
  const c = ctxFor(e, 'lit');
  c.stream = Buffer.from('xxsplit');
  assert.equal(sids(e, c), [1, 2]);
  const d = ctxFor(e, 'a split');
  assert.equal(sids(e, d), [1, 3]);
});

test('flow keyword: direction and state; no flow only for stateless', () => {
  const e = engine([
    'alert tcp any any -> any any (flow:established,to_server; content:"q"; sid:1;)',
    'alert tcp any any -> any any (flow:to_client; content:"q"; sid:2;)',
    'alert tcp any any -> any any (flow:not_established; content:"q"; sid:3;)',
    'alert tcp any any -> any any (flow:stateless; content:"q"; sid:4;)',
  ].join('\n'));
  const c = ctxFor(e, 'q');
  assert.equal(sids(e, c), [1, 4]);
  c.toServer = false;
  assert.equal(sids(e, c), [2, 4]);
  c.flowState = FlowState.NEW;
  assert.equal(sids(e, c), [2, 3, 4]);
  c.flowState = FlowState.NONE;
  c.flowDetect = null;
  assert.equal(sids(e, c), [4]);
});

test('flowbits: set before isset in one packet (Suricata ordering), unset, toggle, | and &, noalert', () => {
  const e = engine([
    'alert tcp any any -> any any (flowbits:isset,login; content:"cmd"; sid:2;)',
    'alert tcp any any -> any any (content:"USER"; flowbits:set,login; flowbits:noalert; sid:1;)',
    'alert tcp any any -> any any (content:"QUIT"; flowbits:unset,login; sid:3;)',
    'alert tcp any any -> any any (content:"x"; flowbits:isset,a|login; sid:4;)',
    'alert tcp any any -> any any (content:"x"; flowbits:isset,a&login; sid:5;)',
    'alert tcp any any -> any any (content:"x"; flowbits:isnotset,login; sid:6;)',
    'alert tcp any any -> any any (content:"TOG"; flowbits:toggle,a; sid:7;)',
  ].join('\n'));
  const c = ctxFor(e, 'USER cmd');
  assert.equal(sids(e, c), [2]);
  c.packet = packet({ payload: 'x' });
  assert.equal(sids(e, c), [4]);
  c.packet = packet({ payload: 'TOG' });
  assert.equal(sids(e, c), [7]);
  c.packet = packet({ payload: 'x' });
  assert.equal(sids(e, c), [4, 5]);
  // Setters run before readers (Suricata sig ordering): login is already unset for 4/5/6.
  c.packet = packet({ payload: 'QUIT x' });
  assert.equal(sids(e, c), [3, 4, 6]);
  c.packet = packet({ payload: 'cmd' });
  assert.equal(sids(e, c), []);
});

test('flags with modifiers and mask', () => {
  const SYN = 0x02, ACK = 0x10, PSH = 0x08, ECE = 0x40;
  const rules = [
    'alert tcp any any -> any any (flags:S; sid:1;)',
    'alert tcp any any -> any any (flags:S,CE; sid:2;)',
    'alert tcp any any -> any any (flags:+A; sid:3;)',
    'alert tcp any any -> any any (flags:*SF; sid:4;)',
    'alert tcp any any -> any any (flags:!A; sid:5;)',
    'alert tcp any any -> any any (flags:0; sid:6;)',
  ].join('\n');
  const e = engine(rules);
  const run = (f: number): number[] => sids(e, new TestContext(packet({ flags: f })));
  assert.equal(run(SYN), [1, 2, 4, 5]);
  assert.equal(run(SYN | ECE), [2, 4, 5]);
  assert.equal(run(ACK | PSH), [3]);
  assert.equal(run(0), [5, 6]);
});

test('IDS mode: drop and alert rules alert "allowed", verdict accept; reject is "blocked"', () => {
  const e = engine('drop tcp any any -> any any (content:"evil"; sid:1;)\nreject tcp any any -> any any (content:"evil"; sid:2;)');
  const c = ctxFor(e, 'evil');
  const r = e.inspect(c);
  assert.equal(r.alerts.slice(0, r.alertCount).map((a) => [a.sid, a.action]), [[1, 'allowed'], [2, 'blocked']]);
  assert.is(r.verdict, Verdict.ACCEPT);
  assert.is(r.rejectKind, 1);
});

test('IPS mode: drop drops the packet and the rest of the flow', () => {
  const cfg = defaultDetectConfig();
  cfg.ipsMode = true;
  const e = engine('drop tcp any any -> any any (msg:"bad"; content:"evil"; classtype:trojan-activity; sid:7; rev:2;)', cfg);
  const c = ctxFor(e, 'an evil thing');
  const r = e.inspect(c);
  assert.is(r.verdict, Verdict.DROP_FLOW);
  assert.equal({ ...r.alerts[0]!, signature: null }, {
    sid: 7, gid: 1, rev: 2, msg: 'bad', classtype: 'trojan-activity', category: 'A Network Trojan was detected',
    priority: 1, action: 'blocked', ruleAction: 'drop', signature: null,
  });
  c.packet = packet({ payload: 'harmless' });
  const r2 = e.inspect(c);
  assert.is(r2.verdict, Verdict.DROP_FLOW);
  assert.is(r2.alertCount, 0);
  // Without a flow only the packet is dropped.
  const d = new TestContext(packet({ payload: 'evil' }));
  assert.is(e.inspect(d).verdict, Verdict.DROP_PACKET);
});

test('pass wins over drop/alert (action order) and ends inspection of the flow', () => {
  const cfg = defaultDetectConfig();
  cfg.ipsMode = true;
  const e = engine([
    'alert tcp any any -> any any (content:"x"; sid:1;)',
    'drop tcp any any -> any any (content:"x"; sid:2;)',
    'pass tcp any any -> any any (content:"trusted"; sid:3;)',
  ].join('\n'), cfg);
  const c = ctxFor(e, 'trusted x');
  const r = e.inspect(c);
  assert.is(r.verdict, Verdict.PASS_FLOW);
  assert.is(r.alertCount, 0);
  c.packet = packet({ payload: 'x' });
  assert.is(e.inspect(c).verdict, Verdict.PASS_FLOW);
  assert.is(e.inspect(c).alertCount, 0);
});

test('thresholds suppress alerts, not drops; noalert acts silently', () => {
  const cfg = defaultDetectConfig();
  cfg.ipsMode = true;
  const e = engine('drop tcp any any -> any any (content:"z"; threshold:type limit, track by_src, count 1, seconds 60; sid:1;)', cfg);
  const a = e.inspect(new TestContext(packet({ payload: 'z' })));
  assert.equal([a.alertCount, a.verdict], [1, Verdict.DROP_PACKET]);
  const b = e.inspect(new TestContext(packet({ payload: 'z' })));
  assert.equal([b.alertCount, b.verdict, b.suppressed], [0, Verdict.DROP_PACKET, 1]);
  const n = engine('drop tcp any any -> any any (content:"z"; noalert; sid:1;)', cfg);
  const r = n.inspect(new TestContext(packet({ payload: 'z' })));
  assert.equal([r.alertCount, r.verdict], [0, Verdict.DROP_PACKET]);
});

test('at most packet-alert-max alerts per packet, highest ranked kept', () => {
  const cfg = defaultDetectConfig();
  cfg.packetAlertMax = 3;
  const rules = Array.from({ length: 6 }, (_, i) => `alert tcp any any -> any any (content:"m"; priority:${6 - i}; sid:${i + 1};)`).join('\n');
  const e = engine(rules, cfg);
  const r = e.inspect(new TestContext(packet({ payload: 'm' })));
  assert.is(r.alertCount, 3);
  assert.is(r.suppressed, 3);
  assert.equal(r.alerts.map((a) => a.sid), [6, 5, 4]);
});

test('app-layer buffers: sticky/legacy/pcre-flag forms match the same buffer; once per transaction', () => {
  const e = engine([
    'alert http any any -> any any (http.uri; content:"/admin"; sid:1;)',
    'alert http any any -> any any (content:"/ADMIN"; nocase; http_uri; sid:2;)',
    'alert tcp any any -> any any (pcre:"/^\\/adm/U"; sid:3;)',
    'alert http any any -> any any (http.method; content:"POST"; http.uri; content:"/admin"; sid:4;)',
    'alert http any any -> any any (http.header; content:"User-Agent|3a| evil"; sid:5;)',
    'alert http any any -> any any (http.uri; bsize:6; sid:6;)',
    'alert dns any any -> any any (dns.query; dotprefix; content:".example.com"; endswith; sid:7;)',
    'alert tls any any -> any any (tls.sni; content:"bad.test"; sid:8;)',
    'alert http any any -> any any (http.user_agent; to_lowercase; content:"curl"; sid:9;)',
    'alert http any any -> any any (urilen:>3; sid:10;)',
  ].join('\n'));
  const c = ctxFor(e, 'GET /admin HTTP/1.1\r\n');
  c.appProto = 'http';
  c.txId = 0;
  c.buffers.set(BufferId.HTTP_URI, [Buffer.from('/admin')]);
  c.buffers.set(BufferId.HTTP_METHOD, [Buffer.from('GET')]);
  c.buffers.set(BufferId.HTTP_HEADER, [Buffer.from('Host: x\r\nUser-Agent: evil\r\n')]);
  c.buffers.set(BufferId.HTTP_USER_AGENT, [Buffer.from('CURL/8')]);
  assert.equal(sids(e, c), [1, 2, 3, 5, 6, 9, 10]);
  assert.equal(sids(e, c), [], 'same transaction: no second alert');
  c.txId = 1;
  assert.equal(sids(e, c), [1, 2, 3, 5, 6, 9, 10]);
  c.appProto = 'dns';
  c.buffers.set(BufferId.DNS_QUERY, [Buffer.from('a.org'), Buffer.from('www.example.com')]);
  assert.equal(sids(e, c), [7]);
  const d = ctxFor(e, 'x');
  d.appProto = 'dns';
  d.txId = 5;
  d.buffers.set(BufferId.DNS_QUERY, [Buffer.from('notexample.com')]);
  assert.equal(sids(e, d), []);
  d.appProto = 'tls';
  d.buffers.set(BufferId.TLS_SNI, [Buffer.from('bad.test')]);
  assert.equal(sids(e, d), [8]);
});

test('header ports and addresses gate matches; icmp fields', () => {
  assert.equal(hits('alert tcp any any -> any 22 (content:"SSH"; sid:1;)', 'SSH-2.0', { dport: 22 }), [1]);
  assert.equal(hits('alert tcp any any -> any 22 (content:"SSH"; sid:1;)', 'SSH-2.0', { dport: 23 }), []);
  assert.equal(hits('alert tcp $EXTERNAL_NET any -> any any (content:"a"; sid:1;)', 'a', { src: '10.1.1.1' }), []);
  assert.equal(hits('alert icmp any any -> any any (itype:8; icode:0; sid:1;)', 'p', { proto: 1, icmpType: 8, icmpCode: 0 }), [1]);
  assert.equal(hits('alert icmp any any -> any any (itype:0; sid:1;)', 'p', { proto: 1, icmpType: 8, icmpCode: 0 }), []);
  assert.equal(hits('alert ip any any -> any any (ttl:<10; sid:1;)', 'p', { ttl: 5 }), [1]);
});

test('pcre cost is bounded: catastrophic patterns run in linear time', () => {
  const t0 = Date.now();
  assert.equal(hits('alert tcp any any -> any any (pcre:"/(a+)+b/"; sid:1;)', 'a'.repeat(5000)), []);
  assert.equal(hits('alert tcp any any -> any any (pcre:"/(a|aa)+c/"; sid:1;)', 'a'.repeat(5000)), []);
  assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
});

test.run();
