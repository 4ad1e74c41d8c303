// A queue worker's metrics: sees every judged packet (PacketObserver) and every finished flow,
// and keeps them in a WorkerCounters that posts deltas to the main thread about once a second.
//
// Per packet: integer increments only. Per flow (first packet, or when its app protocol becomes
// known): one container-pair slot lookup, names from the container table the worker was given.
// The kind lists below are shared with the main thread's LateralMetrics (same order, same
// length), which is why they live here and not in the worker.
import type { Packet } from '../decode/packet';
import { DecodeAnomaly } from '../decode/decodeStats';
import type { Flow } from '../flow/flow';
import type { FlowEndReason } from '../flow/flowTable';
import type { StreamStats } from '../stream/streamTracker';
import { JudgedAs, type PacketObserver } from '../verdict/engineVerdictHandler';
import type { PacketInspector } from '../verdict/packetInspector';
import { formatEveIp } from '../output/eveFormat';
import { DropReason, EvictReason, Verdict, WorkerCounters, type CounterKinds } from '../output/workerCounters';
import type { ContainerIdentityProvider } from './containerIdentity';

/** Decoder anomaly names, index i = bit i of Packet.anomalies (snake case of DecodeAnomaly). */
export const ANOMALY_KINDS: readonly string[] = (() => {
  const names: string[] = [];
  for (const [k, bit] of Object.entries(DecodeAnomaly)) names[Math.log2(bit)] = k.toLowerCase();
  for (let i = 0; i < names.length; i++) names[i] ??= `bit${i}`;
  return names;
})();

/** StreamStats fields exported as lateral_stream_events_total{event}. */
const STREAM_FIELDS = [
  'retransmissions', 'outOfOrder', 'overlapDifferent', 'gaps', 'segmentsDropped',
  'outOfWindow', 'pastDepth', 'invalidRst', 'invalidChecksum', 'noSession', 'midstreamSessions',
] as const satisfies ReadonlyArray<keyof StreamStats>;

export const STREAM_EVENT_KINDS: readonly string[] = STREAM_FIELDS.map((f) => f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));

export const LIVE_COUNTER_KINDS: CounterKinds = { anomalyKinds: ANOMALY_KINDS, streamEventKinds: STREAM_EVENT_KINDS };

/** Per-flow metrics state (Flow.outputState). */
class FlowMetrics {
  slot = -1;
  appProto: string | null = null;
  bypassCounted = false;
}

const EVICT_OF: Record<FlowEndReason, number> = {
  timeout: EvictReason.TIMEOUT,
  evicted: EvictReason.MEMCAP,
  reused: EvictReason.CLOSED,
  shutdown: EvictReason.CLOSED,
};

export class LiveCounters implements PacketObserver {
  readonly counters = new WorkerCounters(LIVE_COUNTER_KINDS);
  private readonly lastStream = new Float64Array(STREAM_FIELDS.length);

  constructor(
    private readonly inspector: PacketInspector,
    private identities: ContainerIdentityProvider,
  ) {
    inspector.onFlowEnd = (_flow, reason) => this.counters.flowEvicted(EVICT_OF[reason]);
  }

  /** New container table (containers came or went): flows named from now on use it. */
  setIdentities(identities: ContainerIdentityProvider): void {
    this.identities = identities;
  }

  judged(p: Packet, flow: Flow | null, judgedAs: number, flowDropped: boolean): void {
    const c = this.counters;
    const bytes = p.wireLength;
    c.packet(judgedAs === JudgedAs.DROP ? Verdict.DROP : judgedAs === JudgedAs.BYPASS ? Verdict.BYPASS : Verdict.ACCEPT, bytes);
    if (p.anomalies !== 0) c.anomalies(p.anomalies);
    if (judgedAs === JudgedAs.DROP) c.drop(flowDropped ? DropReason.FLOW_BLOCKED : DropReason.RULE);
    if (flow === null) return;
    const fm = this.flowMetrics(flow);
    c.pairPacket(fm.slot, bytes, judgedAs === JudgedAs.DROP);
    if (judgedAs === JudgedAs.BYPASS && !fm.bypassCounted) {
      fm.bypassCounted = true;
      c.flowBypassed();
    }
  }

  /**
   * The pair slot of the packet's flow (-1 without one), for alert counting. Alerts are raised
   * before judged() sees the packet, so this may be the flow's first sight.
   */
  slotOf(flow: Flow | null): number {
    return flow === null ? -1 : this.flowMetrics(flow).slot;
  }

  /** The flow's metrics state, created (and the flow counted) on first sight. */
  private flowMetrics(flow: Flow): FlowMetrics {
    let fm = flow.outputState as FlowMetrics | null;
    if (fm === null) {
      fm = new FlowMetrics();
      flow.outputState = fm;
      fm.slot = this.pairSlot(flow);
      fm.appProto = flow.appProto;
      this.counters.flowCreated(fm.slot);
    } else if (fm.appProto !== flow.appProto) {
      fm.appProto = flow.appProto;
      fm.slot = this.pairSlot(flow);
    }
    return fm;
  }

  /** Gauges and stream-event increments; call before each delta (about once a second). */
  refresh(): void {
    const c = this.counters;
    const insp = this.inspector;
    c.setFlowsActive(insp.flows.size);
    c.setStreamMemory(insp.streams.memory.used);
    const stats = insp.streams.stats;
    for (let k = 0; k < STREAM_FIELDS.length; k++) {
      const now = stats[STREAM_FIELDS[k]!];
      if (now > this.lastStream[k]!) c.streamEvent(k, now - this.lastStream[k]!);
      this.lastStream[k] = now;
    }
  }

  private pairSlot(flow: Flow): number {
    return this.counters.pairSlot(this.nameOf(flow.clientAddr, flow.ipVersion), this.nameOf(flow.serverAddr, flow.ipVersion), flow.appProto ?? 'unknown');
  }

  private nameOf(addr: Uint8Array, ipVersion: number): string {
    return this.identities.identify(addr)?.name ?? formatEveIp(addr, ipVersion);
  }
}
