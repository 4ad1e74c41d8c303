// `lateral run` with the detection engine on the real kernel path: a private namespace lab,
// rules/lateral.rules, EVE to a file, container names from the lab's layout JSON and
// --metrics-listen. Normal HTTP and Redis pass; the attacker's path traversal and Redis
// CONFIG SET are dropped (the clients fail) and alerted with the right sids and containers;
// /metrics, /api/map and a real Prometheus (every dashboard query) see it; --monitor alerts
// but lets the attack through. The lab and the rules are removed even when a test fails.
import { PROMETHEUS, PrometheusServer, type PromSample } from '../support/prometheus';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { repoRoot } from '../support/corpus';
import { curl, inNs, LabLayout, labDown, labUp, lateralCli, LateralProcess, redis, uniquePrefix, uniqueQueue } from './labHarness';

const CHROMIUM = process.env.LATERAL_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = '/tmp/lateral-artifacts';

const RULES = path.join(repoRoot, 'rules', 'lateral.rules');
const RULE_COUNT = fs.readFileSync(RULES, 'utf8').split('\n').filter((l) => /^(alert|drop|pass|reject)\s/.test(l)).length;
const name = uniquePrefix('eng');
const instance = `t${name}`;
let lab: LabLayout;
let dir: string;
let layoutFile: string;
let running: LateralProcess | undefined;

const live = suite('lateral run with the engine (live)');

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

live.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-engine-'));
  lab = await labUp(name);
  layoutFile = path.join(dir, 'lab.json');
  fs.writeFileSync(layoutFile, JSON.stringify(lab));
});

live.after.each(async () => {
  if (running && running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
  running = undefined;
  await killAttackerSockets();
});

/**
 * A dropped attack leaves its client socket retransmitting the request for minutes after
 * curl/redis-cli gave up (FIN-WAIT-1 with unacknowledged data). The next test's Lateral would
 * pick that retransmission up midstream as a new flow and rightly alert on it again; each test
 * starts with the attacker's sockets destroyed so it counts only its own attacks.
 */
async function killAttackerSockets(): Promise<void> {
  await inNs(lab.namespaces.attacker.netns, 'ss', ['-K', '-tn']);
}

live.after(async () => {
  await lateralCli(['uninstall', '--instance', instance]);
  await labDown(name);
  fs.rmSync(dir, { recursive: true, force: true });
});

interface EveLine {
  event_type: string;
  src_ip?: string;
  dest_port?: number;
  alert?: { action: string; signature_id: number };
  src_container?: { name: string; network?: string };
  dest_container?: { name: string };
  stats?: { detect: { alert: number }; lateral: { verdict: Record<string, number> } };
}

function readEve(file: string): EveLine[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as EveLine);
}

async function start(eve: string, metricsPort: number, ...extra: string[]): Promise<LateralProcess> {
  const q = uniqueQueue();
  const p = new LateralProcess([
    'run', '--bridge', lab.bridge, '--queues', `${q}-${q + 1}`, '--instance', instance, '--hook', 'forward',
    '--summary-interval', '0', '--stats-interval', '1',
    '--rules', RULES,
    '--eve', eve, '--containers', layoutFile, '--metrics-listen', `127.0.0.1:${metricsPort}`, ...extra,
  ]);
  await p.ready(60_000); // iptables waits for the xtables lock: slow on a busy machine
  return p;
}

/** The attacker's path traversal against web (sid 1800060). */
function traversal(timeoutSec = 3): Promise<{ code: number; stdout: string }> {
  return inNs(lab.namespaces.attacker.netns, 'curl', ['-s', '--path-as-is', '--max-time', String(timeoutSec), `http://${lab.services.http}/../../etc/passwd`], (timeoutSec + 5) * 1000);
}

