// Least privilege, live: `lateral run` on a lab bridge drops to CAP_NET_ADMIN (+CAP_NET_RAW with
// iptables-legacy) once its queues are bound and its rules are in. Proves from the kernel's view
// (/proc/PID/status of every thread) that only the kept set is left, that traffic is still
// judged, a rule reload still works, the metrics listener given a bare port is on loopback, and
// that the rules are still removed at exit without the dropped capabilities.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectIptablesBackend } from '../../src/capture/firewallBackend';
import { listFirewallLeftovers } from '../../src/capture/firewall';
import { readCapabilitySets } from '../../src/cli/privileges';
import { readReloadStatus } from '../../src/cli/runControl';
import { curl, LabLayout, labDown, labUp, lateralCli, LateralProcess, redis, sh, uniquePrefix, uniqueQueue } from '../live/labHarness';

const name = uniquePrefix('prv');
const instance = `t${name}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-priv-'));
const pidFile = path.join(dir, 'run.pid');
const rulesFile = path.join(dir, 'p.rules');
let lab: LabLayout;
let running: LateralProcess | undefined;

const t = suite('least privilege in lateral run (live)');

t.before(async () => {
  lab = await labUp(name);
});

t.after(async () => {
  if (running && running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
  await lateralCli(['uninstall', '--instance', instance]);
  await labDown(name);
  fs.rmSync(dir, { recursive: true, force: true });
});

const CAP_NET_ADMIN = 1n << 12n;
const CAP_NET_RAW = 1n << 13n;

async function waitLog(re: RegExp, timeoutMs = 15000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(running!.stderr);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`no ${re} in: ${running!.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t('after start only CAP_NET_ADMIN (+NET_RAW for legacy) is left; traffic, reload, metrics on loopback and cleanup still work', async () => {
  fs.writeFileSync(rulesFile, 'alert http any any -> any any (msg:"priv test"; content:"/etc/passwd"; http_uri; sid:9300001; rev:1;)\n');
  const q = uniqueQueue();
  const port = 20000 + (q % 20000);
  running = new LateralProcess([
    'run', '--bridge', lab.bridge, '--queues', `${q}-${q + 1}`, '--instance', instance, '--hook', 'forward', '--summary-interval', '0',
    '--rules', rulesFile, '--pid-file', pidFile, '--metrics-listen', String(port),
  ]);
  await running.ready();
  const log = await waitLog(/privileges: kept (\S+); dropped (\d+) capabilities in (\d+)\/(\d+) threads(?: \(thread ([\d,]+))?/);
  const legacy = detectIptablesBackend().name === 'legacy';
  const want = legacy ? CAP_NET_ADMIN | CAP_NET_RAW : CAP_NET_ADMIN;
  assert.is(log[1], legacy ? 'CAP_NET_ADMIN,CAP_NET_RAW' : 'CAP_NET_ADMIN');
  assert.ok(Number(log[2]) >= 30, `dropped ${log[2]}`);

  const pid = running.child.pid!;
  const main = readCapabilitySets(`/proc/${pid}/status`);
  console.log(`  CapEff 0x${main.effective.toString(16)} CapPrm 0x${main.permitted.toString(16)} CapBnd 0x${main.bounding.toString(16)} NoNewPrivs ${main.noNewPrivs}; ${log[0]}`);
  assert.is(main.effective, want, 'CapEff');
  assert.is(main.permitted, want, 'CapPrm');
  assert.is(main.bounding, want, 'CapBnd: no child can get more');
  assert.is(main.inheritable, 0n);
  assert.is(main.ambient, 0n);
  assert.ok(main.noNewPrivs);
  // Every thread (workers, libuv pool, V8) except node's SIGUSR1 watchdog, which is named.
  const watchdog = new Set((log[5] ?? '').split(',').filter(Boolean).map(Number));
  assert.ok(watchdog.size <= 1, `at most the watchdog keeps more: ${log[0]}`);
  const tids = fs.readdirSync(`/proc/${pid}/task`).map(Number);
  assert.ok(tids.length >= 6, `threads ${tids.length}`);
  for (const tid of tids) {
    if (watchdog.has(tid)) continue;
    const c = readCapabilitySets(`/proc/${pid}/task/${tid}/status`);
    assert.is(c.effective | c.permitted | c.bounding, want, `thread ${tid}`);
  }

  // The data path after the drop: verdicts on the bound sockets, alerts, both protocols.
  assert.is((await curl(lab)).code, 0);
  const attack = await sh('ip', ['netns', 'exec', lab.namespaces.attacker.netns, 'curl', '-s', '--max-time', '3', '--path-as-is', `http://${lab.services.http}/../etc/passwd`]);
  assert.ok(attack.code === 0 || attack.code === 22, attack.stderr);
  assert.is((await redis(lab, 'PING')).stdout.trim(), 'PONG');

  // Metrics: a bare port is loopback only.
  assert.match(running.stderr, `metrics on http://127.0.0.1:${port}/metrics`);
  const ss = await sh('ss', ['-Hltn', `sport = :${port}`]);
  assert.match(ss.stdout, `127.0.0.1:${port}`);
  assert.not.match(ss.stdout, `0.0.0.0:${port}`);
  const m = await fetch(`http://127.0.0.1:${port}/metrics`);
  const body = await m.text();
  assert.match(body, /lateral_rules_reloads_total\{result="success"\} 1/);

  // A reload reads and compiles without CAP_DAC_OVERRIDE.
  running.child.kill('SIGHUP');
  const deadline = Date.now() + 20000;
  while ((readReloadStatus(pidFile)?.generation ?? 0) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(readReloadStatus(pidFile)?.ok, running.stderr);

  assert.is(await running.stop('SIGINT'), 0, running.stderr);
  assert.ok(running.counter('packets') >= 14, `judged after the drop: ${running.counter('packets')}`);
  assert.ok(running.counter('alerts') >= 1, `the attack alerted: ${running.stderr}`);
  assert.is(running.counter('unverdicted'), 0);
  assert.not.match(running.stderr, 'could not remove');
  assert.equal(listFirewallLeftovers(detectIptablesBackend(), instance), [], 'rules removed with CAP_NET_ADMIN only');
  assert.not.ok(fs.existsSync(pidFile), 'pid file removed');
});

t.run();
