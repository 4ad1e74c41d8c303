// The detection engine: compiled from loaded signatures, inspects one packet at a time.
//
// Compile (cold): order signatures like Suricata (action-order, then flowbits setters
// before readers, then priority), group them by IP protocol, flow direction and service port
// (signatureGroups.ts), with Aho-Corasick automata over the signatures' fast patterns.
// Inspect (hot): pick the packet's group; one prefilter pass per buffer collects candidate
// signatures (plus the group's signatures without a fast pattern), candidates are evaluated
// in signature order, and the result (alerts + verdict) is written into one reused DetectResult.
//
// Suricata semantics kept (checked with --simulate-ips): `pass` ends inspection of the
// packet and discards lower-ranked alerts; `drop` (IPS mode) drops the packet; both act on
// the whole flow when the match is flow-level (header-only / ip_proto / app-layer-protocol
// rules, app-layer rules, stream matches — Suricata's PACKET_ALERT_FLAG_APPLY_ACTION_TO_FLOW);
// `reject*` drop too and ask the live path to answer; thresholds suppress alerts, not drops;
// detection_filter makes the rule not match; noalert rules act silently; one alert per
// signature per packet; at most packetAlertMax alerts per packet (highest-ranked kept);
// app-layer signatures alert once per transaction.

import type { Packet } from '../decode/packet';
import { BUFFER_COUNT, BufferId } from './buffers';
import { FlowState, type DetectContext } from './detectContext';
import type { DetectConfig } from './detectConfig';
import { FlowDetectState } from './flowDetectState';
import { StreamScanState } from './streamScanState';
import { AppScanState } from './appScanState';
import { inspectBuffer } from './contentInspection';
import { ThresholdTracker } from './thresholdTracker';
import type { XbitTable } from './xbitTable';
import type { RuleSet } from './ruleLoader';
import { Action, InspectState, type BufferList, type Signature } from './signature';
import { IpProtoMatch } from './keywords/ipProto';
import { AppLayerProtocolMatch, appProtoEquals } from './keywords/appLayerProtocol';
import { ContentMatch } from './keywords/content';
import { buildSignatureGroups, DIR_CLASS_COUNT, DirClass, protoClassOf, type GroupSelector, type Prefilter, type SignatureGroup } from './signatureGroups';

export const Verdict = {
  /** Let the packet through. */
  ACCEPT: 0,
  /** Drop this packet (IPS). */
  DROP_PACKET: 1,
  /** Drop this packet and every later packet of its flow (IPS; flowDetect.dropped is set). */
  DROP_FLOW: 2,
  /** Accept, and stop inspecting this flow (a flow-level pass matched; bypass candidate). */
  PASS_FLOW: 3,
} as const;

export interface AlertRecord {
  sid: number;
  gid: number;
  rev: number;
  msg: string;
  classtype: string;
  /** Classification description (EVE alert.category). */
  category: string;
  /** Priority 1 (highest) .. 255: EVE alert.severity. */
  priority: number;
  /** EVE alert.action: 'blocked' when the packet is dropped/rejected, else 'allowed'. */
  action: 'allowed' | 'blocked';
  /** The rule's action keyword: alert, drop, reject, rejectsrc, rejectdst, rejectboth. */
  ruleAction: string;
  signature: Signature | null;
}

/** Reused per engine: valid until the next inspect() call. */
export class DetectResult {
  alertCount = 0;
  readonly alerts: AlertRecord[];
  verdict: number = Verdict.ACCEPT;
  /** RejectKind.* when a reject rule matched (live path sends RST / ICMP unreachable). */
  rejectKind = 0;
  /** Alerts not emitted: over packetAlertMax, or thresholded. */
  suppressed = 0;
  constructor(max: number) {
    this.alerts = [];
    for (let i = 0; i < max; i++) {
      this.alerts.push({ sid: 0, gid: 0, rev: 0, msg: '', classtype: '', category: '', priority: 0, action: 'allowed', ruleAction: '', signature: null });
    }
  }
}

