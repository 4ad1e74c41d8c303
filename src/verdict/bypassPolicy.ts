// When a flow leaves the queue: the bypass decision of the live path (DESIGN.md "Copy range").
// A bypassed flow gets the connmark BYPASS; the kernel stops queueing it, so nothing of it is
// inspected any more. The conditions follow Suricata 7 with `stream.bypass: yes`:
//
// - depth: stream-tcp.c StreamTcpPacket calls PacketBypassCallback when the client OR the
//   server stream has STREAMTCP_STREAM_FLAG_DEPTH_REACHED (`||` in 7.x; it was `&&` before).
// - pass: a flow-level `pass` match ends inspection of the flow (Lateral bypasses it too).
// - encrypted: TLS with `app-layer.protocols.tls.encryption-handling: bypass` after the first
//   application-data record (app-layer-ssl.c sets APP_LAYER_PARSER_BYPASS_READY), and SSH once
//   both sides sent NEWKEYS (rust/src/ssh/ssh.rs, always in 7.x). `default` (Suricata's
//   default) and `full` keep the TLS flow queued.
//
// Lateral's default depth policy, `conservative`, keeps the rules' semantics where Suricata's
// `||` would drop them. Depth bypasses a flow only when one direction is past depth AND the
// other direction needs no more inspection: it is past depth too, or it never carried
// payload (a one-way bulk transfer: iperf3, an upload), or no loaded signature can match a
// packet in that direction (header: protocol, addresses, ports, flow:to_server/to_client).
// And for depth and encrypted bypass alike: no flowbit may be set on the flow (a later
// `flowbits:isset` would never see its packets). `suricata` drops those two checks.
// A bypassed flow's later packets are not inspected at all, packet-level signatures (dsize,
// flags, tcp-pkt) included: that is what bypass means, in Suricata as here.
import * as fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { LateralError } from '../errors';
import { type Flow, FlowDirection } from '../flow/flow';
import type { AppLayerState } from '../applayer/appLayerState';
import type { FlowDetectState } from '../detect/flowDetectState';
import type { Signature } from '../detect/signature';

/** Why a flow was bypassed (Flow.bypassReason). */
export const BypassReason = {
  NONE: 0,
  PASS: 1,
  DEPTH: 2,
  ENCRYPTED: 3,
} as const;

export const BYPASS_REASON_NAMES = ['none', 'pass', 'depth', 'encrypted'] as const;

export type EncryptionHandling = 'default' | 'bypass' | 'full';
export type DepthBypassPolicy = 'conservative' | 'suricata';

export interface BypassOptions {
  /** Take flows off the queue at all (Suricata `stream.bypass`). Lateral's default: true. */
  enabled: boolean;
  /** Which depth condition: see the file header. */
  depth: DepthBypassPolicy;
  /** Suricata `app-layer.protocols.tls.encryption-handling` (default: `default`). */
  tlsEncryption: EncryptionHandling;
}

export const DEFAULT_BYPASS_OPTIONS: BypassOptions = { enabled: true, depth: 'conservative', tlsEncryption: 'default' };

/** Per-flow decisions counted once per flow (reasons) and checks that held a flow back. */
export class BypassCounters {
  /** Flows bypassed, by BypassReason (index 0 unused). */
  readonly flows = new Float64Array(BYPASS_REASON_NAMES.length);
  /** Packets of flows that met a depth/encrypted condition but kept queued for a set flowbit. */
  heldByFlowbits = 0;
  /** Packets of flows with one direction past depth whose other direction still needs inspection. */
  heldByOtherDirection = 0;
}

const BOTH = FlowDirection.TO_SERVER | FlowDirection.TO_CLIENT;
const TCP = 6;
const AppProtoTls = 'tls';

export class BypassPolicy {
  readonly counters = new BypassCounters();
  private readonly suricataDepth: boolean;
  private readonly tlsBypass: boolean;
  /** Flows whose "can a rule match the other direction" answer is known: direction bits + 4. */
  private ruleNeed = new WeakMap<Flow, number>();
  private signatures: readonly Signature[] = [];

  constructor(readonly options: BypassOptions = DEFAULT_BYPASS_OPTIONS) {
    this.suricataDepth = options.depth === 'suricata';
    this.tlsBypass = options.tlsEncryption === 'bypass';
  }

  /** The rule set whose headers answer "does a rule need that direction" (set on load/reload). */
  setSignatures(signatures: readonly Signature[]): void {
    this.signatures = signatures;
    this.ruleNeed = new WeakMap();
  }

  /**
   * BypassReason for a flow not yet bypassed, judged after its current packet was inspected
   * (and not dropped). Hot path: a few field reads for a flow that meets no condition.
   */
  decide(flow: Flow, passed: boolean, app: AppLayerState | null, fd: FlowDetectState | null): number {
    if (!this.options.enabled) return BypassReason.NONE;
    if (passed) return BypassReason.PASS;
    const past = flow.pastDepth;
    if (past !== 0 && flow.proto === TCP) {
      if (this.suricataDepth) return BypassReason.DEPTH;
      if (past === BOTH || this.otherDirectionDone(flow, past ^ BOTH)) {
        return this.flowbitsClear(fd) ? BypassReason.DEPTH : BypassReason.NONE;
      }
      this.counters.heldByOtherDirection++;
    }
    if (app !== null && this.encrypted(app)) {
      return this.suricataDepth || this.flowbitsClear(fd) ? BypassReason.ENCRYPTED : BypassReason.NONE;
    }
    return BypassReason.NONE;
  }

