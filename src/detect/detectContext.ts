// The contract between the detection engine and the stages before it (decode, flow, stream,
// app layer). The engine reads everything it needs for one packet through a DetectContext;
// it imports nothing from src/flow, src/stream or src/applayer, so those stages stay free to
// change shape as long as they can fill this in.
//
// The integrator keeps ONE object implementing DetectContext per worker and refills its
// fields for each packet (no allocation per packet). Everything here is read-only for the
// engine except `flowState`, which the engine itself created (DetectEngine.newFlowState)
// and mutates (flowbits, pass/drop marks, per-transaction dedup).

import type { Packet } from '../decode/packet';
import type { FlowDetectState } from './flowDetectState';

/** Flow states as Suricata's flow keyword sees them. */
export const FlowState = {
  /** No flow tracked for this packet (or the flow stage is off): `flow:established` never matches. */
  NONE: 0,
  /** Flow exists, handshake not complete (TCP) / only one side seen (UDP). */
  NEW: 1,
  /** TCP 3-way handshake completed (Suricata: ESTABLISHED or later, until closed); UDP: both sides seen. */
  ESTABLISHED: 2,
  /** TCP FIN/RST seen: Suricata still counts these as established for the flow keyword until CLOSED. */
  CLOSED: 3,
} as const;

export interface DetectContext {
  /** The decoded packet (src/decode/packet.ts). */
  packet: Packet;

  /** FlowState.*; FlowState.NONE when the packet has no flow. */
  flowState: number;
  /**
   * True when this packet goes from the flow's initiator (client) to the responder (server):
   * Suricata's to_server. Ignored when flowState is NONE.
   */
  toServer: boolean;
  /** Stable id of the flow (EVE flow_id); 0 when none. */
  flowId: number;
  /**
   * Per-flow detection state created by DetectEngine.newFlowState() when the flow was made,
   * stored on the flow by the flow stage, or null without a flow. Holds flowbits, the
   * pass/drop marks and which signatures already alerted on which transaction.
   */
  flowDetect: FlowDetectState | null;

  /**
   * Reassembled stream bytes of THIS direction that have not been inspected before (TCP only):
   * the window is streamData[streamStart, streamEnd), given as buffer + range so that no view
   * is made per packet; streamData is null when there is none (no reassembly, UDP, or nothing
   * new). Rules with content on the
   * payload inspect both the packet payload and this (Suricata); `flow:only_stream` only this,
   * `flow:no_stream` / `tcp-pkt` / dsize / flags rules only the packet. A match is counted on
   * the packet the stream data is handed over with; handing the same bytes over twice can
   * alert twice, so the stream stage owns the "inspected up to" position. To find patterns
   * split across two windows, start the window before the new bytes (the engine re-checks
   * everything it is given). The engine reads the window, never writes or keeps it.
   */
  streamData: Uint8Array | null;
  streamStart: number;
  streamEnd: number;
  /**
   * Stream offset (bytes after the ISN) of streamData[streamStart], or -1 when unknown. With
   * it, the engine's prefilter scans each stream byte once per direction and resumes on the
   * next packet (the bytes before an offset it already scanned must not change: reassembled
   * data is first-wins). -1 makes it scan the whole window every time.
   */
  streamOffset: number;
  /**
   * How many leading bytes of the stream window were already handed over on earlier packets (the
   * overlap that lets a pattern split across segments be found). A stream match must end
   * beyond them, so a match is reported once (Suricata's raw-stream progress). Absent: 0.
   */
  streamInspected?: number;
  /**
   * This packet's payload went into the reassembled stream (Suricata PKT_STREAM_ADD): payload
   * rules that may use the stream then match on the stream only, not on the packet payload
   * again (Suricata 7 DetectEngineInspectRulePayloadMatches). Absent: false.
   */
  streamAdded?: boolean;
  /**
   * Every byte of the packet payload is, unchanged, inside the stream window: the engine then need not
   * run the payload prefilter separately (its hits are a subset of the stream's). Absent: false.
   */
  payloadInStream?: boolean;

  /**
   * App-layer protocol detected on the flow: 'http', 'dns', 'tls', 'ssh', ... ; '' while
   * unknown, 'failed' when detection gave up. Use interned string literals (cheap compare).
   */
  appProto: string;
  /**
   * Id of the app-layer transaction the buffers below belong to (HTTP request/response pair,
   * DNS query, the TLS/SSH handshake), or -1 when the app layer offers no transaction on this
   * packet. App-layer signatures alert at most once per (flow, transaction), as in Suricata.
   */
  txId: number;
  /**
   * App-layer buffer `bufferId` (BufferId.*) of the current transaction, or null when absent.
   * Multi-value buffers (BufferInfo.multi: dns.query, file.data) are read with index 0, 1, ...
   * until null; single-value buffers only use index 0. Return views, not copies; the engine
   * never writes to them and does not keep them after inspect() returns.
   * Buffer contents follow Suricata's (libhtp's) normalisation — http.uri normalised and
   * http.uri.raw as sent, http.header as "Name: value\r\n" lines without the request/status
   * line, http.header_names as "\r\nName\r\nName\r\n\r\n", http.host lowercased, file.data
   * dechunked and decompressed, dns.query as the dotted name — that is the app layer's job.
   * Request-side buffers must stay available on the response packets of the transaction
   * (rules may mix request and response buffers, as Suricata evaluates per transaction).
   * BufferId.TLS_VERSION is read by tls.version (2 bytes, big-endian).
   */
  getBuffer(bufferId: number, index: number): Uint8Array | null;
  /**
   * How buffer `bufferId` (index 0) of the current transaction, as getBuffer returns it on this
   * packet, changes from packet to packet: a version number (>= 0) that stays the same for as
   * long as the buffer only grows — the bytes it held when read on an earlier packet of the
   * same transaction and direction are, unchanged, its start now — and changes when the buffer
   * is replaced; -1 when the app layer promises nothing. With a version the engine scans each
   * byte of a growing buffer (an HTTP body) once and resumes on the next packet, with exactly
   * the candidates of a whole-buffer scan. Absent: -1 for every buffer.
   */
  bufferVersion?(bufferId: number): number;
  /**
   * Integer values of the current transaction in this packet's direction, for Suricata's
   * integer app-layer keywords (http2.frametype, http2.window, ...): the index-th value of
   * `kind` (AppValue.*), or -1 when there are no more. Absent: no such values.
   */
  getValue?(kind: number, index: number): number;

  /**
   * TCP only: Suricata's stream size of the client (true) or server side — next_seq − isn,
   * so the SYN counts one — or -1 when the packet has no tracked TCP session. Read by
   * stream_size. Absent: no session.
   */
  tcpStreamSize?(client: boolean): number;
}

/** Kinds of DetectContext.getValue. SETTINGS_ID and SETTINGS_VALUE share their index. */
export const AppValue = {
  HTTP2_FRAME_TYPE: 0,
  HTTP2_ERROR_CODE: 1,
  HTTP2_PRIORITY: 2,
  HTTP2_WINDOW: 3,
  HTTP2_SIZE_UPDATE: 4,
  HTTP2_SETTINGS_ID: 5,
  HTTP2_SETTINGS_VALUE: 6,
} as const;
