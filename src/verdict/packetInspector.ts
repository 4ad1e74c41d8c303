// One packet's way after decode: flow lookup → TCP reassembly → app layer → detection, ending
// in a verdict. The same object serves the offline replay and each live worker, so a pcap
// test exercises exactly the code that judges live traffic.
//
// The inspector is also the DetectContext the engine reads (src/detect/detectContext.ts): its
// fields are refilled for every packet instead of building a context object per packet.

import { IpProto, Packet, TcpFlag } from '../decode/packet';
import { Flow, FlowState, TcpState } from '../flow/flow';
import { FlowTable, type FlowEndReason } from '../flow/flowTable';
import { StreamTracker, type StreamConfig, type StreamResult } from '../stream/streamTracker';
import { SegmentResult, type TcpReassembler } from '../stream/tcpReassembler';
import type { TcpSession } from '../stream/tcpSession';
import { detectAppProtocol } from '../applayer/detectAppProtocol';
import { AppLayerState } from '../applayer/appLayerState';
import { AppLayerCounters } from '../applayer/appLayerCounters';
import { AppProto, appProtoName } from '../applayer/appProto';
import { appLayerBuffer } from '../applayer/appLayerBuffer';
import { HttpProgress, HttpTransaction } from '../applayer/httpTransaction';
import type { Http2Transaction } from '../applayer/http2Transaction';
import { BUFFER_COUNT as BUFFER_LIMIT, bufferInfo, BufferId } from '../detect/buffers';
import { DetectEngine, Verdict, type DetectResult } from '../detect/detectEngine';
import { FlowState as DetectFlowState, type DetectContext } from '../detect/detectContext';
import type { FlowDetectState } from '../detect/flowDetectState';

export { Verdict };

export interface PacketInspectorOptions {
  /** Suricata's stream.midstream: pick up TCP sessions whose handshake was not seen. */
  midstream: boolean;
  /** Flow table bound (LRU eviction beyond it, counted). */
  maxFlows: number;
  /** Extra StreamTracker settings (depth, memcap, ...). */
  stream?: Partial<StreamConfig>;
  /**
   * Suricata's IDS-mode timing (`suricata -r` without --simulate-ips or stream.inline): TCP
   * data reaches the app layer when the receiver ACKs it, and the raw stream is inspected up
   * to the acknowledged bytes. Default false: inline, the data is judged on the packet that
   * brings it (what an IPS needs).
   */
  idsMode?: boolean;
}

export const DEFAULT_INSPECTOR_OPTIONS: PacketInspectorOptions = { midstream: false, maxFlows: 65536 };

/**
 * Per-flow state of the inspector: the app-layer parser state and, per direction, the oldest
 * HTTP transaction that may still change (so each packet inspects only open transactions).
 */
class FlowInspection {
  app: AppLayerState | null = null;
  openTxToServer = 0;
  openTxToClient = 0;
}

/** Segment results meaning the payload is now part of the stream (in order or queued). */
const STREAM_ADDED = SegmentResult.NEW_DATA | SegmentResult.OUT_OF_ORDER;

/**
 * IDS mode: acknowledged raw-stream bytes wait for this many before they are inspected, unless
 * the app layer asks earlier (Suricata stream.reassembly.toserver/toclient-chunk-size, 2560).
 */
const RAW_CHUNK_SIZE = 2560;

/**
 * IDS mode: bytes of one direction held unacknowledged at most. Beyond it (the other side is
 * not seen, e.g. a one-sided copy, or never ACKs) they are handed over as if acknowledged and
 * counted (StreamStats.idsForcedProgress), so memory stays bounded.
 */
const MAX_UNACKED_HOLD = 256 * 1024;

/** How many transactions one packet may complete at most (pipelining); more wait a packet. */
const MAX_TX_PER_PACKET = 32;

export class PacketInspector implements DetectContext {
  readonly flows: FlowTable;
  readonly streams: StreamTracker;
  readonly appCounters = new AppLayerCounters();
  /** The last inspect()'s result (alerts, verdict); valid until the next call. */
  result: DetectResult | null = null;
  /** Flow of the last inspected packet, or null. */
  flow: Flow | null = null;
  /** Packets that carried no IP (counted, accepted). */
  nonIpPackets = 0;
  /**
   * IDS mode: called after detection ran on a pseudo packet at a flow's end (Suricata's
   * stream-end pseudo packets, which flush what was never acknowledged). `packet`, `flow`
   * and `result` describe it during the call; the alerts count like any packet's.
   */
  onPseudoPacket: ((inspector: PacketInspector) => void) | null = null;
  /** Called for each finished flow (timeout, eviction, end of capture). */
  onFlowEnd: ((flow: Flow, reason: FlowEndReason) => void) | null = null;

