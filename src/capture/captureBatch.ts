// One batch of captured frames: an arena of bytes plus a metadata table, the same shape the
// NFQUEUE path hands to the engine (DESIGN: "one batch (arena buffer + metadata table) → JS").
//
// Metadata is struct-of-arrays in typed arrays so that filling a slot allocates nothing; the
// arena and the tables are allocated once and reused for every batch, so a handler must copy
// whatever it keeps past its return (EvidenceRecorder does).

export class CaptureBatch {
  /** Frame bytes; frame i is data[offset[i] .. offset[i] + length[i]). */
  readonly data: Buffer;
  /** Frames in this batch. */
  count = 0;
  /** Arena bytes in use. */
  used = 0;
  readonly offset: Uint32Array;
  /** Captured bytes of the frame (what is in data). */
  readonly length: Uint32Array;
  /** Bytes on the wire; larger than length when the capture truncated the frame. */
  readonly wireLength: Uint32Array;
  /** Capture time, seconds and microseconds since the epoch. */
  readonly tsSec: Uint32Array;
  readonly tsUsec: Uint32Array;
  /** pcap LINKTYPE_* of every frame in the batch. */
  linkType: number;

  constructor(arenaBytes: number, maxFrames: number, linkType: number) {
    this.data = Buffer.allocUnsafe(arenaBytes);
    this.offset = new Uint32Array(maxFrames);
    this.length = new Uint32Array(maxFrames);
    this.wireLength = new Uint32Array(maxFrames);
    this.tsSec = new Uint32Array(maxFrames);
    this.tsUsec = new Uint32Array(maxFrames);
    this.linkType = linkType;
  }

  get capacity(): number {
    return this.offset.length;
  }

  /** True when a frame of `length` bytes still fits (arena and table). */
  fits(length: number): boolean {
    return this.count < this.offset.length && this.used + length <= this.data.length;
  }

  /**
   * Appends `src[0..length)` as the next frame. The caller checks fits() first.
   * Returns the frame's index.
   */
  push(src: Buffer, length: number, wireLength: number, tsSec: number, tsUsec: number): number {
    const i = this.count++;
    src.copy(this.data, this.used, 0, length);
    this.offset[i] = this.used;
    this.length[i] = length;
    this.wireLength[i] = wireLength;
    this.tsSec[i] = tsSec;
    this.tsUsec[i] = tsUsec;
    this.used += length;
    return i;
  }

  /** A view (no copy) of frame i, valid until the batch is reused. */
  frame(i: number): Buffer {
    const o = this.offset[i]!;
    return this.data.subarray(o, o + this.length[i]!);
  }

  clear(): void {
    this.count = 0;
    this.used = 0;
  }
}
