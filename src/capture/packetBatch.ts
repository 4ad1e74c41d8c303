// One batch of queued packets as the native addon hands it over, plus its verdict slots.
//
// Every array here is allocated once per queue and reused for every batch: the hot path
// reads rows of the metadata table and offsets into the arena, and writes verdicts by
// index. Slots come preset to "accept" (NF_REPEAT + the repeat mark, see DESIGN.md
// "Repeat, not accept"), so a handler only touches the packets it wants to change.
import { META_STRIDE, MetaField, NfVerdict } from './native';

export class PacketBatch {
  /** Packets in this batch; rows 0..count-1 are valid until the handler returns. */
  count = 0;
  /** The arena: packet i's bytes are data[offset(i) .. offset(i) + capLen(i)). */
  readonly data: Uint8Array;
  readonly meta: Uint32Array;
  /** Verdict slots handed to the kernel after the handler returns. */
  readonly ids: Uint32Array;
  readonly verdicts: Uint32Array;
  readonly marks: Uint32Array;

  constructor(
    readonly queue: number,
    arena: ArrayBuffer,
    meta: Uint32Array,
    readonly repeatMark: number,
    readonly bypassMark: number,
  ) {
    this.data = new Uint8Array(arena);
    this.meta = meta;
    const n = Math.floor(meta.length / META_STRIDE);
    this.ids = new Uint32Array(n);
    this.verdicts = new Uint32Array(n);
    this.marks = new Uint32Array(n);
  }

  /** Called by NfQueue before the handler: all slots accept. */
  reset(count: number): void {
    this.count = count;
    const meta = this.meta;
    const repeat = this.repeatMark;
    for (let i = 0, row = 0; i < count; i++, row += META_STRIDE) {
      this.ids[i] = meta[row + MetaField.ID]!;
      this.verdicts[i] = NfVerdict.REPEAT;
      this.marks[i] = (meta[row + MetaField.MARK]! | repeat) >>> 0;
    }
  }

  offset(i: number): number {
    return this.meta[i * META_STRIDE + MetaField.OFFSET]!;
  }
  capLen(i: number): number {
    return this.meta[i * META_STRIDE + MetaField.CAP_LEN]!;
  }
  origLen(i: number): number {
    return this.meta[i * META_STRIDE + MetaField.ORIG_LEN]!;
  }
  hwProtocol(i: number): number {
    return this.meta[i * META_STRIDE + MetaField.HW_PROTOCOL]!;
  }
  mark(i: number): number {
    return this.meta[i * META_STRIDE + MetaField.MARK]!;
  }
  skbInfo(i: number): number {
    return this.meta[i * META_STRIDE + MetaField.SKB_INFO]!;
  }
  physInDev(i: number): number {
    return this.meta[i * META_STRIDE + MetaField.PHYS_IN_DEV]!;
  }
  physOutDev(i: number): number {
    return this.meta[i * META_STRIDE + MetaField.PHYS_OUT_DEV]!;
  }

  /** Let packet i continue through FORWARD (NF_REPEAT; the repeat mark skips our rule). */
  accept(i: number): void {
    this.verdicts[i] = NfVerdict.REPEAT;
    this.marks[i] = (this.meta[i * META_STRIDE + MetaField.MARK]! | this.repeatMark) >>> 0;
  }

  drop(i: number): void {
    this.verdicts[i] = NfVerdict.DROP;
  }

  /**
   * Accept packet i and stop queueing its flow: the bypass bit in the skb mark is saved
   * to the connmark by the mangle rule, and the queue rule skips that connmark.
   */
  bypass(i: number): void {
    this.verdicts[i] = NfVerdict.REPEAT;
    this.marks[i] = (this.meta[i * META_STRIDE + MetaField.MARK]! | this.repeatMark | this.bypassMark) >>> 0;
  }
}
