// `lateral run --all-networks | --network NAME`: protect a Docker host's bridge networks.
//
// run.ts stays the one command; it calls prepareDockerRun(argv) first. When no Docker flag is
// given that returns null and nothing changes. Otherwise it connects to dockerd (events first,
// then the lists), turns the networks into `--bridge` arguments for the normal option parser,
// and after the queues are bound and the rules installed, protect() keeps the rules on the
// right bridges (networks created/removed, dockerd restarts) and runs the canary.
//
// Integration in run.ts (a few lines):
//   const docker = await prepareDockerRun(argv, log);           // before parseRunOptions
//   const opts = parseRunOptions(docker ? docker.argv : argv);
//   ... firewall.install() ...
//   followContainerRules(docker, opts.containersFile, workers[0].addressGroups, post, log); // workers ready, before install
//   docker?.protect(firewall, opts.eve, [opts.firstQueue, opts.lastQueue], opts.repeatMark); // after install, not awaited
//   ... on stop: containerRules.close(), docker?.close() before firewall.remove()
import * as fs from 'node:fs';
import type { Firewall } from '../capture/firewall';
import type { CanaryResult } from '../docker/bridgeCanary';
import { ContainerDirectory } from '../docker/containerDirectory';
import { ContainerModeSnapshot, containerModeSnapshot } from '../docker/containerModeTable';
import { DockerIdentityProvider } from '../docker/dockerIdentityProvider';
import { DockerProtection, protectedBridges } from '../docker/dockerProtection';
import { EastWestVars, eastWestVarsWithOverride, readAddressVarOverrides } from '../docker/eastWestVarsOverride';
import { LateralError } from '../errors';
import { formatEveTimestamp } from '../output/eveFormat';
import { parseUint } from './parseFlags';
import { followAddressGroups, type AddressGroupRef } from '../docker/containerAddressGroups';
import { loadContainerSourceFile } from '../docker/containerSourceFile';
import type { WorkerCommand } from './runWorker';
import { DockerClient } from '../docker/dockerClient';
import {
  detectDockerFirewallBackend,
  dockerFirewallAdvice,
  findDockerdArgv,
  hasDockerUserChain,
  readDaemonJson,
  type DockerFirewallDetection,
} from '../docker/dockerFirewallBackend';

export const DOCKER_RUN_USAGE = `Docker host options (instead of --bridge):
  --all-networks          protect docker0 and every user-defined bridge network, following
                          networks as they are created and removed
  --network NAME          protect this network (name or id; repeatable; may not exist yet)
  --docker-socket PATH    Docker Engine API socket (default /var/run/docker.sock)
  --vars FILE             YAML whose vars.address-groups HOME_NET / EXTERNAL_NET override the
                          east-west defaults (HOME_NET = protected subnets, EXTERNAL_NET = any)
  --rule-check SEC        seconds between checks that our rules are still in place (default 2)
  --no-canary             skip the probe that proves each bridge's traffic reaches the queue
`;

export interface DockerRunOptions {
  /** undefined = every bridge network (--all-networks). */
  networks: string[] | undefined;
  socketPath: string | undefined;
  varsFile: string | undefined;
  checkIntervalMs: number;
  canary: boolean;
  /** The arguments left for parseRunOptions (without the Docker flags). */
  rest: string[];
}