  private engine: DetectEngine;

  // DetectContext, refilled per packet.
  packet!: Packet;
  flowState: number = DetectFlowState.NONE;
  toServer = true;
  flowId = 0;
  flowDetect: FlowDetectState | null = null;
  streamData: Uint8Array | null = null;
  streamStart = 0;
  streamEnd = 0;
  streamOffset = -1;
  streamInspected = 0;
  streamAdded = false;
  payloadInStream = false;
  appProto = '';
  txId = -1;
  private app: AppLayerState | null = null;
  private tx: HttpTransaction | Http2Transaction | null = null;

  private readonly txQueue = new Int32Array(MAX_TX_PER_PACKET);
  private lastExpireSec = 0;
  /** Suricata IDS-mode timing (see PacketInspectorOptions.idsMode). */
  readonly idsMode: boolean;

  constructor(engine: DetectEngine, options: PacketInspectorOptions = DEFAULT_INSPECTOR_OPTIONS) {
    this.engine = engine;
    this.idsMode = options.idsMode === true;
    this.streams = new StreamTracker({ midstream: options.midstream, ...options.stream, holdUnacked: this.idsMode });
    this.flows = new FlowTable({
      maxFlows: options.maxFlows,
      onFlowEnd: (flow, reason) => {
        if (this.idsMode) this.flushAtFlowEnd(flow);
        this.streams.release(flow);
        this.onFlowEnd?.(flow, reason);
      },
    });
  }

  /** Swap in a new rule set (reload): flows keep their state but start fresh detection state. */
  setEngine(engine: DetectEngine): void {
    this.engine = engine;
    for (const flow of this.flows.flows()) flow.detectState = null;
  }

  /** App-layer state of the last packet's flow, or null. */
  get appLayer(): AppLayerState | null {
    return this.app;
  }

  /** The HTTP/1.x transaction the last packet was judged in, or null. */
  get httpTransaction(): HttpTransaction | null {
    return this.tx instanceof HttpTransaction ? this.tx : null;
  }

  /** The HTTP/2 transaction the last packet was judged in, or null. */
  get http2Transaction(): Http2Transaction | null {
    return this.tx !== null && !(this.tx instanceof HttpTransaction) ? this.tx : null;
  }

  get detectEngine(): DetectEngine {
    return this.engine;
  }

