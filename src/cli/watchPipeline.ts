// The data path of `lateral watch` for one bridge: each CaptureBatch from PassiveCapture is
// decoded frame by frame (views into the batch arena, one reused Packet), judged by the same
// PacketInspector as `replay` and `run`, and turned into alerts, evidence pcaps and metrics.
// Nothing is ever blocked: the copy is passive, so every alert is "allowed" (even for
// drop/reject rules: watch is for trying rules before enforcing them).
//
// Hot path (handleBatch): no allocation beyond the pipeline's own (the frame view, flow and
// app-layer state); counters are typed-array increments. Per flow (once): the container pair
// and its metrics slot. Per alert (cold): the EVE record, the evidence file, the map entry.

import type { CaptureBatch } from '../capture/captureBatch';
import { Packet } from '../decode/packet';
import { decodePacketAt } from '../decode/decodePacket';
import { DecodeAnomaly, DecodeContext, type ChecksumMode } from '../decode/decodeStats';
import type { Flow } from '../flow/flow';
import type { FlowEndReason } from '../flow/flowTable';
import type { StreamStats } from '../stream/streamTracker';
import type { DetectEngine, DetectResult } from '../detect/detectEngine';
import { PacketInspector } from '../verdict/packetInspector';
import { alertRecordsOf } from '../output/alertRecords';
import { formatEveAlert, type AlertRecordInput } from '../output/eveAlert';
import type { EveLineSink } from '../output/eveStats';
import type { EvidenceRecorder } from '../output/evidenceRecorder';
import type { TrafficMap } from '../output/trafficMap';
import { EvictReason, Verdict as CounterVerdict, WorkerCounters, type CounterKinds, type MetricsDelta } from '../output/workerCounters';
import type { ContainerMap } from './containerMap';

/** Decoder anomaly names, index i = bit i of Packet.anomalies (DecodeAnomaly, lower-cased). */
export const ANOMALY_KINDS: readonly string[] = Object.entries(DecodeAnomaly)
  .sort((a, b) => a[1] - b[1])
  .map(([k]) => k.toLowerCase());

/** Stream events exported as lateral_stream_events_total{event}, from StreamStats fields. */
const STREAM_EVENTS: ReadonlyArray<[string, keyof StreamStats]> = [
  ['retransmission', 'retransmissions'],
  ['out_of_order', 'outOfOrder'],
  ['overlap_different', 'overlapDifferent'],
  ['gap', 'gaps'],
  ['segment_dropped', 'segmentsDropped'],
  ['out_of_window', 'outOfWindow'],
  ['invalid_checksum', 'invalidChecksum'],
  ['no_session', 'noSession'],
  ['past_depth', 'pastDepth'],
];
export const STREAM_EVENT_KINDS: readonly string[] = STREAM_EVENTS.map(([name]) => name);

/** The kind lists LateralMetrics must be built with to take WatchPipeline deltas. */
export const WATCH_COUNTER_KINDS: CounterKinds = { anomalyKinds: ANOMALY_KINDS, streamEventKinds: STREAM_EVENT_KINDS };

export interface WatchPipelineOptions {
  engine: DetectEngine;
  containers: ContainerMap;
  /** EVE alert lines go here; null: none written. */
  eve: EveLineSink | null;
  /** Evidence pcaps per alert; null: none. Its linkType must match the capture's. */
  evidence: EvidenceRecorder | null;
  /** Latest alerts for the map page; null: none. */
  map: TrafficMap | null;
  /** Checksum validation. Default 'none': frames of local veths carry unfinished checksums (offload). */
  checksumMode?: ChecksumMode;
  /** Suricata's stream.midstream: pick up sessions already open when watch started. Default true. */
  midstream?: boolean;
  /**
   * Suricata's IDS-mode stream timing (PacketInspectorOptions.idsMode): a passive copy cannot
   * block, so watch inspects data when it is acknowledged, as Suricata in IDS mode. Default true.
   */
  idsMode?: boolean;
  maxFlows?: number;
  /** Called with every alert record after it was written (tests, embedding). */
  onAlert?: (alert: AlertRecordInput) => void;
}

/** Per-flow state of the watch output, in Flow.outputState. */
class WatchFlowState {
  slot = -1;
  appProto: string | null = null;
  src = '';
  dst = '';
}

export class WatchPipeline {
  readonly inspector: PacketInspector;
  readonly decodeContext: DecodeContext;
  readonly counters = new WorkerCounters(WATCH_COUNTER_KINDS);
  /** Frames seen, their bytes, frames without IP, alerts written. */
  packets = 0;
  bytes = 0;
  nonIp = 0;
  alerts = 0;

  private readonly packet = new Packet();
  private readonly containers: ContainerMap;
  private readonly eve: EveLineSink | null;
  private readonly evidence: EvidenceRecorder | null;
  private readonly map: TrafficMap | null;
  private readonly onAlert: ((alert: AlertRecordInput) => void) | undefined;
  /** StreamStats values already reported, in STREAM_EVENTS order. */
  private readonly streamReported = new Float64Array(STREAM_EVENTS.length);

