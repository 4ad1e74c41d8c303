// Issue 5 against a real dockerd (scripts/docker-env): Lateral protecting Docker's own bridge
// networks. Three containers w2-web (httpd), w2-db (redis) and w2-attacker on a user-defined
// network; an in-process engine (the same EngineVerdictHandler the workers run) drops the
// attacker's Redis exploit and names both containers; then `lateral run --all-networks` as a
// child process: canary, a network created later, `docker network rm`, a flushed DOCKER-USER,
// an ICC=false network, and a dockerd restart. Everything created here is w2-* / w2n* and is
// removed in after(), even when a test fails.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../support/corpus';
import { sh, LateralProcess, lateralCli } from '../live/labHarness';
import { Firewall, listFirewallLeftovers } from '../../src/capture/firewall';
import { detectIptablesBackend } from '../../src/capture/firewallBackend';
import { NfQueue } from '../../src/capture/nfqueue';
import { loadDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleSources } from '../../src/detect/ruleLoader';
import { DetectEngine } from '../../src/detect/detectEngine';
import { PacketInspector } from '../../src/verdict/packetInspector';
import { EngineVerdictHandler } from '../../src/verdict/engineVerdictHandler';
import { ContainerDirectory, ContainerMode } from '../../src/docker/containerDirectory';
import { DockerIdentityProvider } from '../../src/docker/dockerIdentityProvider';
import { DockerProtection } from '../../src/docker/dockerProtection';
import { ContainerModeTable, containerModeSnapshot } from '../../src/docker/containerModeTable';
import { eastWestVars } from '../../src/docker/eastWestVars';
import { parseIpAddress } from '../../src/docker/parseIpAddress';
import type { CanaryResult } from '../../src/docker/bridgeCanary';
import { canaryEveRecord } from '../../src/cli/runDocker';

const DOCKER = fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const ENV = path.join(repoRoot, 'scripts', 'docker-env');
const STATE_DIR = process.env.LATERAL_DOCKER_STATE ?? '/run/lateral-docker-env';
const tag = (process.pid % 10000).toString(36) + Math.floor(Math.random() * 1296).toString(36);
const NET = 'w2n';
const NET_LATE = 'w2n-late';
const NET_ICC = 'w2n-noicc';
const CONTAINERS = ['w2-web', 'w2-db', 'w2-attacker', 'w2-icc-a', 'w2-icc-b'];
const REPEAT = 0x100000;
const BYPASS = 0x200000;
const instances = [`w2e${tag}`, `w2p${tag}`, `w2c${tag}`];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'w2-docker-'));
let startedHere = false;
let directory: ContainerDirectory | undefined;
let lateral: LateralProcess | undefined;

