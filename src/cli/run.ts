// `lateral run`: checks br_netfilter, binds one worker per queue (each compiles the rules),
// then installs the iptables rules (in that order, so no packet is queued before someone
// listens), drops every capability it no longer needs (src/cli/privileges.ts), and on
// SIGINT/SIGTERM removes the rules before unbinding. SIGHUP (or `lateral reload`) reloads the
// rules without a gap: validated aside here, compiled aside and swapped between two batches
// in every worker (src/cli/ruleReload.ts).
//
// The main thread owns the outputs: it takes the workers' alerts (bounded, see runWorker.ts),
// names their containers (ContainerIdentityProvider), writes EVE alerts and periodic stats,
// feeds the live map, folds the workers' metric deltas and the kernel's queue counters into
// LateralMetrics for --metrics-listen, and prints the one-line summary.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { LateralError } from '../errors';
import { bridgeExists, ensureBrNetfilter, Firewall } from '../capture/firewall';
import { PromiscuousBridgeWatch } from '../capture/promiscuousBridges';
import { NfqueueProcEntry, readNfqueueProc, uninspectedPackets } from '../capture/nfqueueProc';
import type { RuleLoadSummary } from '../verdict/createVerdictHandler';
import { formatEveAlert, type AlertRecordInput } from '../output/eveAlert';
import { startEveStats } from '../output/eveStats';
import { EveWriter } from '../output/eveWriter';
import { LateralMetrics } from '../output/metrics';
import { MetricsServer } from '../output/metricsServer';
import { NFQUEUE_PROC_PATH, parseNfqueueProcStats } from '../output/nfqueueProcStats';
import { TrafficMap } from '../output/trafficMap';
import { loadContainersFile, StaticContainerIdentities, type ContainerAddress, type ContainerIdentityProvider } from './containerIdentity';
import { AlertHandoff } from './alertHandoff';
import { LIVE_COUNTER_KINDS } from './liveCounters';
import { parseRunOptions, RunOptions, RUN_USAGE } from './runOptions';
import type { RunWorkerData, WorkerCommand, WorkerMessage } from './runWorker';
import { WORKER_STAT_COUNT, WorkerStat } from './workerStats';
import { DOCKER_RUN_USAGE, followContainerRules, prepareDockerRun, type DockerRunSetup } from './runDocker';
import type { AddressGroupRef } from '../docker/containerAddressGroups';
import { dropPrivileges, runCapabilities } from './privileges';
import { validateRuleReload, type RuleReloadRequest } from './ruleReload';
import { parseRunControlFlags, removePidFile, RUN_CONTROL_USAGE, writePidFile, writeReloadStatus } from './runControl';

interface QueueWorker {
  queue: number;
  worker: Worker;
  stats: Float64Array;
  alerts: AlertHandoff;
  rules: RuleLoadSummary | null;
  /** [cdocker] Container address groups the worker's rules use. */
  addressGroups: AddressGroupRef[];
}

/** Most alerts waiting for the main thread, per worker, before the worker drops (and counts) them. */
const MAX_ALERTS_IN_FLIGHT = 10000;

function log(line: string): void {
  process.stderr.write(`lateral: ${line}\n`);
}

/** Everything the main thread does with a worker's messages once it runs. */
interface WorkerSinks {
  alerts(queue: number, records: AlertRecordInput[]): void;
  metrics: LateralMetrics;
}

