// Issue 5's container-aware rules and per-container modes against a real dockerd
// (scripts/docker-env), through `lateral run --all-networks` as a child process:
//  - `drop tcp @container:cr-attacker any -> @label:crtier=db 6379 (...)` drops the attacker's
//    Redis exploit east-west and names both containers; a plain Suricata rule still fires;
//  - `lateral.mode=monitor` on both ends turns the drop into an alert with action "allowed";
//  - a container started after Lateral is in the rule's group within a second;
//  - a container that stops leaves the group, and another container given the attacker's old
//    address is not "the attacker";
// and Docker's nftables firewall backend: detection from the real `docker info`, dockerd's
// real command line and daemon.json files in a temp dir; the FORWARD fallback chain with the
// real iptables, proven by the canary on a real Docker bridge.
// Everything created here is cr-* and is removed in after(), even when a test fails.
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
import { DockerClient } from '../../src/docker/dockerClient';
import { ContainerDirectory } from '../../src/docker/containerDirectory';
import { DockerProtection } from '../../src/docker/dockerProtection';
import {
  detectDockerFirewallBackend,
  dockerFirewallAdvice,
  findDockerdArgv,
  hasDockerUserChain,
  readDaemonJson,
} from '../../src/docker/dockerFirewallBackend';

const DOCKER = fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const ENV = path.join(repoRoot, 'scripts', 'docker-env');
const tag = (process.pid % 10000).toString(36) + Math.floor(Math.random() * 1296).toString(36);
const NET = 'cr-net';
const SUBNET = '10.213.47.0/24';
const CONTAINERS = ['cr-db', 'cr-mdb', 'cr-attacker', 'cr-late', 'cr-other'];
const instances = [`cr${tag}`, `cf${tag}`];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cr-docker-'));
const REPEAT = 0x100000;
let startedHere = false;
let lateral: LateralProcess | undefined;

