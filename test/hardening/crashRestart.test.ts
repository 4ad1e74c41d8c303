// Crash and restart, live: `kill -9` of `lateral run` in the middle of a counted UDP stream, then
// the same command again (what the supervisor's Restart=always does). test/live/run.test.ts
// already shows traffic passing (fail-open) or blocked (fail-closed) after a kill -9 and the
// rules left behind; this adds what happens across the restart: traffic during the outage,
// rebinding, the rules reinstalled exactly once (no duplicates), the new process judging the
// stream, and fail-closed blocking exactly while nobody listens. Also checks the systemd unit
// with systemd-analyze; systemdRestart.test.ts has a real systemd restart it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectIptablesBackend } from '../../src/capture/firewallBackend';
import { listFirewallLeftovers } from '../../src/capture/firewall';
import { readNfqueueProc } from '../../src/capture/nfqueueProc';
import { repoRoot } from '../support/corpus';
import { LabLayout, labDown, labUp, lateralCli, LateralProcess, sh, uniquePrefix, uniqueQueue } from '../live/labHarness';
import { UdpCounter } from '../live/udpCounter';

const name = uniquePrefix('crs');
const instance = `t${name}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-crash-'));
const pidFile = path.join(dir, 'run.pid');
let lab: LabLayout;
let running: LateralProcess | undefined;
let traffic: UdpCounter | undefined;

const t = suite('crash and restart (live)');

t.before(async () => {
  lab = await labUp(name);
});

t.after.each(() => {
  traffic?.close();
  traffic = undefined;
  if (running && running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
});

t.after(async () => {
  await lateralCli(['uninstall', '--instance', instance]);
  await labDown(name);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Our rules in the kernel, as iptables-save prints them (both families, every table). */
async function ourRules(): Promise<string[]> {
  const b = detectIptablesBackend();
  const out: string[] = [];
  for (const cmd of [b.iptablesSave, b.ip6tablesSave]) {
    const r = await sh(cmd, []);
    out.push(...r.stdout.split('\n').filter((l) => l.includes(`lateral:${instance}`) || l.includes(`lateral-${instance}`)));
  }
  return out.sort();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function args(q: number, ...extra: string[]): string[] {
  return ['run', '--bridge', lab.bridge, '--queues', `${q}-${q + 1}`, '--instance', instance, '--hook', 'forward', '--summary-interval', '0', '--pid-file', pidFile, ...extra];
}

async function crashAndRestart(mode: '--fail-open' | '--fail-closed', port: number): Promise<void> {
  const q = uniqueQueue();
  running = new LateralProcess(args(q, mode));
  await running.ready();
  const installed = await ourRules();
  assert.ok(installed.length >= 6, `rules installed: ${installed.join('\n')}`);
  const web = lab.namespaces.web;
  traffic = new UdpCounter(lab.namespaces.attacker.netns, web.netns, web.ip, port, 300);
  await traffic.ready();
  await sleep(1500);

  running.child.kill('SIGKILL');
  await running.stop('SIGKILL');
  const killedAt = Date.now();
  assert.equal(await ourRules(), installed, 'a crash leaves the rules as they were');
  assert.is(readNfqueueProc().filter((e) => e.queue === q || e.queue === q + 1).length, 0, 'nobody listens on our queues');
  const markerWhileDown = await traffic.marker('down', 1500);
  if (mode === '--fail-open') assert.ok(markerWhileDown, 'fail-open: traffic passes while Lateral is down (--queue-bypass)');
  else assert.not.ok(markerWhileDown, 'fail-closed: traffic is blocked while Lateral is down');

  // The supervisor starts the same command again (stale pid file and all).
  running = new LateralProcess(args(q, mode));
  await running.ready();
  const downMs = Date.now() - killedAt;
  assert.equal(await ourRules(), installed, 'reinstalled idempotently: the same rules, none twice');
  assert.is(readNfqueueProc().filter((e) => e.queue === q || e.queue === q + 1).length, 2, 'both queues bound again');
  assert.ok(await traffic.marker('up', 3000), 'traffic flows through the restarted Lateral');
  await sleep(1500);
  const counts = await traffic.finish();
  assert.is(await running.stop('SIGINT'), 0, running.stderr);
  const judged = running.counter('packets');
  const lost = counts.sent - counts.received;
  console.log(`  ${mode}: down ${downMs} ms; stream sent ${counts.sent}, received ${counts.received} (lost ${lost}); restarted Lateral judged ${judged}; rules ${installed.length} before and after`);
  assert.ok(judged >= 300, `the restarted process judged the stream: ${judged}`);
  assert.is(running.counter('unverdicted'), 0);
  if (mode === '--fail-open') {
    // Only what sat in the queue at the kill (the kernel drops a dead listener's packets).
    assert.ok(lost <= 64, `fail-open loses at most the packets queued at the kill: ${lost}`);
  } else {
    // Everything sent while nobody listened, and only that.
    assert.ok(lost >= (downMs / 1000) * 300 * 0.5, `fail-closed blocked while down: lost ${lost} in ${downMs} ms`);
    assert.ok(lost <= ((downMs + 1000) / 1000) * 300 + 64, `and not more: ${lost}`);
  }
  assert.equal(listFirewallLeftovers(detectIptablesBackend(), instance), [], 'SIGINT removed the rules');
}

t('fail-open: kill -9 mid-stream, traffic passes while down; restart rebinds and reinstalls once', async () => {
  await crashAndRestart('--fail-open', 9411);
});

t('fail-closed: kill -9 mid-stream, traffic blocked while down; restart rebinds and reinstalls once', async () => {
  await crashAndRestart('--fail-closed', 9412);
});

t('the systemd unit verifies (Restart=always, ExecReload=SIGHUP, bounded capabilities)', async () => {
  const unit = fs.readFileSync(path.join(repoRoot, 'deploy', 'lateral.service'), 'utf8');
  assert.match(unit, /^Restart=always$/m);
  assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  assert.match(unit, /^CapabilityBoundingSet=CAP_NET_ADMIN /m);
  const which = await sh('sh', ['-c', 'command -v systemd-analyze']);
  if (which.code !== 0) {
    console.log('  systemd-analyze not installed: unit syntax not verified');
    return;
  }
  // The unit names /opt/lateral; point it at this checkout so verify can check the binary.
  const copy = path.join(dir, 'lateral.service');
  fs.writeFileSync(copy, unit.replaceAll('/opt/lateral', repoRoot));
  const r = await sh('systemd-analyze', ['verify', copy]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr.trim(), '', r.stderr);
});

t.run();
