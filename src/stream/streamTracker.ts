// The per-packet entry of the stream stage: the TCP state machine (3-way and split 4-way
// handshakes, TCP Fast Open data on the SYN, midstream pickup, FIN/RST close) and inline
// reassembly of both directions, tied to the Flow of src/flow.
//
// Inline semantics: a packet's payload is reassembled at once, and the result exposes the
// contiguous stream that now ends with it (plus `lookbehind` bytes inspected before), so the
// detection engine can match a pattern split across segments before the packet completing it
// is accepted. For Suricata's IDS-mode timing (data used once the receiver ACKs it) the
// tracker records each direction's acknowledged offset and, with holdUnacked, keeps the bytes
// the app layer and raw inspection have not taken yet; the PacketInspector drives that timing.
//
// Without stream.midstream (the default, as in Suricata) TCP sessions whose start was not
// seen are not tracked: their packets get result.session = false and no stream data.
import { Packet, TcpFlag } from '../decode/packet';
import { Flow, FlowDirection, FlowState, TcpState } from '../flow/flow';
import { DEFAULT_REASSEMBLY_LIMITS, ReassemblyLimits, SegmentResult, TcpReassembler } from './tcpReassembler';
import { DEFAULT_STREAM_MEMCAP, StreamMemory } from './streamMemory';
import { TcpSession } from './tcpSession';

export interface StreamConfig {
  /** Pick up sessions already under way (Suricata stream.midstream, default false). */
  midstream: boolean;
  limits: ReassemblyLimits;
  /** Global reassembly memory (Suricata stream.reassembly.memcap, default 256 MiB). */
  memcap: number;
  /**
   * IDS-mode timing: keep bytes until the app layer and raw inspection took them (they wait
   * for the receiver's ACK), see TcpReassembler.holdFrom. Default false (inline).
   */
  holdUnacked: boolean;
}

export const DEFAULT_STREAM_CONFIG: StreamConfig = {
  midstream: false,
  limits: DEFAULT_REASSEMBLY_LIMITS,
  memcap: DEFAULT_STREAM_MEMCAP,
  holdUnacked: false,
};

export class StreamStats {
  sessions = 0;
  midstreamSessions = 0;
  /** TCP packets of flows without a tracked session (start not seen, midstream off). */
  noSession = 0;
  /** TCP packets skipped because their checksum was checked and wrong (as Suricata). */
  invalidChecksum = 0;
  retransmissions = 0;
  outOfOrder = 0;
  overlapDifferent = 0;
  gaps = 0;
  /** Segments (or parts) dropped by the per-flow queue bound or the memcap. */
  segmentsDropped = 0;
  outOfWindow = 0;
  /** Directions that reached the inspection depth. */
  pastDepth = 0;
  invalidRst = 0;
  /** IDS timing: a direction held too many unacknowledged bytes and was inspected unacknowledged. */
  idsForcedProgress = 0;
  established = 0;
  closed = 0;
  /** Directions whose window was released when their closed session had nothing left. */
  releasedAtClose = 0;
}

const EMPTY = new Uint8Array(0);

/** The reused answer of StreamTracker.handle(); valid until the next call. */
export class StreamResult {
  /** The flow has a tracked TCP session. */
  session = false;
  /** The stream engine did not use this packet (bad checksum, no session, invalid RST). */
  ignored = false;
  /** Direction of the packet (may differ from the lookup's after a midstream swap). */
  toServer = true;
  /**
   * Reassembled stream of this direction: buffer[start, end) is contiguous and ends at the
   * newest in-order byte; its last newLength bytes are new with this packet (they may extend
   * beyond the packet's own payload when it filled a hole). 0 new bytes: nothing to inspect.
   */
  buffer: Uint8Array = EMPTY;
  start = 0;
  end = 0;
  newLength = 0;
  /** Stream offset (bytes after the ISN) of buffer[start]. */
  streamOffset = 0;
  /** SegmentResult bits for this packet's payload. */
  segment = 0;
  /** A gap precedes this data (bytes were lost): parsers must resynchronise. */
  gap = false;
  /** This direction is past the inspection depth. */
  pastDepth = false;
  /** This packet completed the handshake / closed the session. */
  established = false;
  closed = false;
  /**
   * The session is closed and both directions are done (TcpReassembler.done): no stream or
   * app-layer data can come any more, so per-flow inspection state (prefilter resume points,
   * FlowDetectState.releaseScanState) can go once this packet is judged. Set on the pure ACK
   * (or FIN/RST) after the close that released the windows, and on every later packet.
   */
  done = false;

