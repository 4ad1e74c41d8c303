// The one record shape and reader interface shared by the classic pcap and pcapng readers.
//
// Reading is synchronous and pull-based (`next()` or `for..of`): replay is CPU-bound, a sync
// loop keeps the hot path free of promises, and the same loop drives decode → ... → output.
// The record and its `data` view are REUSED: both are valid only until the next call.

export interface CaptureRecord {
  /** The captured bytes (a view into the reader's buffer; copy it to keep it). */
  data: Uint8Array;
  /** LINKTYPE_* of this record (pcapng: of its interface). */
  linkType: number;
  tsSec: number;
  /** Microseconds within tsSec (nanosecond and other resolutions are converted). */
  tsUsec: number;
  /** Length of the packet on the wire (>= data.length when the snaplen cut it). */
  wireLength: number;
  /** 1-based index of the packet in the file (Suricata's pcap_cnt). */
  index: number;
}

export interface CaptureReader extends Iterable<CaptureRecord> {
  readonly path: string;
  readonly format: 'pcap' | 'pcapng';
  /**
   * The next packet record, or null at the end of the file. Throws LateralError
   * ('LATERAL_ERR_PCAP', naming the file, byte offset and record index) when the file is
   * broken or truncated — only after every complete record before it was returned.
   */
  next(): CaptureRecord | null;
  close(): void;
}
