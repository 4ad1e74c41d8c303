// Keeps Lateral's queue rules on exactly the Docker bridge networks it protects, for as long
// as it runs: networks created or removed (ContainerDirectory 'bridges'), dockerd restarting
// and rebuilding its chains (event stream reconnect, plus a periodic check of our rules), and
// a canary on every newly protected bridge that proves its traffic reaches the queue.
//
// Nothing here is silent: each change, reinstall and canary result is counted, logged through
// `log`, and emitted, so `lateral run` can turn an unprotected bridge into an error line, an
// EVE event and a metric.
import { EventEmitter } from 'node:events';
import type { Firewall } from '../capture/firewall';
import { LateralError } from '../errors';
import { CanaryResult, probeBridge } from './bridgeCanary';
import type { BridgeNetwork, BridgeSetChange, ContainerDirectory } from './containerDirectory';

export interface DockerProtectionOptions {
  directory: ContainerDirectory;
  /** Already constructed; install() is called by the owner (after the queues are bound). */
  firewall: Firewall;
  /** Network names or ids (≥ 12 hex prefix) to protect; undefined = every bridge network. */
  networks?: readonly string[];
  /** Period of the rule check, ms (default 2000; 0 = none). */
  checkIntervalMs?: number;
  /** Run the canary on start and on each new bridge (default true). */
  canary?: boolean;
  log?: (line: string) => void;
  /** Lateral's queues: the canary then also requires that a bound worker received the probe. */
  queues?: readonly [number, number];
  /** Probe one bridge; tests and the CLI use probeBridge (the default). */
  probe?: (bridge: string, firewall: Firewall) => Promise<CanaryResult>;
}

export interface DockerProtectionCounters {
  /** Times our rules were found missing (dockerd rebuilt its chains) and reinstalled. */
  reinstalls: number;
  bridgesAdded: number;
  bridgesRemoved: number;
  canaryPassed: number;
  canaryFailed: number;
  /** Failed iptables calls during checks or bridge changes (retried on the next check). */
  errors: number;
}

/** The bridges of the networks `wanted` names (all bridge networks when undefined). */
export function protectedBridges(networks: readonly BridgeNetwork[], wanted?: readonly string[]): string[] {
  const out = new Set<string>();
  for (const n of networks) {
    if (wanted && !wanted.some((w) => w === n.name || w === n.id || (w.length >= 12 && n.id.startsWith(w)))) continue;
    out.add(n.bridge);
  }
  return [...out].sort();
}

/**
 * Events: 'bridges' ({added, removed} bridge names applied to the firewall),
 * 'reinstalled' (missing rule lines), 'canary' (CanaryResult), 'unprotected' (CanaryResult),
 * 'error' is never emitted (failures are counted, logged and retried).
 */
export class DockerProtection extends EventEmitter {
  readonly counters: DockerProtectionCounters = { reinstalls: 0, bridgesAdded: 0, bridgesRemoved: 0, canaryPassed: 0, canaryFailed: 0, errors: 0 };
  /** Bridges whose last canary failed, with the reason. */
  readonly unprotected = new Map<string, string>();
  private readonly directory: ContainerDirectory;
  private readonly firewall: Firewall;
  private readonly wanted: readonly string[] | undefined;
  private readonly log: (line: string) => void;
  private readonly probe: (bridge: string, firewall: Firewall) => Promise<CanaryResult>;
  private readonly canaryOn: boolean;
  private readonly checkIntervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  /** Canaries and rule changes run one at a time, in order. */
  private work: Promise<void> = Promise.resolve();
  private closed = false;

  private readonly onBridges = (_c: BridgeSetChange): void => this.enqueue(() => this.sync());
  private readonly onConnection = (state: string): void => {
    // After a reconnect dockerd may have rebuilt its chains: look now, not at the next tick.
    if (state === 'up') this.enqueue(async () => void this.check('event stream reconnected'));
  };

