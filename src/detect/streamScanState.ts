// Per flow direction: where the payload prefilter stopped in the reassembled stream, so each
// stream byte is scanned by Aho-Corasick once instead of once per packet whose inspection
// window (lookbehind + new bytes) holds it.
//
// The engine still needs, on every packet, the same candidates a scan of the whole window
// would give (a rule whose fast pattern arrived on an earlier packet can complete on this
// one: the split, out-of-order and overlap evasion cases). So the hits of earlier scans are
// kept with their stream offsets, and those still wholly inside the window are handed out
// again. Reassembled bytes never change once delivered (tcpReassembler.ts: first wins), which
// is what makes reusing them exact. The hit list is bounded: when it would overflow, the
// state is dropped and the next packet scans its whole window again (the old cost, correct).

/** Most hits kept per direction before falling back to whole-window scans. */
export const STREAM_HITS_MAX = 1024;

const NO_IDS = new Int32Array(0);
const NO_STARTS = new Float64Array(0);

export class StreamScanState {
  /** The automaton (prefilter) these positions belong to; another one invalidates them. */
  owner: object | null = null;
  /** Automaton state after byte scannedEnd - 1. */
  acState = 0;
  /** Stream offset just past the last scanned byte; -1: nothing usable. */
  scannedEnd = -1;
  /** Stream offset where the scan that the kept hits build on started. */
  base = 0;
  /**
   * Kept hits [head, count): pattern id and stream offset of the match start. Made on the
   * first hit (most flow directions have none): a Float64Array(16) has its own ArrayBuffer,
   * which for two per flow showed in the replay's profile.
   */
  ids: Int32Array = NO_IDS;
  starts: Float64Array = NO_STARTS;
  head = 0;
  count = 0;

  reset(owner: object, base: number): void {
    this.owner = owner;
    this.acState = 0;
    this.scannedEnd = base;
    this.base = base;
    this.head = 0;
    this.count = 0;
  }

  invalidate(): void {
    this.owner = null;
    this.scannedEnd = -1;
    this.head = 0;
    this.count = 0;
  }

  /** Drops kept hits starting before `from` at the front (the window only moves forward). */
  trim(from: number): void {
    while (this.head < this.count && this.starts[this.head]! < from) this.head++;
    if (this.head === this.count) this.head = this.count = 0;
  }

  /** Keeps one hit; false when the bound is reached (the caller invalidates the state). */
  push(id: number, start: number): boolean {
    if (this.count === this.ids.length) {
      if (this.head > 0) {
        this.ids.copyWithin(0, this.head, this.count);
        this.starts.copyWithin(0, this.head, this.count);
        this.count -= this.head;
        this.head = 0;
      } else {
        if (this.ids.length >= STREAM_HITS_MAX) return false;
        // A direction with pattern hits in its window: grows by doubling from 8.
        const size = Math.max(8, this.ids.length * 2);
        const ids = new Int32Array(size);
        const starts = new Float64Array(size);
        ids.set(this.ids);
        starts.set(this.starts);
        this.ids = ids;
        this.starts = starts;
      }
    }
    this.ids[this.count] = id;
    this.starts[this.count] = start;
    this.count++;
    return true;
  }
}
