// The Grafana dashboard against a REAL Prometheus: start Debian's prometheus on loopback
// with its own config and data dir, let it scrape a MetricsServer fed through the real
// metrics API (worker deltas, kernel counters, EVE writer on /dev/full), then run every
// panel's PromQL (Grafana variables substituted) and require a finite value from each.
import { PROMETHEUS, PrometheusServer, type PromSample } from '../support/prometheus';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../support/corpus';
import { EveWriter } from '../../src/output/eveWriter';
import { LateralMetrics } from '../../src/output/metrics';
import { MetricsServer } from '../../src/output/metricsServer';
import { DropReason, EvictReason, Verdict, WorkerCounters } from '../../src/output/workerCounters';

const kinds = { anomalyKinds: ['ipv4_trunc', 'tcp_bad_offset'], streamEventKinds: ['overlap', 'memcap'] };

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function query(base: PrometheusServer, expr: string): Promise<PromSample[]> {
  return base.query(expr);
}

/** One second of synthetic but realistic activity on two workers, through the real APIs. */
function feed(m: LateralMetrics, workers: WorkerCounters[], tick: number): void {
  workers.forEach((w, id) => {
    const web = w.pairSlot('web', 'api', 'http');
    const db = w.pairSlot('api', 'db', 'pgsql');
    for (let i = 0; i < 100; i++) {
      const blocked = i % 10 === 0;
      w.packet(blocked ? Verdict.DROP : Verdict.ACCEPT, 600 + i);
      w.pairPacket(i % 2 ? web : db, 600 + i, blocked);
      if (blocked) w.drop(i % 20 === 0 ? DropReason.RULE : DropReason.FLOW_BLOCKED);
    }
    w.packet(Verdict.BYPASS, 1500);
    w.flowCreated(web);
    w.flowCreated(db);
    w.flowEvicted(EvictReason.TIMEOUT);
    w.flowBypassed();
    w.anomalies(0b11);
    w.streamEvent(0);
    w.setFlowsActive(40 + tick);
    w.setStreamMemory(65536);
    w.batch(16, 0.0002 * (1 + (tick % 5)));
    w.batch(64, 0.004);
    w.alert(2010935, 2, true, db);
    w.alert(2027863, 3, false, web);
    m.applyDelta(id, w.takeDelta());
    m.setQueueCounters(id, { queueTotal: tick % 7, queueDropped: 3 * tick, userDropped: 2 * tick, idSequence: 1000 * tick }, tick);
  });
  m.setUninspected(5 * tick);
}

test('every dashboard panel query returns data from a real Prometheus', async () => {
  assert.ok(fs.existsSync(PROMETHEUS), `${PROMETHEUS} missing: apt-get install prometheus (see scripts/setup)`);
  const dashboard = JSON.parse(fs.readFileSync(path.join(repoRoot, 'docs', 'dashboards', 'lateral.json'), 'utf8')) as { panels: Panel[] };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  assert.ok(panels.length >= 12);

  const metrics = new LateralMetrics(kinds);
  metrics.recordRuleLoad({ loaded: 4210, skipped: 37, success: true, timeSec: Date.now() / 1000 });
  const eve = new EveWriter('/dev/full');
  metrics.attachEveWriter(eve);
  const server = new MetricsServer({ metrics, listen: '127.0.0.1:0' });
  const { port: metricsPort } = await server.start();
  const workers = [new WorkerCounters(kinds), new WorkerCounters(kinds)];
  let tick = 1;
  feed(metrics, workers, tick);
  const feeder = setInterval(() => {
    feed(metrics, workers, ++tick);
    eve.write({ event_type: 'alert', tick });
  }, 250);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-obs-prom-'));
  let prom: PrometheusServer | undefined;
  try {
    prom = await PrometheusServer.start(dir, metricsPort);
    const base = prom;

    // Wait for enough scrapes that rate() over the window has several samples.
    const deadline = Date.now() + 40_000;
    let samples = 0;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      try {
        const r = await query(base, 'count_over_time(up{job="lateral"}[1m])');
        samples = Number(r[0]?.value[1] ?? 0);
        if (samples >= 5) break;
      } catch {
        // Not up yet.
      }
    }
    assert.ok(samples >= 5, `prometheus scraped ${samples} times; log:\n${prom.log.slice(-2000)}`);
    const up = await query(base, 'up{job="lateral"}');
    assert.is(up[0]?.value[1], '1');
    const instance = up[0]!.metric.instance!;

    const failures: string[] = [];
    let checked = 0;
    for (const p of panels) {
      assert.ok(p.targets && p.targets.length > 0, `panel "${p.title}" has no query`);
      for (const t of p.targets!) {
        const expr = t.expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', instance);
        const result = await query(base, expr);
        checked++;
        const finite = result.filter((s) => Number.isFinite(Number(s.value[1])));
        if (finite.length === 0) failures.push(`"${p.title}": ${expr} -> ${JSON.stringify(result)}`);
      }
    }
    assert.equal(failures, [], `panels without data:\n${failures.join('\n')}`);
    assert.ok(checked >= 30, `only ${checked} queries`);

    // Spot-check values, not just presence.
    const drops = await query(base, `sum(increase(lateral_drops_total{instance="${instance}"}[1m]))`);
    assert.ok(Number(drops[0]!.value[1]) > 0);
    const pairs = await query(base, 'count(lateral_pair_bytes_total)');
    assert.is(pairs[0]!.value[1], '2');
  } finally {
    clearInterval(feeder);
    await prom?.stop();
    await server.stop();
    await eve.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