  constructor(options: WatchPipelineOptions) {
    this.containers = options.containers;
    this.eve = options.eve;
    this.evidence = options.evidence;
    this.map = options.map;
    this.onAlert = options.onAlert;
    this.decodeContext = new DecodeContext(options.checksumMode ?? 'none');
    this.inspector = new PacketInspector(options.engine, {
      midstream: options.midstream ?? true,
      maxFlows: options.maxFlows ?? 65536,
      idsMode: options.idsMode ?? true,
    });
    this.inspector.onFlowEnd = (flow, reason) => this.flowEnded(flow, reason);
    // IDS timing: a flow's unacknowledged tail is inspected when the flow ends.
    this.inspector.onPseudoPacket = (insp) => {
      const r = insp.result;
      const flow = insp.flow;
      if (r !== null && r.alertCount > 0 && flow !== null) this.emitAlerts(r, flow, this.flowSlot(flow));
    };
  }

  /** Inspects every frame of the batch; the batch may be reused once this returns. */
  handleBatch(batch: CaptureBatch): void {
    const p = this.packet;
    const inspector = this.inspector;
    const counters = this.counters;
    const data = batch.data;
    const n = batch.count;
    for (let i = 0; i < n; i++) {
      const off = batch.offset[i]!;
      const len = batch.length[i]!;
      p.tsSec = batch.tsSec[i]!;
      p.tsUsec = batch.tsUsec[i]!;
      p.wireLength = batch.wireLength[i]!;
      decodePacketAt(p, data, off, len, batch.linkType, this.decodeContext);
      this.packets++;
      this.bytes += len;
      counters.packet(CounterVerdict.ACCEPT, len);
      if (p.anomalies !== 0) counters.anomalies(p.anomalies);
      if (p.ipVersion === 0) {
        this.nonIp++;
        continue;
      }
      inspector.inspect(p);
      const flow = inspector.flow;
      let slot = -1;
      if (flow !== null) {
        slot = this.flowSlot(flow);
        counters.pairPacket(slot, len, false);
        // Recorded before the alert is written, so the alerting frame is the newest in the file.
        if (this.evidence !== null) this.evidence.record(flow.id, data, off, len, p.wireLength, p.tsSec, p.tsUsec);
      }
      const r = inspector.result;
      if (r !== null && r.alertCount > 0) this.emitAlerts(r, flow, slot);
    }
  }

  /** End of capture: finish every flow (evidence rings released, flows counted). */
  flush(): void {
    this.inspector.flush();
  }

  /** The counters since the last call, with the gauges and stream events filled in. */
  takeDelta(): MetricsDelta {
    const c = this.counters;
    c.setFlowsActive(this.inspector.flows.size);
    c.setStreamMemory(this.inspector.streams.memory.used);
    const d = c.takeDelta();
    const stats = this.inspector.streams.stats;
    const base = c.layout.streamEvents;
    for (let k = 0; k < STREAM_EVENTS.length; k++) {
      const now = stats[STREAM_EVENTS[k]![1]];
      d.scalars[base + k] = now - this.streamReported[k]!;
      this.streamReported[k] = now;
    }
    return d;
  }

  private flowSlot(flow: Flow): number {
    let st = flow.outputState as WatchFlowState | null;
    if (st === null) {
      st = new WatchFlowState();
      st.src = this.containers.nameOf(flow.clientAddr);
      st.dst = this.containers.nameOf(flow.serverAddr);
      st.appProto = flow.appProto;
      st.slot = this.counters.pairSlot(st.src, st.dst, flow.appProto ?? '');
      flow.outputState = st;
      this.counters.flowCreated(st.slot);
    } else if (st.appProto !== flow.appProto) {
      // The app protocol became known: later packets count under it.
      st.appProto = flow.appProto;
      st.slot = this.counters.pairSlot(st.src, st.dst, flow.appProto ?? '');
    }
    return st.slot;
  }

  private emitAlerts(r: DetectResult, flow: Flow | null, slot: number): void {
    for (const rec of alertRecordsOf(this.inspector, r)) {
      // A passive copy cannot block: reject rules (blocked even in IDS mode) say so too.
      rec.blocked = false;
      const src = this.containers.lookup(rec.src);
      const dst = this.containers.lookup(rec.dst);
      if (src !== null) rec.srcContainer = src;
      if (dst !== null) rec.destContainer = dst;
      if (flow !== null && this.evidence !== null) {
        const name = this.evidence.alert(flow.id, rec.sid, rec.tsSec, rec.tsUsec);
        if (name !== null) rec.evidence = { pcap: name };
      }
      this.counters.alert(rec.sid, rec.severity, false, slot);
      this.map?.recordAlert(rec);
      this.eve?.write(formatEveAlert(rec));
      this.alerts++;
      this.onAlert?.(rec);
    }
  }

  private flowEnded(flow: Flow, reason: FlowEndReason): void {
    this.evidence?.forget(flow.id);
    this.counters.flowEvicted(reason === 'timeout' ? EvictReason.TIMEOUT : reason === 'evicted' ? EvictReason.MEMCAP : EvictReason.CLOSED);
  }
}
