// Live test against a real dockerd (scripts/docker-env): the directory, the Engine API client,
// container address variables and east-west vars, then the host restored by `down`.
// Everything created here is named ldk-* and removed in after(), even when a test fails.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { repoRoot } from '../support/corpus';
import { Packet } from '../../src/decode/packet';
import { DockerClient } from '../../src/docker/dockerClient';
import { BridgeSetChange, ContainerDirectory, ContainerMode, UNKNOWN_CONTAINER } from '../../src/docker/containerDirectory';
import { resolveContainerAddressVariable, watchContainerAddressVariables } from '../../src/docker/resolveContainerAddressVariable';
import { eastWestVars } from '../../src/docker/eastWestVars';
import { parseIpAddress } from '../../src/docker/parseIpAddress';
import { LateralError } from '../../src/errors';

const DOCKER = fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const ENV = path.join(repoRoot, 'scripts', 'docker-env');
const STATE = path.join(repoRoot, 'scripts', 'docker-state.js');
const NET = 'ldk-net';
const NET2 = 'ldk-net2';
const V6_SUBNET = 'fd00:1a7e:d0c::/64';
const CONTAINERS = ['ldk-web', 'ldk-db', 'ldk-attacker', 'ldk-late', 'ldk-late2', 'ldk-db2'];