  /**
   * Judge one decoded packet. Returns a Verdict; the alerts are in `this.result`.
   * Packets without IP are accepted and counted.
   */
  inspect(p: Packet): number {
    this.packet = p;
    this.result = null;
    this.flow = null;
    if (p.ipVersion === 0) {
      this.nonIpPackets++;
      return Verdict.ACCEPT;
    }
    if (p.tsSec !== this.lastExpireSec) {
      this.lastExpireSec = p.tsSec;
      this.flows.expire(p.tsSec);
    }
    this.clearPacketContext();

    const lookup = this.flows.lookup(p);
    if (lookup === null) {
      this.flowState = DetectFlowState.NONE;
      this.toServer = true;
      this.flowId = 0;
      this.flowDetect = null;
      return this.detect();
    }
    const flow = lookup.flow;
    this.flow = flow;
    let toServer = lookup.toServer;
    let fd = flow.detectState as FlowDetectState | null;
    if (fd === null) {
      fd = this.engine.newFlowState();
      flow.detectState = fd;
    }
    this.flowDetect = fd;
    this.flowId = flow.id;
    let fi = flow.appState as FlowInspection | null;
    if (fi === null) {
      fi = new FlowInspection();
      flow.appState = fi;
    }

    let tracked = true;
    let streamDone = false;
    if (p.ipProto === IpProto.TCP && p.l4Offset >= 0) {
      const sr = this.streams.handle(p, flow, toServer);
      streamDone = sr.done;
      toServer = sr.toServer;
      tracked = sr.session;
      if (sr.session && !sr.ignored && !fd.passed && !fd.dropped && this.idsMode) {
        this.streamAdded = p.payloadLength > 0 && (sr.segment & STREAM_ADDED) !== 0;
        const protoBefore = fi.app === null ? AppProto.UNKNOWN : fi.app.proto;
        toServer = this.idsStream(p, flow, fi, toServer, sr);
        if (protoBefore === AppProto.HTTP && fi.app !== null && fi.app.proto === AppProto.HTTP2) this.protocolChangeFlush(flow, fi, toServer);
      } else if (sr.session && !sr.ignored && !fd.passed && !fd.dropped) {
        this.streamAdded = p.payloadLength > 0 && (sr.segment & STREAM_ADDED) !== 0;
        if (sr.newLength > 0) {
          this.streamData = sr.buffer;
          this.streamStart = sr.start;
          this.streamEnd = sr.end;
          this.streamOffset = sr.streamOffset;
          this.streamInspected = sr.end - sr.newLength - sr.start;
          // The payload is in the window unchanged when it brought new bytes, overlapped
          // nothing differently, and any already-received part of it is within the lookbehind.
          this.payloadInStream = (sr.segment & SegmentResult.NEW_DATA) !== 0 &&
            (sr.segment & SegmentResult.OVERLAP_DIFFERENT) === 0 &&
            p.payloadLength <= this.streams.config.limits.lookbehind;
          if (fi.app === null) {
            if (toServer && this.reverseMidstream(flow, sr.buffer, sr.end - sr.newLength, sr.end)) toServer = false;
            fi.app = new AppLayerState(true, this.appCounters);
          }
          if (sr.gap) fi.app.gap(toServer);
          fi.app.feed(toServer, sr.buffer, sr.end - sr.newLength, sr.end);
        }
        if (sr.closed && fi.app !== null) fi.app.close(toServer);
      }
    } else if (p.ipProto === IpProto.UDP && p.l4Offset >= 0 && p.payloadLength > 0 && !fd.passed && !fd.dropped) {
      if (fi.app === null) fi.app = new AppLayerState(false, this.appCounters);
      fi.app.feed(toServer, p.data, p.payloadOffset, p.payloadOffset + p.payloadLength);
    }

    const verdict = this.finish(p, flow, fi, toServer, tracked);
    // A closed session gives no more stream bytes: its prefilter resume points are dead weight
    // until the flow times out (dropping them only makes a later scan start over, same candidates).
    if (streamDone) fd.releaseScanState();
    return verdict;
  }

  /** Flow state, app-layer context and detection for a packet whose stream stage is done. */
  private finish(p: Packet, flow: Flow, fi: FlowInspection, toServer: boolean, tracked: boolean): number {
    this.toServer = toServer;
    this.flowState = !tracked
      ? DetectFlowState.NEW
      : flow.state === FlowState.ESTABLISHED
        ? DetectFlowState.ESTABLISHED
        : flow.state === FlowState.CLOSED
          ? DetectFlowState.CLOSED
          : DetectFlowState.NEW;

    // Data on a SYN (TCP Fast Open) is parsed, but the flow shows its app layer to detection
    // only once the handshake completed: Suricata runs app-layer parsing from ESTABLISHED on,
    // so `alert http` and http.* rules see TFO data on the first packet after the handshake.
    const app = p.ipProto === IpProto.TCP && tracked && this.flowState === DetectFlowState.NEW ? null : fi.app;
    if (app !== null && app.proto !== AppProto.UNKNOWN) {
      this.app = app;
      this.appProto = app.proto === AppProto.FAILED ? 'failed' : appProtoName(app.proto);
      if (flow.appProto === null) flow.appProto = this.appProto;
    }
    if (app === null || app.proto <= 0) return this.detect();

    if (app.proto === AppProto.HTTP && app.http !== null) {
      const verdict = this.detectHttp(fi, app.http.transactions, toServer, false);
      // Transactions complete both ways and inspected in both directions are done with: drop
      // them now rather than keep up to 256 per flow until the flow ends (memory, GC).
      app.http.releaseBefore(Math.min(fi.openTxToServer, fi.openTxToClient));
      return verdict;
    }
    if (app.proto === AppProto.HTTP2 && app.http2 !== null) return this.detectHttp(fi, app.http2.transactions, toServer, true);
    if (app.proto === AppProto.DNS) {
      // Each DNS message is a transaction; this packet's is the newest one parsed.
      this.txId = app.dnsTotal - 1;
      return this.detect();
    }
    this.txId = 0;
    return this.detect();
  }

