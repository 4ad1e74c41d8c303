// `lateral run`: checks br_netfilter, binds one worker per queue, then installs the
// rules (in that order, so no packet is queued before someone listens), prints a summary
// line periodically, and on SIGINT/SIGTERM removes the rules before unbinding.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { LateralError } from '../errors';
import { bridgeExists, ensureBrNetfilter, Firewall } from '../capture/firewall';
import { NfqueueProcEntry, readNfqueueProc, uninspectedPackets } from '../capture/nfqueueProc';
import { parseRunOptions, RunOptions, RUN_USAGE } from './runOptions';
import type { RunWorkerData, WorkerMessage } from './runWorker';
import { WORKER_STAT_COUNT, WorkerStat } from './workerStats';
import { DOCKER_RUN_USAGE, prepareDockerRun } from './runDocker';

interface QueueWorker {
  queue: number;
  worker: Worker;
  stats: Float64Array;
}

function log(line: string): void {
  process.stderr.write(`lateral: ${line}\n`);
}

function startWorker(opts: RunOptions, queue: number): Promise<QueueWorker> {
  const shared = new SharedArrayBuffer(WORKER_STAT_COUNT * 8);
  const workerData: RunWorkerData = {
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
    settings: { eve: opts.eve },
  };
  const worker = new Worker(path.join(__dirname, 'runWorker.js'), { workerData });
  return new Promise((resolve, reject) => {
    const onMessage = (m: WorkerMessage): void => {
      if (m.type === 'ready') {
        worker.off('message', onMessage);
        resolve({ queue, worker, stats: new Float64Array(shared) });
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
    w.worker.postMessage({ type: 'stop' });
  });
}

function sum(workers: readonly QueueWorker[], field: number): number {
  let s = 0;
  for (const w of workers) s += w.stats[field]!;
  return s;
}

interface KernelCounters {
  queued: number;
  queueDropped: number;
  userDropped: number;
  uninspected: number | string;
}

function summaryLine(label: string, workers: readonly QueueWorker[], k: KernelCounters): string {
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
    f('batches', WorkerStat.BATCHES),
    f('gso', WorkerStat.GSO),
    f('enobufs', WorkerStat.ENOBUFS),
    f('handler_errors', WorkerStat.HANDLER_ERRORS),
    `netlink_errors=${sum(workers, WorkerStat.RECV_ERRORS) + sum(workers, WorkerStat.SEND_ERRORS) + sum(workers, WorkerStat.NETLINK_ERRORS)}`,
    f('unverdicted', WorkerStat.UNVERDICTED),
    `queued=${k.queued}`,
    `queue_dropped=${k.queueDropped}`,
    `user_dropped=${k.userDropped}`,
    `uninspected=${k.uninspected}`,
  ].join(' ');
}

export async function runCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(RUN_USAGE + '\n' + DOCKER_RUN_USAGE);
    return 0;
  }
  // --all-networks / --network: the bridges come from Docker (src/cli/runDocker.ts).
  const docker = await prepareDockerRun(argv, log);
  const opts = parseRunOptions(docker ? docker.argv : argv);
  for (const b of opts.bridges) {
    if (!bridgeExists(b)) throw new LateralError('LATERAL_ERR_USAGE', `lateral run: bridge ${b} does not exist (ip link show type bridge)`);
  }
  for (const change of ensureBrNetfilter()) log(change);
  if (opts.eve !== undefined) log(`--eve ${opts.eve}: not yet implemented (no detection engine wired in); ignored`);
  if (opts.metricsListen !== undefined) log(`--metrics-listen ${opts.metricsListen}: not yet implemented; ignored`);

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
  const started = await Promise.allSettled(queues.map((q) => startWorker(opts, q)));
  for (const r of started) if (r.status === 'fulfilled') workers.push(r.value);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    docker?.close();
    await Promise.all(workers.map(stopWorker));
    throw failed.reason;
  }

  try {
    firewall.install(); // removes what it installed itself when it fails half-way
  } catch (e) {
    docker?.close();
    await Promise.all(workers.map(stopWorker));
    throw e;
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
    docker.protect(firewall, opts.eve, [opts.firstQueue, opts.lastQueue]).catch((e: Error) => log(`docker protection failed: ${e.message}`));
  }

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
  const snapshot = (label: string): string => summaryLine(label, workers, kernelCounters());

  const startedAt = Date.now();
  const timer =
    opts.summaryIntervalMs > 0
      ? setInterval(() => log(snapshot(`summary ${Math.round((Date.now() - startedAt) / 1000)}s`)), opts.summaryIntervalMs)
      : undefined;

  return new Promise<number>((resolve) => {
    let stopping = false;
    let exitCode = 0;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      if (signal.startsWith('worker')) exitCode = 1;
      if (timer) clearInterval(timer);
      log(`${signal}: removing rules`);
      docker?.close();
      let code = exitCode;
      // Kernel counters are read while the rules (and their hit counters) still exist.
      const k = kernelCounters();
      try {
        firewall.remove();
      } catch (e) {
        log(`could not remove all rules (run \`lateral uninstall\`): ${String((e as Error).message)}`);
        code = 1;
      }
      // Let packets already queued get their verdicts before the queues unbind.
      setTimeout(() => {
        void Promise.all(workers.map(stopWorker)).then(() => {
          log(summaryLine('final', workers, k));
          resolve(code);
        });
      }, 200);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
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