const EMPTY = new Uint8Array(0);

/** App-layer buffers shorter than this are scanned whole on every packet (no per-flow state). */
export const APP_SCAN_MIN_BYTES = 64;

/** Sorts a[0..n) ascending in place (insertion sort: prefilter hits are few and often near-sorted). */
function sortPrefix(a: Int32Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > v) { a[j + 1] = a[j]!; j--; }
    a[j + 1] = v;
  }
}

export interface EngineStats {
  signatures: number;
  withFastPattern: number;
  /** Patterns over all distinct automata. */
  patterns: number;
  /** Distinct signature groups, automata and prefilter maps (signatureGroups.ts). */
  groups: number;
  automata: number;
  prefilterMaps: number;
  /** Automaton states over all distinct automata. */
  states: number;
  compileMs: number;
}

function actionRank(sig: Signature, order: string[]): number {
  const name = sig.action === Action.PASS ? 'pass' : sig.action === Action.DROP ? 'drop' : sig.action === Action.REJECT ? 'reject' : 'alert';
  const i = order.indexOf(name);
  return i < 0 ? order.length : i;
}

export class DetectEngine {
  readonly signatures: Signature[];
  readonly stats: EngineStats;
  /** Group selectors by protoClassOf(ipProto) * DIR_CLASS_COUNT + DirClass. */
  private readonly selectors: GroupSelector[];
  private readonly prefilterList: Prefilter[];
  /** Slots of FlowDetectState.appScans: two (directions) per app-layer prefilter of the largest group. */
  private readonly appSlots: number;
  private readonly config: DetectConfig;
  /** Flowbit names in slot order (FlowDetectState.names of this engine's flows). */
  readonly flowbitNames: readonly string[];
  private readonly result: DetectResult;
  private readonly st = new InspectState();
  private readonly mark: Uint32Array;
  private stamp = 0;
  private readonly cand: Int32Array;
  private candCount = 0;
  private readonly thresholds = new ThresholdTracker();
  private curPrefilter: Prefilter | null = null;
  /**
   * Views of the packet payload and the stream window, made on first use in a packet (most
   * packets have no candidate that needs them, so most packets allocate none). One view per
   * packet also keeps pcre's string cache (keyed by buffer identity) working.
   */
  private payloadView: Uint8Array | null = null;
  private streamView: Uint8Array | null = null;
  /** While scanning a stream window: where its hits are kept (see scanStream). */
  private rec: StreamScanState | null = null;
  /** Stream offset of buffer index 0 of the window being scanned (offset = recShift + index). */
  private recShift = 0;
  /** Stream offset of the window's first byte: hits starting before it are not in the window. */
  private recFrom = 0;
  private recOverflow = false;
  /** While scanning the new bytes of a growing app-layer buffer: where its pattern ids are kept. */
  private appRec: AppScanState | null = null;
  private appOverflow = false;
  /** The current signature's payload list matched in the stream (not the packet). */
  private streamMatched = false;
  /**
   * Bytes the payload prefilter scanned (packet payloads and stream windows): with the stream
   * scan resuming per direction, each reassembled byte counts once. For benchmarks and tests.
   */
  prefilterBytes = 0;
  /** The part of prefilterBytes that was packet payloads (not stream windows). */
  packetPrefilterBytes = 0;
  /** Candidate signatures the prefilters gave, summed over inspect() calls. For benchmarks and tests. */
  prefilterCandidates = 0;
  /** Signatures without a fast pattern evaluated (the groups' always lists), summed. For benchmarks and tests. */
  alwaysEvaluated = 0;
  /** Bytes the app-layer prefilters scanned, per BufferId. For benchmarks and tests. */
  readonly appPrefilterBytes = new Float64Array(BUFFER_COUNT);
  /** Signatures with app-layer buffers (alert once per transaction). */
  private readonly appSig: Uint8Array;
  /**
   * Set by the caller while it inspects a second or later app-layer transaction of the same
   * packet (pipelined HTTP): only transaction signatures run, so packet signatures do not
   * alert twice for one packet.
   */
  appOnly = false;

