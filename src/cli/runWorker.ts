// One queue's worker thread for `lateral run`: compiles the rules, warms the engine up on
// synthetic connections (src/verdict/engineWarmup.ts: the first real ones would otherwise pay
// V8's compilation inline), binds its NfQueue, judges
// each batch with the engine, keeps its summary counters in shared memory, posts metric deltas
// about once a second and the batch's alerts (plain AlertRecordInput objects) after each batch.
//
// Flow state never crosses threads: the kernel's --queue-balance keeps a connection on one
// queue, so each worker owns its flows outright (DESIGN.md).
//
// Rule reload ('reload' command, src/cli/ruleReload.ts): the worker parses the validated rule
// text aside in slices of ~20 ms, judging batches with the running engine in between, then
// compiles it in one block and swaps the engine before the next batch. Packets arriving during
// that block wait in the kernel queue (counted there if it overflows) and are judged by the
// new rules. Flows and their flowbits stay.
//
// Alerts are bounded on their way to the main thread: a shared in-flight counter (added here,
// subtracted by the main thread once written) caps what may wait in the message queue; past it
// alerts are counted in ALERTS_LOST and dropped, so a stalled main thread costs alerts, not memory.
import { parentPort, workerData } from 'node:worker_threads';
import type { PerformanceObserver } from 'node:perf_hooks';
import { NfQueue } from '../capture/nfqueue';
import { NfVerdict, SkbInfo } from '../capture/native';
import type { PacketBatch } from '../capture/packetBatch';
import type { DetectResult } from '../detect/detectEngine';
import { createVerdictHandler, type RuleLoadSummary } from '../verdict/createVerdictHandler';
import type { PacketInspector } from '../verdict/packetInspector';
import type { PacketVerdictHandler } from '../verdict/packetVerdictHandler';
import type { EngineVerdictHandler } from '../verdict/engineVerdictHandler';
import { alertRecordsOf } from '../output/alertRecords';
import type { AlertRecordInput } from '../output/eveAlert';
import { observeGcPauses, type MetricsDelta } from '../output/workerCounters';
import { StaticContainerIdentities, type ContainerAddress } from './containerIdentity';
import { AlertHandoff } from './alertHandoff';
import { LiveCounters } from './liveCounters';
import { WorkerStat } from './workerStats';
// [cdocker] container address groups and per-container modes
import { addressGroupRefs, applyAddressGroupUpdate, type AddressGroupRef, type AddressGroupUpdate } from '../docker/containerAddressGroups';
import { ContainerModeTable, type ContainerModeSnapshot } from '../docker/containerModeTable';
import { ContainerMode } from '../docker/containerDirectory';
import { pcreBudget, pcreBudgetChannel, type PcreBudgetEvent } from '../detect/pcreCost';
import { compileRuleReloadInSlices, swapEngine, type RuleReloadRequest } from './ruleReload';

export interface RunWorkerData {
  queue: number;
  stats: SharedArrayBuffer;
  /** AlertHandoff's shared counter: alerts posted and not yet consumed by the main thread. */
  alertsInFlight: SharedArrayBuffer;
  maxAlertsInFlight: number;
  maxLen: number;
  copyRange: number;
  batchLimit: number;
  gso: boolean;
  failOpen: boolean;
  conntrack: boolean;
  repeatMark: number;
  bypassMark: number;
  ruleFiles: string[];
  configPath: string | undefined;
  monitor: boolean;
  containers: ContainerAddress[];
  /** Post metric deltas (only when someone consumes them). */
  metrics: boolean;
  /**
   * [cdocker] Docker run: per-container modes (lateral.mode labels) decide drops. The engine
   * then runs in IPS mode even with --monitor, and a ContainerModeTable with global mode
   * MONITOR/PROTECT waives the drops enforceDrop() says not to carry out.
   */
  containerModes?: boolean;
  /** Flow table bound of this worker. */
  maxFlows: number;
  /** false: skip the engine warm-up (src/verdict/engineWarmup.ts) before binding. Default on. */
  warmup?: boolean;
}