  private encrypted(app: AppLayerState): boolean {
    if (app.tls !== null) return this.tlsBypass && app.tls.handshakeDone;
    return app.ssh !== null && app.ssh.encrypted;
  }

  /** `other` (one FlowDirection bit) carried no payload, or no signature can match it. */
  private otherDirectionDone(flow: Flow, other: number): boolean {
    if ((flow.dataDirs & other) === 0) return true;
    let known = this.ruleNeed.get(flow);
    if (known === undefined) {
      known = 4 | this.directionsRulesCanMatch(flow);
      this.ruleNeed.set(flow, known);
    }
    return (known & other) === 0;
  }

  private flowbitsClear(fd: FlowDetectState | null): boolean {
    if (fd === null) return true;
    const bits = fd.flowbits;
    for (let i = 0; i < bits.length; i++) {
      if (bits[i] !== 0) {
        this.counters.heldByFlowbits++;
        return false;
      }
    }
    return true;
  }

  /**
   * FlowDirection bits of the directions in which some loaded TCP signature's header can
   * match a packet of this flow. Cold: once per flow that reaches depth in one direction with
   * data flowing the other way.
   */
  private directionsRulesCanMatch(flow: Flow): number {
    let dirs = 0;
    for (const sig of this.signatures) {
      if (sig.ipProtos.length > 0 && !sig.ipProtos.includes(TCP)) continue;
      if (sig.alproto !== '' && flow.appProto !== null && sig.alproto !== flow.appProto) continue;
      if (sig.flowDirection !== 2 && headerMatches(sig, flow.clientAddr, flow.clientPort, flow.serverAddr, flow.serverPort)) {
        dirs |= FlowDirection.TO_SERVER;
      }
      if (sig.flowDirection !== 1 && headerMatches(sig, flow.serverAddr, flow.serverPort, flow.clientAddr, flow.clientPort)) {
        dirs |= FlowDirection.TO_CLIENT;
      }
      if (dirs === BOTH) break;
    }
    return dirs;
  }
}

function headerMatches(sig: Signature, src: Uint8Array, sport: number, dst: Uint8Array, dport: number): boolean {
  if (sig.src.match(src) && sig.dst.match(dst) && sig.sport.match(sport) && sig.dport.match(dport)) return true;
  return sig.bidirectional && sig.src.match(dst) && sig.dst.match(src) && sig.sport.match(dport) && sig.dport.match(sport);
}

function asRecord(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/**
 * Bypass settings from a Suricata-style YAML: `stream.bypass` (yes/no), Lateral's
 * `stream.bypass-depth` (conservative/suricata) and
 * `app-layer.protocols.tls.encryption-handling` (default/bypass/full). Absent keys keep
 * DEFAULT_BYPASS_OPTIONS. A bad value is a LATERAL_ERR_CONFIG naming the file and key.
 */
export function loadBypassOptions(yamlFile?: string): BypassOptions {
  const out: BypassOptions = { ...DEFAULT_BYPASS_OPTIONS };
  if (yamlFile === undefined) return out;
  let doc: unknown;
  try {
    doc = parseYaml(fs.readFileSync(yamlFile, 'utf8').replace(/^%YAML.*\n/, ''), { strict: false, uniqueKeys: false });
  } catch (e) {
    throw new LateralError('LATERAL_ERR_CONFIG', `cannot read YAML: ${(e as Error).message.split('\n')[0]}`, { file: yamlFile, line: 0 }, { cause: e });
  }
  const root = asRecord(doc) ?? {};
  const stream = asRecord(root['stream']);
  const bad = (key: string, value: unknown, allowed: string): LateralError =>
    new LateralError('LATERAL_ERR_CONFIG', `${key}: ${JSON.stringify(value)} is not one of ${allowed}`, { file: yamlFile, line: 0 });
  const bypass = stream?.['bypass'];
  if (bypass !== undefined) {
    const v = yamlBool(bypass);
    if (v === null) throw bad('stream.bypass', bypass, 'yes, no');
    out.enabled = v;
  }
  const depth = stream?.['bypass-depth'];
  if (depth !== undefined) {
    if (depth !== 'conservative' && depth !== 'suricata') throw bad('stream.bypass-depth', depth, 'conservative, suricata');
    out.depth = depth;
  }
  const tls = asRecord(asRecord(asRecord(root['app-layer'])?.['protocols'])?.[AppProtoTls]);
  const enc = tls?.['encryption-handling'];
  if (enc !== undefined) {
    if (enc !== 'default' && enc !== 'bypass' && enc !== 'full') throw bad('app-layer.protocols.tls.encryption-handling', enc, 'default, bypass, full');
    out.tlsEncryption = enc;
  }
  return out;
}

/** YAML 1.1 booleans as Suricata reads them (ConfValIsTrue / ConfValIsFalse). */
function yamlBool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string') return null;
  const s = v.toLowerCase();
  if (s === 'yes' || s === 'true' || s === 'on' || s === '1') return true;
  if (s === 'no' || s === 'false' || s === 'off' || s === '0') return false;
  return null;
}