  /**
   * IDS-mode timing of one TCP packet, after Suricata 7 StreamTcpReassembleHandleSegment (IDS
   * branch) and StreamReassembleRaw:
   * - app layer: the packet's ACK hands the *other* direction's newly acknowledged bytes to
   *   the parser (UPDATE_DIR_OPPOSING); an accepted RST or a closing FIN also hands over the
   *   packet's own direction (UPDATE_DIR_PACKET / BOTH), still only what was acknowledged;
   * - raw stream: the packet's own direction is inspected up to the acknowledged bytes, once
   *   a chunk (2560 bytes) is waiting or the app layer finished something in it
   *   (STREAMTCP_STREAM_FLAG_TRIGGER_RAW), or the session is closing or past depth.
   * The packet's payload itself is not in that stream window (it is not acknowledged yet),
   * so payload rules see it as packet data only where Suricata does (streamAdded).
   * Returns the packet's direction (a midstream reversal may turn it round).
   */
  private idsStream(p: Packet, flow: Flow, fi: FlowInspection, toServer: boolean, sr: StreamResult): boolean {
    const s = flow.streamState as TcpSession;
    const own = toServer ? s.client : s.server;
    const other = toServer ? s.server : s.client;
    const flags = p.tcpFlags;
    const state = flow.tcpState;
    const rst = (flags & TcpFlag.RST) !== 0 && sr.closed;
    const fin = (flags & TcpFlag.FIN) !== 0;
    const closing = state > TcpState.TIME_WAIT;
    // Suricata updates the app layer from the handshake's end on: a SYN/ACK acknowledging
    // TCP Fast Open data does not hand it over; the next packet of the server does.
    const syn = (flags & TcpFlag.SYN) !== 0;
    let feedOwn = !syn && (rst || (fin && closing) || state === TcpState.CLOSED);
    const feedOther = !syn && !rst && !(fin && closing && (flags & TcpFlag.ACK) === 0);
    if (own.nextAbs - own.ackedAbs > MAX_UNACKED_HOLD) {
      own.ackedAbs = own.nextAbs - (MAX_UNACKED_HOLD >> 1);
      this.streams.stats.idsForcedProgress++;
      feedOwn = true;
    }
    if (feedOther && this.feedAcked(flow, fi, other, !toServer, false)) toServer = !toServer;
    if (feedOwn && this.feedAcked(flow, fi, own, toServer, false)) toServer = !toServer;
    this.rawAcked(own, closing || rst || own.pastDepth, false);
    own.holdFrom = Math.min(own.appProgress, own.rawProgress);
    other.holdFrom = Math.min(other.appProgress, other.rawProgress);
    return toServer;
  }

  /**
   * IDS mode, flow end (timeout, eviction, end of capture): as Suricata's
   * FlowForceReassembly, one pseudo packet per direction that still holds bytes the app layer
   * or the raw-stream inspection did not take — to server first — hands them all over
   * (acknowledged or not) and runs detection; onPseudoPacket reports its alerts. Cold path.
   */
  private flushAtFlowEnd(flow: Flow): void {
    const s = flow.streamState as TcpSession | null;
    const fi = flow.appState as FlowInspection | null;
    const fd = flow.detectState as FlowDetectState | null;
    if (s === null || fi === null || fd === null || fd.passed || fd.dropped || flow.passed || flow.bypassed) return;
    const saved = this.packet;
    for (let dir = 0; dir < 2; dir++) {
      const toServer = dir === 0;
      const r = toServer ? s.client : s.server;
      if (!r.started || (r.appProgress >= r.nextAbs && r.rawProgress >= r.nextAbs)) continue;
      const p = this.pseudoPacket(flow, toServer);
      this.packet = p;
      this.result = null;
      this.flow = flow;
      this.flowDetect = fd;
      this.flowId = flow.id;
      this.clearPacketContext();
      let dirToServer = toServer;
      if (this.feedAcked(flow, fi, r, toServer, true)) dirToServer = !dirToServer;
      this.rawAcked(r, true, true);
      this.finish(p, flow, fi, dirToServer, true);
      this.onPseudoPacket?.(this);
    }
    this.packet = saved;
    this.result = null;
    this.flow = null;
  }

