// A worker's judging and counting without a kernel: crafted packets in a real PacketBatch
// (the addon's layout) through EngineVerdictHandler with LiveCounters observing; the verdict
// slots, the alert hand-over and the metrics delta must agree with what was sent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NfVerdict } from '../../src/capture/native';
import { ipv4BatchOf } from '../support/packetBatch';
import { createVerdictHandler } from '../../src/verdict/createVerdictHandler';
import { alertRecordsOf } from '../../src/output/alertRecords';
import type { AlertRecordInput } from '../../src/output/eveAlert';
import { DROP_REASON_NAMES, PAIR_STRIDE, PairField, VERDICT_NAMES } from '../../src/output/workerCounters';
import { LiveCounters, LIVE_COUNTER_KINDS } from '../../src/cli/liveCounters';
import { StaticContainerIdentities } from '../../src/cli/containerIdentity';
import { LateralMetrics } from '../../src/output/metrics';
import { ip4, ipv4, tcpSegment } from '../decode/craft';

const WEB = '10.9.0.2';
const DB = '10.9.0.3';
const ATTACKER = '10.9.0.4';

function tcp(src: string, dst: string, sport: number, dport: number, seq: number, payload: string): number[] {
  return ipv4(src, dst, { proto: 6 }, tcpSegment(ip4(src), ip4(dst), { sport, dport, seq, ack: 1, flags: 0x18, payload }));
}

test('one batch: normal traffic accepted, the attack dropped by rule, the rest of its flow as flow_blocked', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-live-'));
  const rules = path.join(dir, 'r.rules');
  fs.writeFileSync(rules, 'drop tcp any any -> any 80 (msg:"traversal"; content:"../"; classtype:web-application-attack; sid:1800060; rev:1;)\n');
  try {
    const { engine } = createVerdictHandler({ queue: 0, ruleFiles: [rules], monitor: false });
    const identities = new StaticContainerIdentities([
      { address: WEB, identity: { name: 'web' } },
      { address: DB, identity: { name: 'db' } },
      { address: ATTACKER, identity: { name: 'attacker' } },
    ]);
    const live = new LiveCounters(engine!.inspector, identities);
    engine!.observer = live;
    const alerts: AlertRecordInput[] = [];
    engine!.onAlert = (insp, r) => {
      for (const a of alertRecordsOf(insp, r)) alerts.push(a);
      for (let i = 0; i < r.alertCount; i++) live.counters.alert(r.alerts[i]!.sid, r.alerts[i]!.priority, r.alerts[i]!.action === 'blocked', live.slotOf(insp.flow));
    };
    const packets = [
      tcp(WEB, DB, 41000, 6379, 1000, 'SET k v\r\n'),
      tcp(ATTACKER, WEB, 42000, 80, 5000, 'GET /../../etc/passwd HTTP/1.1\r\n\r\n'),
      tcp(ATTACKER, WEB, 42000, 80, 5000, 'GET /../../etc/passwd HTTP/1.1\r\n\r\n'), // retransmission
      tcp(WEB, DB, 41000, 6379, 1009, 'GET k\r\n'),
    ];
    const batch = ipv4BatchOf(packets);
    engine!.handleBatch(batch);
    assert.equal(Array.from(batch.verdicts.subarray(0, 4)), [NfVerdict.REPEAT, NfVerdict.DROP, NfVerdict.DROP, NfVerdict.REPEAT]);
    assert.is(alerts.length, 1);
    assert.is(alerts[0]!.sid, 1800060);
    assert.is(alerts[0]!.blocked, true);

    live.refresh();
    const d = live.counters.takeDelta();
    const L = live.counters.layout;
    const bytes = (i: number): number => packets[i]!.length;
    assert.is(d.scalars[L.packets + VERDICT_NAMES.indexOf('accept')], 2);
    assert.is(d.scalars[L.packets + VERDICT_NAMES.indexOf('drop')], 2);
    assert.is(d.scalars[L.bytes + VERDICT_NAMES.indexOf('accept')], bytes(0) + bytes(3));
    assert.is(d.scalars[L.drops + DROP_REASON_NAMES.indexOf('rule')], 1);
    assert.is(d.scalars[L.drops + DROP_REASON_NAMES.indexOf('flow_blocked')], 1);
    assert.is(d.scalars[L.flowsCreated], 2);
    assert.is(d.flowsActive, 2);
    const pairs = new Map(d.newPairs.map((p) => [`${p.src}->${p.dst}`, p.slot]));
    assert.equal([...pairs.keys()].sort(), ['attacker->web', 'web->db']);
    const att = pairs.get('attacker->web')! * PAIR_STRIDE;
    assert.is(d.pairValues[att + PairField.PACKETS], 2);
    assert.is(d.pairValues[att + PairField.BLOCKED_PACKETS], 2);
    assert.is(d.pairValues[att + PairField.ALERTS_BLOCKED], 1);
    assert.equal(d.alerts, [[1800060, 1, 1, 1, pairs.get('attacker->web')!]]);

    // The main thread's registry takes the delta as is (same kind lists).
    const m = new LateralMetrics({ ...LIVE_COUNTER_KINDS, defaultMetrics: false });
    m.applyDelta(0, d);
    const s = m.statsSnapshot();
    assert.is(s.alerts, 1);
    assert.equal(s.verdicts, { accept: 2, drop: 2, bypass: 0 });

    // Flows that end are counted as evictions.
    engine!.close();
    live.refresh();
    const end = live.counters.takeDelta();
    let evicted = 0;
    for (let i = 0; i < 3; i++) evicted += end.scalars[L.flowsEvicted + i]!;
    assert.is(evicted, 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