/** Prometheus text → sum of the samples of `metric` whose labels contain every `want` pair. */
function sample(text: string, metric: string, want: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    if (Object.entries(want).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

live('IPS: normal traffic passes, attacks are dropped, alerted with container names and counted', async () => {
  const eve = path.join(dir, 'ips.json');
  const port = await freePort();
  running = await start(eve, port);
  assert.match(running.stderr, new RegExp(`rules: ${RULE_COUNT} loaded, 0 skipped .*IPS: drop rules drop; EXTERNAL_NET any`));

  const ok = await curl(lab);
  assert.is(ok.code, 0, `normal HTTP: ${ok.stderr}`);
  assert.match(ok.stdout, `lateral lab web (${name})`);
  assert.is((await redis(lab, 'SET', 'k', 'v')).stdout.trim(), 'OK');
  assert.is((await redis(lab, 'GET', 'k')).stdout.trim(), 'v');

  const attack = await traversal();
  assert.is.not(attack.code, 0, 'path traversal must not get an answer');
  assert.is(attack.stdout, '');
  const cfg = await redis(lab, 'CONFIG', 'SET', 'dir', '/tmp');
  // No answer at all (redis would answer OK, or ERR for a protected config).
  assert.is(cfg.stdout.trim(), '', 'CONFIG SET must not reach redis');
  assert.is.not(cfg.code, 0);
  // The flow is blocked, not the containers: a new normal request still works.
  assert.is((await curl(lab)).code, 0);

  const alerts = await waitFor('two alerts in EVE', () => {
    const a = readEve(eve).filter((l) => l.event_type === 'alert');
    return a.length >= 2 ? a : undefined;
  });
  const bySid = new Map(alerts.map((a) => [a.alert!.signature_id, a]));
  assert.equal([...bySid.keys()].sort(), [1800030, 1800060]);
  const http = bySid.get(1800060)!;
  assert.is(http.alert!.action, 'blocked');
  assert.is(http.src_container?.name, 'attacker');
  assert.is(http.src_container?.network, lab.bridge);
  assert.is(http.dest_container?.name, 'web');
  assert.is(http.src_ip, lab.namespaces.attacker.ip);
  const red = bySid.get(1800030)!;
  assert.is(red.alert!.action, 'blocked');
  assert.is(red.src_container?.name, 'attacker');
  assert.is(red.dest_container?.name, 'db');
  assert.is(red.dest_port, 6379);
  assert.is(alerts.length, 2, 'one alert per attack: later packets of a blocked flow drop silently');

  // Worker deltas arrive about once a second.
  const text = await waitFor('metrics with both alerts', async () => {
    const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return sample(t, 'lateral_alerts_total') >= 2 ? t : undefined;
  });
  assert.is(sample(text, 'lateral_alerts_total', { sid: '1800060', action: 'blocked' }), 1);
  assert.is(sample(text, 'lateral_alerts_total', { sid: '1800030', action: 'blocked' }), 1);
  assert.is(sample(text, 'lateral_alerts_total'), 2);
  // Six TCP conversations of at least 7 packets each; the two attacks lose their request
  // and its retransmissions.
  assert.ok(sample(text, 'lateral_packets_total', { verdict: 'accept' }) >= 4 * 7, text);
  assert.ok(sample(text, 'lateral_packets_total', { verdict: 'drop' }) >= 2);
  assert.is(sample(text, 'lateral_drops_total', { reason: 'rule' }), 2);
  assert.ok(sample(text, 'lateral_pair_packets_total', { src_container: 'attacker', dest_container: 'web' }) >= 14);
  assert.ok(sample(text, 'lateral_pair_blocked_packets_total', { src_container: 'attacker', dest_container: 'db' }) >= 1);
  assert.ok(sample(text, 'lateral_flows_created_total') >= 6);
  assert.is(sample(text, 'lateral_rules_loaded'), RULE_COUNT);
  assert.ok(sample(text, 'lateral_queue_packets_total') > 0);

  const map = (await (await fetch(`http://127.0.0.1:${port}/api/map`)).json()) as { edges: Array<{ src: string; dst: string; blocked: boolean }> };
  assert.is(map.edges.find((e) => e.src === 'attacker' && e.dst === 'web')?.blocked, true);

  const code = await running.stop('SIGINT');
  assert.is(code, 0, running.stderr);
  // Metrics totals and the summary line count the same packets.
  assert.is(running.counter('alerts'), 2);
  assert.is(running.counter('alerts_lost'), 0);
  assert.ok(running.counter('dropped') >= 2);
  const stats = readEve(eve).filter((l) => l.event_type === 'stats');
  const last = stats[stats.length - 1]!;
  assert.is(last.stats!.detect.alert, 2);
  assert.is(last.stats!.lateral.verdict['accept']! + last.stats!.lateral.verdict['drop']! + last.stats!.lateral.verdict['bypass']!, running.counter('packets'));
});

live('monitor with --eve -: the attack alerts as allowed and gets through; stdout is pure EVE', async () => {
  const q = uniqueQueue();
  running = new LateralProcess([
    'run', '--bridge', lab.bridge, '--queues', `${q}-${q + 1}`, '--instance', instance, '--hook', 'forward',
    '--summary-interval', '0', '--stats-interval', '0', '--rules', RULES, '--eve', '-', '--containers', layoutFile, '--monitor',
  ]);
  let stdout = '';
  running.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  await running.ready(60_000);
  assert.match(running.stderr, /monitor: alert only/);
  const attack = await traversal();
  assert.is(attack.code, 0, 'busybox httpd answers (404) in monitor mode');
  // Redis answers (OK, or ERR when its version protects `dir`): the command reached it.
  assert.match((await redis(lab, 'CONFIG', 'SET', 'dir', '/tmp')).stdout.trim(), /^(OK|ERR)/);
  await waitFor('monitor alerts on stdout', () => (stdout.split('\n').filter((l) => l.includes('"event_type":"alert"')).length >= 2 ? true : undefined));
  const out = running.child.stdout!;
  const closed = out.closed ? Promise.resolve() : new Promise((r) => out.once('close', r));
  assert.is(await running.stop('SIGINT'), 0);
  // 'exit' can come before the last bytes of the pipe were read.
  await closed;
  assert.is(running.counter('dropped'), 0);
  const lines = stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as EveLine);
  const alerts = lines.filter((l) => l.event_type === 'alert');
  const fired = alerts.map((a) => `${a.alert!.signature_id}:${a.alert!.action}`).sort();
  assert.equal(fired, ['1800030:allowed', '1800060:allowed'], 'one alert per attack');
  // --stats-interval 0: one stats record, at exit.
  assert.is(lines.filter((l) => l.event_type === 'stats').length, 1);
  assert.is(lines[lines.length - 1]!.event_type, 'stats');
  assert.match(running.stderr, /lateral: final packets=/);
});

live('SIGUSR1 reopens the EVE file after logrotate moved it', async () => {
  const eve = path.join(dir, 'rotate.json');
  running = await start(eve, await freePort(), '--monitor');
  assert.is((await traversal()).code, 0);
  await waitFor('first alert', () => (readEve(eve).some((l) => l.event_type === 'alert') ? true : undefined));
  fs.renameSync(eve, `${eve}.1`);
  running.child.kill('SIGUSR1');
  await waitFor('reopened file', () => (fs.existsSync(eve) ? true : undefined));
  assert.is((await traversal()).code, 0);
  await waitFor('alert in the new file', () => (readEve(eve).some((l) => l.event_type === 'alert') ? true : undefined));
  assert.is(await running.stop('SIGINT'), 0);
  assert.is(readEve(`${eve}.1`).filter((l) => l.event_type === 'alert').length, 1);
  assert.is(readEve(eve).filter((l) => l.event_type === 'alert').length, 1);
});

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}