  private constructor(sigs: Signature[], config: DetectConfig, flowbitNames: string[], t0: number) {
    this.config = config;
    this.flowbitNames = flowbitNames;
    // Suricata's ordering (detect-engine-sigorder.c): action, flowbits, priority; stable.
    const ordered = sigs.map((s, i) => ({ s, i })).sort((a, b) =>
      actionRank(a.s, config.actionOrder) - actionRank(b.s, config.actionOrder) ||
      b.s.flowbitsOrder - a.s.flowbitsOrder ||
      a.s.priority - b.s.priority ||
      a.i - b.i).map((x) => x.s);
    ordered.forEach((s, i) => { s.num = i; });
    this.signatures = ordered;
    this.mark = new Uint32Array(ordered.length);
    this.cand = new Int32Array(ordered.length);
    this.appSig = new Uint8Array(ordered.length);
    for (const s of ordered) {
      if (s.appTx) this.appSig[s.num] = 1;
      // Suricata PacketAlertFinalize: drop/pass go to the flow for IP-only, like-IP-only and
      // PD-only signatures (no content, only ip_proto / app-layer-protocol conditions) and
      // app-layer signatures; for the rest only when the match came from the stream.
      // Suricata SigValidate: payload content with depth/offset also requires the packet.
      s.inspectsPacket = s.noStream || s.buffers.some((l) => l.bufferId === BufferId.PAYLOAD &&
        l.items.some((m) => m instanceof ContentMatch && (m.depth >= 0 || m.offset > 0 || m.depthVar >= 0 || m.offsetVar >= 0)));
      s.actsOnFlow = s.alproto !== '' || s.appTx ||
        (s.buffers.length === 0 && s.packetMatches.every((m) => m instanceof IpProtoMatch || m instanceof AppLayerProtocolMatch));
    }
    this.result = new DetectResult(config.packetAlertMax);

    const sg = buildSignatureGroups(ordered, config.signatureGroups ?? 'port');
    this.selectors = sg.selectors;
    this.prefilterList = sg.prefilters;
    this.appSlots = sg.maxAppPrefilters * 2;
    this.stats = {
      signatures: ordered.length,
      withFastPattern: ordered.filter((s) => s.fastPattern).length,
      patterns: sg.patterns,
      groups: sg.groups.length,
      automata: sg.automata,
      prefilterMaps: sg.prefilters.length,
      states: sg.states,
      compileMs: Date.now() - t0,
    };
  }

  /** Compiles a loaded rule set (ruleLoader.loadRuleFiles / loadRuleSources). */
  static compile(rules: RuleSet, config: DetectConfig): DetectEngine {
    const t0 = Date.now();
    const engine = new DetectEngine(rules.signatures, config, [...rules.flowbits.slots.keys()], t0);
    engine.xbits = rules.flowbits.xbits;
    return engine;
  }

  /** The rule set's xbits table (host / ip-pair bits), or null when compiled without one. */
  xbits: XbitTable | null = null;

  /** Forget threshold/detection_filter counts: the next packets come from an unrelated capture. */
  resetThresholds(): void {
    this.thresholds.clear();
    this.xbits?.clear();
  }

  /** A fresh per-flow state sized for this rule set (store it on the flow). */
  newFlowState(): FlowDetectState {
    return new FlowDetectState(this.flowbitNames);
  }

