// LateralMetrics: real worker threads count a corpus pcap and the main thread's /metrics
// totals equal what the pcap holds; kernel counters become monotonic counters; container
// pair labels stay under a hard bound with 500 synthetic containers; merged histograms.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { corpusPath } from '../support/corpus';
import { LateralMetrics } from '../../src/output/metrics';
import { isMetricsDelta, Verdict, WorkerCounters } from '../../src/output/workerCounters';
import { TrafficMap } from '../../src/output/trafficMap';
import { parseNfqueueProcStats } from '../../src/output/nfqueueProcStats';
import { LateralError } from '../../src/errors';
import { parsePromText, series, sum } from './fixtures/promText';
import { readPcap } from './fixtures/pcapRecords';

const kinds = { anomalyKinds: ['ipv4_trunc', 'tcp_bad_offset', 'ipv4_bad_checksum'], streamEventKinds: ['overlap', 'memcap'] };

async function scrape(m: LateralMetrics) {
  return parsePromText(await m.metricsText());
}

test('two worker threads: totals on the main thread equal the pcap, twice', async () => {
  const pcap = corpusPath('pcaps', 'postgres-app-traffic.pcap');
  const records = readPcap(pcap);
  const bytes = records.reduce((a, r) => a + r.wireLength, 0);
  const dropped = records.filter((r) => r.dstPort === 5432);
  assert.ok(records.length > 50 && dropped.length > 0);

  const map = new TrafficMap();
  const m = new LateralMetrics({ ...kinds, map, defaultMetrics: false });
  const script = path.join(__dirname, 'fixtures', 'metricsWorker.js');
  const deltasPerWorker = [0, 0];
  await Promise.all(
    [0, 1].map(
      (id) =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(script, { workerData: { pcap, dropPort: 5432, ...kinds } });
          w.on('message', (msg: unknown) => {
            if (isMetricsDelta(msg)) {
              deltasPerWorker[id]!++;
              m.applyDelta(id, msg);
            } else resolve();
          });
          w.on('error', reject);
        }),
    ),
  );
  const s = await scrape(m);
  assert.is(sum(s, 'lateral_packets_total'), 2 * records.length);
  assert.is(sum(s, 'lateral_packets_total', { verdict: 'drop' }), 2 * dropped.length);
  assert.is(sum(s, 'lateral_bytes_total'), 2 * bytes);
  assert.is(sum(s, 'lateral_drops_total', { reason: 'rule' }), 2 * dropped.length);
  assert.is(sum(s, 'lateral_pair_packets_total'), 2 * records.length);
  assert.is(sum(s, 'lateral_pair_blocked_packets_total'), 2 * dropped.length);
  assert.is(sum(s, 'lateral_alerts_total', { sid: '2100498', action: 'allowed', severity: '2' }), 2);
  assert.is(sum(s, 'lateral_batch_size_packets_count'), 2 * Math.ceil(records.length / 4));
  assert.is(sum(s, 'lateral_batch_size_packets_bucket', { le: '4' }), 2 * Math.ceil(records.length / 4));
  assert.is(sum(s, 'lateral_verdict_latency_seconds_bucket', { le: '0.00025' }), 0);
  assert.is(sum(s, 'lateral_verdict_latency_seconds_bucket', { le: '0.0005' }), 2 * Math.ceil(records.length / 4));
  assert.is(sum(s, 'lateral_workers_reporting'), 2);
  assert.ok(sum(s, 'lateral_flows_active') > 0);
  // The map sees the same pairs, and the pair to port 5432 is marked blocked.
  const snap = map.snapshot(Date.now());
  const server = dropped[0]!.dst;
  const edge = snap.edges.find((e) => e.dst === `c-${server}`);
  assert.ok(edge && edge.blocked);
  const snapStats = m.statsSnapshot();
  assert.is(snapStats.decoderPackets, 2 * records.length);
  assert.is(snapStats.verdicts.drop, 2 * dropped.length);
  assert.is(snapStats.alerts, 2);
});

test('500 synthetic containers: pair series never exceed the bound, totals are kept in "other"', async () => {
  let now = 1_000_000;
  const m = new LateralMetrics({ ...kinds, maxPairSeries: 50, pairIdleMs: 60_000, defaultMetrics: false, now: () => now });
  const w = new WorkerCounters(kinds);
  let packets = 0;
  for (let i = 0; i < 500; i++) {
    for (let j = 1; j <= 4; j++) {
      const slot = w.pairSlot(`svc-${i}`, `svc-${(i + j) % 500}`, j % 2 ? 'http' : 'dns');
      w.flowCreated(slot);
      w.pairPacket(slot, 100, j === 4);
      w.packet(Verdict.ACCEPT, 100);
      packets++;
    }
  }
  w.alert(1, 3, true, w.pairSlot('svc-499', 'svc-0', 'http'));
  m.applyDelta(0, w.takeDelta());
  let s = await scrape(m);
  for (const name of ['lateral_pair_packets_total', 'lateral_pair_bytes_total', 'lateral_pair_flows_total', 'lateral_pair_blocked_packets_total']) {
    assert.ok(series(s, name).length <= 51, `${name} has ${series(s, name).length} series`);
    assert.ok(series(s, name).some((x) => x.labels.src_container === 'other'));
  }
  assert.is(sum(s, 'lateral_pair_packets_total'), packets);
  assert.is(sum(s, 'lateral_pair_bytes_total'), packets * 100);
  assert.is(sum(s, 'lateral_pair_flows_total'), 2000);
  assert.is(sum(s, 'lateral_pair_alerts_total', { action: 'blocked' }), 1);
  assert.is(sum(s, 'lateral_pair_series'), 50);
  assert.ok(sum(s, 'lateral_pair_overflow_admissions_total') >= 1950);

  // Eleven minutes later the first pairs are idle; new pairs may take their slots, the old
  // series disappear (stale in Prometheus) and the bound still holds.
  now += 11 * 60_000;
  const slot = w.pairSlot('new-a', 'new-b', 'tls');
  w.pairPacket(slot, 10, false);
  m.applyDelta(0, w.takeDelta());
  s = await scrape(m);
  assert.ok(series(s, 'lateral_pair_packets_total').some((x) => x.labels.src_container === 'new-a' && x.value === 1));
  assert.ok(series(s, 'lateral_pair_packets_total').length <= 51);
});

