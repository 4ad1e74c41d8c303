// Counters a packet worker keeps on its own thread and ships to the main thread as a delta
// about once a second (prom-client's registry is per thread, so only the main thread owns
// one: see LateralMetrics.applyDelta).
//
// Hot path: every per-packet call is an increment into a preallocated Float64Array at an
// integer index. Strings appear only when a flow gets its container-pair slot (once per flow
// and app-protocol change) and in the one-per-second delta.
import { constants as perfConstants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

/** Verdict indexes for packet() (label `verdict`). */
export const Verdict = { ACCEPT: 0, DROP: 1, BYPASS: 2 } as const;
export const VERDICT_NAMES = ['accept', 'drop', 'bypass'] as const;

/** Why Lateral dropped a packet (label `reason` of lateral_drops_total). */
export const DropReason = {
  /** A `drop`/`reject` rule matched this packet. */
  RULE: 0,
  /** The flow was blocked by an earlier drop: the rest of it is dropped too. */
  FLOW_BLOCKED: 1,
  /** Malformed beyond what the decoder accepts, in fail-closed mode. */
  INVALID: 2,
  /** Stream reassembly memory exhausted, in fail-closed mode. */
  STREAM_MEMCAP: 3,
  /** Flow table full, in fail-closed mode. */
  FLOW_MEMCAP: 4,
  /** The engine could not inspect in time and policy is fail-closed. */
  FAIL_CLOSED: 5,
} as const;
export const DROP_REASON_NAMES = ['rule', 'flow_blocked', 'invalid', 'stream_memcap', 'flow_memcap', 'fail_closed'] as const;

/** Why a flow left the table (label `reason` of lateral_flows_evicted_total). */
export const EvictReason = { TIMEOUT: 0, CLOSED: 1, MEMCAP: 2 } as const;
export const EVICT_REASON_NAMES = ['timeout', 'closed', 'memcap'] as const;

/** Upper bounds of the batch-size histogram (packets per NFQUEUE batch). */
export const BATCH_SIZE_BUCKETS: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/** Upper bounds of the verdict-latency histogram (seconds from batch receipt to verdict). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

/**
 * Kinds of V8 garbage collection a worker reports (perf_hooks 'gc' entries, detail.kind:
 * NODE_PERFORMANCE_GC_MINOR = scavenge, MAJOR = mark-compact, INCREMENTAL = an incremental
 * marking step, WEAKCB = weak callbacks), label `kind`.
 */
export const GC_KIND_NAMES = ['minor', 'major', 'incremental', 'weakcb'] as const;
/** Upper bounds of the GC pause histogram (seconds the worker's JS thread stood still). */
export const GC_PAUSE_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** GcKind index (GC_KIND_NAMES) of a perf_hooks gc entry's detail.kind; -1 if unknown. */
export function gcKindIndex(nodeGcKind: number): number {
  const c = perfConstants;
  return nodeGcKind === c.NODE_PERFORMANCE_GC_MINOR ? 0
    : nodeGcKind === c.NODE_PERFORMANCE_GC_MAJOR ? 1
      : nodeGcKind === c.NODE_PERFORMANCE_GC_INCREMENTAL ? 2
        : nodeGcKind === c.NODE_PERFORMANCE_GC_WEAKCB ? 3 : -1;
}

/**
 * Counts this thread's GC pauses into `counters` (one perf_hooks callback per GC, not per
 * packet): while a scavenge or a mark-compact finalisation runs, the thread judges nothing and
 * queued packets wait. Disconnect the returned observer to stop.
 */
export function observeGcPauses(counters: WorkerCounters): PerformanceObserver {
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
      counters.gc(gcKindIndex(kind), e.duration / 1000);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return obs;
}

/** Values per container-pair slot in MetricsDelta.pairValues. */
export const PAIR_STRIDE = 6;
export const PairField = { PACKETS: 0, BYTES: 1, BLOCKED_PACKETS: 2, FLOWS: 3, ALERTS_ALLOWED: 4, ALERTS_BLOCKED: 5 } as const;

/** Most pair slots one worker keeps; later pairs share the overflow slot ("other"). */
export const MAX_WORKER_PAIR_SLOTS = 4096;
export const OTHER_LABEL = 'other';

/** The names a worker's kind-indexed counters use; LateralMetrics must get the same lists. */
export interface CounterKinds {
  /** Decoder anomaly names, index i = bit i of Packet.anomalies. */
  anomalyKinds: readonly string[];
  /** Stream reassembly event names, by index. */
  streamEventKinds: readonly string[];
}

/** Offsets into the scalar array, derived from the kind lists. */
export interface ScalarLayout {
  packets: number;
  bytes: number;
  drops: number;
  flowsCreated: number;
  flowsEvicted: number;
  flowsBypassed: number;
  anomalies: number;
  streamEvents: number;
  length: number;
}

export function scalarLayout(kinds: CounterKinds): ScalarLayout {
  let o = 0;
  const packets = o; o += VERDICT_NAMES.length;
  const bytes = o; o += VERDICT_NAMES.length;
  const drops = o; o += DROP_REASON_NAMES.length;
  const flowsCreated = o; o += 1;
  const flowsEvicted = o; o += EVICT_REASON_NAMES.length;
  const flowsBypassed = o; o += 1;
  const anomalies = o; o += kinds.anomalyKinds.length;
  const streamEvents = o; o += kinds.streamEventKinds.length;
  return { packets, bytes, drops, flowsCreated, flowsEvicted, flowsBypassed, anomalies, streamEvents, length: o };
}

export interface PairDefinition {
  slot: number;
  src: string;
  dst: string;
  appProto: string;
}

/**
 * What a worker posts to the main thread (structured-clone safe). Counters are increments
 * since the previous delta; gauges are the worker's current absolute values.
 */
export interface MetricsDelta {
  kind: 'lateral-metrics-delta';
  scalars: Float64Array;
  flowsActive: number;
  streamMemoryBytes: number;
  /** Per-bucket (non-cumulative) counts, one more than the bounds (+Inf), then sum, count. */
  batchSize: Float64Array;
  latency: Float64Array;
  /** GC pauses: one histogram array (as batchSize) per GC_KIND_NAMES entry, concatenated. */
  gcPause: Float64Array;
  /** PAIR_STRIDE values per slot, for slots 0..n-1. */
  pairValues: Float64Array;
  /** Slots defined since the previous delta. */
  newPairs: PairDefinition[];
  /** [sid, severity, blocked 0|1, count, pairSlot] per distinct combination. */
  alerts: Array<[number, number, number, number, number]>;
}

export function isMetricsDelta(v: unknown): v is MetricsDelta {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'lateral-metrics-delta';
}

function histogramArray(bounds: readonly number[], count = 1): Float64Array {
  return new Float64Array((bounds.length + 3) * count);
}

/** Observes v in the histogram array at `base` (histogram number k starts at k * (bounds + 3)). */
function observe(h: Float64Array, bounds: readonly number[], v: number, base = 0): void {
  let i = 0;
  while (i < bounds.length && v > bounds[i]!) i++;
  h[base + i]!++;
  h[base + bounds.length + 1]! += v;
  h[base + bounds.length + 2]!++;
}

export interface DeltaPort {
  postMessage(value: unknown): void;
}

export class WorkerCounters {
  readonly layout: ScalarLayout;
  private readonly kinds: CounterKinds;
  private scalars: Float64Array;
  private flowsActive = 0;
  private streamMemory = 0;
  private batchSize = histogramArray(BATCH_SIZE_BUCKETS);
  private latency = histogramArray(LATENCY_BUCKETS);
  private gcPause = histogramArray(GC_PAUSE_BUCKETS, GC_KIND_NAMES.length);
  private pairValues = new Float64Array(64 * PAIR_STRIDE);
  private pairCount = 0;
  /** src -> dst -> appProto -> slot; nested maps so lookups need no string building. */
  private readonly pairIndex = new Map<string, Map<string, Map<string, number>>>();
  private newPairs: PairDefinition[] = [];
  private overflowSlot = -1;
  /** (sid * 16 + severity) * 2 + blocked -> pairSlot -> count. */
  private alerts = new Map<number, Map<number, number>>();

  constructor(kinds: CounterKinds) {
    this.kinds = kinds;
    this.layout = scalarLayout(kinds);
    this.scalars = new Float64Array(this.layout.length);
  }

  /** One packet got a verdict (Verdict.*), with its length in bytes. */
  packet(verdict: number, bytes: number): void {
    this.scalars[this.layout.packets + verdict]!++;
    this.scalars[this.layout.bytes + verdict]! += bytes;
  }

  /** One packet dropped for a reason (DropReason.*); call in addition to packet(DROP). */
  drop(reason: number): void {
    this.scalars[this.layout.drops + reason]!++;
  }

  /** Counts every set bit of a Packet.anomalies bit set. */
  anomalies(bits: number): void {
    const base = this.layout.anomalies;
    const n = this.kinds.anomalyKinds.length;
    for (let i = 0; bits !== 0 && i < n; i++, bits >>>= 1) if (bits & 1) this.scalars[base + i]!++;
  }

  streamEvent(kind: number, count = 1): void {
    if (kind >= 0 && kind < this.kinds.streamEventKinds.length) this.scalars[this.layout.streamEvents + kind]! += count;
  }

  flowCreated(pairSlot: number): void {
    this.scalars[this.layout.flowsCreated]!++;
    if (pairSlot >= 0) this.pairValues[pairSlot * PAIR_STRIDE + PairField.FLOWS]!++;
  }

  flowEvicted(reason: number): void {
    this.scalars[this.layout.flowsEvicted + reason]!++;
  }

  flowBypassed(): void {
    this.scalars[this.layout.flowsBypassed]!++;
  }

  setFlowsActive(n: number): void {
    this.flowsActive = n;
  }

  setStreamMemory(bytes: number): void {
    this.streamMemory = bytes;
  }

  /** One NFQUEUE batch: its packet count and the seconds from its receipt to its verdicts sent. */
  batch(size: number, latencySeconds: number): void {
    observe(this.batchSize, BATCH_SIZE_BUCKETS, size);
    observe(this.latency, LATENCY_BUCKETS, latencySeconds);
  }

  /** One GC pause of this thread: kind index (gcKindIndex) and its duration in seconds. */
  gc(kind: number, seconds: number): void {
    if (kind < 0 || kind >= GC_KIND_NAMES.length) return;
    observe(this.gcPause, GC_PAUSE_BUCKETS, seconds, kind * (GC_PAUSE_BUCKETS.length + 3));
  }

  /**
   * The slot for a container pair and app protocol; call once per flow (and again when the
   * flow's app protocol becomes known), keep the number in the flow. Bounded: past
   * MAX_WORKER_PAIR_SLOTS every new pair shares one "other" slot.
   */
  pairSlot(srcContainer: string, destContainer: string, appProto: string): number {
    let byDst = this.pairIndex.get(srcContainer);
    if (!byDst) this.pairIndex.set(srcContainer, (byDst = new Map()));
    let byApp = byDst.get(destContainer);
    if (!byApp) byDst.set(destContainer, (byApp = new Map()));
    const found = byApp.get(appProto);
    if (found !== undefined) return found;
    if (this.pairCount >= MAX_WORKER_PAIR_SLOTS - 1) {
      if (this.overflowSlot < 0) this.overflowSlot = this.defineSlot(OTHER_LABEL, OTHER_LABEL, OTHER_LABEL);
      return this.overflowSlot;
    }
    const slot = this.defineSlot(srcContainer, destContainer, appProto);
    byApp.set(appProto, slot);
    return slot;
  }

  /** One packet of a flow in `pairSlot`. */
  pairPacket(pairSlot: number, bytes: number, blocked: boolean): void {
    const o = pairSlot * PAIR_STRIDE;
    this.pairValues[o + PairField.PACKETS]!++;
    this.pairValues[o + PairField.BYTES]! += bytes;
    if (blocked) this.pairValues[o + PairField.BLOCKED_PACKETS]!++;
  }

  /** One alert; pairSlot -1 when the flow has none. */
  alert(sid: number, severity: number, blocked: boolean, pairSlot: number): void {
    const key = (sid * 16 + (severity & 15)) * 2 + (blocked ? 1 : 0);
    let bySlot = this.alerts.get(key);
    if (!bySlot) this.alerts.set(key, (bySlot = new Map()));
    bySlot.set(pairSlot, (bySlot.get(pairSlot) ?? 0) + 1);
    if (pairSlot >= 0) this.pairValues[pairSlot * PAIR_STRIDE + (blocked ? PairField.ALERTS_BLOCKED : PairField.ALERTS_ALLOWED)]!++;
  }

  /** The increments since the last call, and resets them. Call about once a second. */
  takeDelta(): MetricsDelta {
    const alerts: Array<[number, number, number, number, number]> = [];
    for (const [key, bySlot] of this.alerts) {
      const blocked = key % 2;
      const severity = Math.floor(key / 2) % 16;
      const sid = Math.floor(key / 32);
      for (const [slot, count] of bySlot) alerts.push([sid, severity, blocked, count, slot]);
    }
    const d: MetricsDelta = {
      kind: 'lateral-metrics-delta',
      scalars: this.scalars,
      flowsActive: this.flowsActive,
      streamMemoryBytes: this.streamMemory,
      batchSize: this.batchSize,
      latency: this.latency,
      gcPause: this.gcPause,
      pairValues: this.pairValues.slice(0, this.pairCount * PAIR_STRIDE),
      newPairs: this.newPairs,
      alerts,
    };
    this.scalars = new Float64Array(this.layout.length);
    this.batchSize = histogramArray(BATCH_SIZE_BUCKETS);
    this.latency = histogramArray(LATENCY_BUCKETS);
    this.gcPause = histogramArray(GC_PAUSE_BUCKETS, GC_KIND_NAMES.length);
    this.pairValues.fill(0);
    this.newPairs = [];
    this.alerts = new Map();
    return d;
  }

  /**
   * Posts a delta to `port` (worker_threads' parentPort) every `intervalMs`; the timer does
   * not keep the thread alive. Returns a function that stops it after a final delta.
   */
  startReporting(port: DeltaPort, intervalMs = 1000): () => void {
    const timer = setInterval(() => port.postMessage(this.takeDelta()), intervalMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      port.postMessage(this.takeDelta());
    };
  }

  private defineSlot(src: string, dst: string, appProto: string): number {
    const slot = this.pairCount++;
    if (this.pairCount * PAIR_STRIDE > this.pairValues.length) {
      const bigger = new Float64Array(this.pairValues.length * 2);
      bigger.set(this.pairValues);
      this.pairValues = bigger;
    }
    this.newPairs.push({ slot, src, dst, appProto });
    return slot;
  }
}