  /** Prefilter sink: called by AhoCorasick.scanRange for each pattern hit (end: index past it). */
  hit(patternId: number, end: number): void {
    // A pattern none of the group's signatures has: the automaton is shared with groups that
    // have one (signatureGroups.ts), nothing to expand or keep.
    const pf = this.curPrefilter!;
    if (pf.sigStart[patternId + 1] === pf.sigStart[patternId]) return;
    const ar = this.appRec;
    if (ar !== null) {
      // First hit of this pattern in this packet's prefilter (the kept ids were stamped
      // before the scan): new to the buffer's state too.
      if (pf.patternStamp[patternId] !== this.stamp && !this.appOverflow && !ar.push(patternId)) this.appOverflow = true;
      this.addCandidates(patternId);
      return;
    }
    const rec = this.rec;
    if (rec !== null) {
      const start = this.recShift + end - pf.ac.patternLength[patternId]!;
      // A resumed scan carries context from before the window: such a match is not in it.
      if (start < this.recFrom) return;
      if (!this.recOverflow && !rec.push(patternId, start)) this.recOverflow = true;
    }
    this.addCandidates(patternId);
  }

  /** The stamp wrapped: clear every mark stamped with an old value. */
  private restartStamps(): void {
    this.mark.fill(0);
    for (const pf of this.prefilterList) pf.patternStamp.fill(0);
    this.stamp = 1;
  }

  private addCandidates(patternId: number): void {
    const pf = this.curPrefilter!;
    if (pf.patternStamp[patternId] === this.stamp) return;
    pf.patternStamp[patternId] = this.stamp;
    const end = pf.sigStart[patternId + 1]!;
    for (let k = pf.sigStart[patternId]!; k < end; k++) {
      const num = pf.sigIds[k]!;
      if (this.mark[num] !== this.stamp) { this.mark[num] = this.stamp; this.cand[this.candCount++] = num; }
    }
  }

  private scan(pf: Prefilter, buf: Uint8Array): void {
    if (buf.length === 0) return;
    this.curPrefilter = pf;
    pf.ac.scanRange(buf, 0, buf.length, 0, this);
    this.appPrefilterBytes[pf.bufferId] += buf.length;
  }

  /**
   * An app-layer prefilter over a buffer that only grows (DetectContext.bufferVersion): hand out
   * the pattern ids found in its bytes on earlier packets, then scan only the new bytes,
   * resuming the automaton (AppScanState explains why the candidates are exactly a whole
   * scan's). One state per (prefilter, packet direction), for the transaction last scanned.
   */
  private scanGrowing(pf: Prefilter, pfIndex: number, buf: Uint8Array, fd: FlowDetectState, toServer: boolean, txId: number, version: number): void {
    // A flow direction keeps its group (same protocol, direction, server port), so the slot of a
    // prefilter's index is its own; when the group does change, the owner check starts over.
    let scans = fd.appScans;
    if (scans === null || scans.length !== this.appSlots) {
      scans = fd.appScans = [];
      for (let i = 0; i < this.appSlots; i++) scans.push(null);
    }
    const slot = pfIndex * 2 + (toServer ? 0 : 1);
    let as = scans[slot]!;
    if (as === null) as = scans[slot] = new AppScanState();
    this.curPrefilter = pf;
    const len = buf.length;
    if (as.continues(pf, txId, version, len)) {
      const ids = as.ids;
      for (let k = 0, n = as.count; k < n; k++) this.addCandidates(ids[k]!);
      if (as.scannedEnd === len) return;
    } else {
      as.reset(pf, txId, version);
    }
    const from = as.scannedEnd;
    this.appRec = as;
    this.appOverflow = false;
    as.acState = pf.ac.scanRange(buf, from, len, as.acState, this);
    this.appRec = null;
    as.scannedEnd = len;
    this.appPrefilterBytes[pf.bufferId] += len - from;
    if (this.appOverflow) as.invalidate();
  }