  /** A view of the reassembled bytes (allocates a view; for tests and cold paths). */
  data(): Uint8Array {
    return this.buffer.subarray(this.start, this.end);
  }

  /** A view of only the new bytes. */
  newData(): Uint8Array {
    return this.buffer.subarray(this.end - this.newLength, this.end);
  }

  reset(): void {
    this.session = false;
    this.ignored = false;
    this.toServer = true;
    this.buffer = EMPTY;
    this.start = this.end = this.newLength = this.streamOffset = 0;
    this.segment = 0;
    this.gap = false;
    this.pastDepth = false;
    this.established = false;
    this.closed = false;
    this.done = false;
  }
}

const SYN = TcpFlag.SYN;
const ACK = TcpFlag.ACK;
const RST = TcpFlag.RST;
const FIN = TcpFlag.FIN;

export class StreamTracker {
  readonly stats = new StreamStats();
  readonly memory: StreamMemory;
  readonly config: StreamConfig;
  private readonly result = new StreamResult();
  /** open() turned the flow round for the current packet. */
  private swapped = false;

  constructor(config: Partial<StreamConfig> = {}) {
    this.config = { ...DEFAULT_STREAM_CONFIG, ...config };
    this.memory = new StreamMemory(this.config.memcap);
  }

  /** Track one decoded TCP packet of `flow` (toServer as FlowTable.lookup said). */
  handle(p: Packet, flow: Flow, toServer: boolean): StreamResult {
    const r = this.result;
    r.reset();
    r.toServer = toServer;
    if (!p.isTcp) return r;
    let s = flow.streamState as TcpSession | null;
    if (p.l4ChecksumValid === 0) {
      this.stats.invalidChecksum++;
      r.session = s !== null;
      r.ignored = true;
      return r;
    }
    const flags = p.tcpFlags;
    if (s === null) {
      s = this.open(p, flow, toServer);
      if (s === null) {
        this.stats.noSession++;
        r.ignored = true;
        return r;
      }
      if (this.swapped) {
        // The flow was turned round: the packet's direction is now the other one.
        toServer = !toServer;
        this.swapped = false;
      }
      r.toServer = toServer;
    } else if (flow.tcpState === TcpState.CLOSED) {
      // After a RST nothing more is stream data (a new SYN starts a new flow, see FlowTable).
      r.session = true;
      r.ignored = true;
      return r;
    } else {
      // A pure ACK (or FIN/RST) after the close: release the windows nothing needs any more.
      if (flow.state === FlowState.CLOSED && p.payloadLength === 0) {
        if (s.client.releaseIfDone()) this.stats.releasedAtClose++;
        if (s.server.releaseIfDone()) this.stats.releasedAtClose++;
        r.done = s.client.done && s.server.done;
      }
      this.advance(s, p, flow, toServer, r);
      if (r.ignored) {
        r.session = true;
        return r;
      }
    }
    r.session = true;
    const snd = toServer ? s.client : s.server;
    const rcv = toServer ? s.server : s.client;

    // The receiver acknowledged bytes we never saw: a gap in the other direction.
    if ((flags & ACK) !== 0 && rcv.started && !rcv.pastDepth) {
      const ackAbs = rcv.absOf(p.tcpAck);
      const limit = rcv.finSeen ? rcv.finAbs + 1 : rcv.nextAbs;
      if (ackAbs > limit && ackAbs - rcv.nextAbs < 0x40000000) {
        rcv.skipTo(rcv.finSeen ? rcv.finAbs : ackAbs);
        this.stats.gaps++;
      }
    }

    // IDS-mode timing follows what the receiver acknowledged (Suricata GetAbsLastAck).
    if ((flags & ACK) !== 0 && rcv.started) {
      const ackAbs = rcv.absOf(p.tcpAck);
      if (ackAbs > rcv.ackedAbs && ackAbs - rcv.ackedAbs < 0x40000000) rcv.ackedAbs = ackAbs;
    }

    if ((flags & SYN) === 0) snd.window = s.scaled ? p.tcpWindow * 2 ** snd.windowScale : p.tcpWindow;

    // Which directions carry data: a bulk flow whose other direction never did can be
    // bypassed once the bulk direction is past depth (src/verdict/bypassPolicy.ts).
    if (p.payloadLength > 0) flow.dataDirs |= toServer ? FlowDirection.TO_SERVER : FlowDirection.TO_CLIENT;

    // No reassembly once the flow needs no more inspection (pass, bypass) or is dropped as a
    // whole: state is still tracked so the flow ends on time.
    const inspect = !flow.passed && !flow.bypassed && !flow.dropped;
    if (p.payloadLength > 0 && (flags & RST) === 0 && inspect) {
      if (!snd.started && s.midstream) snd.init((p.tcpSeq - 1) >>> 0);
      if (snd.started) {
        // Data on a SYN (TCP Fast Open, RFC 7413) starts one after the SYN's sequence number.
        const seq = (flags & SYN) !== 0 ? (p.tcpSeq + 1) >>> 0 : p.tcpSeq;
        snd.beginPacket();
        const wasPast = snd.pastDepth;
        const seg = snd.insert(seq, p.data, p.payloadOffset, p.payloadLength);
        r.segment = seg;
        if (seg & SegmentResult.RETRANSMISSION) this.stats.retransmissions++;
        if (seg & SegmentResult.OUT_OF_ORDER) this.stats.outOfOrder++;
        if (seg & SegmentResult.OVERLAP_DIFFERENT) this.stats.overlapDifferent++;
        if (seg & SegmentResult.DROPPED) this.stats.segmentsDropped++;
        if (seg & SegmentResult.OUT_OF_WINDOW) this.stats.outOfWindow++;
        if (snd.pastDepth && !wasPast) {
          this.stats.pastDepth++;
          flow.pastDepth |= toServer ? FlowDirection.TO_SERVER : FlowDirection.TO_CLIENT;
        }
        this.fill(r, snd);
      }
    }
    if ((flags & FIN) !== 0 && snd.started && !snd.finSeen) {
      snd.finSeen = true;
      const synLen = (flags & SYN) !== 0 ? 1 : 0;
      snd.finAbs = snd.absOf((p.tcpSeq + synLen + p.payloadLength) >>> 0);
      if (toServer ? s.server.finSeen : s.client.finSeen) {
        flow.tcpState = TcpState.TIME_WAIT;
        this.close(flow, r);
      } else {
        flow.tcpState = toServer ? TcpState.FIN_WAIT1 : TcpState.CLOSE_WAIT;
      }
    }
    return r;
  }

