// Per flow, app-layer buffer and packet direction: where the prefilter stopped in a buffer
// that only grows (an HTTP body as more of it arrives), so each of its bytes is scanned by
// Aho-Corasick once instead of once per packet of the transaction.
//
// A whole-buffer scan would give, on every packet, every pattern occurring anywhere in the
// buffer. The same set comes from (a) the patterns found in the bytes scanned on earlier
// packets, kept here as distinct pattern ids, plus (b) a scan of the new bytes resumed from
// the automaton state after the old ones: the old bytes are, unchanged, the buffer's start
// (the app layer promises it through DetectContext.bufferVersion), so the state and every
// match ending in them are exactly those of a whole scan. Unlike the stream window nothing
// ever leaves the buffer, so no hit expires. The id list is bounded: past it the state is
// dropped and the next packet scans the whole buffer (the old cost, still correct).
// Suricata inspects file data progressively too (its per-transaction inspect progress).

/** Most distinct pattern ids kept per buffer before falling back to whole-buffer scans. */
export const APP_HITS_MAX = 1024;

/** Shared empty id list: a state gets its own array on its first hit (see `ids`). */
const NO_IDS = new Int32Array(0);

export class AppScanState {
  /** The prefilter these ids belong to; another one (rule reload, other group) starts over. */
  owner: object | null = null;
  /** Transaction and buffer version (DetectContext.txId / bufferVersion) scanned so far. */
  txId = -1;
  version = -1;
  /** Bytes [0, scannedEnd) of the buffer were scanned; acState is the automaton after them. */
  scannedEnd = 0;
  acState = 0;
  /**
   * Distinct pattern ids found in [0, scannedEnd). Made on the first hit: an HTTP flow has a
   * state per growing buffer and direction (six on the replay workloads), and an eager
   * Int32Array(8) each was ~1.1 KB of every flow's heap, kept until the flow ended.
   */
  ids: Int32Array = NO_IDS;
  count = 0;

  /** Whether this state continues the scan of the given buffer (else the caller resets it). */
  continues(owner: object, txId: number, version: number, length: number): boolean {
    return this.owner === owner && this.txId === txId && this.version === version && length >= this.scannedEnd;
  }

  reset(owner: object, txId: number, version: number): void {
    this.owner = owner;
    this.txId = txId;
    this.version = version;
    this.scannedEnd = 0;
    this.acState = 0;
    this.count = 0;
  }

  /** Forget everything: the next packet scans the whole buffer again. */
  invalidate(): void {
    this.owner = null;
    this.count = 0;
  }

  /** Keeps one pattern id (the caller passes each id once); false when the bound is reached. */
  push(id: number): boolean {
    if (this.count === this.ids.length) {
      if (this.count >= APP_HITS_MAX) return false;
      // First hit: 8 ids; then (rare: a buffer with many distinct patterns) doubling.
      const ids = new Int32Array(Math.max(8, this.count * 2));
      ids.set(this.ids);
      this.ids = ids;
    }
    this.ids[this.count++] = id;
    return true;
  }
}