/** Splits the Docker flags off; null when neither --all-networks nor --network is given. */
export function parseDockerRunFlags(argv: readonly string[]): DockerRunOptions | null {
  const cmd = 'lateral run';
  let all = false;
  const networks: string[] = [];
  let socketPath: string | undefined;
  let varsFile: string | undefined;
  let checkIntervalMs = 2000;
  let canary = true;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      if (eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: ${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--all-networks':
        all = true;
        break;
      case '--network': {
        const v = value();
        if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v)) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --network ${JSON.stringify(v)} is not a Docker network name or id`);
        networks.push(v);
        break;
      }
      case '--docker-socket':
        socketPath = value();
        break;
      case '--vars':
        varsFile = value();
        break;
      case '--rule-check':
        checkIntervalMs = parseUint(cmd, 'rule-check', value(), 0, 3600) * 1000;
        break;
      case '--no-canary':
        canary = false;
        break;
      default:
        rest.push(a);
    }
  }
  if (!all && networks.length === 0) {
    const used = argv.find((a) => /^--(docker-socket|vars|rule-check|no-canary)(=|$)/.test(a));
    if (used) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: ${used} needs --all-networks or --network`);
    return null;
  }
  if (all && networks.length > 0) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --all-networks and --network exclude each other`);
  if (rest.some((a) => a === '--bridge' || a.startsWith('--bridge='))) {
    throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --bridge cannot be combined with --all-networks/--network (the bridges come from Docker)`);
  }
  return { networks: all ? undefined : networks, socketPath, varsFile, checkIntervalMs, canary, rest };
}

/** An alert-like EVE record for a bridge the canary found unprotected (pipelines alert on it). */
export function canaryEveRecord(r: CanaryResult, nowMs: number = Date.now()): Record<string, unknown> {
  return {
    timestamp: formatEveTimestamp(Math.floor(nowMs / 1000), (nowMs % 1000) * 1000),
    event_type: 'alert',
    in_iface: r.bridge,
    alert: {
      action: 'allowed',
      gid: 1,
      signature_id: 1899001,
      rev: 1,
      signature: `LATERAL bridge ${r.bridge} is NOT protected: its traffic does not reach the queue`,
      category: 'Lateral health',
      severity: 1,
    },
    lateral: { bridge: r.bridge, protected: false, reason: r.reason },
  };
}

export interface DockerRunSetup {
  options: DockerRunOptions;
  /** Arguments for parseRunOptions: the rest plus one --bridge per protected bridge. */
  argv: string[];
  directory: ContainerDirectory;
  /** Names containers in alerts: identify(addr16, offset?, bridgePort?). */
  identity: DockerIdentityProvider;
  /** HOME_NET / EXTERNAL_NET for the engine; recompute on directory 'bridges'. */
  vars(): EastWestVars;
  /** Labelled containers' modes for the workers' ContainerModeTable; re-post on 'change'. */
  modeSnapshot(): ContainerModeSnapshot;
  /**
   * After firewall.install(): follow the networks, check the rules, run the canary (which
   * then requires that a worker bound to queues first..last received the probe).
   */
  protect(firewall: Firewall, eve: string | undefined, queues?: readonly [number, number], repeatMark?: number): Promise<DockerProtection>;
  close(): void;
}

/** Null when argv has no Docker flag; otherwise connects to dockerd (throws if it cannot). */
export async function prepareDockerRun(argv: readonly string[], log: (line: string) => void): Promise<DockerRunSetup | null> {
  const options = parseDockerRunFlags(argv);
  if (options === null) return null;
  if (options.varsFile) readAddressVarOverrides(options.varsFile); // a broken file fails now, with its name
  const directory = new ContainerDirectory({ socketPath: options.socketPath });
  directory.on('warning', (w: Error) => log(`docker: ${w.message}`));
  directory.on('connection', (state: string, err?: Error) => {
    if (state === 'down') log(`docker: event stream lost (${err?.message ?? 'closed'}); reconnecting`);
    else if (directory.syncCount > 1) log('docker: event stream reconnected; state rebuilt');
  });
  await directory.start();
  const bridges = protectedBridges(directory.networks(), options.networks);
  if (bridges.length === 0) {
    directory.close();
    throw new LateralError('LATERAL_ERR_USAGE', `lateral run: no Docker bridge network matches --network ${(options.networks ?? []).join(', ')} (docker network ls)`);
  }
  const identity = new DockerIdentityProvider(directory);
  let protection: DockerProtection | null = null;
  return {
    options,
    argv: [...options.rest, ...bridges.flatMap((b) => ['--bridge', b])],
    directory,
    identity,
    vars: () => eastWestVarsWithOverride(directory, options.networks, options.varsFile),
    modeSnapshot: () => containerModeSnapshot(directory),
    async protect(firewall: Firewall, eve: string | undefined, queues?: readonly [number, number], repeatMark = 0x100000): Promise<DockerProtection> {
      protection = new DockerProtection({
        directory,
        firewall,
        queues,
        networks: options.networks,
        checkIntervalMs: options.checkIntervalMs,
        canary: options.canary,
        log,
      });
      protection.on('unprotected', (r: CanaryResult) => {
        if (eve === undefined) return;
        const line = JSON.stringify(canaryEveRecord(r)) + '\n';
        if (eve === '-') process.stdout.write(line);
        else fs.appendFileSync(eve, line);
      });
      protection.on('canary', (r: CanaryResult) => {
        if (r.protected) log(`canary: ${r.bridge} protected (${r.hits} probe packets reached the queue)`);
      });
      await dockerFirewallBackend(firewall, repeatMark, options.socketPath, log);
      await protection.start();
      return protection;
    },
    close(): void {
      protection?.close();
      identity.close();
      directory.close();
    },
  };
}

