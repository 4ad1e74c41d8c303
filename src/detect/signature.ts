// The internal form of one rule after parsing: header matchers, the packet-level matches,
// one list of buffer matches per inspected buffer, post-match actions (flowbits set...) and
// the metadata an alert carries. Sticky buffers and legacy content modifiers both end up as
// BufferList entries keyed by buffer id, so the engine never sees the spelling.

import type { DetectContext } from './detectContext';
import type { AddressSet } from './addressSet';
import type { PortSet } from './portSet';
import type { SourceLocation } from '../errors';

/** Action bits; a rule has exactly one of ALERT/DROP/REJECT/PASS. */
export const Action = {
  ALERT: 1,
  DROP: 2,
  REJECT: 4,
  PASS: 8,
} as const;

/** Which way a reject answers (live path: RST for TCP, ICMP unreachable otherwise). */
export const RejectKind = { NONE: 0, SRC: 1, DST: 2, BOTH: 3 } as const;

/** Per-buffer-inspection scratch (one per engine, reused for every packet). */
export class InspectState {
  /** Start/end of the last match (the "previous match" relative keywords count from). */
  start = 0;
  end = 0;
  /** byte_extract values by the rule's variable slot. */
  readonly vars = new Float64Array(16);
  /** Recursion/retry steps spent on this buffer; bounded like Suricata's inspection_recursion_limit. */
  steps = 0;
  /** A match must end after this index (stream inspection: the already-inspected bytes); -1: any. */
  minEnd = -1;
  /** The buffer as a latin1 string for pcre (made lazily, once per buffer). */
  str = '';
  strOf: Uint8Array | null = null;
  /** Packet timestamp (seconds) for thresholds. */
  now = 0;
}

/** A condition on the packet or flow (flow, flags, ttl, dsize, flowbits isset, ...). */
export interface PacketMatch {
  match(ctx: DetectContext): boolean;
}

/** An action run when the whole signature matched (flowbits set/unset/toggle). */
export interface PostMatch {
  apply(ctx: DetectContext): void;
}

/**
 * One keyword inspecting a buffer (content, pcre, byte_*, isdataat, bsize). exec() tries to
 * match with the search starting no earlier than `from`; on success it sets st.start/st.end
 * and returns true. The inspection loop (contentInspection.ts) retries an earlier match at a
 * later position when a later relative keyword fails, as Suricata's
 * DetectEngineContentInspection does.
 */
export abstract class BufferMatch {
  /** Position counts from the end of the previous match in the same list. */
  relative = false;
  /** exec() can be asked for a later occurrence (content, pcre). */
  readonly retryable: boolean = false;
  abstract exec(buf: Uint8Array, prevEnd: number, from: number, st: InspectState): boolean;
}

/** A transform applied to a buffer before inspection (to_lowercase, dotprefix...). */
export interface Transform {
  readonly name: string;
  /** Returns the transformed bytes (may be a scratch buffer owned by the transform). */
  apply(input: Uint8Array): Uint8Array;
}

export interface BufferList {
  bufferId: number;
  transforms: Transform[];
  items: BufferMatch[];
}

export interface ThresholdSpec {
  /** 'limit' | 'threshold' | 'both' | 'detection_filter' */
  type: 'limit' | 'threshold' | 'both' | 'detection_filter';
  track: 'by_src' | 'by_dst' | 'by_rule' | 'by_both';
  count: number;
  seconds: number;
}

export interface FastPattern {
  bufferId: number;
  /** Pattern bytes as matched by the prefilter (the fast_pattern:o,l slice when given). */
  bytes: Uint8Array;
  nocase: boolean;
}

export interface Signature {
  /** Position after Suricata's ordering (action, flowbits, priority); set by the engine. */
  num: number;
  sid: number;
  gid: number;
  rev: number;
  msg: string;
  classtype: string;
  /** Classification description (alert.category). */
  category: string;
  priority: number;
  references: string[];
  metadata: string[];
  target: string;
  noalert: boolean;
  action: number;
  actionName: string;
  rejectKind: number;

  /** Allowed IP protocols; empty = any ('ip'). */
  ipProtos: number[];
  /** App-layer protocol required on the flow ('' = none). */
  alproto: string;
  /** app-layer-protocol:X conditions: [name, negated]. */
  src: AddressSet;
  dst: AddressSet;
  sport: PortSet;
  dport: PortSet;
  bidirectional: boolean;

  /** Payload content inspects the stream only (flow:only_stream / tcp-stream). */
  onlyStream: boolean;
  /** Payload content inspects the packet only (flow:no_stream / tcp-pkt). */
  noStream: boolean;
  /** Direction from flow:to_server / to_client (0 = either); used for grouping. */
  flowDirection: 0 | 1 | 2;

  packetMatches: PacketMatch[];
  buffers: BufferList[];
  postMatches: PostMatch[];
  threshold: ThresholdSpec | null;
  detectionFilter: ThresholdSpec | null;
  fastPattern: FastPattern | null;
  /** Suricata sig ordering class for flowbits: 4 set, 3 set+read, 2 read, 1 none. */
  flowbitsOrder: number;
  /** Flowbit names this rule sets / reads (resolved to slots by the engine). */
  flowbitNames: string[];
  byteVarCount: number;
  /** Inspects app-layer transaction data (alerts once per transaction). */
  appTx: boolean;
  /**
   * drop/pass act on the whole flow whatever matched (Suricata: IP-only / like-IP-only /
   * protocol-detection-only / app-layer signatures); otherwise only when the match was in
   * the stream. Set by the engine at compile.
   */
  actsOnFlow: boolean;
  /**
   * The packet payload is inspected even when the packet's bytes went into the stream
   * (Suricata SIG_FLAG_REQUIRE_PACKET, set for tcp-pkt/dsize rules and for payload content
   * with depth or offset, whose positions mean "from the packet start"). Set at compile.
   */
  inspectsPacket: boolean;

  location: SourceLocation;
  text: string;
}
