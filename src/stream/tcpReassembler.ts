// One direction of a TCP stream: puts segments in sequence order, keeps a short window of the
// reassembled bytes for inspection, queues out-of-order segments within a bound, resolves
// overlaps, records gaps and stops at the inspection depth.
//
// Offsets: a 32-bit sequence number is mapped to an absolute stream offset (0 = the first byte
// after the ISN) relative to the next expected byte, using signed 32-bit distance. That makes
// sequence wrap-around transparent (RFC 9293 §3.4 modular comparison) for streams of any length.
//
// Overlaps: first wins. Bytes already accepted (delivered, or queued out of order) are never
// replaced by a later segment covering the same sequence range; a difference is counted and
// flagged (Suricata's stream event REASSEMBLY_OVERLAP_DIFFERENT_DATA). This equals Suricata's
// "first" policy, and for the IDS/IPS view the same as its default "bsd" policy on data already
// reassembled; BSD's one difference (a new segment starting *before* a queued out-of-order
// segment overwrites it) is not modelled. Inline, the first-seen bytes are what the detection
// engine inspected, so they are what counts; a differing retransmission is flagged for the
// verdict stage (Suricata inline would rewrite or drop it).
import { StreamMemory } from './streamMemory';

/** Bits returned by insert(). */
export const SegmentResult = {
  /** New in-order bytes were added. */
  NEW_DATA: 1,
  /** Everything in the segment had been received before. */
  RETRANSMISSION: 2,
  /** Queued: it lies beyond a hole. */
  OUT_OF_ORDER: 4,
  /** Overlapping bytes differed from those accepted first. */
  OVERLAP_DIFFERENT: 8,
  /** Beyond the inspection depth: ignored. */
  PAST_DEPTH: 16,
  /** Could not be kept (per-flow queue bound or global memcap): dropped, will become a gap. */
  DROPPED: 32,
  /** Sequence number far outside any plausible window: ignored. */
  OUT_OF_WINDOW: 64,
} as const;

export interface ReassemblyLimits {
  /** Inspection depth in bytes per direction (stream.reassembly.depth, default 1 MiB); 0 = none. */
  depth: number;
  /** Bytes of already-inspected stream kept before new data, so a pattern split across
   *  segments is found when its last part arrives. */
  lookbehind: number;
  /** Out-of-order bytes and segments queued per direction. */
  maxQueuedBytes: number;
  maxQueuedSegments: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  depth: 1024 * 1024,
  lookbehind: 4096,
  maxQueuedBytes: 256 * 1024,
  maxQueuedSegments: 1024,
};

/** More than any TCP window (2^30 with scaling): a segment this far ahead is garbage or evasion. */
const MAX_AHEAD = 0x40000000;

interface QueuedSegment {
  start: number;
  data: Uint8Array;
}

export class TcpReassembler {
  private readonly limits: ReassemblyLimits;
  private readonly memory: StreamMemory;
  /** Initial sequence number; -1 until known. */
  isn = -1;
  /** Absolute offset of the next expected byte. */
  nextAbs = 0;
  /**
   * Suricata's next_seq − isn − 1: how far the sender got in sequence space, counted past the
   * inspection depth too (nextAbs stops there). stream_size reads it.
   */
  seqNext = 0;
  /**
   * IDS-mode timing (Suricata without stream.inline): the receiver acknowledged bytes
   * [0, ackedAbs); the app layer has been given [0, appProgress) and the raw-stream detection
   * [0, rawProgress). The bytes from the lower of the two are held in the buffer (holdFrom)
   * until they are used. Inline mode leaves holdFrom at Infinity and ignores the rest.
   */
  ackedAbs = 0;
  appProgress = 0;
  rawProgress = 0;
  /** The app layer finished a unit (transaction, message): inspect the raw stream now
   *  (Suricata STREAMTCP_STREAM_FLAG_TRIGGER_RAW). */
  triggerRaw = false;
  holdFrom = Infinity;
  /** Window of reassembled bytes: buf[0, bufLen) holds stream offsets [bufStart, bufStart + bufLen). */
  private buf: Uint8Array = EMPTY;
  private bufStart = 0;
  private bufLen = 0;
  private readonly queue: QueuedSegment[] = [];
  private queuedBytes = 0;
  /** Offset where this packet's new data begins (set by beginPacket). */
  private packetStart = 0;
  pastDepth = false;
  gaps = 0;
  /** A gap happened since the last packet of this direction. */
  gapPending = false;
  finSeen = false;
  /** Absolute offset of the FIN (its sequence number). */
  finAbs = -1;
  /** Last advertised window of this side (scaled) — for validating RSTs sent *to* it. */
  window = 65535;
  windowScale = 0;