  /** The retained reassembled bytes of one direction of a flow (Suricata's raw stream). */
  rawStream(flow: Flow, toServer: boolean): Uint8Array {
    const s = flow.streamState as TcpSession | null;
    if (s === null) return EMPTY;
    return (toServer ? s.client : s.server).retained();
  }

  /**
   * Suricata's stream size of one side (next_seq − isn, detect-stream_size.c): sequence space
   * the sender used, counting its SYN; 0 when that side has not started, -1 without a session.
   */
  streamSize(flow: Flow, client: boolean): number {
    const s = flow.streamState as TcpSession | null;
    if (s === null) return -1;
    const d = client ? s.client : s.server;
    return d.started ? d.seqNext + 1 : 0;
  }

  /** Free a flow's reassembly memory: call when the flow leaves the table. */
  release(flow: Flow): void {
    const s = flow.streamState as TcpSession | null;
    if (s !== null) {
      s.free();
      flow.streamState = null;
    }
  }

  /** Start a session on the flow's first tracked packet, or return null if it cannot start one. */
  private open(p: Packet, flow: Flow, toServer: boolean): TcpSession | null {
    const flags = p.tcpFlags;
    const cfg = this.config;
    if ((flags & (SYN | ACK | RST)) === SYN) {
      // A SYN from the side the flow calls server (a stray packet came first): the SYN's
      // sender is the client, as in Suricata, so turn the flow round.
      if (!toServer) {
        flow.swapDirection();
        this.swapped = true;
      }
      const s = this.newSession();
      s.client.init(p.tcpSeq);
      s.client.windowScale = p.tcpWindowScale;
      s.client.window = p.tcpWindow;
      flow.streamState = s;
      flow.tcpState = TcpState.SYN_SENT;
      this.stats.sessions++;
      return s;
    }
    if (!cfg.midstream || (flags & RST) !== 0) return null;
    const s = this.newSession();
    s.midstream = true;
    if ((flags & (SYN | ACK)) === (SYN | ACK)) {
      // The SYN/ACK's sender is the server (Suricata swaps the flow the same way).
      if (toServer) {
        flow.swapDirection();
        this.swapped = true;
      }
      s.server.init(p.tcpSeq);
      s.server.windowScale = p.tcpWindowScale;
      s.client.init((p.tcpAck - 1) >>> 0);
      flow.tcpState = TcpState.SYN_RECV;
    } else if ((flags & SYN) === 0) {
      const snd = toServer ? s.client : s.server;
      const rcv = toServer ? s.server : s.client;
      snd.init((p.tcpSeq - 1) >>> 0);
      if ((flags & ACK) !== 0) rcv.init((p.tcpAck - 1) >>> 0);
      // Without the SYNs the scale is unknown: assume the largest so no RST is wrongly refused.
      s.scaled = true;
      s.client.windowScale = s.server.windowScale = 14;
      flow.tcpState = TcpState.ESTABLISHED;
      flow.state = FlowState.ESTABLISHED;
      this.stats.established++;
    } else {
      return null;
    }
    flow.streamState = s;
    this.stats.sessions++;
    this.stats.midstreamSessions++;
    return s;
  }

