// Test fixture: a Packet filled by hand (as the decoder would) and a DetectContext over it,
// so detection tests run real bytes through the real engine without the other stages.
import { Packet } from '../../src/decode/packet';
import { FlowState, type DetectContext } from '../../src/detect/detectContext';
import type { FlowDetectState } from '../../src/detect/flowDetectState';
import { defaultDetectConfig, type DetectConfig } from '../../src/detect/detectConfig';
import { loadRuleSources, type RuleSet } from '../../src/detect/ruleLoader';
import { DetectEngine } from '../../src/detect/detectEngine';

function v4(a: string, out: Uint8Array): void {
  out.fill(0);
  out[10] = 0xff; out[11] = 0xff;
  a.split('.').forEach((o, i) => { out[12 + i] = Number(o); });
}

export interface PacketSpec {
  proto?: number;
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  payload?: string | Uint8Array;
  flags?: number;
  ttl?: number;
  icmpType?: number;
  icmpCode?: number;
  ts?: number;
}

export function packet(s: PacketSpec): Packet {
  const p = new Packet();
  const payload = typeof s.payload === 'string' ? Buffer.from(s.payload, 'latin1') : s.payload ?? new Uint8Array(0);
  const hdr = 40;
  const data = new Uint8Array(hdr + payload.length);
  data.set(payload, hdr);
  p.data = data;
  p.dataEnd = data.length;
  p.ipVersion = 4;
  p.l3Offset = 0;
  p.l4Offset = 20;
  p.ipProto = s.proto ?? 6;
  v4(s.src ?? '10.0.0.1', p.src);
  v4(s.dst ?? '10.0.0.2', p.dst);
  p.srcPort = s.sport ?? 40000;
  p.dstPort = s.dport ?? 80;
  p.tcpFlags = s.flags ?? 0x18;
  p.ttl = s.ttl ?? 64;
  p.icmpType = s.icmpType ?? -1;
  p.icmpCode = s.icmpCode ?? -1;
  p.payloadOffset = hdr;
  p.payloadLength = payload.length;
  p.tsSec = s.ts ?? 1000;
  return p;
}

export class TestContext implements DetectContext {
  packet: Packet;
  flowState: number = FlowState.ESTABLISHED;
  toServer = true;
  flowId = 1;
  flowDetect: FlowDetectState | null = null;
  streamData: Uint8Array | null = null;
  streamStart = 0;
  streamEnd = 0;
  streamOffset = -1;
  /** The whole stream window at once (offset unknown: whole-window prefilter). */
  set stream(b: Uint8Array | null) {
    this.streamData = b;
    this.streamStart = 0;
    this.streamEnd = b === null ? 0 : b.length;
    this.streamOffset = -1;
  }
  appProto = '';
  txId = -1;
  buffers = new Map<number, Uint8Array[]>();
  constructor(p: Packet) {
    this.packet = p;
  }
  getBuffer(id: number, index: number): Uint8Array | null {
    return this.buffers.get(id)?.[index] ?? null;
  }
}

export function load(rules: string, config: DetectConfig = defaultDetectConfig()): RuleSet {
  return loadRuleSources([{ file: 'test.rules', text: rules }], config);
}

export function engine(rules: string, config: DetectConfig = defaultDetectConfig()): DetectEngine {
  const set = load(rules, config);
  if (set.errors.length) throw set.errors[0];
  if (set.skipped.length) throw new Error(`skipped: ${set.skipped[0]!.reason}`);
  return DetectEngine.compile(set, config);
}

/** Sids alerted for one packet. */
export function sids(e: DetectEngine, ctx: DetectContext): number[] {
  const r = e.inspect(ctx);
  return r.alerts.slice(0, r.alertCount).map((a) => a.sid).sort((a, b) => a - b);
}

/** Sids alerted on a payload with a fresh established to-server TCP context. */
export function hits(rules: string, payload: string | Uint8Array, spec: PacketSpec = {}): number[] {
  const e = engine(rules);
  const ctx = new TestContext(packet({ ...spec, payload }));
  ctx.flowDetect = e.newFlowState();
  return sids(e, ctx);
}