  constructor(limits: ReassemblyLimits, memory: StreamMemory) {
    this.limits = limits;
    this.memory = memory;
  }

  get started(): boolean {
    return this.isn >= 0;
  }

  /** Start the stream at an initial sequence number: data begins at isn + 1. */
  init(isn: number): void {
    this.isn = isn >>> 0;
    this.nextAbs = 0;
    this.seqNext = 0;
    this.ackedAbs = this.appProgress = this.rawProgress = 0;
    this.triggerRaw = false;
    this.bufStart = 0;
    this.bufLen = 0;
  }

  /** The absolute offset of a 32-bit sequence number, near the next expected byte. */
  absOf(seq: number): number {
    return this.nextAbs + ((seq - this.isn - 1 - this.nextAbs) | 0);
  }

  /** Bytes queued out of order. */
  get queued(): number {
    return this.queuedBytes;
  }

  /** Mark where this packet's new data begins. */
  beginPacket(): void {
    this.packetStart = this.nextAbs;
  }

  /** Bytes made contiguous since beginPacket(). */
  get newLength(): number {
    return this.nextAbs - this.packetStart;
  }

  /** Stream offset where the inspection window of this packet starts: `lookbehind` bytes
   *  before its new data, or the oldest byte still held. */
  get windowStart(): number {
    return Math.max(this.bufStart, this.packetStart - this.limits.lookbehind);
  }

  /** The inspection window (lookbehind + new data), as a view (allocates; cold paths). */
  retained(): Uint8Array {
    return this.buf.subarray(this.windowStart - this.bufStart, this.bufLen);
  }

  /** The buffer behind the window; valid bytes are [windowIndex, windowEnd). No allocation. */
  get rawBuffer(): Uint8Array {
    return this.buf;
  }

  /** Stream offset of rawBuffer[0]: the absolute offset a is rawBuffer[a - bufferStart]. */
  get bufferStart(): number {
    return this.bufStart;
  }

  get windowIndex(): number {
    return this.windowStart - this.bufStart;
  }

  get windowEnd(): number {
    return this.bufLen;
  }

  /** Add a segment's payload (bytes data[off, off+len)) at sequence number seq. */
  insert(seq: number, data: Uint8Array, off: number, len: number): number {
    if (len === 0) return 0;
    let start = this.absOf(seq);
    let end = start + len;
    let flags = 0;
    if (start - this.nextAbs > MAX_AHEAD) return SegmentResult.OUT_OF_WINDOW;
    if (start <= this.seqNext && end > this.seqNext) this.seqNext = end;
    const depth = this.limits.depth;
    if (depth > 0 && end > depth) {
      if (start >= depth) return SegmentResult.PAST_DEPTH;
      end = depth;
      flags |= SegmentResult.PAST_DEPTH;
    }
    if (end <= this.nextAbs) {
      if (this.differsFromAccepted(start, data, off, end - start)) flags |= SegmentResult.OVERLAP_DIFFERENT;
      return flags | SegmentResult.RETRANSMISSION;
    }
    if (start < this.nextAbs) {
      const overlap = this.nextAbs - start;
      if (this.differsFromAccepted(start, data, off, overlap)) flags |= SegmentResult.OVERLAP_DIFFERENT;
      off += overlap;
      start = this.nextAbs;
    }
    if (this.queue.length === 0 && start === this.nextAbs) {
      if (!this.append(data, off, end - start)) return flags | SegmentResult.DROPPED;
      return flags | SegmentResult.NEW_DATA;
    }
    flags |= this.enqueue(start, end, data, off);
    const before = this.nextAbs;
    this.drain();
    if (this.nextAbs > before) flags |= SegmentResult.NEW_DATA;
    else if ((flags & SegmentResult.DROPPED) === 0) flags |= SegmentResult.OUT_OF_ORDER;
    return flags;
  }