  private newSession(): TcpSession {
    const s = new TcpSession(this.config.limits, this.memory);
    if (this.config.holdUnacked) s.client.holdFrom = s.server.holdFrom = 0;
    return s;
  }

  /** Handshake and RST handling for a packet of an existing session. */
  private advance(s: TcpSession, p: Packet, flow: Flow, toServer: boolean, r: StreamResult): void {
    const flags = p.tcpFlags;
    const snd = toServer ? s.client : s.server;
    const rcv = toServer ? s.server : s.client;
    if ((flags & RST) !== 0) {
      if (this.rstValid(p, snd, rcv)) {
        // Data on a RST is inspected as packet payload only, not added to the stream (Suricata 7, bug 6244).
        flow.tcpState = TcpState.CLOSED;
        this.close(flow, r);
      } else {
        this.stats.invalidRst++;
        r.ignored = true;
      }
      return;
    }
    switch (flow.tcpState) {
      case TcpState.SYN_SENT:
        if (!toServer && (flags & SYN) !== 0) {
          s.server.init(p.tcpSeq);
          s.server.windowScale = p.tcpWindowScale;
          s.server.window = p.tcpWindow;
          if ((flags & ACK) !== 0) {
            this.setScale(s);
            flow.tcpState = TcpState.SYN_RECV;
          } else {
            s.fourWay = true;
          }
        } else if (toServer && s.fourWay && (flags & (SYN | ACK)) === (SYN | ACK)) {
          this.setScale(s);
          flow.tcpState = TcpState.SYN_RECV;
        }
        break;
      case TcpState.SYN_RECV:
        if ((flags & (SYN | ACK)) === ACK && (s.fourWay ? !toServer : toServer || s.midstream)) {
          flow.tcpState = TcpState.ESTABLISHED;
          flow.state = FlowState.ESTABLISHED;
          r.established = true;
          this.stats.established++;
        }
        break;
      default:
        break;
    }
  }

  private setScale(s: TcpSession): void {
    s.scaled = s.client.windowScale >= 0 && s.server.windowScale >= 0;
    if (!s.scaled) s.client.windowScale = s.server.windowScale = 0;
  }

  /** RFC 5961 §3 in spirit: a RST counts when its sequence number is within the receiver's window. */
  private rstValid(p: Packet, snd: TcpReassembler, rcv: TcpReassembler): boolean {
    if (!snd.started) return true;
    const diff = snd.absOf(p.tcpSeq) - snd.nextAbs;
    return diff >= -1 && diff <= Math.max(rcv.window, 65535);
  }

  private close(flow: Flow, r: StreamResult): void {
    if (flow.state !== FlowState.CLOSED) {
      flow.state = FlowState.CLOSED;
      r.closed = true;
      this.stats.closed++;
    }
  }

  private fill(r: StreamResult, snd: TcpReassembler): void {
    r.buffer = snd.rawBuffer;
    r.start = snd.windowIndex;
    r.end = snd.windowEnd;
    r.newLength = snd.newLength;
    r.streamOffset = snd.windowStart;
    r.pastDepth = snd.pastDepth;
    if (snd.gapPending) {
      r.gap = true;
      snd.gapPending = false;
    }
  }
}
