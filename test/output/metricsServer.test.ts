// The HTTP listener: /metrics in Prometheus text format, /api/map JSON, the map page, 404,
// methods, and --metrics-listen parsing errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LateralMetrics } from '../../src/output/metrics';
import { MetricsServer, parseListenAddress } from '../../src/output/metricsServer';
import { TrafficMap } from '../../src/output/trafficMap';
import { Verdict, WorkerCounters } from '../../src/output/workerCounters';
import { LateralError } from '../../src/errors';
import { parsePromText, sum } from './fixtures/promText';

const kinds = { anomalyKinds: ['a'], streamEventKinds: ['b'] };

test('parseListenAddress: host:port, [v6]:port, :port, errors name the flag', () => {
  assert.equal(parseListenAddress('127.0.0.1:9640'), { host: '127.0.0.1', port: 9640 });
  assert.equal(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.equal(parseListenAddress(':9100'), { host: '127.0.0.1', port: 9100 });
  for (const bad of ['9640', 'host:99999', 'a:b', '']) {
    try {
      parseListenAddress(bad);
      assert.unreachable(bad);
    } catch (e) {
      assert.instance(e, LateralError);
      assert.is((e as LateralError).code, 'LATERAL_ERR_USAGE');
      assert.match((e as Error).message, /--metrics-listen/);
    }
  }
});

test('serves /metrics, /api/map, / and 404 on loopback', async () => {
  const map = new TrafficMap();
  const metrics = new LateralMetrics({ ...kinds, map, defaultMetrics: false });
  const w = new WorkerCounters(kinds);
  const slot = w.pairSlot('web', 'db', 'pgsql');
  w.flowCreated(slot);
  for (let i = 0; i < 10; i++) {
    w.packet(Verdict.ACCEPT, 60);
    w.pairPacket(slot, 60, false);
  }
  metrics.applyDelta(0, w.takeDelta());
  const server = new MetricsServer({ metrics, map, listen: '127.0.0.1:0' });
  const addr = await server.start();
  try {
    const base = `http://127.0.0.1:${addr.port}`;
    const m = await fetch(`${base}/metrics`);
    assert.is(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /text\/plain/);
    const s = parsePromText(await m.text());
    assert.is(sum(s, 'lateral_packets_total', { verdict: 'accept' }), 10);
    assert.is(sum(s, 'lateral_pair_bytes_total', { src_container: 'web', dest_container: 'db', app_proto: 'pgsql' }), 600);

    const j = (await (await fetch(`${base}/api/map`)).json()) as { nodes: Array<{ id: string }>; edges: Array<{ src: string; dst: string; bytes: number }> };
    assert.equal(j.nodes.map((n) => n.id), ['db', 'web']);
    assert.equal(j.edges.map((e) => [e.src, e.dst, e.bytes]), [['web', 'db', 600]]);

    const page = await fetch(`${base}/`);
    assert.is(page.status, 200);
    const html = await page.text();
    assert.match(html, /<svg id="map"/);
    assert.not.match(html, /https?:\/\/(?!www\.w3\.org)/); // nothing fetched from elsewhere
    assert.is((await fetch(`${base}/nope`)).status, 404);
    assert.is((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await server.stop();
  }
});

test('a busy port is a clear usage error', async () => {
  const metrics = new LateralMetrics({ ...kinds, defaultMetrics: false });
  const a = new MetricsServer({ metrics, listen: '127.0.0.1:0' });
  const addr = await a.start();
  const b = new MetricsServer({ metrics, listen: `127.0.0.1:${addr.port}` });
  try {
    await b.start();
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LateralError);
    assert.match((e as Error).message, /EADDRINUSE/);
  } finally {
    await a.stop();
  }
});

test.run();