  /**
   * IDS mode, HTTP/1 upgraded to HTTP/2 (h2c) by this packet: Suricata flushes detection of the
   * old protocol first (flow-worker.c StreamTcpDetectLogFlush on FlowChangeProto: one pseudo
   * packet per direction), so HTTP/1 transactions parsed on an ACK but not yet inspected in
   * their own direction still meet the http1 rules. The packet's own context is kept aside and
   * restored; onPseudoPacket reports the alerts. Cold path (once per upgrade).
   */
  private protocolChangeFlush(flow: Flow, fi: FlowInspection, packetToServer: boolean): void {
    const app = fi.app;
    const fd = flow.detectState as FlowDetectState | null;
    if (app === null || app.http === null || fd === null || fd.passed || fd.dropped) return;
    const saved = {
      packet: this.packet, streamData: this.streamData, streamStart: this.streamStart, streamEnd: this.streamEnd,
      streamOffset: this.streamOffset, streamInspected: this.streamInspected, streamAdded: this.streamAdded,
      payloadInStream: this.payloadInStream, flowState: this.flowState,
    };
    for (let dir = 0; dir < 2; dir++) {
      const toServer = dir === 0;
      this.packet = this.pseudoPacket(flow, toServer);
      this.result = null;
      this.clearPacketContext();
      this.toServer = toServer;
      this.flowState = DetectFlowState.ESTABLISHED;
      this.app = app;
      this.appProto = appProtoName(AppProto.HTTP);
      this.detectHttp(fi, app.http.transactions, toServer, false);
      this.onPseudoPacket?.(this);
    }
    this.packet = saved.packet;
    this.streamData = saved.streamData;
    this.streamStart = saved.streamStart;
    this.streamEnd = saved.streamEnd;
    this.streamOffset = saved.streamOffset;
    this.streamInspected = saved.streamInspected;
    this.streamAdded = saved.streamAdded;
    this.payloadInStream = saved.payloadInStream;
    this.flowState = saved.flowState;
    this.toServer = packetToServer;
    this.result = null;
    this.app = null;
    this.appProto = '';
    this.txId = -1;
    this.tx = null;
  }

  /** The per-packet DetectContext fields, before a (pseudo) packet is inspected. */
  private clearPacketContext(): void {
    this.streamData = null;
    this.streamStart = this.streamEnd = 0;
    this.streamOffset = -1;
    this.streamInspected = 0;
    this.streamAdded = false;
    this.payloadInStream = false;
    this.appProto = '';
    this.txId = -1;
    this.app = null;
    this.tx = null;
  }

  private readonly pseudo = new Packet();

  /** A payload-less TCP packet of `flow` in one direction, stamped with the flow's last time. */
  private pseudoPacket(flow: Flow, toServer: boolean): Packet {
    const p = this.pseudo;
    p.reset();
    p.tsSec = flow.lastSec;
    p.tsUsec = flow.lastUsec;
    p.ipVersion = flow.ipVersion;
    p.ipProto = IpProto.TCP;
    p.src.set(toServer ? flow.clientAddr : flow.serverAddr);
    p.dst.set(toServer ? flow.serverAddr : flow.clientAddr);
    p.srcPort = toServer ? flow.clientPort : flow.serverPort;
    p.dstPort = toServer ? flow.serverPort : flow.clientPort;
    p.vlanId0 = flow.vlanId0;
    p.vlanId1 = flow.vlanId1;
    p.l3Offset = 0;
    p.l4Offset = 0;
    p.tcpFlags = TcpFlag.ACK;
    return p;
  }

  /**
   * Give the app layer the bytes of `r` (direction dirToServer) acknowledged so far, or all
   * of them at the end of the flow. Returns true when the flow was turned round (midstream).
   */
  private feedAcked(flow: Flow, fi: FlowInspection, r: TcpReassembler, dirToServer: boolean, all: boolean): boolean {
    const limit = all ? r.nextAbs : Math.min(r.nextAbs, r.ackedAbs);
    if (limit <= r.appProgress) return false;
    const base = r.bufferStart;
    let from = r.appProgress;
    let swapped = false;
    if (fi.app === null) {
      if (dirToServer && this.reverseMidstream(flow, r.rawBuffer, Math.max(from, base) - base, limit - base)) {
        swapped = true;
        dirToServer = false;
      }
      fi.app = new AppLayerState(true, this.appCounters);
    }
    if (from < base) {
      // Bytes lost before the parser saw them (gap, memcap): it must resynchronise.
      fi.app.gap(dirToServer);
      from = base;
    }
    fi.app.feed(dirToServer, r.rawBuffer, from - base, limit - base);
    r.appProgress = limit;
    if (fi.app.proto > 0) r.triggerRaw = true;
    return swapped;
  }

