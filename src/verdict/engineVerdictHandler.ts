// The live path's verdicts from the detection engine: each queued packet is decoded into one
// reused Packet, judged by the same PacketInspector that `lateral replay` uses, and its slot
// in the batch set to accept, drop, or accept-and-bypass.
//
// Bypass (DESIGN.md "Copy range"): a flow that needs no more inspection (a `pass` match, past
// the stream depth, encrypted after its handshake: the conditions are in ./bypassPolicy.ts)
// gets the bypass mark; the mangle rule saves it to the connmark and the queue rule stops
// queueing the flow. Packets of a bypassed flow still in flight get the mark again.

import type { PacketBatch } from '../capture/packetBatch';
import { SkbInfo } from '../capture/native';
import { LinkType, Packet } from '../decode/packet';
import { decodePacketAt } from '../decode/decodePacket';
import { DecodeContext } from '../decode/decodeStats';
import type { Flow } from '../flow/flow';
import type { DetectEngine, DetectResult } from '../detect/detectEngine';
import type { PacketVerdictHandler } from './packetVerdictHandler';
import { PacketInspector, Verdict } from './packetInspector';
import { BypassPolicy, BypassReason, DEFAULT_BYPASS_OPTIONS, type BypassOptions } from './bypassPolicy';

export interface EngineVerdictCounters {
  inspected: number;
  dropped: number;
  /** Packets given the bypass mark (the deciding one and any still in flight after it). */
  bypassed: number;
  /** Flows bypassed, in total and by reason (BypassReason). */
  bypassedFlows: number;
  bypassPass: number;
  bypassDepth: number;
  bypassEncrypted: number;
  alerts: number;
  nonIp: number;
  /** Packets copied shorter than they are (copy range): their tail was not inspected. */
  truncated: number;
  /** Drops the drop policy turned into accepts (both ends in monitor mode). */
  dropsWaived: number;
}

/**
 * [cdocker] Per-container mode (Docker label lateral.mode): whether a drop verdict between two
 * addresses is carried out. Implemented by src/docker/containerModeTable.ts (enforceDrop).
 */
export interface DropPolicy {
  enforceDrop(src: Uint8Array, dst: Uint8Array): boolean;
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
  readonly counters: EngineVerdictCounters = {
    inspected: 0, dropped: 0, bypassed: 0, bypassedFlows: 0, bypassPass: 0, bypassDepth: 0, bypassEncrypted: 0,
    alerts: 0, nonIp: 0, truncated: 0, dropsWaived: 0,
  };
  readonly decodeContext = new DecodeContext('auto');
  readonly bypass: BypassPolicy;
  private readonly packet = new Packet();
  private bypassEngine: DetectEngine | null = null;

  /** Optional per-packet observer (metrics); set once, before the first batch. */
  observer: PacketObserver | null = null;

  /** [cdocker] Optional: may turn a drop into an alert-only accept (null: every drop stands). */
  dropPolicy: DropPolicy | null = null;

  constructor(
    readonly inspector: PacketInspector,
    public onAlert: AlertSink | null = null,
    bypassOptions: BypassOptions = DEFAULT_BYPASS_OPTIONS,
  ) {
    this.bypass = new BypassPolicy(bypassOptions);
  }

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
      if (batch.capLen(i) < p.wireLength) c.truncated++;
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
      let verdict = inspector.inspect(p);
      const flow = inspector.flow;
      const r = inspector.result;
      // [cdocker] Both ends in monitor mode: the drop becomes an accept and its alerts say
      // "allowed" (Suricata's IDS wording), before they are handed on.
      if ((verdict === Verdict.DROP_FLOW || verdict === Verdict.DROP_PACKET) && this.dropPolicy !== null && !this.dropPolicy.enforceDrop(p.src, p.dst)) {
        verdict = Verdict.ACCEPT;
        c.dropsWaived++;
        if (r !== null) for (let k = 0; k < r.alertCount; k++) if (r.alerts[k]!.action === 'blocked') r.alerts[k]!.action = 'allowed';
      }
      if (r !== null && r.alertCount > 0) {
        c.alerts += r.alertCount;
        this.onAlert?.(inspector, r);
      }
      let judged: number = JudgedAs.ACCEPT;
      if (verdict === Verdict.DROP_FLOW || verdict === Verdict.DROP_PACKET) {
        batch.drop(i);
        c.dropped++;
        judged = JudgedAs.DROP;
      } else if (flow !== null && (flow.bypassReason !== BypassReason.NONE || this.bypassNow(flow, verdict))) {
        batch.bypass(i);
        c.bypassed++;
        judged = JudgedAs.BYPASS;
      }
      this.observer?.judged(p, flow, judged, judged === JudgedAs.DROP && !blockedAlert(r));
    }
  }

  /** Decides (once) that the flow leaves the queue; counts the flow by reason. */
  private bypassNow(flow: Flow, verdict: number): boolean {
    const engine = this.inspector.detectEngine;
    if (engine !== this.bypassEngine) {
      // First packet, or the rules were reloaded (PacketInspector.setEngine).
      this.bypassEngine = engine;
      this.bypass.setSignatures(engine.signatures);
    }
    const reason = this.bypass.decide(flow, verdict === Verdict.PASS_FLOW, this.inspector.appLayer, this.inspector.flowDetect);
    if (reason === BypassReason.NONE) return false;
    flow.bypassReason = reason;
    // The stream stage stops reassembling a bypassed flow (its packets in flight are few).
    flow.bypassed = true;
    const c = this.counters;
    c.bypassedFlows++;
    if (reason === BypassReason.PASS) c.bypassPass++;
    else if (reason === BypassReason.DEPTH) c.bypassDepth++;
    else c.bypassEncrypted++;
    return true;
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