function startWorker(opts: RunOptions, maxFlows: number, queue: number, containers: ContainerAddress[], sinks: WorkerSinks, wantMetrics: boolean, containerModes = false): Promise<QueueWorker> {
  const shared = new SharedArrayBuffer(WORKER_STAT_COUNT * 8);
  const inFlight = AlertHandoff.sharedBuffer();
  const handoff = new AlertHandoff(inFlight, MAX_ALERTS_IN_FLIGHT);
  const workerData: RunWorkerData = {
    alertsInFlight: inFlight,
    maxAlertsInFlight: MAX_ALERTS_IN_FLIGHT,
    ruleFiles: opts.ruleFiles,
    configPath: opts.configPath,
    monitor: opts.monitor,
    containers,
    metrics: wantMetrics,
    queue,
    stats: shared,
    maxLen: opts.maxLen,
    copyRange: opts.copyRange,
    batchLimit: opts.batchLimit,
    gso: opts.gso,
    failOpen: opts.overloadAccept,
    conntrack: opts.conntrack,
    repeatMark: opts.repeatMark,
    bypassMark: opts.bypassMark,
    containerModes, // [cdocker]
    maxFlows,
  };
  const worker = new Worker(path.join(__dirname, 'runWorker.js'), { workerData });
  // Alerts and metric deltas are consumed from the start: a worker may judge packets of
  // another instance's queue the moment it binds.
  worker.on('message', (m: WorkerMessage) => {
    if (m.type === 'alerts') {
      try {
        sinks.alerts(queue, m.records);
      } finally {
        handoff.release(m.records.length);
      }
    } else if (m.type === 'metrics') {
      sinks.metrics.applyDelta(queue, m.delta);
    } else if (m.type === 'log') {
      log(m.line);
    }
  });
  return new Promise((resolve, reject) => {
    const onMessage = (m: WorkerMessage): void => {
      if (m.type === 'ready') {
        worker.off('message', onMessage);
        resolve({ queue, worker, stats: new Float64Array(shared), alerts: handoff, rules: m.rules, addressGroups: m.addressGroups ?? [] });
      } else if (m.type === 'error') {
        worker.off('message', onMessage);
        reject(new LateralError(m.code === 'LATERAL_ERR_KERNEL' ? 'LATERAL_ERR_KERNEL' : 'LATERAL_ERR_NATIVE', m.message));
      }
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new LateralError('LATERAL_ERR_NATIVE', `queue ${queue} worker exited (${code}) before binding`)));
  });
}

function stopWorker(w: QueueWorker): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      void w.worker.terminate().then(done, done);
    }, 3000);
    w.worker.once('exit', done);
    w.worker.postMessage({ type: 'stop' } satisfies WorkerCommand);
  });
}

function sum(workers: readonly QueueWorker[], field: number): number {
  let s = 0;
  for (const w of workers) s += w.stats[field]!;
  return s;
}

/** Rule reloads so far (summary line and tests). */
interface ReloadCounters {
  ok: number;
  failed: number;
}

interface KernelCounters {
  queued: number;
  queueDropped: number;
  userDropped: number;
  uninspected: number | string;
}

function summaryLine(label: string, workers: readonly QueueWorker[], k: KernelCounters, reloads: ReloadCounters): string {
  const f = (name: string, field: number): string => `${name}=${sum(workers, field)}`;
  return [
    label,
    f('packets', WorkerStat.PACKETS),
    f('bytes', WorkerStat.BYTES),
    f('ipv4', WorkerStat.IPV4),
    f('ipv6', WorkerStat.IPV6),
    f('tcp', WorkerStat.TCP),
    f('udp', WorkerStat.UDP),
    f('icmp', WorkerStat.ICMP),
    f('other', WorkerStat.OTHER),
    f('accepted', WorkerStat.ACCEPTED),
    f('dropped', WorkerStat.DROPPED),
    f('bypassed', WorkerStat.BYPASSED),
    `bypassed_flows=${sum(workers, WorkerStat.BYPASSED_FLOWS)}(pass=${sum(workers, WorkerStat.BYPASS_PASS)},depth=${sum(workers, WorkerStat.BYPASS_DEPTH)},encrypted=${sum(workers, WorkerStat.BYPASS_ENCRYPTED)})`,
    f('drops_waived', WorkerStat.DROPS_WAIVED),
    f('pcre_budget_exceeded', WorkerStat.PCRE_BUDGET_EXCEEDED),
    f('batches', WorkerStat.BATCHES),
    f('gso', WorkerStat.GSO),
    f('enobufs', WorkerStat.ENOBUFS),
    f('handler_errors', WorkerStat.HANDLER_ERRORS),
    `netlink_errors=${sum(workers, WorkerStat.RECV_ERRORS) + sum(workers, WorkerStat.SEND_ERRORS) + sum(workers, WorkerStat.NETLINK_ERRORS)}`,
    f('unverdicted', WorkerStat.UNVERDICTED),
    f('alerts', WorkerStat.ALERTS),
    f('alerts_lost', WorkerStat.ALERTS_LOST),
    `queued=${k.queued}`,
    `queue_dropped=${k.queueDropped}`,
    `user_dropped=${k.userDropped}`,
    `uninspected=${k.uninspected}`,
    `reloads=${reloads.ok}`,
    `reload_failures=${reloads.failed}`,
  ].join(' ');
}

