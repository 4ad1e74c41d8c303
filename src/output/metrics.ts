// Lateral's Prometheus metrics, owned by the main thread.
//
// prom-client keeps one registry per thread, so packet workers never touch it: each keeps a
// WorkerCounters and posts a MetricsDelta about once a second; applyDelta() folds it in here.
// Kernel-side numbers (NFQUEUE /proc counters, iptables hits for "uninspected") are absolute
// readings and go through set*() methods, which turn them into monotonic counters.
// Container-pair labels are bounded by a LabelLimiter (docs/metrics.md, "Cardinality").

import * as client from 'prom-client';
import type { EveWriter } from './eveWriter';
import type { StatsSnapshot } from './eveStats';
import { LabelLimiter } from './labelLimiter';
import type { TrafficMap } from './trafficMap';
import {
  BATCH_SIZE_BUCKETS,
  CounterKinds,
  DROP_REASON_NAMES,
  EVICT_REASON_NAMES,
  GC_KIND_NAMES,
  GC_PAUSE_BUCKETS,
  LATENCY_BUCKETS,
  MetricsDelta,
  OTHER_LABEL,
  PAIR_STRIDE,
  PairField,
  ScalarLayout,
  scalarLayout,
  VERDICT_NAMES,
} from './workerCounters';

export interface LateralMetricsOptions extends CounterKinds {
  /** Most (src_container, dest_container, app_proto) series per pair metric. Default 100. */
  maxPairSeries?: number;
  /** Most distinct `sid` label values on lateral_alerts_total. Default 500. */
  maxSidSeries?: number;
  /** A pair series idle this long may be retired for a new one. Default 10 min. */
  pairIdleMs?: number;
  /** Register prom-client's process/Node default metrics (process_*, nodejs_*). Default true. */
  defaultMetrics?: boolean;
  /** Feed the live map with the (bounded) pair traffic. */
  map?: TrafficMap;
  /** Clock for tests; default Date.now. */
  now?: () => number;
}

/** One line of /proc/net/netfilter/nfnetlink_queue (see parseNfqueueProcStats). */
export interface QueueCounters {
  /** Packets waiting in the queue now (`queue_total`: a level, not a running count). */
  queueTotal: number;
  /** Dropped by the kernel because the queue was full (`queue_dropped`). */
  queueDropped: number;
  /** Dropped by the kernel because the netlink socket buffer was full (`user_dropped`). */
  userDropped: number;
  /** Last packet id handed out (`id_sequence`): the running count of packets queued (u32). */
  idSequence: number;
}

export interface RuleLoadResult {
  loaded: number;
  skipped: number;
  success: boolean;
  /** When the (re)load finished, seconds since the epoch. */
  timeSec: number;
}

/** One bounded pair label set, cached per worker slot. */
interface PairLabels {
  key: string;
  src: string;
  dst: string;
  appProto: string;
}

/**
 * A histogram merged from per-worker bucket counts. prom-client's Histogram only takes single
 * observations, so this implements the registry's metric contract (name, help, type, get)
 * with the same exposition output.
 */
class MergedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames: string[] = [];
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(readonly name: string, readonly help: string, readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Adds a worker's [per-bucket counts..., +Inf, sum, count] array. */
  add(h: Float64Array): void {
    const n = this.bounds.length;
    for (let i = 0; i <= n; i++) this.counts[i]! += h[i] ?? 0;
    this.sum += h[n + 1] ?? 0;
    this.count += h[n + 2] ?? 0;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> } {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += this.counts[i]!;
      values.push({ labels: { le: this.bounds[i]! }, value: acc, metricName: `${this.name}_bucket` });
    }
    acc += this.counts[this.bounds.length]!;
    values.push({ labels: { le: '+Inf' }, value: acc, metricName: `${this.name}_bucket` });
    values.push({ labels: {}, value: this.sum, metricName: `${this.name}_sum` });
    values.push({ labels: {}, value: this.count, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * Several MergedHistograms under one name, told apart by one label (a fixed set of values):
 * each worker delta carries their bucket arrays concatenated in label order.
 */
class LabeledMergedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames: string[];
  private readonly parts: MergedHistogram[];

  constructor(readonly name: string, readonly help: string, readonly bounds: readonly number[], readonly label: string, readonly values: readonly string[]) {
    this.labelNames = [label];
    this.parts = values.map(() => new MergedHistogram(name, help, bounds));
  }

  add(h: Float64Array): void {
    const stride = this.bounds.length + 3;
    this.parts.forEach((part, k) => part.add(h.subarray(k * stride, (k + 1) * stride)));
  }

  get(): ReturnType<MergedHistogram['get']> {
    const values: ReturnType<MergedHistogram['get']>['values'] = [];
    this.parts.forEach((part, k) => {
      for (const v of part.get().values) values.push({ ...v, labels: { ...v.labels, [this.label]: this.values[k]! } });
    });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const part of this.parts) part.reset();
  }
}

type PairLabelNames = 'src_container' | 'dest_container' | 'app_proto';

export class LateralMetrics {
  readonly registry = new client.Registry();
  readonly layout: ScalarLayout;
  private readonly kinds: CounterKinds;
  private readonly map: TrafficMap | undefined;
  private readonly now: () => number;
  private readonly startMs: number;

  private readonly packets: client.Counter<'verdict'>;
  private readonly bytes: client.Counter<'verdict'>;
  private readonly drops: client.Counter<'reason'>;
  private readonly alerts: client.Counter<'sid' | 'action' | 'severity'>;
  private readonly flowsCreated: client.Counter;
  private readonly flowsEvicted: client.Counter<'reason'>;
  private readonly flowsBypassed: client.Counter;
  private readonly flowsActive: client.Gauge;
  private readonly anomalies: client.Counter<'kind'>;
  private readonly streamEvents: client.Counter<'event'>;
  private readonly streamMemory: client.Gauge;
  private readonly queuePackets: client.Counter<'queue'>;
  private readonly queueDropped: client.Counter<'queue'>;
  private readonly queueUserDropped: client.Counter<'queue'>;
  private readonly queueEnobufs: client.Counter<'queue'>;
  private readonly queueLength: client.Gauge<'queue'>;
  private readonly uninspected: client.Counter;
  private readonly batchSize: MergedHistogram;
  private readonly latency: MergedHistogram;
  private readonly gcPause: LabeledMergedHistogram;
  private readonly rulesLoaded: client.Gauge;
  private readonly rulesSkipped: client.Gauge;
  private readonly rulesReloadTime: client.Gauge;
  private readonly rulesReloadSuccess: client.Gauge;
  private readonly rulesReloads: client.Counter<'result'>;
  private readonly pairPackets: client.Counter<PairLabelNames>;
  private readonly pairBytes: client.Counter<PairLabelNames>;
  private readonly pairBlocked: client.Counter<PairLabelNames>;
  private readonly pairFlows: client.Counter<PairLabelNames>;
  private readonly pairAlerts: client.Counter<PairLabelNames | 'action'>;
  private readonly workersGauge: client.Gauge;
  private readonly bridgePromiscuous: client.Gauge<'bridge'>;

  private readonly pairLimiter: LabelLimiter;
  private readonly sidLimiter: LabelLimiter;
  /** Per worker: slot -> pair labels as the worker named them. */
  private readonly workerSlots = new Map<number, PairLabels[]>();
  /** Per worker: its latest absolute gauges. */
  private readonly workerGauges = new Map<number, { flowsActive: number; streamMemory: number }>();
  private readonly lastQueue = new Map<number, QueueCounters & { enobufs: number }>();
  /** Per queue: running sums of the counter increments (for the stats record). */
  private readonly queueSums = new Map<number, { packets: number; dropped: number; userDropped: number; enobufs: number }>();
  private lastUninspected = 0;
  private eveWriter: EveWriter | undefined;

  /** Plain running totals for statsSnapshot() (prom-client reads are async). */
  private readonly totals: Float64Array;
  private alertTotal = 0;
  private uninspectedTotal = 0;
  private rules: RuleLoadResult = { loaded: 0, skipped: 0, success: false, timeSec: 0 };

  constructor(options: LateralMetricsOptions) {
    this.kinds = { anomalyKinds: options.anomalyKinds, streamEventKinds: options.streamEventKinds };
    this.layout = scalarLayout(this.kinds);
    this.totals = new Float64Array(this.layout.length);
    this.map = options.map;
    this.now = options.now ?? Date.now;
    this.startMs = this.now();
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []): client.Counter<L> =>
      new client.Counter<L>({ name, help, labelNames, registers });
    const gauge = (name: string, help: string): client.Gauge => new client.Gauge({ name, help, registers });

    this.packets = counter('lateral_packets_total', 'Packets judged, by verdict (accept, drop, bypass).', ['verdict']);
    this.bytes = counter('lateral_bytes_total', 'Bytes of judged packets, by verdict.', ['verdict']);
    this.drops = counter('lateral_drops_total', 'Packets Lateral dropped, by reason.', ['reason']);
    this.alerts = counter('lateral_alerts_total', 'Alerts raised, by signature id, action and severity.', ['sid', 'action', 'severity']);
    this.flowsCreated = counter('lateral_flows_created_total', 'Flows created.');
    this.flowsEvicted = counter('lateral_flows_evicted_total', 'Flows removed from the flow table, by reason.', ['reason']);
    this.flowsBypassed = counter('lateral_flows_bypassed_total', 'Flows offloaded to the kernel (connmark bypass).');
    this.anomalies = counter('lateral_decoder_anomalies_total', 'Decoder anomalies, by kind.', ['kind']);
    this.streamEvents = counter('lateral_stream_events_total', 'TCP stream reassembly events, by event.', ['event']);
    this.queuePackets = counter('lateral_queue_packets_total', 'Packets the kernel queued to NFQUEUE (from id_sequence), by queue number.', ['queue']);
    this.queueLength = new client.Gauge({ name: 'lateral_queue_length', help: 'Packets waiting in the NFQUEUE now (queue_total), by queue number.', labelNames: ['queue'], registers });
    this.queueDropped = counter('lateral_queue_dropped_total', 'Packets the kernel dropped because the queue was full (queue_dropped).', ['queue']);
    this.queueUserDropped = counter('lateral_queue_user_dropped_total', 'Packets the kernel dropped because the netlink socket buffer was full (user_dropped).', ['queue']);
    this.queueEnobufs = counter('lateral_queue_enobufs_total', 'ENOBUFS errors on the queue socket (lost packets).', ['queue']);
    this.uninspected = counter('lateral_uninspected_packets_total', 'Packets that hit the NFQUEUE rule but never reached Lateral: passed by queue-bypass/fail-open, or dropped by the kernel before queueing (promiscuous bridge; see lateral_bridge_promiscuous).');
    this.batchSize = new MergedHistogram('lateral_batch_size_packets', 'Packets per NFQUEUE batch.', BATCH_SIZE_BUCKETS);
    this.latency = new MergedHistogram('lateral_verdict_latency_seconds', 'Time from receiving a batch to sending its verdicts.', LATENCY_BUCKETS);
    this.gcPause = new LabeledMergedHistogram('lateral_worker_gc_pause_seconds', 'Garbage-collection pauses of the packet worker threads, by kind (minor = scavenge).', GC_PAUSE_BUCKETS, 'kind', GC_KIND_NAMES);
    this.registry.registerMetric(this.batchSize as unknown as client.Metric);
    this.registry.registerMetric(this.latency as unknown as client.Metric);
    this.registry.registerMetric(this.gcPause as unknown as client.Metric);
    this.rulesLoaded = gauge('lateral_rules_loaded', 'Rules loaded by the last successful (re)load.');
    this.rulesSkipped = gauge('lateral_rules_skipped', 'Rules skipped (unsupported or invalid) by the last successful (re)load.');
    this.rulesReloadTime = gauge('lateral_rules_last_reload_timestamp_seconds', 'When rules were last (re)loaded, successfully or not.');
    this.rulesReloadSuccess = gauge('lateral_rules_last_reload_success', '1 if the last rule (re)load succeeded, else 0.');
    this.rulesReloads = counter('lateral_rules_reloads_total', 'Rule (re)loads, by result (success, failure).', ['result']);
    const pairLabels: PairLabelNames[] = ['src_container', 'dest_container', 'app_proto'];
    this.pairPackets = counter('lateral_pair_packets_total', 'Packets between two containers, by app protocol (bounded labels).', pairLabels);
    this.pairBytes = counter('lateral_pair_bytes_total', 'Bytes between two containers, by app protocol (bounded labels).', pairLabels);
    this.pairBlocked = counter('lateral_pair_blocked_packets_total', 'Dropped packets between two containers (bounded labels).', pairLabels);
    this.pairFlows = counter('lateral_pair_flows_total', 'Flows created between two containers (bounded labels).', pairLabels);
    this.pairAlerts = counter('lateral_pair_alerts_total', 'Alerts between two containers, by action (bounded labels).', [...pairLabels, 'action']);
    this.pairLimiter = new LabelLimiter({
      maxSeries: options.maxPairSeries ?? 100,
      idleMs: options.pairIdleMs ?? 600_000,
      onRetire: (key) => this.retirePair(key),
    });
    this.sidLimiter = new LabelLimiter({ maxSeries: options.maxSidSeries ?? 500, idleMs: Number.POSITIVE_INFINITY });
    const limiter = this.pairLimiter;
    const workerGauges = this.workerGauges;
    const sumGauges = (field: 'flowsActive' | 'streamMemory'): number => {
      let n = 0;
      for (const g of workerGauges.values()) n += g[field];
      return n;
    };
    // Gauges computed at scrape time from the workers' latest values.
    this.flowsActive = new client.Gauge({
      name: 'lateral_flows_active', help: 'Flows in the flow tables now (sum over workers).', registers,
      collect() { this.set(sumGauges('flowsActive')); },
    });
    this.streamMemory = new client.Gauge({
      name: 'lateral_stream_memory_bytes', help: 'Memory held by TCP reassembly now (sum over workers).', registers,
      collect() { this.set(sumGauges('streamMemory')); },
    });
    this.workersGauge = new client.Gauge({
      name: 'lateral_workers_reporting', help: 'Packet workers whose metrics are included.', registers,
      collect() { this.set(workerGauges.size); },
    });
    this.bridgePromiscuous = new client.Gauge({
      name: 'lateral_bridge_promiscuous', help: '1 while a protected bridge is in promiscuous mode (the kernel then drops new connections\' first packets at NFQUEUE).', labelNames: ['bridge'], registers,
    });
    new client.Gauge({
      name: 'lateral_pair_series', help: 'Container-pair label sets exported now (never above lateral_pair_series_limit).', registers,
      collect() { this.set(limiter.size); },
    });
    new client.Gauge({
      name: 'lateral_pair_series_limit', help: 'Hard bound on container-pair label sets per pair metric (plus one "other").', registers,
      collect() { this.set(limiter.maxSeries); },
    });
    new client.Counter({
      name: 'lateral_pair_overflow_admissions_total', help: 'Times a container pair was folded into the "other" labels.', registers,
      collect() { this.reset(); this.inc(limiter.overflowCount); },
    });

    // Label sets that must exist from the start, so dashboards show 0 rather than no data.
    for (const v of VERDICT_NAMES) {
      this.packets.inc({ verdict: v }, 0);
      this.bytes.inc({ verdict: v }, 0);
    }
    for (const r of DROP_REASON_NAMES) this.drops.inc({ reason: r }, 0);
    for (const r of EVICT_REASON_NAMES) this.flowsEvicted.inc({ reason: r }, 0);
    for (const k of this.kinds.anomalyKinds) this.anomalies.inc({ kind: k }, 0);
    for (const k of this.kinds.streamEventKinds) this.streamEvents.inc({ event: k }, 0);
    this.flowsCreated.inc(0);
    this.flowsBypassed.inc(0);
    this.uninspected.inc(0);
    this.rulesReloads.inc({ result: 'success' }, 0);
    this.rulesReloads.inc({ result: 'failure' }, 0);

    if (options.defaultMetrics !== false) client.collectDefaultMetrics({ register: this.registry });
  }

  /** Folds one worker's delta in. `workerId` is any stable number per worker (its queue). */
  applyDelta(workerId: number, d: MetricsDelta): void {
    const L = this.layout;
    const s = d.scalars;
    if (s.length !== L.length) {
      throw new RangeError(`metrics delta has ${s.length} counters, expected ${L.length}: worker and main thread disagree on kind lists`);
    }
    for (let i = 0; i < s.length; i++) this.totals[i]! += s[i]!;
    for (let v = 0; v < VERDICT_NAMES.length; v++) {
      if (s[L.packets + v]) this.packets.inc({ verdict: VERDICT_NAMES[v]! }, s[L.packets + v]!);
      if (s[L.bytes + v]) this.bytes.inc({ verdict: VERDICT_NAMES[v]! }, s[L.bytes + v]!);
    }
    for (let r = 0; r < DROP_REASON_NAMES.length; r++) if (s[L.drops + r]) this.drops.inc({ reason: DROP_REASON_NAMES[r]! }, s[L.drops + r]!);
    if (s[L.flowsCreated]) this.flowsCreated.inc(s[L.flowsCreated]!);
    for (let r = 0; r < EVICT_REASON_NAMES.length; r++) if (s[L.flowsEvicted + r]) this.flowsEvicted.inc({ reason: EVICT_REASON_NAMES[r]! }, s[L.flowsEvicted + r]!);
    if (s[L.flowsBypassed]) this.flowsBypassed.inc(s[L.flowsBypassed]!);
    this.kinds.anomalyKinds.forEach((k, i) => {
      if (s[L.anomalies + i]) this.anomalies.inc({ kind: k }, s[L.anomalies + i]!);
    });
    this.kinds.streamEventKinds.forEach((k, i) => {
      if (s[L.streamEvents + i]) this.streamEvents.inc({ event: k }, s[L.streamEvents + i]!);
    });
    this.workerGauges.set(workerId, { flowsActive: d.flowsActive, streamMemory: d.streamMemoryBytes });
    this.batchSize.add(d.batchSize);
    this.latency.add(d.latency);
    if (d.gcPause !== undefined) this.gcPause.add(d.gcPause);

    let slots = this.workerSlots.get(workerId);
    if (!slots) this.workerSlots.set(workerId, (slots = []));
    for (const p of d.newPairs) slots[p.slot] = { key: pairKey(p.src, p.dst, p.appProto), src: p.src, dst: p.dst, appProto: p.appProto };

    const nowMs = this.now();
    const pv = d.pairValues;
    const nSlots = Math.floor(pv.length / PAIR_STRIDE);
    for (let slot = 0; slot < nSlots; slot++) {
      const o = slot * PAIR_STRIDE;
      const packets = pv[o + PairField.PACKETS]!;
      const flows = pv[o + PairField.FLOWS]!;
      const allowedAlerts = pv[o + PairField.ALERTS_ALLOWED]!;
      const blockedAlerts = pv[o + PairField.ALERTS_BLOCKED]!;
      if (packets === 0 && flows === 0 && allowedAlerts === 0 && blockedAlerts === 0) continue;
      const labels = this.boundedPair(slots[slot], nowMs);
      const bytes = pv[o + PairField.BYTES]!;
      const blocked = pv[o + PairField.BLOCKED_PACKETS]!;
      if (packets) this.pairPackets.inc(labels, packets);
      if (bytes) this.pairBytes.inc(labels, bytes);
      // Always present for an active pair, so blocked-ratio queries have a denominator.
      this.pairBlocked.inc(labels, blocked);
      if (flows) this.pairFlows.inc(labels, flows);
      if (allowedAlerts) this.pairAlerts.inc({ ...labels, action: 'allowed' }, allowedAlerts);
      if (blockedAlerts) this.pairAlerts.inc({ ...labels, action: 'blocked' }, blockedAlerts);
      this.map?.addTraffic(labels.src_container, labels.dest_container, labels.app_proto, packets, bytes, blocked, flows, allowedAlerts + blockedAlerts, nowMs);
    }

    for (const [sid, severity, blocked, count] of d.alerts) {
      this.alertTotal += count;
      const sidLabel = this.sidLimiter.admit(String(sid), nowMs) ? String(sid) : OTHER_LABEL;
      this.alerts.inc({ sid: sidLabel, action: blocked ? 'blocked' : 'allowed', severity: String(severity) }, count);
    }
  }

  /** A worker stopped: its gauges no longer count. */
  removeWorker(workerId: number): void {
    this.workerGauges.delete(workerId);
    this.workerSlots.delete(workerId);
  }

  /**
   * Absolute kernel counters of one queue, as read from /proc/net/netfilter/nfnetlink_queue
   * (parseNfqueueProcStats), and the running ENOBUFS count of its socket. Increases become
   * counter increments; a decrease (queue rebound) is taken as a counter reset, and
   * id_sequence wrapping past 2^32 as a wrap.
   */
  setQueueCounters(queue: number, c: QueueCounters, enobufs = 0): void {
    const last = this.lastQueue.get(queue) ?? { queueTotal: 0, queueDropped: 0, userDropped: 0, idSequence: 0, enobufs: 0 };
    let sums = this.queueSums.get(queue);
    if (!sums) this.queueSums.set(queue, (sums = { packets: 0, dropped: 0, userDropped: 0, enobufs: 0 }));
    const labels = { queue: String(queue) };
    const packets = c.idSequence < last.idSequence && last.idSequence - c.idSequence > 0x80000000
      ? c.idSequence + 0x100000000 - last.idSequence
      : increase(last.idSequence, c.idSequence);
    const dropped = increase(last.queueDropped, c.queueDropped);
    const userDropped = increase(last.userDropped, c.userDropped);
    const lost = increase(last.enobufs, enobufs);
    this.queuePackets.inc(labels, packets);
    this.queueDropped.inc(labels, dropped);
    this.queueUserDropped.inc(labels, userDropped);
    this.queueEnobufs.inc(labels, lost);
    this.queueLength.set(labels, c.queueTotal);
    sums.packets += packets;
    sums.dropped += dropped;
    sums.userDropped += userDropped;
    sums.enobufs += lost;
    this.lastQueue.set(queue, { ...c, enobufs });
  }

  /** The protected bridges and which of them are promiscuous now (bounded: one series per protected bridge). */
  setPromiscuousBridges(bridges: readonly string[], promiscuous: ReadonlySet<string>): void {
    this.bridgePromiscuous.reset();
    for (const bridge of bridges) this.bridgePromiscuous.set({ bridge }, promiscuous.has(bridge) ? 1 : 0);
  }

  /** Absolute count of packets that passed uninspected (NFQUEUE rule hits minus seen). */
  setUninspected(total: number): void {
    const inc = increase(this.lastUninspected, total);
    this.uninspectedTotal += inc;
    this.uninspected.inc(inc);
    this.lastUninspected = total;
  }

  /** Records a rule (re)load. On failure the loaded/skipped gauges keep the running set. */
  recordRuleLoad(r: RuleLoadResult): void {
    this.rulesReloadTime.set(r.timeSec);
    this.rulesReloadSuccess.set(r.success ? 1 : 0);
    this.rulesReloads.inc({ result: r.success ? 'success' : 'failure' });
    if (r.success) {
      this.rulesLoaded.set(r.loaded);
      this.rulesSkipped.set(r.skipped);
      this.rules = r;
    }
  }

  /** Export the EVE writer's written/dropped counts. */
  attachEveWriter(writer: EveWriter): void {
    if (this.eveWriter) return;
    this.eveWriter = writer;
    const w = writer;
    new client.Counter({
      name: 'lateral_eve_records_written_total',
      help: 'EVE records written.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(w.stats().written);
      },
    });
    new client.Counter({
      name: 'lateral_eve_records_dropped_total',
      help: 'EVE records dropped, by reason (backlog_full, io_error).',
      labelNames: ['reason'],
      registers: [this.registry],
      collect() {
        const s = w.stats();
        this.reset();
        this.inc({ reason: 'backlog_full' }, s.droppedBacklog);
        this.inc({ reason: 'io_error' }, s.droppedIoError);
      },
    });
  }

  /** Prometheus text exposition of everything. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Totals for the EVE stats record. */
  statsSnapshot(): StatsSnapshot {
    const L = this.layout;
    const t = this.totals;
    const pick = (base: number, names: readonly string[]): Record<string, number> => {
      const o: Record<string, number> = {};
      names.forEach((n, i) => (o[n] = t[base + i]!));
      return o;
    };
    let kernelPackets = 0;
    let kernelDrops = 0;
    let userDrops = 0;
    let enobufs = 0;
    for (const q of this.queueSums.values()) {
      kernelPackets += q.packets;
      kernelDrops += q.dropped;
      userDrops += q.userDropped;
      enobufs += q.enobufs;
    }
    let flowsActive = 0;
    let streamMemory = 0;
    for (const g of this.workerGauges.values()) {
      flowsActive += g.flowsActive;
      streamMemory += g.streamMemory;
    }
    let decoderPackets = 0;
    let decoderBytes = 0;
    for (let v = 0; v < VERDICT_NAMES.length; v++) {
      decoderPackets += t[L.packets + v]!;
      decoderBytes += t[L.bytes + v]!;
    }
    let evicted = 0;
    for (let r = 0; r < EVICT_REASON_NAMES.length; r++) evicted += t[L.flowsEvicted + r]!;
    const eve = this.eveWriter?.stats();
    return {
      uptimeSeconds: (this.now() - this.startMs) / 1000,
      kernelPackets,
      kernelDrops,
      userDrops,
      enobufs,
      uninspected: this.uninspectedTotal,
      decoderPackets,
      decoderBytes,
      decoderEvents: pick(L.anomalies, this.kinds.anomalyKinds),
      verdicts: pick(L.packets, VERDICT_NAMES),
      drops: pick(L.drops, DROP_REASON_NAMES),
      flowsActive,
      flowsCreated: t[L.flowsCreated]!,
      flowsEvicted: evicted,
      flowsBypassed: t[L.flowsBypassed]!,
      streamEvents: pick(L.streamEvents, this.kinds.streamEventKinds),
      streamMemoryBytes: streamMemory,
      alerts: this.alertTotal,
      rulesLoaded: this.rules.loaded,
      rulesSkipped: this.rules.skipped,
      eveWritten: eve?.written ?? 0,
      eveDropped: eve ? eve.droppedBacklog + eve.droppedIoError : 0,
    };
  }

  private boundedPair(p: PairLabels | undefined, nowMs: number): Record<PairLabelNames, string> {
    if (p && p.src !== OTHER_LABEL && this.pairLimiter.admit(p.key, nowMs)) {
      return { src_container: p.src, dest_container: p.dst, app_proto: p.appProto };
    }
    return { src_container: OTHER_LABEL, dest_container: OTHER_LABEL, app_proto: OTHER_LABEL };
  }

  private retirePair(key: string): void {
    const [src, dst, appProto] = key.split('\u0000') as [string, string, string];
    const labels = { src_container: src, dest_container: dst, app_proto: appProto };
    this.pairPackets.remove(labels);
    this.pairBytes.remove(labels);
    this.pairBlocked.remove(labels);
    this.pairFlows.remove(labels);
    this.pairAlerts.remove({ ...labels, action: 'allowed' });
    this.pairAlerts.remove({ ...labels, action: 'blocked' });
    this.map?.removeEdge(src, dst);
  }
}

function pairKey(src: string, dst: string, appProto: string): string {
  return `${src}\u0000${dst}\u0000${appProto}`;
}

/** The increase between two absolute readings of a counter; a decrease means it restarted. */
function increase(last: number, now: number): number {
  return now >= last ? now - last : now;
}