function docker(...args: string[]): string {
  return execFileSync(DOCKER, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function dockerQuiet(...args: string[]): void {
  spawnSync(DOCKER, args, { stdio: 'ignore' });
}

/** Why the suite cannot run here, or '' when it can: only a host where Docker cannot exist. */
function cannotRun(): string {
  if (process.platform !== 'linux') return 'not Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root (dockerd needs root)';
  const installed = spawnSync('dpkg-query', ['-W', '-f=${Status}', 'docker.io'], { encoding: 'utf8' });
  if (!(installed.stdout ?? '').includes('install ok installed') && spawnSync('apt-get', ['--version']).status !== 0) {
    return 'docker.io is not installed and apt-get is unavailable';
  }
  return '';
}

/** A unix-socket pass-through to the Docker socket that the test can cut and restore. */
class SocketProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  constructor(readonly path: string, private readonly target: string) {}

  start(): Promise<void> {
    fs.rmSync(this.path, { force: true });
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      this.sockets.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    return new Promise((resolve) => server.listen(this.path, resolve));
  }

  stop(): void {
    this.server?.close();
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    fs.rmSync(this.path, { force: true });
  }
}

function until<T>(what: string, ms: number, probe: () => T | undefined | false): Promise<T> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      let v: T | undefined | false;
      try {
        v = probe();
      } catch (err) {
        reject(err);
        return;
      }
      if (v !== undefined && v !== false) resolve(v);
      else if (Date.now() - start > ms) reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

function ipOf(name: string): { ipv4: string; ipv6: string; mac: string } {
  const j = JSON.parse(docker('inspect', name, '-f', '{{json .NetworkSettings.Networks}}')) as Record<
    string,
    { IPAddress: string; GlobalIPv6Address: string; MacAddress: string }
  >;
  const ep = j[NET] ?? Object.values(j)[0];
  return { ipv4: ep.IPAddress, ipv6: ep.GlobalIPv6Address, mac: ep.MacAddress };
}

const reason = cannotRun();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-docker-'));
const proxy = new SocketProxy(path.join(tmp, 'docker.sock'), '/var/run/docker.sock');
let directory: ContainerDirectory | null = null;
let startedHere = false;
const warnings: LateralError[] = [];
const bridgeEvents: BridgeSetChange[] = [];
const connectionEvents: string[] = [];

function cleanupDocker(): void {
  directory?.close();
  proxy.stop();
  for (const c of CONTAINERS) dockerQuiet('rm', '-f', c);
  dockerQuiet('network', 'rm', NET);
  dockerQuiet('network', 'rm', NET2);
}

if (reason) {
  console.log(`  docker suite skipped: ${reason}`);
  test.skip('docker suite', () => undefined);
} else {
  test.before(async () => {
    // A dockerd of ours left by an interrupted run: restore the host first, so the snapshot
    // below is of the host without Docker.
    if (spawnSync(ENV, ['status'], { encoding: 'utf8' }).stdout.includes('started by docker-env')) spawnSync(ENV, ['down']);
    execFileSync('node', [STATE, 'snapshot', path.join(tmp, 'host-before')]);
    const up = spawnSync(ENV, ['up'], { encoding: 'utf8' });
    if (up.status !== 0) throw new Error(`scripts/docker-env up failed:\n${up.stderr}`);
    startedHere = spawnSync(ENV, ['status'], { encoding: 'utf8' }).stdout.includes('started by docker-env');
    cleanupDocker(); // leftovers of an interrupted run
    docker('network', 'create', '--ipv6', '--subnet', V6_SUBNET, NET);
    docker('run', '-d', '--name', 'ldk-web', '--network', NET, '-l', 'tier=web', 'lateral-test/busybox');
    docker('run', '-d', '--name', 'ldk-db', '--network', NET, '-l', 'tier=db', '-l', 'lateral.mode=protect', 'lateral-test/redis');
    docker('run', '-d', '--name', 'ldk-attacker', '--network', NET, '-l', 'lateral.mode=sneaky', 'lateral-test/busybox', 'sleep', '600');
    await proxy.start();
    directory = new ContainerDirectory({ socketPath: proxy.path, reconnectMinMs: 50, reconnectMaxMs: 200 });
    directory.on('warning', (w: LateralError) => warnings.push(w));
    directory.on('bridges', (c: BridgeSetChange) => bridgeEvents.push(c));
    directory.on('connection', (state: string) => connectionEvents.push(state));
    await directory.start();
  });

  test.after(() => {
    cleanupDocker();
    spawnSync(ENV, ['down'], { stdio: 'inherit' });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the Engine API client reads version, containers and networks over the socket', async () => {
    const client = new DockerClient();
    try {
      const v = await client.version();
      assert.match(v.ApiVersion, /^1\.\d+$/);
      const names = (await client.listContainers()).flatMap((c) => c.Names);
      for (const n of ['/ldk-web', '/ldk-db', '/ldk-attacker']) assert.ok(names.includes(n), n);
      const nets = await client.listNetworks();
      const mine = nets.find((n) => n.Name === NET);
      assert.ok(mine);
      const one = await client.inspectNetwork(mine.Id);
      assert.is(one.Name, NET);
      await client.inspectContainer('ldk-no-such-container').then(
        () => assert.unreachable('inspect of a missing container must fail'),
        (err: unknown) => {
          assert.instance(err, LateralError);
          assert.is((err as LateralError).code, 'LATERAL_ERR_DOCKER');
        },
      );
    } finally {
      client.close();
    }
  });

  test('maps each container IP (v4 and v6) to name, image, labels, network and MAC', () => {
    const d = directory!;
    const images: Record<string, string> = {
      'ldk-web': 'lateral-test/busybox',
      'ldk-db': 'lateral-test/redis',
      'ldk-attacker': 'lateral-test/busybox',
    };
    const p = new Packet();
    for (const [name, image] of Object.entries(images)) {
      const { ipv4, ipv6, mac } = ipOf(name);
      assert.ok(parseIpAddress(ipv4, p.src));
      const c = d.lookup(p.src);
      assert.ok(c, `no container for ${ipv4}`);
      assert.is(c.name, name);
      assert.is(c.image, image);
      assert.is(c.mac, mac);
      assert.is(c.networks[0].networkName, NET);
      assert.is(d.nameOf(p.src), name);
      assert.ok(ipv6.startsWith('fd00:1a7e:d0c:'), ipv6);
      assert.ok(parseIpAddress(ipv6, p.dst));
      assert.is(d.lookup(p.dst)?.name, name, `v6 ${ipv6}`);
    }
    assert.is(d.lookup(p.src)?.labels['lateral.mode'], 'sneaky');
    assert.ok(parseIpAddress('10.255.255.254', p.src));
    assert.is(d.lookup(p.src), undefined);
    assert.is(d.nameOf(p.src), UNKNOWN_CONTAINER);
    assert.ok(parseIpAddress('fd00:1a7e:d0c::ffff', p.src));
    assert.is(d.nameOf(p.src), UNKNOWN_CONTAINER);
  });

  test('per-container mode from lateral.mode; a bad value warns and falls back', () => {
    const d = directory!;
    assert.is(d.container('ldk-db')?.mode, ContainerMode.PROTECT);
    assert.is(d.container('ldk-web')?.mode, ContainerMode.DEFAULT);
    assert.is(d.container('ldk-attacker')?.mode, ContainerMode.DEFAULT);
    assert.ok(warnings.some((w) => w.message.includes('ldk-attacker') && w.message.includes('sneaky')));
  });

  test('maps bridge ports (host veth ifindex) to containers', () => {
    const d = directory!;
    const bridge = d.network(NET)!.bridge;
    for (const name of ['ldk-web', 'ldk-db', 'ldk-attacker']) {
      // The container's own view: eth0's peer is the host veth (independent of the code under test).
      const ifindex = Number(docker('exec', name, 'cat', '/sys/class/net/eth0/iflink'));
      const master = path.basename(fs.readlinkSync(`/sys/class/net/${hostLinkName(ifindex)}/master`));
      assert.is(master, bridge);
      assert.is(d.byBridgePort(ifindex)?.name, name);
    }
    assert.is(d.byBridgePort(1), undefined); // lo is no container's port
  });

  test('a container started after the directory runs appears within a second', async () => {
    const d = directory!;
    docker('run', '-d', '--name', 'ldk-late', '--network', NET, 'lateral-test/busybox', 'sleep', '600');
    const started = Date.now();
    const c = await until('ldk-late in the directory', 1000, () => d.container('ldk-late'));
    const ms = Date.now() - started;
    console.log(`    ldk-late visible ${ms} ms after docker run returned`);
    const p = new Packet();
    parseIpAddress(ipOf('ldk-late').ipv4, p.src);
    assert.is(d.lookup(p.src), c);
    docker('rm', '-f', 'ldk-late');
    await until('ldk-late gone', 2000, () => d.container('ldk-late') === undefined);
    assert.is(d.lookup(p.src), undefined);
  });

  test('docker network create / rm emit bridge set changes', async () => {
    const d = directory!;
    bridgeEvents.length = 0;
    const id = docker('network', 'create', NET2);
    const added = await until('bridge added', 2000, () => bridgeEvents.find((e) => e.added.some((n) => n.id === id)));
    const bridge = `br-${id.slice(0, 12)}`;
    assert.is(added.added[0].bridge, bridge);
    assert.ok(fs.existsSync(`/sys/class/net/${bridge}`), `${bridge} exists on the host`);
    assert.ok(d.bridgeNames().includes(bridge));
    assert.ok(d.bridgeNames().includes('docker0'));
    assert.ok(eastWestVars(d).HOME_NET.includes(d.network(NET2)!.subnets[0]));
    docker('network', 'rm', NET2);
    const removed = await until('bridge removed', 2000, () => bridgeEvents.find((e) => e.removed.some((n) => n.id === id)));
    assert.is(removed.removed[0].name, NET2);
    assert.not.ok(d.bridgeNames().includes(bridge));
  });

  test('container address variables resolve and notify only on change', async () => {
    const d = directory!;
    const db = ipOf('ldk-db');
    assert.equal(resolveContainerAddressVariable('@label:tier=db', d), [`${db.ipv4}/32`, `${db.ipv6}/128`]);
    assert.equal(resolveContainerAddressVariable('@container:ldk-web', d), [`${ipOf('ldk-web').ipv4}/32`, `${ipOf('ldk-web').ipv6}/128`]);
    assert.equal(resolveContainerAddressVariable('@network:ldk-net', d), [d.network(NET)!.subnets[0], V6_SUBNET]);
    assert.equal(resolveContainerAddressVariable('@label:tier=nothing', d), []);
    assert.is(resolveContainerAddressVariable('@image:lateral-test/busybox', d).length, 4);
    const changes: Array<[string, readonly string[]]> = [];
    const watch = watchContainerAddressVariables(['@label:tier=db', '@container:ldk-web'], d, (e, cidrs) => changes.push([e, cidrs]));
    try {
      docker('run', '-d', '--name', 'ldk-db2', '--network', NET, '-l', 'tier=db', 'lateral-test/redis');
      await until('@label:tier=db change', 2000, () => changes.length > 0);
      const db2 = ipOf('ldk-db2');
      assert.equal(changes, [['@label:tier=db', [`${db.ipv4}/32`, `${db2.ipv4}/32`, `${db.ipv6}/128`, `${db2.ipv6}/128`].sort(cidrOrder)]]);
      docker('rm', '-f', 'ldk-db2');
      await until('second change', 2000, () => changes.length > 1);
      assert.equal(changes[1], ['@label:tier=db', [`${db.ipv4}/32`, `${db.ipv6}/128`]]);
    } finally {
      watch.close();
    }
  });

  test('east-west vars: HOME_NET is the bridge subnets, EXTERNAL_NET any', () => {
    const d = directory!;
    const vars = eastWestVars(d, { networks: [NET] });
    assert.equal(vars, { HOME_NET: `[${d.network(NET)!.subnets[0]},${V6_SUBNET}]`, EXTERNAL_NET: 'any' });
    assert.ok(eastWestVars(d).HOME_NET.includes(d.network('bridge')!.subnets[0]));
  });

  test('a lost Docker connection reconnects and resyncs what changed meanwhile', async () => {
    const d = directory!;
    const syncs = d.syncCount;
    proxy.stop(); // cuts the event stream and refuses reconnects
    await until('directory disconnected', 2000, () => !d.connected);
    docker('rm', '-f', 'ldk-attacker');
    docker('run', '-d', '--name', 'ldk-late2', '--network', NET, 'lateral-test/busybox', 'sleep', '600');
    await new Promise((r) => setTimeout(r, 300)); // a few failed attempts against the dead socket
    assert.ok(d.container('ldk-attacker'), 'no events while disconnected');
    await proxy.start();
    await until('directory reconnected', 3000, () => d.connected);
    assert.ok(d.syncCount > syncs, 'a resync ran');
    assert.is(d.container('ldk-attacker'), undefined);
    assert.is(d.container('ldk-late2')?.image, 'lateral-test/busybox');
    assert.ok(connectionEvents.includes('down'));
    // Events flow again after the resync.
    docker('rm', '-f', 'ldk-late2');
    await until('ldk-late2 removed by event', 2000, () => d.container('ldk-late2') === undefined);
  });

  test('lookup is allocation-free (no GC during millions of lookups) and fast', async () => {
    const d = directory!;
    const a = new Packet();
    const b = new Packet();
    const miss = new Packet();
    parseIpAddress(ipOf('ldk-web').ipv4, a.src);
    parseIpAddress(ipOf('ldk-web').ipv6, b.src);
    parseIpAddress('fd00:1a7e:d0c::dead', miss.src);
    const n = 2_000_000;
    let hits = 0;
    for (let i = 0; i < 20_000; i++) if (d.lookup(a.src) && d.lookup(b.src) && !d.lookup(miss.src)) hits++; // warm up (JIT)
    // An allocation per lookup (a heap number key, a string, a subarray) would fill the young
    // generation many times over in 6M calls and show up as scavenges.
    const gcTimes: number[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcTimes.push(e.startTime);
    });
    obs.observe({ entryTypes: ['gc'] });
    await new Promise((r) => setImmediate(r));
    const from = performance.now();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (d.lookup(a.src) !== undefined) hits++;
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (d.lookup(b.src) !== undefined) hits++;
    const t2 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (d.lookup(miss.src) === undefined) hits++;
    const t3 = process.hrtime.bigint();
    const to = performance.now();
    await new Promise((r) => setTimeout(r, 50)); // GC entries are delivered asynchronously
    obs.disconnect();
    // Only collections that started inside the loops (one pending from before may be reported late).
    const gcs = gcTimes.filter((t) => t >= from && t <= to).length;
    assert.is(hits, 20_000 + 3 * n);
    console.log(
      `    lookup: IPv4 ${(Number(t1 - t0) / n).toFixed(1)} ns, IPv6 ${(Number(t2 - t1) / n).toFixed(1)} ns, ` +
        `IPv6 miss ${(Number(t3 - t2) / n).toFixed(1)} ns; GCs during ${3 * n} lookups: ${gcs}`,
    );
    assert.is(gcs, 0, 'garbage collections during lookups');
  });

  test('down restores ip_forward, FORWARD policy, iptables and bridges', () => {
    cleanupDocker();
    const down = spawnSync(ENV, ['down'], { encoding: 'utf8' });
    assert.is(down.status, 0, down.stderr);
    if (!startedHere) {
      console.log('    dockerd was running before the suite: it was left alone, nothing to restore');
      return;
    }
    assert.is(spawnSync(ENV, ['status'], { encoding: 'utf8' }).stdout.trim(), 'stopped');
    const before = JSON.parse(fs.readFileSync(path.join(tmp, 'host-before', 'state.json'), 'utf8')) as HostState;
    const now = JSON.parse(execFileSync('node', ['-e', `console.log(JSON.stringify(require(${JSON.stringify(STATE)}).snapshotNow()))`], { encoding: 'utf8' })) as HostState;
    assert.equal(now.sysctl, before.sysctl);
    // Exact equality for all that Docker touches; lines other processes on this shared host
    // changed meanwhile (their own lab bridges and rules) are reported, not failed on.
    const diff = JSON.parse(spawnSync('node', [STATE, 'compare', path.join(tmp, 'host-before')], { encoding: 'utf8' }).stdout) as {
      removed: string[];
      added: string[];
    };
    const dockerish = /DOCKER|docker0|br-[0-9a-f]{12}|MASQUERADE|veth/;
    assert.equal(diff.added.filter((l) => dockerish.test(l)), []);
    assert.equal(diff.removed.filter((l) => dockerish.test(l)), []);
    // Built-in policies of every table present both times (others may add or drop whole tables).
    for (const [backend, tables] of Object.entries(before.iptables)) {
      for (const [table, t] of Object.entries(tables ?? {})) {
        const nowTable = now.iptables[backend]?.[table];
        if (t.policies && nowTable?.policies) assert.equal(nowTable.policies, t.policies, `${backend} ${table} policies`);
      }
    }
    const foreign = [...diff.added, ...diff.removed].filter((l) => !/ chain [A-Z]+ ACCEPT$/.test(l));
    if (foreign.length) console.log(`    changed by other processes meanwhile (not Docker): ${foreign.length} lines`);
    // Independent of docker-state.js: the tools' own view.
    for (const save of ['iptables-nft-save', 'iptables-legacy-save', 'ip6tables-nft-save', 'ip6tables-legacy-save']) {
      const out = spawnSync(save, [], { encoding: 'utf8' }).stdout ?? '';
      assert.not.match(out, /DOCKER|docker0/, save);
      const policy = /:FORWARD (\w+)/.exec(out.split('*filter')[1] ?? '')?.[1] ?? 'ACCEPT';
      const key = save.startsWith('ip6') ? (save.includes('nft') ? 'nft6' : 'legacy6') : save.includes('nft') ? 'nft4' : 'legacy4';
      const want = before.iptables[key]?.filter?.policies?.FORWARD ?? 'ACCEPT';
      assert.is(policy, want, `${save} FORWARD policy`);
    }
    assert.not.ok(fs.existsSync('/sys/class/net/docker0'), 'docker0 removed');
    const links = fs.readdirSync('/sys/class/net');
    assert.equal(links.filter((l) => /^br-[0-9a-f]{12}$/.test(l) && !before.links.includes(l)), []);
    assert.is(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), before.sysctl['net/ipv4/ip_forward']);
  });
}

interface HostState {
  sysctl: Record<string, string | null>;
  iptables: Record<string, Record<string, { policies: Record<string, string> }> | undefined>;
  links: string[];
}

function hostLinkName(ifindex: number): string {
  for (const n of fs.readdirSync('/sys/class/net')) {
    if (Number(fs.readFileSync(`/sys/class/net/${n}/ifindex`, 'utf8').trim()) === ifindex) return n;
  }
  throw new Error(`no host link with ifindex ${ifindex}`);
}

function cidrOrder(a: string, b: string): number {
  const va = Number(a.includes(':'));
  const vb = Number(b.includes(':'));
  if (va !== vb) return va - vb;
  const ba = new Uint8Array(16);
  const bb = new Uint8Array(16);
  parseIpAddress(a.split('/')[0], ba);
  parseIpAddress(b.split('/')[0], bb);
  for (let i = 0; i < 16; i++) if (ba[i] !== bb[i]) return ba[i] - bb[i];
  return 0;
}

test.run();