/**
 * Who is behind an address: Docker's own view with --all-networks / --network, else the
 * --containers file (or nobody).
 */
function containerIdentities(opts: RunOptions, docker: DockerRunSetup | null): ContainerIdentityProvider {
  if (docker !== null) return docker.identity;
  return new StaticContainerIdentities(opts.containersFile !== undefined ? loadContainersFile(opts.containersFile) : []);
}

function logRules(r: RuleLoadSummary | null, opts: RunOptions): void {
  if (r === null) {
    log('no rules (--no-rules): every packet is accepted uninspected by the engine');
    return;
  }
  log(
    `rules: ${r.loaded} loaded, ${r.skipped} skipped from ${opts.ruleFiles.join(', ')} in ${(r.loadMs / 1000).toFixed(2)} s per worker ` +
      `(${opts.monitor ? 'monitor: alert only' : 'IPS: drop rules drop'}; EXTERNAL_NET ${r.externalNet})`,
  );
  for (const e of r.errors.slice(0, 5)) log(`rule error (rule not loaded): ${e}`);
  for (const s of r.skippedRules.slice(0, 5)) log(`skipped rule ${s.file}:${s.line} (sid ${s.sid}): ${s.reason}`);
  if (r.skipped > 10) log(`... see \`lateral rules check\` for every skipped rule`);
}

export async function runCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(RUN_USAGE + '\n' + DOCKER_RUN_USAGE + RUN_CONTROL_USAGE);
    return 0;
  }
  // SIGHUP's default action ends the process: from here on it only ever asks for a reload,
  // which waits until the workers run (a HUP during start is moot: they read the files now).
  let onHup: () => void = () => log('SIGHUP during start: the rules being loaded are the current files');
  const hup = (): void => onHup();
  process.on('SIGHUP', hup);
  try {
    return await runWithHup(argv, (f) => {
      onHup = f;
    });
  } finally {
    process.off('SIGHUP', hup);
  }
}