function query(base: PrometheusServer, expr: string): Promise<PromSample[]> {
  return base.query(expr);
}

live('Prometheus scrapes the running lateral: every dashboard query has data; the map shows the blocked edge', async () => {
  assert.ok(fs.existsSync(PROMETHEUS), `${PROMETHEUS} missing (scripts/setup installs it)`);
  const dashboard = JSON.parse(fs.readFileSync(path.join(repoRoot, 'docs', 'dashboards', 'lateral.json'), 'utf8')) as { panels: Panel[] };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  const metricsPort = await freePort();
  running = await start(path.join(dir, 'prom.json'), metricsPort);

  let prom: PrometheusServer | undefined;
  try {
    prom = await PrometheusServer.start(path.join(dir, 'prom'), metricsPort);
    const base = prom;

    // Demo traffic and attacks while Prometheus collects enough scrapes for rate().
    const deadline = Date.now() + 40_000;
    let samples = 0;
    let round = 0;
    while (Date.now() < deadline) {
      await curl(lab);
      await redis(lab, 'SET', 'k', String(round));
      if (round < 2) {
        await traversal(1);
        await redis(lab, 'CONFIG', 'SET', 'dir', '/tmp');
      }
      round++;
      try {
        const r = await query(base, 'count_over_time(up{job="lateral"}[1m])');
        samples = Number(r[0]?.value[1] ?? 0);
        if (samples >= 8) break;
      } catch {
        // Prometheus not up yet.
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(samples >= 8, `prometheus scraped ${samples} times; log:\n${prom.log.slice(-2000)}`);
    const up = await query(base, 'up{job="lateral"}');
    assert.is(up[0]?.value[1], '1');
    const inst = up[0]!.metric.instance!;

    const failures: string[] = [];
    let checked = 0;
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        const expr = t.expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', inst);
        const result = await query(base, expr);
        checked++;
        if (!result.some((s) => Number.isFinite(Number(s.value[1])))) failures.push(`"${p.title}": ${expr} -> ${JSON.stringify(result)}`);
      }
    }
    assert.equal(failures, [], `panels without data:\n${failures.join('\n')}`);
    assert.ok(checked >= 30, `only ${checked} queries`);
    const blocked = await query(base, `sum(lateral_alerts_total{instance="${inst}",action="blocked"})`);
    assert.is(Number(blocked[0]!.value[1]), 4, 'one blocked alert per attack');

    const map = (await (await fetch(`http://127.0.0.1:${metricsPort}/api/map`)).json()) as { edges: Array<{ src: string; dst: string; blocked: boolean; packets: number }> };
    const edge = map.edges.find((e) => e.src === 'attacker' && e.dst === 'web');
    assert.ok(edge && edge.blocked && edge.packets > 0, JSON.stringify(map.edges));

    if (fs.existsSync(CHROMIUM)) {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
        await page.goto(`http://127.0.0.1:${metricsPort}/`);
        await page.waitForSelector('[data-edge="attacker->web"]', { timeout: 10_000 });
        assert.is(await page.getAttribute('[data-edge="attacker->web"]', 'data-blocked'), 'true');
        await page.screenshot({ path: `${ARTIFACTS}/map-live-lab.png` });
      } finally {
        await browser.close();
      }
    }
  } finally {
    await prom?.stop();
  }
  assert.is(await running.stop('SIGINT'), 0);
});

live.run();