  /** Hand the acknowledged, not yet inspected raw stream of `r` to detection when due. */
  private rawAcked(r: TcpReassembler, force: boolean, all: boolean): void {
    const limit = all ? r.nextAbs : Math.min(r.nextAbs, r.ackedAbs);
    if (limit <= r.rawProgress) return;
    if (!all && !force && !r.triggerRaw && limit - r.rawProgress < RAW_CHUNK_SIZE) return;
    const base = r.bufferStart;
    const from = Math.max(base, r.rawProgress - this.streams.config.limits.lookbehind);
    this.streamData = r.rawBuffer;
    this.streamStart = from - base;
    this.streamEnd = limit - base;
    // Acknowledged bytes never change (first copy wins), so the prefilter resumes where the
    // previous window of this direction stopped instead of rescanning the lookbehind.
    this.streamOffset = from;
    this.streamInspected = Math.max(0, r.rawProgress - from);
    r.rawProgress = limit;
    r.triggerRaw = false;
  }

  /**
   * A midstream session whose first data, sent by the side we took for the client, is what a
   * server sends (an HTTP response): turn the flow round, as Suricata's TCPProtoDetect does
   * for midstream sessions (FlowSwap on a reversed protocol detection). Cold: once per flow.
   */
  private reverseMidstream(flow: Flow, buf: Uint8Array, start: number, end: number): boolean {
    const s = flow.streamState as TcpSession | null;
    if (s === null || !s.midstream) return false;
    if (detectAppProtocol(buf, start, end, true, true) > 0) return false;
    if (detectAppProtocol(buf, start, end, false, true) !== AppProto.HTTP) return false;
    flow.swapDirection();
    s.swap();
    return true;
  }

  /**
   * HTTP: inspect every transaction this packet may have changed in its direction, oldest
   * first; the packet's own signatures run with the first of them only. HTTP/2 streams are
   * multiplexed, so a transaction not yet started in this direction does not hold back later
   * ones (HTTP/1 transactions start in order).
   */
  private detectHttp(fi: FlowInspection, txs: ReadonlyArray<HttpTransaction | Http2Transaction>, toServer: boolean, multiplexed: boolean): number {
    let open = toServer ? fi.openTxToServer : fi.openTxToClient;
    const base = txs.length > 0 ? txs[0]!.id : 0;
    if (open < base) open = base;
    let n = 0;
    for (let id = open; id < base + txs.length && n < MAX_TX_PER_PACKET; id++) {
      const tx = txs[id - base]!;
      const progress = toServer ? tx.requestProgress : tx.responseProgress;
      if (progress === HttpProgress.NONE) {
        if (multiplexed) continue;
        break;
      }
      if (multiplexed && progress === HttpProgress.COMPLETE) {
        const t2 = tx as Http2Transaction;
        if (toServer ? t2.inspectedTs : t2.inspectedTc) continue;
        if (toServer) t2.inspectedTs = true;
        else t2.inspectedTc = true;
      }
      this.txQueue[n++] = id;
      if (progress === HttpProgress.COMPLETE && id === open) open = id + 1;
    }
    if (toServer) fi.openTxToServer = open;
    else fi.openTxToClient = open;
    if (n === 0) return this.detect();

    let verdict: number = Verdict.ACCEPT;
    const merged = this.mergedResult;
    merged.reset();
    for (let i = 0; i < n; i++) {
      const id = this.txQueue[i]!;
      this.txId = id;
      this.tx = txs[id - base]!;
      this.engine.appOnly = i > 0;
      const v = this.detect();
      this.engine.appOnly = false;
      if (rank(v) > rank(verdict)) verdict = v;
      if (n > 1) merged.add(this.result!, id);
    }
    if (n > 1) merged.apply(this.result!, verdict);
    return verdict;
  }

  private readonly mergedResult = new MergedAlerts();

  private detect(): number {
    const r = this.engine.inspect(this);
    this.result = r;
    return r.verdict;
  }