async function runWithHup(argv: readonly string[], setHupHandler: (f: () => void) => void): Promise<number> {
  const { control, rest } = parseRunControlFlags(argv);
  // --all-networks / --network: the bridges come from Docker (src/cli/runDocker.ts).
  const docker = await prepareDockerRun(rest, log);
  const opts = parseRunOptions(docker ? docker.argv : rest);
  for (const b of opts.bridges) {
    if (!bridgeExists(b)) throw new LateralError('LATERAL_ERR_USAGE', `lateral run: bridge ${b} does not exist (ip link show type bridge)`);
  }
  for (const f of opts.ruleFiles) {
    if (!fs.existsSync(f)) throw new LateralError('LATERAL_ERR_USAGE', `lateral run: rules file ${f} does not exist`);
  }
  const identities = containerIdentities(opts, docker);
  const containers = [...identities.entries()];
  for (const change of ensureBrNetfilter()) log(change);

  // Outputs first: a bad --eve path or a taken --metrics-listen port refuses before any rule.
  const map = new TrafficMap();
  for (const c of containers) map.setContainer(c.identity);
  const metrics = new LateralMetrics({ ...LIVE_COUNTER_KINDS, map });
  const eve = opts.eve !== undefined ? new EveWriter(opts.eve, { onError: (e) => log(e.message) }) : undefined;
  if (eve) {
    metrics.attachEveWriter(eve);
    eve.reopenOnSigusr1();
  }
  const server = opts.metricsListen !== undefined ? new MetricsServer({ metrics, map, listen: opts.metricsListen }) : undefined;
  if (server) {
    try {
      const a = await server.start();
      log(`metrics on http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}/metrics, live map on /`);
    } catch (e) {
      await eve?.close();
      throw e;
    }
  }
  const closeOutputs = async (): Promise<void> => {
    await server?.stop();
    await eve?.close();
  };

  let alertOutputErrors = 0;
  const sinks: WorkerSinks = {
    metrics,
    alerts(_queue, records) {
      const nowMs = Date.now();
      for (const r of records) {
        try {
          const src = identities.identify(r.src);
          const dst = identities.identify(r.dst);
          if (src) r.srcContainer = src;
          if (dst) r.destContainer = dst;
          eve?.write(formatEveAlert(r));
          map.recordAlert(r, nowMs);
        } catch (e) {
          // An output bug must cost this alert, not the process (and with it every verdict).
          alertOutputErrors++;
          if (alertOutputErrors === 1) log(`could not write an alert (sid ${r.sid}): ${(e as Error).stack ?? String(e)}`);
        }
      }
    },
  };

  const firewall = new Firewall({
    bridges: opts.bridges,
    firstQueue: opts.firstQueue,
    lastQueue: opts.lastQueue,
    queueBypass: opts.queueBypass,
    repeatMark: opts.repeatMark,
    bypassMark: opts.bypassMark,
    instance: opts.instance,
    hook: opts.hook,
  });

  const workers: QueueWorker[] = [];
  const queues: number[] = [];
  for (let q = opts.firstQueue; q <= opts.lastQueue; q++) queues.push(q);
  const started = await Promise.allSettled(queues.map((q) => startWorker(opts, control.maxFlows, q, containers, sinks, true, docker !== null)));
  for (const r of started) if (r.status === 'fulfilled') workers.push(r.value);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    docker?.close();
    await Promise.all(workers.map(stopWorker));
    await closeOutputs();
    throw failed.reason;
  }
  identities.onChange?.(() => {
    const entries = [...identities.entries()];
    for (const c of entries) map.setContainer(c.identity);
    for (const w of workers) w.worker.postMessage({ type: 'containers', entries } satisfies WorkerCommand);
  });
  const rules = workers[0]?.rules ?? null;
  logRules(rules, opts);
  if (rules !== null) metrics.recordRuleLoad({ loaded: rules.loaded, skipped: rules.skipped, success: true, timeSec: Date.now() / 1000 });
  // [cdocker] container address groups (@label:tier=db ...) and lateral.mode labels → workers
  let containerRules: { close(): void } = { close: () => undefined };
  const postToWorkers = (cmd: WorkerCommand): void => {
    for (const w of workers) w.worker.postMessage(cmd);
  };
  try {
    containerRules = followContainerRules(docker, opts.containersFile, workers[0]?.addressGroups ?? [], postToWorkers, log);
  } catch (e) {
    docker?.close();
    await Promise.all(workers.map(stopWorker));
    await closeOutputs();
    throw e;
  }

  try {
    firewall.install(); // removes what it installed itself when it fails half-way
  } catch (e) {
    containerRules.close();
    docker?.close();
    await Promise.all(workers.map(stopWorker));
    await closeOutputs();
    throw e;
  }
  // Before "running on": whoever waits for that line can `lateral reload` at once.
  if (control.pidFile !== undefined) {
    try {
      writePidFile(control.pidFile);
    } catch (e) {
      log(`pid file: ${(e as Error).message} (lateral reload needs --pid-file; SIGHUP still works)`);
      control.pidFile = undefined;
    }
  }
  const mode = `${opts.queueBypass ? 'fail-open' : 'fail-closed'}, overload ${opts.overloadAccept ? 'accept' : 'drop'}`;
  log(
    `running on ${opts.bridges.join(',')} queues ${opts.firstQueue}-${opts.lastQueue} (${mode}; ` +
      `iptables-${firewall.backend.name}: ${firewall.backend.reason}; hook ${firewall.hookDescription}; instance ${opts.instance})`,
  );
  if (docker) {
    const vars = docker.vars();
    log(`docker: protecting ${docker.options.networks ? docker.options.networks.join(',') : 'all bridge networks'}; HOME_NET=${vars.HOME_NET} EXTERNAL_NET=${vars.EXTERNAL_NET}`);
    // Not awaited: the canaries take seconds, and SIGINT/SIGTERM must already remove the rules.
    docker.protect(firewall, opts.eve, [opts.firstQueue, opts.lastQueue], opts.repeatMark).catch((e: Error) => log(`docker protection failed: ${e.message}`));
  }
  // Least privilege: the queues are bound, the rules in, the outputs open. Called once the
  // SIGINT/SIGTERM listeners exist: the drop blocks this thread for up to ~2 s (the native
  // side waits for every thread; node's watchdog never answers), and a signal in that time
  // must still remove the rules.
  const dropRunPrivileges = (): void => {
    if (control.keepCaps === null) return;
    const keep = control.keepCaps ?? runCapabilities({ backend: firewall.backend.name, docker: docker !== null, canary: docker?.options.canary ?? false });
    try {
      const p = dropPrivileges(keep);
      log(
        `privileges: kept ${p.kept.join(',') || 'none'}; dropped ${p.dropped.length} capabilities in ${p.threadsDropped}/${p.threads} threads` +
          (p.privilegedThreads.length > 0 ? ` (thread ${p.privilegedThreads.join(',')}, node's signal watchdog, runs no packet code and keeps its set)` : ''),
      );
    } catch (e) {
      // Not fatal: the data path works as before; say it loudly instead of stopping the IPS.
      log(`privileges: could not drop capabilities: ${(e as Error).message}`);
    }
  };

  const ourProc = (): NfqueueProcEntry[] => {
    try {
      return readNfqueueProc().filter((e) => e.queue >= opts.firstQueue && e.queue <= opts.lastQueue);
    } catch {
      return [];
    }
  };
  const kernelCounters = (): KernelCounters => {
    const proc = ourProc();
    const k: KernelCounters = { queued: 0, queueDropped: 0, userDropped: 0, uninspected: 'unknown' };
    for (const e of proc) {
      k.queued += e.queueTotal;
      k.queueDropped += e.queueDropped;
      k.userDropped += e.userDropped;
    }
    try {
      k.uninspected = uninspectedPackets(firewall.queueRuleHits(), sum(workers, WorkerStat.PACKETS), proc);
    } catch {
      // iptables unavailable for a moment: say so rather than print a wrong number.
    }
    return k;
  };
  const reloads: ReloadCounters = { ok: 0, failed: 0 };
  const snapshot = (label: string): string => summaryLine(label, workers, kernelCounters(), reloads);

  // Kernel-side metrics: /proc every second (cheap); the uninspected count needs an
  // iptables-save per family, so every 5 s.
  let ticks = 0;
  const promiscuous = new PromiscuousBridgeWatch(log);
  const pollKernel = (withIptables: boolean): void => {
    promiscuous.check(firewall.bridges);
    metrics.setPromiscuousBridges(firewall.bridges, promiscuous.promiscuous);
    try {
      const all = parseNfqueueProcStats(fs.readFileSync(NFQUEUE_PROC_PATH, 'utf8'));
      for (const w of workers) {
        const c = all.get(w.queue);
        if (c) metrics.setQueueCounters(w.queue, c, w.stats[WorkerStat.ENOBUFS]!);
      }
    } catch (e) {
      if (ticks === 0) log(`cannot read ${NFQUEUE_PROC_PATH}: ${(e as Error).message}`);
    }
    if (withIptables) {
      try {
        metrics.setUninspected(uninspectedPackets(firewall.queueRuleHits(), sum(workers, WorkerStat.PACKETS), ourProc()));
      } catch {
        // Counted at the next poll.
      }
    }
  };
  const kernelTimer = setInterval(() => pollKernel(++ticks % 5 === 0), 1000);
  pollKernel(true);
  const stopEveStats = eve && opts.statsIntervalMs > 0 ? startEveStats(eve, metrics, opts.statsIntervalMs) : undefined;

  const startedAt = Date.now();
  const timer =
    opts.summaryIntervalMs > 0
      ? setInterval(() => log(snapshot(`summary ${Math.round((Date.now() - startedAt) / 1000)}s`)), opts.summaryIntervalMs)
      : undefined;

  // Rule reload (SIGHUP / `lateral reload`). Rounds never overlap; signals during a round
  // coalesce into one more round, which reads the files again.
  let generation = 0;
  let reloading = false;
  let reloadAgain = false;
  let stopping = false;
  let running = rules;
  const reloadStatus = (gen: number, startedAtMs: number, ok: boolean, message: string): void => {
    if (ok) reloads.ok++;
    else reloads.failed++;
    metrics.recordRuleLoad({ loaded: running?.loaded ?? 0, skipped: running?.skipped ?? 0, success: ok, timeSec: Date.now() / 1000 });
    log(`reload ${gen}: ${message}`);
    if (control.pidFile === undefined) return;
    try {
      writeReloadStatus(control.pidFile, { pid: process.pid, generation: gen, startedAtMs, ok, message, loaded: running?.loaded ?? 0, skipped: running?.skipped ?? 0 });
    } catch (e) {
      log(`cannot write the reload status next to ${control.pidFile}: ${(e as Error).message}`);
    }
  };
  const askWorker = (w: QueueWorker, req: RuleReloadRequest): Promise<WorkerMessage> =>
    new Promise((resolve) => {
      const onMessage = (m: WorkerMessage): void => {
        if ((m.type === 'reloaded' || m.type === 'reload-failed') && m.generation === req.generation) {
          w.worker.off('message', onMessage);
          w.worker.off('exit', onExit);
          resolve(m);
        }
      };
      const onExit = (): void => {
        w.worker.off('message', onMessage);
        resolve({ type: 'reload-failed', queue: w.queue, generation: req.generation, message: 'worker exited' });
      };
      w.worker.on('message', onMessage);
      w.worker.once('exit', onExit);
      w.worker.postMessage({ type: 'reload', ...req } satisfies WorkerCommand);
    });
  const reloadRound = async (): Promise<void> => {
    const gen = ++generation;
    const startedAtMs = Date.now();
    if (running === null) {
      reloadStatus(gen, startedAtMs, false, 'refused: running with --no-rules, nothing to reload');
      return;
    }
    let req: RuleReloadRequest;
    let validateMs: number;
    try {
      const v = validateRuleReload(opts.ruleFiles, opts.configPath, opts.monitor);
      req = { generation: gen, sources: v.sources, configPath: opts.configPath, monitor: opts.monitor };
      validateMs = v.summary.loadMs;
    } catch (e) {
      const where = e instanceof LateralError ? `${e.message} [${e.code}]` : String(e);
      reloadStatus(gen, startedAtMs, false, `refused, the running rules stay: ${where}`);
      return;
    }
    const answers = await Promise.all(workers.map((w) => askWorker(w, req)));
    const failed = answers.filter((a): a is Extract<WorkerMessage, { type: 'reload-failed' }> => a.type === 'reload-failed');
    const done = answers.filter((a): a is Extract<WorkerMessage, { type: 'reloaded' }> => a.type === 'reloaded');
    if (done.length > 0) {
      running = done[0]!.rules;
      // [cdocker] The new rules may name container groups the old ones did not: follow them all.
      containerRules.close();
      try {
        containerRules = followContainerRules(docker, opts.containersFile, done[0]!.addressGroups, postToWorkers, log);
      } catch (e) {
        log(`container address groups after reload: ${(e as Error).message}`);
      }
    }
    if (failed.length > 0) {
      // Workers that compiled run the new rules, the others their old ones: say which.
      reloadStatus(gen, startedAtMs, false, `failed in queue(s) ${failed.map((f) => `${f.queue} (${f.message})`).join(', ')}; ${done.length} of ${workers.length} workers run the new rules`);
      return;
    }
    const max = (f: (d: (typeof done)[number]) => number): string => (Math.max(...done.map(f)) / 1000).toFixed(2);
    const flows = done.reduce((n, d) => n + d.flowsKept, 0);
    reloadStatus(
      gen,
      startedAtMs,
      true,
      `${running!.loaded} rules loaded, ${running!.skipped} skipped from ${opts.ruleFiles.join(', ')}; validated in ${(validateMs / 1000).toFixed(2)} s; ` +
        `${workers.length} worker(s) parsed aside in ${max((d) => d.parseMs)} s (between batches), compiled in ${max((d) => d.compileMs)} s, ` +
        `longest queue stall ${max((d) => d.longestStallMs)} s; ${flows} flows kept their state`,
    );
  };
  const reload = (): void => {
    if (stopping) return;
    if (reloading) {
      reloadAgain = true;
      return;
    }
    reloading = true;
    void (async () => {
      try {
        do {
          reloadAgain = false;
          await reloadRound();
        } while (reloadAgain && !stopping);
      } catch (e) {
        log(`reload: unexpected failure: ${(e as Error).stack ?? String(e)}`);
      } finally {
        reloading = false;
      }
    })();
  };
  setHupHandler(reload);

  return new Promise<number>((resolve) => {
    let exitCode = 0;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      if (signal.startsWith('worker')) exitCode = 1;
      if (timer) clearInterval(timer);
      clearInterval(kernelTimer);
      if (control.pidFile !== undefined) removePidFile(control.pidFile);
      log(`${signal}: removing rules`);
      containerRules.close();
      docker?.close();
      let code = exitCode;
      // Kernel counters are read while the rules (and their hit counters) still exist.
      pollKernel(true);
      const k = kernelCounters();
      try {
        firewall.remove();
      } catch (e) {
        log(`could not remove all rules (run \`lateral uninstall\`): ${String((e as Error).message)}`);
        code = 1;
      }
      // Let packets already queued get their verdicts before the queues unbind.
      setTimeout(() => {
        void Promise.all(workers.map(stopWorker)).then(async () => {
          // The workers' last alerts and deltas arrived before their exit.
          if (stopEveStats) stopEveStats();
          else if (eve && opts.statsIntervalMs === 0) startEveStats(eve, metrics, 3_600_000)();
          log(summaryLine('final', workers, k, reloads));
          if (alertOutputErrors > 0) log(`${alertOutputErrors} alerts could not be written (see the first error above)`);
          await closeOutputs();
          const es = eve?.stats();
          if (es && es.droppedBacklog + es.droppedIoError > 0) log(`${es.droppedBacklog + es.droppedIoError} EVE records could not be written`);
          resolve(code);
        });
      }, 200);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    dropRunPrivileges();
    for (const w of workers) {
      w.worker.on('error', (e) => {
        log(`queue ${w.queue} worker failed: ${String(e)}`);
        stop('worker failure');
      });
      // A worker that ends on its own leaves its queue unbound: with --queue-bypass the
      // traffic would pass uninspected, without it it would stop. Either way, say so and stop.
      w.worker.on('exit', (code) => {
        if (!stopping) {
          log(`queue ${w.queue} worker exited unexpectedly (${code})`);
          stop('worker exit');
        }
      });
    }
  });
}