  /**
   * The payload prefilter over the stream window, each stream byte scanned once per flow
   * direction: resume the automaton where the previous packet's scan stopped and hand out the
   * kept hits of earlier scans that still lie wholly inside this window. The candidates are
   * exactly those of a scan of the whole window (StreamScanState explains why).
   */
  private scanStream(pf: Prefilter, ctx: DetectContext, fd: FlowDetectState | null): void {
    const buf = ctx.streamData!, start = ctx.streamStart, end = ctx.streamEnd;
    if (end <= start) return;
    this.curPrefilter = pf;
    const off = ctx.streamOffset;
    if (fd === null || off < 0) {
      pf.ac.scanRange(buf, start, end, 0, this);
      this.prefilterBytes += end - start;
      return;
    }
    let ss = ctx.toServer ? fd.scanToServer : fd.scanToClient;
    if (ss === null) {
      ss = new StreamScanState();
      if (ctx.toServer) fd.scanToServer = ss;
      else fd.scanToClient = ss;
    }
    const winEnd = off + (end - start);
    let from = start;
    if (ss.owner === pf && off >= ss.base && ss.scannedEnd >= off && ss.scannedEnd <= winEnd) {
      ss.trim(off);
      const ids = ss.ids, starts = ss.starts;
      for (let k = ss.head; k < ss.count; k++) if (starts[k]! >= off) this.addCandidates(ids[k]!);
      from = start + (ss.scannedEnd - off);
    } else {
      ss.reset(pf, off);
    }
    this.rec = ss;
    this.recShift = off - start;
    this.recFrom = off;
    this.recOverflow = false;
    ss.acState = pf.ac.scanRange(buf, from, end, ss.acState, this);
    this.prefilterBytes += end - from;
    ss.scannedEnd = winEnd;
    this.rec = null;
    if (this.recOverflow) ss.invalidate();
  }

  /** The packet payload as a view, made once per inspect() on first use. */
  private payloadOf(p: Packet): Uint8Array {
    let v = this.payloadView;
    if (v === null) v = this.payloadView = p.payloadLength > 0 ? p.payload() : EMPTY;
    return v;
  }

  /** The stream window as a view, made once per inspect() on first use. */
  private streamOf(ctx: DetectContext): Uint8Array {
    let v = this.streamView;
    if (v === null) v = this.streamView = ctx.streamData!.subarray(ctx.streamStart, ctx.streamEnd);
    return v;
  }

  /**
   * The signature group of a packet: its protocol, flow direction and server-side port
   * (signatureGroups.ts says why it holds every signature that can match the packet).
   */
  groupFor(ctx: DetectContext): SignatureGroup {
    const p = ctx.packet;
    const dir = ctx.flowState === FlowState.NONE ? DirClass.NO_FLOW : ctx.toServer ? DirClass.TO_SERVER : DirClass.TO_CLIENT;
    const sel = this.selectors[protoClassOf(p.ipProto) * DIR_CLASS_COUNT + dir]!;
    const table = sel.portTable;
    if (table === null || p.l4Offset < 0) return sel.portless;
    return sel.portGroups[table[dir === DirClass.TO_CLIENT ? p.srcPort : p.dstPort]!]!;
  }

