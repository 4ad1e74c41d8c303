// The live path's verdicts from the detection engine: each queued packet is decoded into one
// reused Packet, judged by the same PacketInspector that `lateral replay` uses, and its slot
// in the batch set to accept, drop, or accept-and-bypass.
//
// Bypass (DESIGN.md "Copy range"): a flow that a `pass` rule matched, or whose both
// directions are past the stream inspection depth, gets the bypass mark; the mangle rule
// saves it to the connmark and the queue rule stops queueing the flow.

import type { PacketBatch } from '../capture/packetBatch';
import { SkbInfo } from '../capture/native';
import { LinkType, Packet } from '../decode/packet';
import { decodePacketAt } from '../decode/decodePacket';
import { DecodeContext } from '../decode/decodeStats';
import { type Flow, FlowDirection } from '../flow/flow';
import type { DetectResult } from '../detect/detectEngine';
import type { PacketVerdictHandler } from './packetVerdictHandler';
import { PacketInspector, Verdict } from './packetInspector';

export interface EngineVerdictCounters {
  inspected: number;
  dropped: number;
  bypassed: number;
  alerts: number;
  nonIp: number;
}

/** Called for each packet that raised alerts, while the packet is still current. */
export type AlertSink = (inspector: PacketInspector, result: DetectResult) => void;

/** What happened to one queued packet (PacketObserver.judged). */
export const JudgedAs = { ACCEPT: 0, DROP: 1, BYPASS: 2 } as const;

/**
 * Sees every judged packet with its flow (null for packets without one), while both are
 * current: the live path counts metrics here. One method call per packet, no allocation.
 * `flowDropped`: a drop because the flow was blocked earlier, not by a rule on this packet.
 */
export interface PacketObserver {
  judged(p: Packet, flow: Flow | null, judgedAs: number, flowDropped: boolean): void;
}

const NO_CHECKSUM = SkbInfo.CSUMNOTREADY | SkbInfo.GSO;

export class EngineVerdictHandler implements PacketVerdictHandler {
  readonly counters: EngineVerdictCounters = { inspected: 0, dropped: 0, bypassed: 0, alerts: 0, nonIp: 0 };
  readonly decodeContext = new DecodeContext('auto');
  private readonly packet = new Packet();

  /** Optional per-packet observer (metrics); set once, before the first batch. */
  observer: PacketObserver | null = null;

  constructor(
    readonly inspector: PacketInspector,
    public onAlert: AlertSink | null = null,
  ) {}

  handleBatch(batch: PacketBatch): void {
    const now = Date.now();
    const sec = Math.floor(now / 1000);
    const usec = (now % 1000) * 1000;
    const p = this.packet;
    const inspector = this.inspector;
    const c = this.counters;
    for (let i = 0; i < batch.count; i++) {
      const off = batch.offset(i);
      p.tsSec = sec;
      p.tsUsec = usec;
      p.wireLength = batch.origLen(i);
      const q = p.queue;
      q.queuePacketId = batch.ids[i]!;
      q.hwProtocol = batch.hwProtocol(i);
      q.mark = batch.mark(i);
      q.physInIfindex = batch.physInDev(i);
      q.physOutIfindex = batch.physOutDev(i);
      q.skbFlags = batch.skbInfo(i);
      // GSO / CHECKSUM_PARTIAL packets carry no valid L4 checksum yet (DESIGN.md "GSO").
      decodePacketAt(p, batch.data, off, batch.capLen(i), LinkType.RAW, this.decodeContext, (q.skbFlags & NO_CHECKSUM) === 0);
      if (p.ipVersion === 0) {
        c.nonIp++;
        this.observer?.judged(p, null, JudgedAs.ACCEPT, false);
        continue;
      }
      c.inspected++;
      const verdict = inspector.inspect(p);
      const flow = inspector.flow;
      const r = inspector.result;
      if (r !== null && r.alertCount > 0) {
        c.alerts += r.alertCount;
        this.onAlert?.(inspector, r);
      }
      let judged: number = JudgedAs.ACCEPT;
      if (verdict === Verdict.DROP_FLOW || verdict === Verdict.DROP_PACKET) {
        batch.drop(i);
        c.dropped++;
        judged = JudgedAs.DROP;
      } else if (verdict === Verdict.PASS_FLOW || this.pastDepth()) {
        batch.bypass(i);
        c.bypassed++;
        judged = JudgedAs.BYPASS;
      }
      this.observer?.judged(p, flow, judged, judged === JudgedAs.DROP && !blockedAlert(r));
    }
  }

  private pastDepth(): boolean {
    const flow = this.inspector.flow;
    return flow !== null && flow.pastDepth === (FlowDirection.TO_SERVER | FlowDirection.TO_CLIENT);
  }

  close(): void {
    this.inspector.flush();
  }
}

function blockedAlert(r: DetectResult | null): boolean {
  if (r === null) return false;
  for (let i = 0; i < r.alertCount; i++) if (r.alerts[i]!.action === 'blocked') return true;
  return false;
}