  getBuffer(bufferId: number, index: number): Uint8Array | null {
    const app = this.app;
    if (app === null || index > 0) return null;
    const info = bufferId >= 0 && bufferId < BUFFER_LIMIT ? bufferInfo(bufferId) : undefined;
    if (info === undefined) return null;
    const toServer = info.direction === 1 ? true : info.direction === 2 ? false : this.toServer;
    if (app.proto === AppProto.HTTP2 && info.direction !== 3 && (info.direction === 1) !== this.toServer) {
      // HTTP/2: a one-direction buffer is inspected with that direction's packets only, as
      // Suricata's per-direction inspect engines do (its stream-0 transactions are complete both
      // ways at once, so reading the other side would match each of them twice).
      return null;
    }
    if (app.proto === AppProto.HTTP || app.proto === AppProto.HTTP2) {
      const tx = this.tx;
      return tx === null ? null : tx.buffer(info.name, toServer);
    }
    if (bufferId === BufferId.TLS_VERSION || bufferId === BufferId.TLS_CERTS) return null;
    if (app.proto === AppProto.DNS) {
      const dnsIndex = this.txId - app.dnsDropped;
      return dnsIndex < 0 ? null : appLayerBuffer(app, info.name, toServer, dnsIndex);
    }
    return appLayerBuffer(app, info.name, toServer, 0);
  }

  /** DetectContext.bufferVersion: HTTP/1 transactions promise which buffers only grow. */
  bufferVersion(bufferId: number): number {
    const tx = this.tx;
    if (!(tx instanceof HttpTransaction) || bufferId < 0 || bufferId >= BUFFER_LIMIT) return -1;
    const info = bufferInfo(bufferId);
    return tx.bufferVersion(info.name, info.direction === 1 ? true : info.direction === 2 ? false : this.toServer);
  }

  /** DetectContext.getValue: the HTTP/2 transaction's frame values (AppValue kinds 0-6). */
  getValue(kind: number, index: number): number {
    const tx = this.http2Transaction;
    return tx === null ? -1 : tx.valueAt(kind, index, this.toServer);
  }

  tcpStreamSize(client: boolean): number {
    const flow = this.flow;
    return flow === null || !this.packet.isTcp ? -1 : this.streams.streamSize(flow, client);
  }

  /** End of input (end of pcap, shutdown): finish every flow. */
  flush(): void {
    this.flows.flush();
  }
}

/** Verdict severity, for combining the verdicts of several transactions of one packet. */
function rank(v: number): number {
  return v === Verdict.DROP_FLOW ? 3 : v === Verdict.DROP_PACKET ? 2 : v === Verdict.PASS_FLOW ? 1 : 0;
}

/**
 * Alerts of several inspect() calls for one packet (pipelined HTTP), gathered so the caller
 * sees one result. As Suricata's alert queue (detect-engine-alert.c AlertQueueSortHelper):
 * ordered by signature order, then newest transaction first, and cut at packet-alert-max,
 * the rest counted as suppressed. Cold-ish path: only packets that touch several transactions.
 */
class MergedAlerts {
  count = 0;
  private suppressed = 0;
  private readonly items: DetectResult['alerts'] = [];
  private readonly txOf: number[] = [];

  add(r: DetectResult, txId: number): void {
    this.suppressed += r.suppressed;
    for (let i = 0; i < r.alertCount; i++) {
      const a = r.alerts[i]!;
      if (this.count === this.items.length) this.items.push({ ...a });
      else Object.assign(this.items[this.count]!, a);
      this.txOf[this.count] = txId;
      this.count++;
    }
  }

  apply(r: DetectResult, verdict: number): void {
    const order: number[] = [];
    for (let i = 0; i < this.count; i++) order.push(i);
    const num = (i: number): number => this.items[i]!.signature?.num ?? 0;
    order.sort((a, b) => num(a) - num(b) || this.txOf[b]! - this.txOf[a]!);
    const n = Math.min(this.count, r.alerts.length);
    for (let i = 0; i < n; i++) Object.assign(r.alerts[i]!, this.items[order[i]!]!);
    r.alertCount = n;
    r.suppressed = this.suppressed + (this.count - n);
    r.verdict = verdict;
  }

  reset(): void {
    this.count = 0;
    this.suppressed = 0;
  }
}