  /**
   * The peer acknowledged up to `abs`, but we never saw those bytes (lost by the capture,
   * dropped by a bound): skip the hole, keep going with what follows. Suricata records these
   * as stream gaps; app-layer parsers must resynchronise.
   */
  skipTo(abs: number): void {
    if (abs <= this.nextAbs) return;
    const first = this.queue[0];
    const to = first !== undefined && first.start < abs ? first.start : abs;
    this.gaps++;
    this.gapPending = true;
    this.releaseBuffer();
    this.nextAbs = to;
    this.bufStart = to;
    this.bufLen = 0;
    this.packetStart = to;
    if (to > this.seqNext) this.seqNext = to;
    if (this.limits.depth > 0 && to >= this.limits.depth) this.pastDepth = true;
    this.drain();
  }

  /**
   * The session closed (both FINs or a RST) and this direction has nothing left to give: every
   * byte up to its FIN arrived, none is queued, and (IDS timing) the app layer and the raw
   * inspection took them all. Then the window goes back to the pool now instead of at the
   * flow's timeout, 60 s of packet time later (Suricata likewise prunes segments that are
   * fully consumed). Only a retransmission after this is no longer compared byte for byte.
   * Returns whether it released anything.
   */
  releaseIfDone(): boolean {
    if (this.buf === EMPTY || !this.done) return false;
    this.releaseBuffer();
    this.bufStart = this.nextAbs;
    this.packetStart = this.nextAbs;
    return true;
  }

  /**
   * This direction has nothing more to give: every byte up to its FIN arrived, none is
   * queued, and (IDS timing) the app layer and the raw inspection took them all.
   */
  get done(): boolean {
    if (this.queue.length > 0 || !this.finSeen || this.nextAbs < this.finAbs) return false;
    return this.holdFrom === Infinity || (this.appProgress >= this.nextAbs && this.rawProgress >= this.nextAbs);
  }

  /** Free everything (flow end). */
  free(): void {
    this.releaseBuffer();
    this.memory.release(this.queuedBytes);
    this.queuedBytes = 0;
    this.queue.length = 0;
  }

  private releaseBuffer(): void {
    this.memory.release(this.buf.length);
    // Nothing keeps a view of the window across packets (the stages copy what they keep),
    // so the next flow can reuse it.
    if (this.buf !== EMPTY) this.memory.give(this.buf);
    this.buf = EMPTY;
    this.bufLen = 0;
  }

  /**
   * Append in-order bytes at nextAbs. The buffer is compacted only when full (keeping the
   * lookbehind before this packet's data), so bytes move rarely; it grows up to
   * 4 × lookbehind, or more when one packet brings more than fits.
   */
  private append(data: Uint8Array, off: number, len: number): boolean {
    let need = this.bufLen + len;
    if (need > this.buf.length) {
      const keepFrom = Math.min(this.packetStart, this.nextAbs, this.holdFrom) - this.limits.lookbehind;
      if (keepFrom > this.bufStart) {
        const drop = Math.min(keepFrom - this.bufStart, this.bufLen);
        this.buf.copyWithin(0, drop, this.bufLen);
        this.bufLen -= drop;
        this.bufStart += drop;
        need -= drop;
      }
    }
    if (need > this.buf.length) {
      let size = Math.max(this.buf.length * 2, MIN_BUFFER);
      // Most flows are short (a request, a reply): start small and double; only a buffer
      // that already had to grow jumps to 4 × lookbehind so compaction stays rare.
      const target = this.buf.length === 0 ? need : Math.max(need, 4 * this.limits.lookbehind);
      while (size < target) size *= 2;
      if (!this.memory.reserve(size - this.buf.length)) return false;
      const grown = this.memory.take(size);
      if (this.bufLen > 0) grown.set(this.buf.subarray(0, this.bufLen));
      if (this.buf !== EMPTY) this.memory.give(this.buf);
      this.buf = grown;
    }
    const buf = this.buf;
    let at = this.bufLen;
    if (len <= 128) {
      // A short copy by hand avoids allocating a view per packet.
      for (let i = off, end = off + len; i < end; i++) buf[at++] = data[i]!;
    } else {
      buf.set(data.subarray(off, off + len), at);
    }
    this.bufLen += len;
    this.nextAbs += len;
    if (this.limits.depth > 0 && this.nextAbs >= this.limits.depth) this.pastDepth = true;
    return true;
  }