  constructor(options: DockerProtectionOptions) {
    super();
    this.directory = options.directory;
    this.firewall = options.firewall;
    this.wanted = options.networks;
    this.log = options.log ?? (() => undefined);
    this.probe = options.probe ?? ((b, fw) => probeBridge(b, fw, { queues: options.queues }));
    this.canaryOn = options.canary ?? true;
    this.checkIntervalMs = options.checkIntervalMs ?? 2000;
  }

  /** The bridges to protect now, from the directory. */
  wantedBridges(): string[] {
    return protectedBridges(this.directory.networks(), this.wanted);
  }

  /**
   * Starts following the directory (call after firewall.install()): brings the firewall's
   * bridge list up to date, runs the canary on every protected bridge, starts the check.
   * Resolves when the first canaries are done.
   */
  start(): Promise<void> {
    this.directory.on('bridges', this.onBridges);
    this.directory.on('connection', this.onConnection);
    this.enqueue(() => this.sync(this.firewall.bridges));
    if (this.checkIntervalMs > 0) {
      this.timer = setInterval(() => this.enqueue(async () => void this.check('periodic check')), this.checkIntervalMs);
      this.timer.unref?.();
    }
    return this.work;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.directory.off('bridges', this.onBridges);
    this.directory.off('connection', this.onConnection);
  }

  /** Resolves when queued work (bridge changes, canaries, checks) is done. */
  idle(): Promise<void> {
    return this.work;
  }

  private enqueue(task: () => Promise<void>): void {
    this.work = this.work.then(() => (this.closed ? undefined : task())).catch((e: unknown) => {
      this.counters.errors++;
      this.log(`docker protection: ${(e as Error).message ?? String(e)}`);
    });
  }

  /** Applies the wanted bridge set; canaries the new ones (and `alsoProbe`, at start). */
  private async sync(alsoProbe: readonly string[] = []): Promise<void> {
    const next = this.wantedBridges();
    const { added, removed } = this.firewall.setBridges(next);
    this.counters.bridgesAdded += added.length;
    this.counters.bridgesRemoved += removed.length;
    for (const b of removed) this.unprotected.delete(b);
    if (added.length + removed.length > 0) {
      this.log(`bridges: ${added.map((b) => '+' + b).concat(removed.map((b) => '-' + b)).join(' ')} (protecting ${next.join(',') || 'none'})`);
      this.emit('bridges', { added, removed });
    }
    if (!this.canaryOn) return;
    for (const b of new Set([...alsoProbe.filter((x) => next.includes(x)), ...added])) await this.runCanary(b);
  }

  /** Probes one bridge now (also usable from the CLI on demand). */
  async runCanary(bridge: string): Promise<CanaryResult> {
    const r = await this.probe(bridge, this.firewall);
    this.emit('canary', r);
    if (r.protected) {
      this.counters.canaryPassed++;
      this.unprotected.delete(bridge);
    } else {
      this.counters.canaryFailed++;
      this.unprotected.set(bridge, r.reason);
      this.log(`ERROR bridge ${bridge} is NOT protected: ${r.reason}`);
      this.emit('unprotected', r);
    }
    return r;
  }

  /** Reinstalls when any of our rules is gone; returns whether it did. */
  check(why: string): boolean {
    const missing = this.firewall.missingRules();
    if (missing.length === 0) return false;
    this.log(`${why}: ${missing.length} of Lateral's rules missing (${missing[0]}${missing.length > 1 ? ', …' : ''}); reinstalling`);
    try {
      this.firewall.install();
    } catch (e) {
      throw new LateralError('LATERAL_ERR_FIREWALL', `reinstalling the rules failed: ${(e as Error).message}`, undefined, { cause: e });
    }
    this.counters.reinstalls++;
    this.emit('reinstalled', missing);
    this.log(`rules reinstalled on ${this.firewall.bridges.join(',')} (hook ${this.firewall.hookDescription})`);
    return true;
  }
}