export type WorkerMessage =
  | { type: 'ready'; queue: number; rules: RuleLoadSummary | null; addressGroups?: AddressGroupRef[] }
  | { type: 'error'; queue: number; code: string; message: string }
  | { type: 'stopped'; queue: number }
  | { type: 'alerts'; queue: number; records: AlertRecordInput[] }
  | { type: 'metrics'; queue: number; delta: MetricsDelta }
  /** A line for the main thread's log (rare events: once per pcre over its budget). */
  | { type: 'log'; queue: number; line: string }
  | {
      type: 'reloaded';
      queue: number;
      generation: number;
      rules: RuleLoadSummary;
      /** Parse (in slices, between batches) and compile (one block) times, ms. */
      parseMs: number;
      compileMs: number;
      /** The longest the worker did not serve its queue because of the reload, ms. */
      longestStallMs: number;
      /** Flows whose detection state (flowbits, pass/drop) was carried over. */
      flowsKept: number;
      /** [cdocker] Container address groups the new rules use (new ones start empty). */
      addressGroups: AddressGroupRef[];
    }
  | { type: 'reload-failed'; queue: number; generation: number; message: string };

/** Main thread → worker. */
export type WorkerCommand =
  | { type: 'stop' }
  | { type: 'containers'; entries: ContainerAddress[] }
  // [cdocker] new members of container address groups; labelled containers' modes
  | { type: 'addressGroups'; update: AddressGroupUpdate }
  | { type: 'containerModes'; snapshot: ContainerModeSnapshot }
  | ({ type: 'reload' } & RuleReloadRequest);

/** Most alerts one batch hands over; a flood beyond it is counted in ALERTS_LOST. */
const MAX_ALERTS_PER_BATCH = 4096;

const data = workerData as RunWorkerData;
const stats = new Float64Array(data.stats);
const handoff = new AlertHandoff(data.alertsInFlight, data.maxAlertsInFlight);
const port = parentPort!;
// Once per pcre, the first time a buffer is longer than its cost window: say which rule.
pcreBudgetChannel.subscribe((message) => {
  const ev = message as PcreBudgetEvent;
  port.postMessage({
    type: 'log', queue: data.queue,
    line: `queue ${data.queue}: pcre of sid ${ev.sid} saw only ${ev.window} of ${ev.length} bytes (cost bound; counted in pcre_budget_exceeded, docs/hardening.md)`,
  } satisfies WorkerMessage);
});

let handler: PacketVerdictHandler;
let engine: EngineVerdictHandler | null = null;
let live: LiveCounters | null = null;
let queue: NfQueue;
let pendingAlerts: AlertRecordInput[] = [];
let gcObserver: PerformanceObserver | null = null;

/**
 * NfQueue calls this after a batch's verdicts were sent: lateral_verdict_latency_seconds is
 * the batch's whole time in Lateral (handler and the verdict syscall), from when it was read.
 */
function onVerdictsSent(count: number, receivedAt: number): void {
  live?.counters.batch(count, (performance.now() - receivedAt) / 1000);
}

// Counting by reading the IP version and protocol bytes directly, so the summary line means
// the same with or without an engine.
function countBatch(batch: PacketBatch): void {
  const bytes = batch.data;
  const n = batch.count;
  for (let i = 0; i < n; i++) {
    const off = batch.offset(i);
    stats[WorkerStat.BYTES]! += batch.origLen(i);
    if ((batch.skbInfo(i) & SkbInfo.GSO) !== 0) stats[WorkerStat.GSO]!++;
    if (batch.capLen(i) < 20) {
      stats[WorkerStat.OTHER]!++;
      continue;
    }
    const version = bytes[off]! >> 4;
    let proto = -1;
    if (version === 4) {
      stats[WorkerStat.IPV4]!++;
      proto = bytes[off + 9]!;
    } else if (version === 6) {
      stats[WorkerStat.IPV6]!++;
      proto = batch.capLen(i) >= 40 ? bytes[off + 6]! : -1;
    }
    if (proto === 6) stats[WorkerStat.TCP]!++;
    else if (proto === 17) stats[WorkerStat.UDP]!++;
    else if (proto === 1 || proto === 58) stats[WorkerStat.ICMP]!++;
    else stats[WorkerStat.OTHER]!++;
  }
  stats[WorkerStat.PACKETS]! += n;
  stats[WorkerStat.BATCHES]!++;
}

