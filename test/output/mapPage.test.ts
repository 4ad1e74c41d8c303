// The live map in headless Chromium: the page renders containers, flows and alerts from
// /api/map, highlights the edge that carried blocked traffic, updates when the data changes,
// escapes hostile container names, and fetches nothing but its own server. Screenshots go to
// /tmp/lateral-artifacts/. Needs Debian's chromium (scripts/setup).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { chromium } from 'playwright-core';
import { LateralMetrics } from '../../src/output/metrics';
import { MetricsServer } from '../../src/output/metricsServer';
import { TrafficMap } from '../../src/output/trafficMap';
import { Verdict, WorkerCounters } from '../../src/output/workerCounters';
import type { AlertRecordInput } from '../../src/output/eveAlert';

const CHROMIUM = process.env.LATERAL_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = '/tmp/lateral-artifacts';
const kinds = { anomalyKinds: [], streamEventKinds: [] };

function mapped(a: number, b: number, c: number, d: number): Uint8Array {
  const x = new Uint8Array(16);
  x[10] = 0xff; x[11] = 0xff; x[12] = a; x[13] = b; x[14] = c; x[15] = d;
  return x;
}

function alert(src: string, dst: string, sid: number, blocked: boolean, signature: string): AlertRecordInput {
  return {
    tsSec: Math.floor(Date.now() / 1000), tsUsec: 0, flowId: sid, ipVersion: 4, src: mapped(172, 18, 0, 2), dst: mapped(172, 18, 0, 3),
    srcPort: 40000, dstPort: 5432, ipProto: 6, toServer: true, blocked, gid: 1, sid, rev: 1, signature, category: '', severity: 1,
    srcContainer: { name: src }, destContainer: { name: dst, image: 'postgres:16', network: 'backend' },
  };
}

test('map renders, highlights blocked edges and follows changes', async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium (see scripts/setup)`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // A fixed clock, so that rates do not depend on how long Chromium takes to start.
  let now = Date.now();
  const clock = (): number => now;
  const map = new TrafficMap();
  const metrics = new LateralMetrics({ ...kinds, map, defaultMetrics: false, now: clock });
  const w = new WorkerCounters(kinds);
  const feed = (src: string, dst: string, app: string, packets: number, blocked: boolean): void => {
    const slot = w.pairSlot(src, dst, app);
    w.flowCreated(slot);
    for (let i = 0; i < packets; i++) {
      w.packet(blocked ? Verdict.DROP : Verdict.ACCEPT, 1000);
      w.pairPacket(slot, 1000, blocked);
    }
  };
  feed('web', 'api', 'http', 50, false);
  feed('api', 'db', 'pgsql', 30, false);
  feed('web', 'db', 'pgsql', 5, true);
  metrics.applyDelta(0, w.takeDelta());
  map.recordAlert(alert('web', 'db', 2010935, true, 'ET SCAN Suspicious inbound to PostgreSQL port 5432'), now);

  const server = new MetricsServer({ metrics, map, listen: '127.0.0.1:0', now: clock });
  const { port } = await server.start();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
    const foreign: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(`http://127.0.0.1:${port}/`)) foreign.push(r.url());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('[data-node="db"]', { timeout: 10_000 });
    assert.equal((await page.$$eval('[data-node]', (els) => els.map((e) => e.getAttribute('data-node')))).sort(), ['api', 'db', 'web']);
    assert.is(await page.getAttribute('[data-edge="web->db"]', 'data-blocked'), 'true');
    assert.is(await page.getAttribute('[data-edge="web->api"]', 'data-blocked'), 'false');
    // 50 packets of 1000 bytes in the first one-second report: about 50 kB/s.
    const rate = Number(await page.getAttribute('[data-edge="web->api"]', 'data-rate'));
    assert.is(rate, 50_000);
    assert.match((await page.textContent('[data-edge="web->api"] text')) ?? '', /^50 KB\/s http$/);
    const stroke = (await page.evaluate('getComputedStyle(document.querySelector(\'[data-edge="web->db"] line\')).stroke')) as string;
    assert.is(stroke, 'rgb(229, 72, 60)');
    assert.match((await page.textContent('#alerts')) ?? '', /web → db:5432.*2010935/);
    assert.match((await page.textContent('[data-node="db"]')) ?? '', /postgres:16 · backend/);
    await page.screenshot({ path: `${ARTIFACTS}/map-initial.png` });

    // New traffic and a hostile container name: the page must pick both up on its next poll
    // and show the name as text.
    const hostile = '<img src=x onerror=alert(1)>';
    now += 1000;
    feed('api', hostile, 'redis', 20, false);
    metrics.applyDelta(0, w.takeDelta());
    map.recordAlert(alert('api', 'cache', 2027863, false, 'ET INFO Redis CONFIG SET'), now);
    await page.waitForSelector('tr[data-sid="2027863"]', { timeout: 10_000 });
    const nodes = await page.$$eval('[data-node]', (els) => els.map((e) => e.getAttribute('data-node')));
    assert.ok(nodes.includes(hostile));
    assert.is(await page.$$eval('img', (els) => els.length), 0);
    assert.is(await page.textContent('#summary'), '5 containers, 5 flows between them, 1 with blocked traffic, 2 recent alerts');
    await page.screenshot({ path: `${ARTIFACTS}/map-updated.png` });
    assert.ok(fs.statSync(`${ARTIFACTS}/map-updated.png`).size > 5000);
    assert.equal(foreign, []);
    assert.equal(errors, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});

test.run();
