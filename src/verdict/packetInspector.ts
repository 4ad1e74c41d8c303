// One packet's way after decode: flow lookup → TCP reassembly → app layer → detection, ending
// in a verdict. The same object serves the offline replay and each live worker, so a pcap
// test exercises exactly the code that judges live traffic.
//
// The inspector is also the DetectContext the engine reads (src/detect/detectContext.ts): its
// fields are refilled for every packet instead of building a context object per packet.

import type { Packet } from '../decode/packet';
import { IpProto } from '../decode/packet';
import { Flow, FlowState } from '../flow/flow';
import { FlowTable, type FlowEndReason } from '../flow/flowTable';
import { StreamTracker, type StreamConfig } from '../stream/streamTracker';
import { SegmentResult } from '../stream/tcpReassembler';
import type { TcpSession } from '../stream/tcpSession';
import { detectAppProtocol } from '../applayer/detectAppProtocol';
import { AppLayerState } from '../applayer/appLayerState';
import { AppLayerCounters } from '../applayer/appLayerCounters';
import { AppProto, appProtoName } from '../applayer/appProto';
import { appLayerBuffer } from '../applayer/appLayerBuffer';
import { HttpProgress, type HttpTransaction } from '../applayer/httpTransaction';
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
  private tx: HttpTransaction | null = null;

  private readonly txQueue = new Int32Array(MAX_TX_PER_PACKET);
  private lastExpireSec = 0;

  constructor(engine: DetectEngine, options: PacketInspectorOptions = DEFAULT_INSPECTOR_OPTIONS) {
    this.engine = engine;
    this.streams = new StreamTracker({ midstream: options.midstream, ...options.stream });
    this.flows = new FlowTable({
      maxFlows: options.maxFlows,
      onFlowEnd: (flow, reason) => {
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

  /** The HTTP transaction the last packet was judged in, or null. */
  get httpTransaction(): HttpTransaction | null {
    return this.tx;
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
    if (p.ipProto === IpProto.TCP && p.l4Offset >= 0) {
      const sr = this.streams.handle(p, flow, toServer);
      toServer = sr.toServer;
      tracked = sr.session;
      if (sr.session && !sr.ignored && !fd.passed && !fd.dropped) {
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

    if (app.proto === AppProto.HTTP && app.http !== null) return this.detectHttp(fi, app, toServer);
    if (app.proto === AppProto.DNS) {
      // Each DNS message is a transaction; this packet's is the newest one parsed.
      this.txId = app.dnsTotal - 1;
      return this.detect();
    }
    this.txId = 0;
    return this.detect();
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
   * first; the packet's own signatures run with the first of them only.
   */
  private detectHttp(fi: FlowInspection, app: AppLayerState, toServer: boolean): number {
    const http = app.http!;
    const txs = http.transactions;
    let open = toServer ? fi.openTxToServer : fi.openTxToClient;
    const base = txs.length > 0 ? txs[0]!.id : 0;
    if (open < base) open = base;
    let n = 0;
    for (let id = open; id < base + txs.length && n < MAX_TX_PER_PACKET; id++) {
      const tx = txs[id - base]!;
      const progress = toServer ? tx.requestProgress : tx.responseProgress;
      if (progress === HttpProgress.NONE) break;
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
    if (app.proto === AppProto.HTTP) {
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