test('a worker folds pairs beyond its slot table into "other" too', () => {
  const w = new WorkerCounters(kinds);
  const seen = new Set<number>();
  for (let i = 0; i < 5000; i++) seen.add(w.pairSlot(`a${i}`, 'b', 'http'));
  assert.is(seen.size, 4096);
  const d = w.takeDelta();
  assert.is(d.newPairs[d.newPairs.length - 1]!.src, 'other');
});

test('kernel queue counters from /proc text become monotonic counters (reset- and wrap-safe)', async () => {
  const m = new LateralMetrics({ ...kinds, defaultMetrics: false });
  // Lines as the kernel prints them: queue portid queue_total copy_mode copy_range queue_dropped user_dropped id_sequence 1
  const read = (text: string, enobufs = 0): void => {
    for (const [q, c] of parseNfqueueProcStats(text)) m.setQueueCounters(q, c, q === 0 ? enobufs : 0);
  };
  read('    0 123456     0 2 65531     2     1      100  1\n    1 123457     5 2 65531     0     0        7  1\n');
  read('    0 123456    12 2 65531     2     4      150  1\n', 3);
  read('    0 123456     0 2 65531     0     0       20  1\n', 3); // queue rebound: counters restart
  read('    1 123457     0 2 65531     0     0 4294967290  1\n');
  read('    1 123457     0 2 65531     0     0        4  1\n'); // id_sequence wrapped
  m.setUninspected(10);
  m.setUninspected(25);
  const s = await scrape(m);
  assert.is(sum(s, 'lateral_queue_packets_total', { queue: '0' }), 170);
  assert.is(sum(s, 'lateral_queue_packets_total', { queue: '1' }), 4294967290 + 10);
  assert.is(sum(s, 'lateral_queue_user_dropped_total', { queue: '0' }), 4);
  assert.is(sum(s, 'lateral_queue_dropped_total', { queue: '0' }), 2);
  assert.is(sum(s, 'lateral_queue_enobufs_total', { queue: '0' }), 3);
  assert.is(sum(s, 'lateral_queue_length', { queue: '0' }), 0);
  assert.is(sum(s, 'lateral_uninspected_packets_total'), 25);
  assert.is(m.statsSnapshot().kernelPackets, 170 + 4294967290 + 10);
  assert.throws(() => parseNfqueueProcStats('0 1 2\n'), (e: Error) => e instanceof LateralError && /nfnetlink_queue:1/.test(e.message));
});

test('rule reloads: failure keeps the loaded set, records time and result', async () => {
  const m = new LateralMetrics({ ...kinds, defaultMetrics: false });
  m.recordRuleLoad({ loaded: 120, skipped: 4, success: true, timeSec: 1000 });
  m.recordRuleLoad({ loaded: 0, skipped: 0, success: false, timeSec: 2000 });
  const s = await scrape(m);
  assert.is(sum(s, 'lateral_rules_loaded'), 120);
  assert.is(sum(s, 'lateral_rules_skipped'), 4);
  assert.is(sum(s, 'lateral_rules_last_reload_timestamp_seconds'), 2000);
  assert.is(sum(s, 'lateral_rules_last_reload_success'), 0);
  assert.is(sum(s, 'lateral_rules_reloads_total', { result: 'failure' }), 1);
});

test('anomaly bits map to kinds; mismatched kind lists are refused', async () => {
  const m = new LateralMetrics({ ...kinds, defaultMetrics: false });
  const w = new WorkerCounters(kinds);
  w.anomalies(0b101);
  w.anomalies(0b100);
  w.streamEvent(1);
  m.applyDelta(3, w.takeDelta());
  const s = await scrape(m);
  assert.is(sum(s, 'lateral_decoder_anomalies_total', { kind: 'ipv4_trunc' }), 1);
  assert.is(sum(s, 'lateral_decoder_anomalies_total', { kind: 'ipv4_bad_checksum' }), 2);
  assert.is(sum(s, 'lateral_decoder_anomalies_total', { kind: 'tcp_bad_offset' }), 0);
  assert.is(sum(s, 'lateral_stream_events_total', { event: 'memcap' }), 1);
  const other = new WorkerCounters({ anomalyKinds: ['x'], streamEventKinds: [] });
  assert.throws(() => m.applyDelta(4, other.takeDelta()), /disagree on kind lists/);
});

test('every exported lateral_ name follows Prometheus naming; process defaults present', async () => {
  const m = new LateralMetrics(kinds);
  const text = await m.metricsText();
  const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((x) => [x[1]!, x[2]!] as const);
  assert.ok(types.some(([n]) => n === 'process_cpu_user_seconds_total'));
  for (const [name, type] of types) {
    if (type === 'counter' && name.startsWith('lateral_')) assert.ok(name.endsWith('_total'), name);
    if (type !== 'counter') assert.not.ok(name.endsWith('_total') && name.startsWith('lateral_'), name);
  }
});

test.run();