function countVerdicts(batch: PacketBatch): void {
  const n = batch.count;
  const bypass = batch.bypassMark;
  for (let i = 0; i < n; i++) {
    if (batch.verdicts[i] === NfVerdict.DROP) stats[WorkerStat.DROPPED]!++;
    else if ((batch.marks[i]! & bypass) !== 0 && (batch.mark(i) & bypass) === 0) stats[WorkerStat.BYPASSED]!++;
    else stats[WorkerStat.ACCEPTED]!++;
  }
}

/** AlertSink: runs only for packets that alerted (cold-ish), while the packet is current. */
function onAlert(inspector: PacketInspector, result: DetectResult): void {
  stats[WorkerStat.ALERTS]! += result.alertCount;
  const slot = live !== null ? live.slotOf(inspector.flow) : -1;
  for (let i = 0; i < result.alertCount; i++) {
    const a = result.alerts[i]!;
    live?.counters.alert(a.sid, a.priority, a.action === 'blocked', slot);
  }
  if (pendingAlerts.length + result.alertCount > MAX_ALERTS_PER_BATCH) {
    stats[WorkerStat.ALERTS_LOST]! += result.alertCount;
    return;
  }
  for (const r of alertRecordsOf(inspector, result)) pendingAlerts.push(r);
}

function postAlerts(): void {
  const records = pendingAlerts;
  pendingAlerts = [];
  const n = records.length;
  if (!handoff.reserve(n)) {
    stats[WorkerStat.ALERTS_LOST]! += n;
    return;
  }
  port.postMessage({ type: 'alerts', queue: data.queue, records } satisfies WorkerMessage);
}

function onBatch(batch: PacketBatch): void {
  countBatch(batch);
  handler.handleBatch(batch);
  countVerdicts(batch);
  if (pendingAlerts.length > 0) postAlerts();
}

function copyNativeStats(): void {
  const s = queue.stats();
  stats[WorkerStat.ENOBUFS] = s.enobufs;
  stats[WorkerStat.RECV_ERRORS] = s.recvErrors;
  stats[WorkerStat.SEND_ERRORS] = s.sendErrors;
  stats[WorkerStat.NETLINK_ERRORS] = s.netlinkErrors;
  stats[WorkerStat.VERDICT_MESSAGES] = s.verdictMessages;
  stats[WorkerStat.MAX_BATCH] = s.maxBatch;
  stats[WorkerStat.HANDLER_ERRORS] = s.handlerErrors;
  stats[WorkerStat.UNVERDICTED] = s.skipped + s.truncated;
  if (engine !== null) {
    const c = engine.counters;
    stats[WorkerStat.BYPASSED_FLOWS] = c.bypassedFlows;
    stats[WorkerStat.BYPASS_PASS] = c.bypassPass;
    stats[WorkerStat.BYPASS_DEPTH] = c.bypassDepth;
    stats[WorkerStat.BYPASS_ENCRYPTED] = c.bypassEncrypted;
    stats[WorkerStat.DROPS_WAIVED] = c.dropsWaived;
  }
  stats[WorkerStat.PCRE_BUDGET_EXCEEDED] = pcreBudget.exceeded;
}

function postMetrics(): void {
  if (live === null || !data.metrics) return;
  live.refresh();
  port.postMessage({ type: 'metrics', queue: data.queue, delta: live.counters.takeDelta() } satisfies WorkerMessage);
}

/** Set by 'stop': a reload still parsing then neither swaps nor answers. */
let stopped = false;
/** setImmediate, not a microtask: the native queue's poll callbacks (batches) run first. */
const yieldToBatches = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs from the message handler and its setImmediate continuations, never inside a batch: the
 * swap falls between two batches. A worker started with --no-rules has no engine to swap (run
 * refuses the reload earlier).
 */