/**
 * The engine side of Docker's live state, for `lateral run`: resolves the container address
 * groups the workers' rules use (`@label:tier=db`, ...) from Docker (following every change),
 * else from the --containers table, else leaves them empty with one warning each; and, under
 * Docker, keeps the workers' per-container modes (lateral.mode labels) current. `post` sends
 * one command to every worker. Call after the workers are ready, before the firewall install,
 * so the first packet already meets resolved groups.
 */
export function followContainerRules(
  docker: DockerRunSetup | null,
  containersFile: string | undefined,
  refs: readonly AddressGroupRef[],
  post: (cmd: WorkerCommand) => void,
  log: (line: string) => void,
): { close(): void } {
  const source = docker !== null ? docker.directory : containersFile !== undefined ? loadContainerSourceFile(containersFile) : null;
  const where = docker !== null ? 'Docker' : containersFile !== undefined ? `--containers ${containersFile}` : 'no Docker (--all-networks/--network) and no --containers table';
  const groups = followAddressGroups(refs, source, (update) => post({ type: 'addressGroups', update }), log, where);
  if (refs.length > 0) log(`container address groups: ${refs.map((r) => `${r.expr}=${groups.current.get(r.expr)?.length ?? 0}`).join(' ')} (addresses, from ${where})`);
  if (docker === null) return groups;
  const postModes = (): void => post({ type: 'containerModes', snapshot: docker.modeSnapshot() });
  postModes();
  docker.directory.on('change', postModes);
  return {
    close(): void {
      groups.close();
      docker.directory.off('change', postModes);
    },
  };
}

/**
 * Detects Docker's firewall backend (docker info, dockerd's flags, daemon.json, the
 * DOCKER-USER chain) and logs the fallback and advice for the nftables backend
 * (src/docker/dockerFirewallBackend.ts). Never throws: it only informs.
 */
export async function dockerFirewallBackend(firewall: Firewall, repeatMark: number, socketPath: string | undefined, log: (line: string) => void): Promise<DockerFirewallDetection> {
  const client = new DockerClient({ socketPath, timeoutMs: 3000 });
  let info: Record<string, unknown> | null = null;
  try {
    info = await client.info();
  } catch {
    // The decision falls back to the other evidence.
  } finally {
    client.close();
  }
  const argv = findDockerdArgv();
  const d = detectDockerFirewallBackend({
    info,
    dockerdArgv: argv,
    daemonJson: readDaemonJson(argv),
    dockerUserChain: hasDockerUserChain(firewall.backend.iptablesSave),
  });
  log(`docker: firewall backend ${d.backend} (${d.reason}); Lateral's hook: ${firewall.hookDescription}`);
  const advice = dockerFirewallAdvice(d, repeatMark, firewall.hookDescription);
  if (advice !== null) log(advice);
  return d;
}