function docker(...args: string[]): string {
  return execFileSync(DOCKER, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}
function dockerAsync(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return sh(DOCKER, args, 20000);
}
function cleanupDocker(): void {
  spawnSync(DOCKER, ['rm', '-f', ...CONTAINERS], { stdio: 'ignore' });
  spawnSync(DOCKER, ['network', 'rm', NET], { stdio: 'ignore' });
}
function ipOf(name: string): string {
  return docker('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name);
}
async function until(what: string, cond: () => boolean, timeoutMs = 15000): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lateral ? `\nlateral stderr:\n${lateral.stderr}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}
interface EveAlert {
  event_type: string;
  src_ip: string;
  dest_ip: string;
  alert: { signature_id: number; action: string };
  src_container: { name: string };
  dest_container: { name: string };
}
function eveAlerts(file: string): EveAlert[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as EveAlert).filter((r) => r.event_type === 'alert');
}
/**
 * The Redis exploit from `from` against `to`: whether Redis answered at all (this Redis 7
 * refuses `dir` as a protected config with -ERR; a dropped request gets no answer).
 */
async function configSetReached(from: string, to: string): Promise<boolean> {
  const r = await dockerAsync('exec', from, 'sh', '-c', `printf 'CONFIG SET dir /tmp\\r\\n' | nc -w 2 ${to} 6379`);
  return /^[+-]/.test(r.stdout);
}
/** The line `lateral run` logs when it posts a group's new members to the workers. */
function groupLines(expr: string): string[] {
  return (lateral?.stderr ?? '').split('\n').filter((l) => l.includes(`address group ${expr} = [`));
}

const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (!root) {
  test.skip('container rules with Docker (needs root)', () => undefined);
} else {
  test.before(() => {
    const up = spawnSync(ENV, ['up'], { encoding: 'utf8' });
    if (up.status !== 0) throw new Error(`scripts/docker-env up failed:\n${up.stderr}`);
    startedHere = spawnSync(ENV, ['status'], { encoding: 'utf8' }).stdout.includes('started by docker-env');
    cleanupDocker();
    docker('network', 'create', '--subnet', SUBNET, NET);
    docker('run', '-d', '--name', 'cr-db', '--network', NET, '-l', 'crtier=db', '-l', 'lateral.mode=protect', 'lateral-test/redis');
    docker('run', '-d', '--name', 'cr-mdb', '--network', NET, '-l', 'crtier=db', '-l', 'lateral.mode=monitor', 'lateral-test/redis');
    docker('run', '-d', '--name', 'cr-attacker', '--network', NET, '--ip', '10.213.47.66', '-l', 'lateral.mode=monitor', 'lateral-test/busybox', 'sleep', '600');
  });

  test.after(async () => {
    if (lateral && lateral.child.exitCode === null) lateral.child.kill('SIGKILL');
    for (const i of instances) await lateralCli(['uninstall', '--instance', i]);
    cleanupDocker();
    if (startedHere) spawnSync(ENV, ['down'], { stdio: 'inherit' });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('@container/@label rules live: drop east-west, monitor mode alerts only, late container within a second, stopped/moved containers leave', async () => {
    const rules = path.join(tmp, 'container.rules');
    fs.writeFileSync(
      rules,
      [
        'drop tcp @container:cr-attacker any -> @label:crtier=db 6379 (msg:"LATERAL attacker reconfigures a db"; flow:to_server; content:"CONFIG"; nocase; content:"SET"; nocase; distance:0; classtype:attempted-admin; sid:1899101; rev:1;)',
        'alert tcp any any -> any 6379 (msg:"plain Suricata rule: redis PING"; flow:to_server; content:"PING"; sid:1899102; rev:1;)',
        '',
      ].join('\n'),
    );
    const eve = path.join(tmp, 'eve.json');
    const q = 20000 + ((process.pid * 19 + 3) % 40000);
    lateral = new LateralProcess(['run', '--all-networks', '--rules', rules, '--queues', String(q), '--instance', instances[0]!, '--summary-interval', '0', '--eve', eve]);
    await lateral.ready(60000);
    const br = `br-${docker('network', 'inspect', '-f', '{{.Id}}', NET).slice(0, 12)}`;
    await until('canary', () => lateral!.stderr.includes(`canary: ${br} protected`), 30000);
    assert.match(lateral.stderr, 'container address groups: @container:cr-attacker=1 @label:crtier=db=2');

    // Normal traffic passes; the plain Suricata rule fires as always.
    const ping = await dockerAsync('exec', 'cr-attacker', 'sh', '-c', "printf 'PING\\r\\n' | nc -w 2 cr-db 6379");
    assert.match(ping.stdout, '+PONG', ping.stderr);
    await until('plain rule alert', () => eveAlerts(eve).some((a) => a.alert.signature_id === 1899102));

    // attacker (monitor) -> db (protect): dropped, named.
    assert.not.ok(await configSetReached('cr-attacker', 'cr-db'), 'the exploit must not reach the protect-mode db');
    await until('blocked alert', () => eveAlerts(eve).some((a) => a.alert.signature_id === 1899101 && a.dest_container.name === 'cr-db'));
    const blocked = eveAlerts(eve).find((a) => a.alert.signature_id === 1899101 && a.dest_container.name === 'cr-db')!;
    assert.is(blocked.alert.action, 'blocked');
    assert.is(blocked.src_container.name, 'cr-attacker');

    // attacker (monitor) -> mdb (monitor): the same attack passes, the alert says "allowed".
    assert.ok(await configSetReached('cr-attacker', 'cr-mdb'), 'monitor mode on both ends: alert only');
    await until('allowed alert', () => eveAlerts(eve).some((a) => a.alert.signature_id === 1899101 && a.dest_container.name === 'cr-mdb'));
    assert.is(eveAlerts(eve).find((a) => a.dest_container.name === 'cr-mdb')!.alert.action, 'allowed');

    // A db started after Lateral: in the group within a second of Docker starting it
    // (State.StartedAt, dockerd's clock = ours), whatever `docker run` itself costs.
    const before = groupLines('@label:crtier=db').length;
    const run = dockerAsync('run', '-d', '--name', 'cr-late', '--network', NET, '-l', 'crtier=db', 'lateral-test/redis');
    let seenAt = 0;
    await until('late container in the group', () => {
      const fresh = groupLines('@label:crtier=db').slice(before);
      if (fresh.length > 0 && seenAt === 0) seenAt = Date.now();
      return seenAt > 0;
    }, 20000);
    assert.is((await run).code, 0);
    const lateIp = ipOf('cr-late');
    assert.ok(groupLines('@label:crtier=db').slice(before).some((l) => l.includes(`${lateIp}/32`)), lateral.stderr);
    const startedAt = Date.parse(docker('inspect', '-f', '{{.State.StartedAt}}', 'cr-late').replace(/(\.\d{3})\d*/, '$1'));
    const lateMs = seenAt - startedAt;
    assert.ok(lateMs < 1000, `covered ${lateMs} ms after the container started`);
    await until('redis up in cr-late', () => spawnSync(DOCKER, ['exec', 'cr-attacker', 'sh', '-c', "printf 'PING\\r\\n' | nc -w 1 cr-late 6379"], { encoding: 'utf8' }).stdout.includes('+PONG'), 10000);
    assert.not.ok(await configSetReached('cr-attacker', 'cr-late'), 'the late db is protected (global mode)');

    // The attacker goes away; another container takes its address: it is not the attacker.
    const attackerIp = ipOf('cr-attacker');
    docker('rm', '-f', 'cr-attacker');
    await until('attacker left its group', () => groupLines('@container:cr-attacker').some((l) => l.endsWith('= []')), 5000);
    docker('run', '-d', '--name', 'cr-other', '--network', NET, '--ip', attackerIp, 'lateral-test/busybox', 'sleep', '600');
    const alertsBefore = eveAlerts(eve).filter((a) => a.alert.signature_id === 1899101).length;
    assert.ok(await configSetReached('cr-other', 'cr-db'), 'same address, different container: the rule no longer matches');
    // A stopped db leaves @label:crtier=db.
    const dbIp = ipOf('cr-mdb');
    docker('stop', '-t', '1', 'cr-mdb');
    await until('stopped db left the group', () => {
      const last = groupLines('@label:crtier=db').pop() ?? '';
      return !last.includes(`${dbIp}/32`) && last.includes(`${lateIp}/32`);
    }, 5000);
    const code = await lateral.stop('SIGINT');
    assert.is(code, 0, lateral.stderr);
    assert.is(eveAlerts(eve).filter((a) => a.alert.signature_id === 1899101).length, alertsBefore, 'no alert for cr-other');
    assert.match(lateral.stderr, 'docker: firewall backend iptables (');
    assert.equal(listFirewallLeftovers(detectIptablesBackend(), instances[0]), []);
    console.log(`  late container in its rule group ${lateMs} ms after it started (polled every 20 ms)`);
  });

  test('firewall backend: real docker info, dockerd argv and daemon.json; FORWARD fallback chain proven by the canary', async () => {
    const client = new DockerClient();
    const info = await client.info();
    client.close();
    const argv = findDockerdArgv();
    assert.ok(argv !== null && argv[0]!.endsWith('dockerd'), String(argv));
    const backend = detectIptablesBackend();
    const chain = hasDockerUserChain(backend.iptablesSave);
    assert.ok(chain, 'this dockerd (iptables backend) made DOCKER-USER');
    // Debian's docker.io (20.10) reports no FirewallBackend; its DOCKER-USER decides.
    const real = detectDockerFirewallBackend({ info, dockerdArgv: argv, daemonJson: readDaemonJson(argv, path.join(tmp, 'absent.json')), dockerUserChain: chain });
    assert.equal(real.backend, 'iptables');
    assert.is(dockerFirewallAdvice(real, REPEAT, 'DOCKER-USER'), null);

    const dj = (name: string, text: string): string => {
      const f = path.join(tmp, name);
      fs.writeFileSync(f, text);
      return f;
    };
    const nftFile = dj('daemon-nft.json', '{"firewall-backend": "nftables", "bridge-accept-fwmark": "0x100000/0x100000"}');
    const viaFile = detectDockerFirewallBackend({ info, dockerdArgv: [...argv!, '--config-file', nftFile], daemonJson: readDaemonJson([...argv!, '--config-file', nftFile]), dockerUserChain: false });
    assert.equal(viaFile, { backend: 'nftables', reason: `${nftFile}: "firewall-backend": "nftables"` });
    const viaFlag = detectDockerFirewallBackend({ info, dockerdArgv: [...argv!, '--firewall-backend=nftables'], daemonJson: null, dockerUserChain: false });
    assert.is(viaFlag.backend, 'nftables');
    const viaInfo = detectDockerFirewallBackend({ info: { ...info, FirewallBackend: { Driver: 'nftables' } }, dockerdArgv: argv, daemonJson: null, dockerUserChain: false });
    assert.is(viaInfo.reason, 'docker info: FirewallBackend nftables');
    const viaChain = detectDockerFirewallBackend({ info, dockerdArgv: argv, daemonJson: readDaemonJson(argv, dj('daemon-empty.json', '{}')), dockerUserChain: false });
    assert.equal(viaChain.backend, 'nftables');
    const broken = detectDockerFirewallBackend({ info, dockerdArgv: argv, daemonJson: readDaemonJson(argv, dj('daemon-bad.json', '{"firewall-backend":')), dockerUserChain: false });
    assert.match(broken.reason, 'is not JSON');
    assert.is(detectDockerFirewallBackend({ info, dockerdArgv: [...argv!, '--iptables=false'], dockerUserChain: true }).backend, 'none');
    const advice = dockerFirewallAdvice(viaFile, REPEAT, 'FORWARD')!;
    assert.match(advice, '--bridge-accept-fwmark=0x100000/0x100000');
    assert.match(advice, 'hooked from FORWARD');

    // The fallback itself, for real: Lateral's chain hooked from FORWARD (what 'auto' picks
    // when there is no DOCKER-USER) protects a Docker bridge; the canary proves it.
    const directory = new ContainerDirectory();
    await directory.start();
    const bridge = directory.network(NET)!.bridge;
    const inst = instances[1]!;
    const fw = new Firewall({ bridges: [bridge], firstQueue: 39998, lastQueue: 39998, queueBypass: true, repeatMark: REPEAT, bypassMark: 0x200000, instance: inst, hook: 'FORWARD' });
    const protection = new DockerProtection({ directory, firewall: fw, networks: [NET], checkIntervalMs: 0 });
    try {
      fw.install();
      assert.is(fw.hookDescription, 'FORWARD');
      const save = execFileSync(backend.iptablesSave, ['-t', 'filter'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      assert.ok(save.split('\n').some((l) => l.startsWith('-A FORWARD') && l.includes(`-j LATERAL-${inst}`)), save);
      assert.not.ok(save.split('\n').some((l) => l.startsWith('-A DOCKER-USER') && l.includes(`LATERAL-${inst}`)));
      await protection.start();
      assert.is(protection.counters.canaryPassed, 1, `canary on ${bridge} through the FORWARD hook`);
      assert.is(protection.counters.canaryFailed, 0);
    } finally {
      protection.close();
      fw.remove();
      directory.close();
    }
    assert.equal(listFirewallLeftovers(backend, inst), []);
  });
}

test.run();