  inspect(ctx: DetectContext): DetectResult {
    const r = this.result;
    r.alertCount = 0;
    r.verdict = Verdict.ACCEPT;
    r.rejectKind = 0;
    r.suppressed = 0;
    const p = ctx.packet;
    const fd = ctx.flowDetect;
    if (fd !== null) {
      // A flow created under a previous rule set (reload): remap its flowbits once.
      if (fd.names !== this.flowbitNames) fd.adoptBy(this.flowbitNames);
      if (fd.dropped) { r.verdict = Verdict.DROP_FLOW; return r; }
      if (fd.passed) { r.verdict = Verdict.PASS_FLOW; return r; }
    }
    if (p.ipVersion === 0) return r;
    const g = this.groupFor(ctx);
    this.payloadView = null;
    this.streamView = null;
    this.st.strOf = null;
    const hasStream = ctx.streamData !== null && ctx.streamEnd > ctx.streamStart;

    // Candidates: always-evaluated signatures plus prefilter hits.
    if (++this.stamp === 0xffffffff) this.restartStamps();
    this.candCount = 0;
    const pp = g.payloadPrefilter;
    if (pp !== null) {
      // A payload that lies unchanged inside the stream window is covered by the stream scan.
      // A payload that went into the stream (streamAdded) is matched as packet data only by
      // signatures that inspect the packet (matchList): the others match it through the
      // stream, whose scan makes them candidates; so only the former's patterns are scanned
      // for (IDS timing scans every such payload: its stream window comes on the ACK).
      const ppf = ctx.streamAdded === true ? g.packetPrefilter : pp;
      if (ppf !== null && p.payloadLength > 0 && !(ctx.payloadInStream === true && hasStream)) {
        this.curPrefilter = ppf;
        ppf.ac.scanRange(p.data, p.payloadOffset, p.payloadOffset + p.payloadLength, 0, this);
        this.prefilterBytes += p.payloadLength;
        this.packetPrefilterBytes += p.payloadLength;
      }
      if (hasStream) this.scanStream(pp, ctx, fd);
    }
    if (ctx.appProto !== '' && g.prefilters.length > 0) {
      const pfs = g.prefilters;
      // Growing buffers resume where the previous packet's scan stopped; small ones are cheaper
      // to rescan than to keep state for.
      const progressive = fd !== null && ctx.txId >= 0 && ctx.bufferVersion !== undefined;
      for (let i = 0; i < pfs.length; i++) {
        const pf = pfs[i]!;
        for (let k = 0; ; k++) {
          const b = ctx.getBuffer(pf.bufferId, k);
          if (b === null) break;
          if (k === 0 && progressive && b.length >= APP_SCAN_MIN_BYTES) {
            const version = ctx.bufferVersion!(pf.bufferId);
            if (version >= 0) {
              this.scanGrowing(pf, i, b, fd, ctx.toServer, ctx.txId, version);
              continue;
            }
          }
          this.scan(pf, b);
        }
      }
    }
    const cand = this.cand;
    const candCount = this.candCount;
    this.prefilterCandidates += candCount;
    sortPrefix(cand, candCount);
    this.st.now = p.tsSec;

    // Merge the two sorted lists (always-evaluated, prefilter hits): signature order.
    const always = g.always;
    this.alwaysEvaluated += always.length;
    let ai = 0, ci = 0;
    while (ai < always.length || ci < candCount) {
      let num: number;
      if (ci >= candCount || (ai < always.length && always[ai]! < cand[ci]!)) num = always[ai++]!;
      else num = cand[ci++]!;
      const sig = this.signatures[num]!;
      if (this.appOnly && this.appSig[num] !== 1) continue;
      if (!this.matchSignature(sig, ctx, p)) continue;
      const appTx = this.appSig[sig.num] === 1 && ctx.txId >= 0 && fd !== null;
      if (appTx) {
        // HTTP/2 transactions are judged once per direction (Suricata keeps detect state per
        // direction; its stream-0 transactions are complete both ways at once).
        const txKey = ctx.appProto === 'http2' ? ctx.txId * 2 + (ctx.toServer ? 0 : 1) : ctx.txId;
        if (fd.txMatched === null) fd.txMatched = new Map();
        else if (fd.txMatched.get(sig.num) === txKey) continue;
        fd.txMatched.set(sig.num, txKey);
      }
      for (let k = 0; k < sig.postMatches.length; k++) sig.postMatches[k]!.apply(ctx);
      if (sig.detectionFilter !== null && !this.thresholds.allow(sig, sig.detectionFilter, p)) continue;

      const onFlow = fd !== null && (sig.actsOnFlow || this.streamMatched);
      if (sig.action === Action.PASS) {
        // Pass ends this packet's inspection (lower-ranked alerts are discarded); the flow
        // only when the match is flow-level (see actsOnFlow).
        if (onFlow) { fd.passed = true; r.verdict = Verdict.PASS_FLOW; }
        break;
      }
      let blocked = false;
      if (sig.action === Action.DROP || sig.action === Action.REJECT) {
        if (this.config.ipsMode) {
          blocked = true;
          if (onFlow) { fd.dropped = true; r.verdict = Verdict.DROP_FLOW; }
          else if (r.verdict !== Verdict.DROP_FLOW) r.verdict = Verdict.DROP_PACKET;
        }
        if (sig.action === Action.REJECT) { blocked = true; r.rejectKind = sig.rejectKind; }
      }
      if (sig.noalert) continue;
      if (sig.threshold !== null && !this.thresholds.allow(sig, sig.threshold, p)) { r.suppressed++; continue; }
      if (r.alertCount >= r.alerts.length) { r.suppressed++; continue; }
      const a = r.alerts[r.alertCount++]!;
      a.sid = sig.sid; a.gid = sig.gid; a.rev = sig.rev; a.msg = sig.msg; a.classtype = sig.classtype;
      a.category = sig.category; a.priority = sig.priority; a.action = blocked ? 'blocked' : 'allowed';
      a.ruleAction = sig.actionName; a.signature = sig;
    }
    return r;
  }