function docker(...args: string[]): string {
  return execFileSync(DOCKER, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}
/** Async, so an NfQueue bound in this process keeps getting its batches meanwhile. */
function dockerAsync(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return sh(DOCKER, args, 20000);
}
function cleanupDocker(): void {
  spawnSync(DOCKER, ['rm', '-f', ...CONTAINERS], { stdio: 'ignore' });
  for (const n of [NET, NET_LATE, NET_ICC]) spawnSync(DOCKER, ['network', 'rm', n], { stdio: 'ignore' });
}
function ipOf(name: string): string {
  return docker('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name);
}
function bridgeOf(net: string): string {
  const id = docker('network', 'inspect', '-f', '{{.Id}}', net);
  return `br-${id.slice(0, 12)}`;
}
async function until(what: string, cond: () => boolean, timeoutMs = 15000): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lateral ? `\nlateral stderr:\n${lateral.stderr}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - t0;
}
function iptablesSave(): string {
  return spawnSync('iptables-save', ['-t', 'filter'], { encoding: 'utf8' }).stdout + spawnSync('iptables-legacy-save', ['-t', 'filter'], { encoding: 'utf8' }).stdout;
}

const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (!root) {
  test.skip('docker protection (needs root)', () => undefined);
} else {
  test.before(async () => {
    const up = spawnSync(ENV, ['up'], { encoding: 'utf8' });
    if (up.status !== 0) throw new Error(`scripts/docker-env up failed:\n${up.stderr}`);
    startedHere = spawnSync(ENV, ['status'], { encoding: 'utf8' }).stdout.includes('started by docker-env');
    cleanupDocker();
    docker('network', 'create', NET);
    docker('run', '-d', '--name', 'w2-web', '--network', NET, 'lateral-test/busybox');
    docker('run', '-d', '--name', 'w2-db', '--network', NET, '-l', 'lateral.mode=protect', 'lateral-test/redis');
    docker('run', '-d', '--name', 'w2-attacker', '--network', NET, '-l', 'lateral.mode=monitor', 'lateral-test/busybox', 'sleep', '600');
    directory = new ContainerDirectory({ reconnectMinMs: 50, reconnectMaxMs: 500 });
    await directory.start();
  });

  test.after(async () => {
    if (lateral && lateral.child.exitCode === null) lateral.child.kill('SIGKILL');
    directory?.close();
    for (const i of instances) await lateralCli(['uninstall', '--instance', i]);
    cleanupDocker();
    if (startedHere) spawnSync(ENV, ['down'], { stdio: 'inherit' });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('an ET-style drop rule from rules/lateral.rules drops the attacker\'s Redis exploit; the alert names attacker and db', async () => {
    const dir = directory!;
    const identity = new DockerIdentityProvider(dir);
    const bridge = dir.network(NET)!.bridge;
    assert.is(bridge, bridgeOf(NET));
    const config = loadDetectConfig();
    config.ipsMode = true;
    const vars = eastWestVars(dir);
    config.addressVars.set('HOME_NET', vars.HOME_NET);
    config.addressVars.set('EXTERNAL_NET', vars.EXTERNAL_NET);
    // sid 1800030 (Redis CONFIG SET dir) as shipped, with its action turned into drop.
    const line = fs.readFileSync(path.join(repoRoot, 'rules', 'lateral.rules'), 'utf8').split('\n').find((l) => l.includes('sid:1800030;'))!;
    const rules = loadRuleSources([{ file: 'lateral.rules', text: line.replace(/^alert /, 'drop ') }], config);
    assert.is(rules.errors.length, 0);
    const inspector = new PacketInspector(DetectEngine.compile(rules, config), { midstream: true, maxFlows: 1024 });
    const alerts: { sid: number; action: string; src?: string; dest?: string; srcImage?: string; network?: string }[] = [];
    const handler = new EngineVerdictHandler(inspector, (insp, r) => {
      const p = insp.packet;
      for (let i = 0; i < r.alertCount; i++) {
        const src = identity.identify(p.src, 0, p.queue.physInIfindex);
        const dest = identity.identify(p.dst, 0, p.queue.physOutIfindex);
        alerts.push({ sid: r.alerts[i]!.sid, action: r.alerts[i]!.action, src: src?.name, dest: dest?.name, srcImage: src?.image, network: src?.network });
      }
    });
    const q = 20000 + ((process.pid * 13) % 40000);
    const queue = new NfQueue({ queue: q, repeatMark: REPEAT, bypassMark: BYPASS, failOpen: true });
    const fw = new Firewall({ bridges: [bridge], firstQueue: q, lastQueue: q, queueBypass: true, repeatMark: REPEAT, bypassMark: BYPASS, instance: instances[0]!, hook: 'auto' });
    try {
      queue.start((b) => handler.handleBatch(b));
      fw.install();
      assert.is(fw.hookChains.ipv4, 'DOCKER-USER');
      const ping = await dockerAsync('exec', 'w2-attacker', 'sh', '-c', "printf 'PING\\r\\n' | nc -w 2 w2-db 6379");
      assert.match(ping.stdout, '+PONG', `normal Redis traffic passes: ${ping.stderr}`);
      const web = await dockerAsync('exec', 'w2-attacker', 'timeout', '3', 'wget', '-qO-', 'http://w2-web/');
      assert.match(web.stdout, 'hello from lateral-test');
      const exploit = await dockerAsync('exec', 'w2-attacker', 'sh', '-c', "printf 'CONFIG SET dir /tmp\\r\\n' | nc -w 3 w2-db 6379");
      assert.not.match(exploit.stdout, '+OK', 'the exploit must not reach redis');
      assert.ok(handler.counters.dropped > 0, 'dropped');
      const hit = alerts.find((a) => a.sid === 1800030);
      assert.ok(hit, JSON.stringify(alerts));
      assert.is(hit.action, 'blocked');
      assert.is(hit.src, 'w2-attacker');
      assert.is(hit.dest, 'w2-db');
      assert.is(hit.srcImage, 'lateral-test/busybox');
      assert.is(hit.network, NET);
    } finally {
      fw.remove();
      queue.close();
      identity.close();
    }
    assert.equal(listFirewallLeftovers(fw.backend, instances[0]), []);
  });

  test('identity: unknown address falls back to the bridge port; modes come from lateral.mode labels', () => {
    const dir = directory!;
    const identity = new DockerIdentityProvider(dir);
    const a = new Uint8Array(16);
    parseIpAddress('198.18.7.7', a);
    assert.is(identity.identify(a), undefined);
    const web = dir.container('w2-web')!;
    const port = web.networks[0]!.hostIfindex;
    assert.ok(port > 0, 'bridge port of w2-web known');
    assert.is(identity.identify(a, 0, port)?.name, 'w2-web');
    identity.close();

    const table = new ContainerModeTable(containerModeSnapshot(dir), ContainerMode.PROTECT);
    const addr = (name: string): Uint8Array => {
      const b = new Uint8Array(16);
      assert.ok(parseIpAddress(ipOf(name), b));
      return b;
    };
    assert.is(table.modeOf(addr('w2-attacker')), ContainerMode.MONITOR);
    assert.is(table.modeOf(addr('w2-db')), ContainerMode.PROTECT);
    assert.is(table.modeOf(addr('w2-web')), ContainerMode.DEFAULT);
    // attacker (monitor) → db (protect): the drop stands; attacker → web (global protect): too.
    assert.ok(table.enforceDrop(addr('w2-attacker'), addr('w2-db')));
    assert.ok(table.enforceDrop(addr('w2-attacker'), addr('w2-web')));
    // With a global monitor mode, only the protect-mode db keeps its drops.
    const monitorGlobal = new ContainerModeTable(containerModeSnapshot(dir), ContainerMode.MONITOR);
    assert.not.ok(monitorGlobal.enforceDrop(addr('w2-attacker'), addr('w2-web')));
    assert.ok(monitorGlobal.enforceDrop(addr('w2-attacker'), addr('w2-db')));
  });

  test('the canary proves the protected bridge and reports a bridge Lateral was not told about', async () => {
    const dir = directory!;
    const fw = new Firewall({ bridges: [dir.network(NET)!.bridge], firstQueue: 39999, lastQueue: 39999, queueBypass: true, repeatMark: REPEAT, bypassMark: BYPASS, instance: instances[1]!, hook: 'auto' });
    const protection = new DockerProtection({ directory: dir, firewall: fw, networks: [NET], checkIntervalMs: 0 });
    const unprotected: CanaryResult[] = [];
    protection.on('unprotected', (r: CanaryResult) => unprotected.push(r));
    try {
      fw.install();
      await protection.start();
      assert.is(protection.counters.canaryPassed, 1);
      assert.is(protection.counters.canaryFailed, 0);
      const r = await protection.runCanary('docker0');
      assert.not.ok(r.protected);
      assert.is(unprotected.length, 1);
      assert.is(protection.counters.canaryFailed, 1);
      assert.ok(protection.unprotected.has('docker0'));
      const eve = canaryEveRecord(r, Date.UTC(2026, 0, 2, 3, 4, 5, 6));
      assert.is(eve.event_type, 'alert');
      assert.is(eve.in_iface, 'docker0');
      assert.match(String((eve.alert as { signature: string }).signature), 'docker0 is NOT protected');
      // A rule deleted behind our back (as a DOCKER-USER flush does) is found and reinstalled.
      execFileSync(fw.backend.iptables, ['-w', '5', '-D', 'DOCKER-USER', '-m', 'physdev', '--physdev-is-bridged', '-m', 'comment', '--comment', `lateral:${instances[1]}`, '-j', `LATERAL-${instances[1]}`]);
      assert.ok(protection.check('test'));
      assert.is(protection.counters.reinstalls, 1);
      assert.not.ok(protection.check('test'));
    } finally {
      protection.close();
      fw.remove();
    }
  });

  test('lateral run --all-networks: canary, late network, network rm, DOCKER-USER flush, ICC=false, dockerd restart', async () => {
    const inst = instances[2]!;
    const eve = path.join(tmp, 'eve.json');
    const q = 20000 + ((process.pid * 17 + 7) % 40000);
    lateral = new LateralProcess(['run', '--all-networks', '--queues', String(q), '--instance', inst, '--summary-interval', '0', '--rule-check', '1', '--eve', eve]);
    await lateral.ready(30000);
    const br = bridgeOf(NET);
    await until('canaries at start', () => lateral!.stderr.includes(`canary: ${br} protected`) && lateral!.stderr.includes('canary: docker0 protected'));
    assert.match(lateral.stderr, /HOME_NET=\[[^\]]*172\.\d+\.0\.0\/16/);
    const web = await dockerAsync('exec', 'w2-attacker', 'timeout', '3', 'wget', '-qO-', 'http://w2-web/');
    assert.match(web.stdout, 'hello from lateral-test', 'normal traffic passes');
    const ourRule = (bridge: string): boolean => iptablesSave().split('\n').some((l) => l.startsWith(`-A LATERAL-${inst} -i ${bridge} `));

    // A network created while Lateral runs is protected, and proven by the canary.
    docker('network', 'create', NET_LATE);
    const late = bridgeOf(NET_LATE);
    const lateMs = await until('late network protected', () => ourRule(late) && lateral!.stderr.includes(`canary: ${late} protected`));
    // `docker network rm` takes its rule away.
    docker('network', 'rm', NET_LATE);
    const rmMs = await until('late network rule removed', () => !ourRule(late));

    // ICC=false: Docker's own rule still blocks container to container (repeat mode).
    docker('network', 'create', '-o', 'com.docker.network.bridge.enable_icc=false', NET_ICC);
    const icc = bridgeOf(NET_ICC);
    await until('ICC network protected', () => lateral!.stderr.includes(`canary: ${icc} protected`));
    docker('run', '-d', '--name', 'w2-icc-a', '--network', NET_ICC, 'lateral-test/busybox');
    docker('run', '-d', '--name', 'w2-icc-b', '--network', NET_ICC, 'lateral-test/busybox', 'sleep', '600');
    const blocked = await dockerAsync('exec', 'w2-icc-b', 'timeout', '2', 'wget', '-qO-', `http://${ipOf('w2-icc-a')}/`);
    assert.not.match(blocked.stdout, 'hello from lateral-test', 'ICC=false still blocks');
    const allowed = await dockerAsync('exec', 'w2-attacker', 'timeout', '3', 'wget', '-qO-', 'http://w2-web/');
    assert.match(allowed.stdout, 'hello from lateral-test');

    // DOCKER-USER losing our jump (dockerd rebuilding its chains): back within seconds.
    const hook = ['-m', 'physdev', '--physdev-is-bridged', '-m', 'comment', '--comment', `lateral:${inst}`, '-j', `LATERAL-${inst}`];
    const hookPresent = (): boolean => iptablesSave().split('\n').some((l) => l.startsWith('-A DOCKER-USER') && l.includes(`lateral:${inst}`));
    assert.ok(hookPresent());
    const backend = lateral.stderr.includes('iptables-legacy:') ? 'iptables-legacy' : 'iptables-nft';
    execFileSync(backend, ['-w', '5', '-D', 'DOCKER-USER', ...hook]);
    const flushMs = await until('hook reinstalled', () => hookPresent() && lateral!.stderr.includes('rules reinstalled'));

    // dockerd restart (only the dockerd this test started): events reconnect, rules in place.
    let restartMs = -1;
    if (startedHere) {
      const pid = Number(fs.readFileSync(path.join(STATE_DIR, 'dockerd.pid'), 'utf8'));
      process.kill(pid, 'SIGTERM');
      await until('dockerd stopped', () => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), 30000);
      await until('event stream lost', () => lateral!.stderr.includes('event stream lost'));
      const t0 = Date.now();
      const up = spawnSync(ENV, ['up'], { encoding: 'utf8' });
      assert.is(up.status, 0, up.stderr);
      await until('reconnected', () => lateral!.stderr.includes('event stream reconnected'), 20000);
      await until('rules after restart', () => hookPresent() && ourRule(br) && ourRule('docker0'), 10000);
      restartMs = Date.now() - t0;
    }
    const code = await lateral.stop('SIGINT');
    assert.is(code, 0, lateral.stderr);
    assert.not.match(lateral.stderr, /NOT protected/);
    assert.equal(listFirewallLeftovers(detectIptablesBackend(), inst), []);
    console.log(`  late network protected in ${lateMs} ms, rm in ${rmMs} ms, flushed hook back in ${flushMs} ms, dockerd restart to rules ${restartMs} ms`);
  });
}

test.run();