async function reload(req: RuleReloadRequest): Promise<void> {
  try {
    if (engine === null) throw new Error('this worker runs without rules (--no-rules)');
    const compiled = await compileRuleReloadInSlices(req, yieldToBatches);
    if (stopped) return;
    const flowsKept = swapEngine(engine.inspector, compiled.engine);
    port.postMessage({
      type: 'reloaded',
      queue: data.queue,
      generation: req.generation,
      rules: compiled.summary,
      compileMs: compiled.timing.compileMs,
      parseMs: compiled.timing.parseMs,
      longestStallMs: compiled.timing.longestSliceMs,
      flowsKept,
      addressGroups: addressGroupRefs(),
    } satisfies WorkerMessage);
  } catch (e) {
    // The old engine is untouched: the swap is the last step.
    if (stopped) return;
    port.postMessage({ type: 'reload-failed', queue: data.queue, generation: req.generation, message: (e as Error).message } satisfies WorkerMessage);
  }
}

function main(): void {
  let rules: RuleLoadSummary | null;
  try {
    const created = createVerdictHandler({ queue: data.queue, ruleFiles: data.ruleFiles, configPath: data.configPath, monitor: data.monitor && data.containerModes !== true, maxFlows: data.maxFlows, warmup: data.warmup === false ? undefined : {} });
    handler = created.handler;
    engine = created.engine;
    rules = created.rules;
    if (engine !== null && data.containerModes === true) engine.dropPolicy = modeTable({ ipv4: [], ipv4Modes: [], ipv6: [], ipv6Modes: [] });
    if (engine !== null) {
      engine.onAlert = onAlert;
      live = new LiveCounters(engine.inspector, new StaticContainerIdentities(data.containers));
      engine.observer = live;
      // lateral_worker_gc_pause_seconds: scavenges stop this thread while packets wait.
      if (data.metrics) gcObserver = observeGcPauses(live.counters);
    }
    queue = new NfQueue({
      queue: data.queue,
      maxLen: data.maxLen,
      copyRange: data.copyRange,
      batchLimit: data.batchLimit,
      gso: data.gso,
      failOpen: data.failOpen,
      conntrack: data.conntrack,
      repeatMark: data.repeatMark,
      bypassMark: data.bypassMark,
      onHandlerError: data.failOpen ? 'accept' : 'drop',
      onVerdictsSent,
    });
    queue.start(onBatch);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    port.postMessage({ type: 'error', queue: data.queue, code: err.code ?? 'LATERAL_ERR_NATIVE', message: err.message ?? String(e) } satisfies WorkerMessage);
    return;
  }
  const timer = setInterval(() => {
    copyNativeStats();
    postMetrics();
  }, 1000);
  const statsTimer = setInterval(copyNativeStats, 250);
  port.on('message', (msg: WorkerCommand) => {
    if (msg.type === 'containers') {
      live?.setIdentities(new StaticContainerIdentities(msg.entries));
      return;
    }
    if (msg.type === 'reload') {
      void reload(msg);
    } else if (msg.type === 'addressGroups' || msg.type === 'containerModes') {
      onDockerCommand(msg);
      return;
    }
    if (msg.type !== 'stop') return;
    stopped = true;
    clearInterval(timer);
    clearInterval(statsTimer);
    gcObserver?.disconnect();
    copyNativeStats();
    queue.close();
    handler.close?.();
    if (pendingAlerts.length > 0) postAlerts();
    postMetrics();
    port.postMessage({ type: 'stopped', queue: data.queue } satisfies WorkerMessage);
    port.close();
  });
  port.postMessage({ type: 'ready', queue: data.queue, rules, addressGroups: addressGroupRefs() } satisfies WorkerMessage);
}

// [cdocker] Docker's live state reaching the engine: group members replaced in place, modes
// swapped as a whole table. An error (a bad address from the main thread) is logged, not fatal.
function modeTable(snapshot: ContainerModeSnapshot): ContainerModeTable {
  return new ContainerModeTable(snapshot, data.monitor ? ContainerMode.MONITOR : ContainerMode.PROTECT);
}

function onDockerCommand(msg: Extract<WorkerCommand, { type: 'addressGroups' | 'containerModes' }>): void {
  if (msg.type === 'addressGroups') {
    for (const e of applyAddressGroupUpdate(msg.update)) process.stderr.write(`lateral: queue ${data.queue}: ${e}\n`);
  } else if (engine !== null && data.containerModes === true) {
    engine.dropPolicy = modeTable(msg.snapshot);
  }
}

main();