  private matchHeader(sig: Signature, p: Packet): boolean {
    const protos = sig.ipProtos;
    if (protos.length > 0) {
      let ok = false;
      for (let i = 0; i < protos.length; i++) if (protos[i] === p.ipProto) { ok = true; break; }
      if (!ok) return false;
    }
    const hasPorts = (p.ipProto === 6 || p.ipProto === 17 || p.ipProto === 132) && p.l4Offset >= 0;
    if (!hasPorts && (!sig.sport.any || !sig.dport.any)) return false;
    if (sig.src.match(p.src) && sig.dst.match(p.dst) &&
      (!hasPorts || (sig.sport.match(p.srcPort) && sig.dport.match(p.dstPort)))) return true;
    if (!sig.bidirectional) return false;
    return sig.src.match(p.dst) && sig.dst.match(p.src) &&
      (!hasPorts || (sig.sport.match(p.dstPort) && sig.dport.match(p.srcPort)));
  }

  private matchSignature(sig: Signature, ctx: DetectContext, p: Packet): boolean {
    this.streamMatched = false;
    if (sig.alproto !== '' && ctx.appProto !== sig.alproto && !appProtoEquals(sig.alproto, ctx.appProto)) return false;
    if (!this.matchHeader(sig, p)) return false;
    const pm = sig.packetMatches;
    for (let i = 0; i < pm.length; i++) if (!pm[i]!.match(ctx)) return false;
    const lists = sig.buffers;
    for (let i = 0; i < lists.length; i++) if (!this.matchList(sig, lists[i]!, ctx, p)) return false;
    return true;
  }

  private matchList(sig: Signature, list: BufferList, ctx: DetectContext, p: Packet): boolean {
    const st = this.st;
    if (list.bufferId === BufferId.PAYLOAD) {
      // Stream first: with inline reassembly the stream holds this packet's bytes too, and a
      // stream match makes drop/pass act on the flow (Suricata PACKET_ALERT_FLAG_STREAM_MATCH).
      if (!sig.noStream && ctx.streamData !== null && ctx.streamEnd > ctx.streamStart &&
        this.inspect1(list, this.streamOf(ctx), st, list.transforms.length === 0 && (ctx.streamInspected ?? 0) > 0 ? ctx.streamInspected! : -1)) {
        this.streamMatched = true;
        return true;
      }
      // A packet whose payload went into the stream is inspected through the stream only,
      // unless the rule needs the packet itself (tcp-pkt, dsize, depth/offset): Suricata skips the payload
      // of PKT_STREAM_ADD packets for stream-capable signatures.
      if (ctx.streamAdded === true && !sig.inspectsPacket) return false;
      return !sig.onlyStream && p.payloadLength > 0 && this.inspect1(list, this.payloadOf(p), st);
    }
    for (let k = 0; ; k++) {
      const b = ctx.getBuffer(list.bufferId, k);
      if (b === null) return false;
      if (this.inspect1(list, b, st)) return true;
    }
  }

  private inspect1(list: BufferList, buf: Uint8Array, st: InspectState, minEnd = -1): boolean {
    let b = buf;
    const t = list.transforms;
    for (let i = 0; i < t.length; i++) b = t[i]!.apply(b);
    return inspectBuffer(list.items, b, st, minEnd);
  }
}