  /** Whether data[off, off+len) at stream offset start differs from bytes accepted there. */
  private differsFromAccepted(start: number, data: Uint8Array, off: number, len: number): boolean {
    // Only the retained window can be compared; older bytes are gone (as in Suricata after
    // its segments are freed).
    const from = Math.max(start, this.bufStart);
    const to = Math.min(start + len, this.bufStart + this.bufLen);
    for (let a = from; a < to; a++) {
      if (this.buf[a - this.bufStart] !== data[off + (a - start)]) return true;
    }
    return false;
  }

  /** Queue [start, end) without overwriting queued bytes (first wins). Returns flags. */
  private enqueue(start: number, end: number, data: Uint8Array, off: number): number {
    const q = this.queue;
    let flags = 0;
    let at = start;
    let i = 0;
    while (i < q.length && q[i]!.start + q[i]!.data.length <= at) i++;
    while (at < end) {
      const seg = q[i];
      const segStart = seg === undefined ? Infinity : seg.start;
      if (at < segStart) {
        // A hole in the queue: take our bytes up to the next queued segment.
        const pieceEnd = Math.min(end, segStart);
        const len = pieceEnd - at;
        if (q.length >= this.limits.maxQueuedSegments || this.queuedBytes + len > this.limits.maxQueuedBytes || !this.memory.reserve(len)) {
          return flags | SegmentResult.DROPPED;
        }
        const copy = data.slice(off + (at - start), off + (pieceEnd - start));
        q.splice(i, 0, { start: at, data: copy });
        this.queuedBytes += len;
        i++;
        at = pieceEnd;
      } else {
        // Covered by a segment queued earlier: keep the first, note a difference.
        const segEnd = segStart + seg!.data.length;
        const to = Math.min(end, segEnd);
        for (let a = at; a < to; a++) {
          if (seg!.data[a - segStart] !== data[off + (a - start)]) {
            flags |= SegmentResult.OVERLAP_DIFFERENT;
            break;
          }
        }
        at = to;
        i++;
      }
    }
    return flags;
  }

  /** Move queued segments that became contiguous into the window. */
  private drain(): void {
    const q = this.queue;
    // next_seq moves over queued segments once the hole before them is filled.
    for (let i = 0; i < q.length && q[i]!.start <= this.seqNext; i++) {
      const e = q[i]!.start + q[i]!.data.length;
      if (e > this.seqNext) this.seqNext = e;
    }
    while (q.length > 0 && q[0]!.start <= this.nextAbs) {
      const seg = q.shift()!;
      const skip = this.nextAbs - seg.start;
      const len = seg.data.length;
      this.queuedBytes -= len;
      this.memory.release(len);
      if (skip < len) {
        let take = len - skip;
        const depth = this.limits.depth;
        if (depth > 0 && this.nextAbs + take > depth) take = depth - this.nextAbs;
        if (take > 0 && !this.append(seg.data, skip, take)) {
          // Memcap: the bytes are lost; the receiver's ACK will turn this into a gap.
          break;
        }
      }
    }
  }
}

const EMPTY = new Uint8Array(0);
const MIN_BUFFER = 2048;
