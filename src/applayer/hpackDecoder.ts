// HPACK header block decoding (RFC 7541) for the HTTP/2 parser: static table (Appendix A),
// dynamic table with eviction by size (§4), integer (§5.1) and string literals with Huffman
// (§5.2, hpackHuffman.ts), every field representation (§6) and dynamic table size updates
// (§6.3). One decoder per direction, as each endpoint's encoder keeps its own table.
//
// Memory is bounded: the dynamic table never exceeds `tableLimit` bytes (Suricata's
// app-layer.protocols.http2.max-table-size, 65536), whatever size the peer announces; a header
// block decodes to at most `maxFields` fields and `maxBlockBytes` bytes of names and values.
// Past a limit, or on malformed input, decoding stops and the block carries an error (the
// table may then be out of step with the encoder's, as after any HPACK error: RFC 7541 §2.3
// makes that a connection error).
import { decodeHuffman } from './hpackHuffman';

export interface HpackField {
  name: Uint8Array;
  value: Uint8Array;
}

/** Why a header block stopped decoding (0 = it did not). */
export const HpackError = {
  NONE: 0,
  TRUNCATED: 1,
  BAD_INDEX: 2,
  INTEGER_OVERFLOW: 3,
  BAD_HUFFMAN: 4,
  SIZE_UPDATE_TOO_LARGE: 5,
  TOO_MANY_FIELDS: 6,
  BLOCK_TOO_LARGE: 7,
} as const;

/** The result of decoding one header block. */
export class HpackHeaderBlock {
  readonly fields: HpackField[] = [];
  /** Dynamic table size updates found in the block (RFC 7541 §6.3), in order. */
  readonly sizeUpdates: number[] = [];
  error: number = HpackError.NONE;
}

/** Appendix A; index 1 is the first entry. */
const STATIC_TEXT: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];
const STATIC: readonly HpackField[] = STATIC_TEXT.map(([n, v]) => ({
  name: Uint8Array.from(Buffer.from(n, 'latin1')),
  value: Uint8Array.from(Buffer.from(v, 'latin1')),
}));
export const HPACK_STATIC_TABLE_LENGTH = STATIC.length;

/** RFC 7541 §4.1: an entry costs its name and value lengths plus 32. */
const ENTRY_OVERHEAD = 32;
/** HTTP/2's initial SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2). */
export const HPACK_DEFAULT_TABLE_SIZE = 4096;
/** Suricata's default http2.max-table-size. */
export const HPACK_TABLE_LIMIT = 65536;
// Integers beyond this are no honest length, index or size (and would lose precision later).
const MAX_INTEGER = 0x7fffffff;

export interface HpackLimits {
  tableLimit: number;
  maxFields: number;
  maxBlockBytes: number;
}

export const DEFAULT_HPACK_LIMITS: HpackLimits = {
  tableLimit: HPACK_TABLE_LIMIT,
  maxFields: 1024,
  maxBlockBytes: 256 * 1024,
};

export class HpackDecoder {
  /** Dynamic entries, oldest first from `first`; the newest is index 62 (§2.3.3). */
  private entries: HpackField[] = [];
  private first = 0;
  /** Bytes the dynamic table holds (§4.1). */
  size = 0;
  /** Current maximum size, from size updates or the peer's SETTINGS (bounded by the limit). */
  maxSize: number;

  // Cursor of the block being decoded.
  private d: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  private err: number = HpackError.NONE;

  constructor(private readonly limits: HpackLimits = DEFAULT_HPACK_LIMITS) {
    this.maxSize = Math.min(HPACK_DEFAULT_TABLE_SIZE, limits.tableLimit);
  }

  /** Entries in the dynamic table now. */
  get length(): number {
    return this.entries.length - this.first;
  }

  /**
   * The peer announced SETTINGS_HEADER_TABLE_SIZE for this encoder: Suricata applies it as the
   * table's maximum at once (bounded by the limit here).
   */
  setMaxSize(n: number): void {
    this.maxSize = Math.min(n, this.limits.tableLimit);
    this.evict(0);
  }

  /** Decodes one complete header block (after CONTINUATION frames were joined). */
  decode(block: Uint8Array, start = 0, end = block.length): HpackHeaderBlock {
    const out = new HpackHeaderBlock();
    this.d = block;
    this.pos = start;
    this.end = end;
    this.err = HpackError.NONE;
    let bytes = 0;
    while (this.pos < this.end && this.err === HpackError.NONE) {
      const b = this.d[this.pos]!;
      let field: HpackField | null = null;
      if ((b & 0x80) !== 0) {
        // §6.1 indexed field.
        const idx = this.integer(7);
        if (this.err !== HpackError.NONE) break;
        field = this.lookup(idx);
        if (field === null) break;
      } else if ((b & 0xc0) === 0x40) {
        // §6.2.1 literal with incremental indexing.
        field = this.literal(6);
        if (field === null) break;
        this.insert(field);
      } else if ((b & 0xe0) === 0x20) {
        // §6.3 dynamic table size update.
        const n = this.integer(5);
        if (this.err !== HpackError.NONE) break;
        if (n > this.limits.tableLimit) {
          this.err = HpackError.SIZE_UPDATE_TOO_LARGE;
          break;
        }
        out.sizeUpdates.push(n);
        this.maxSize = n;
        this.evict(0);
        continue;
      } else {
        // §6.2.2 without indexing (0000) and §6.2.3 never indexed (0001).
        field = this.literal(4);
        if (field === null) break;
      }
      if (out.fields.length >= this.limits.maxFields) {
        this.err = HpackError.TOO_MANY_FIELDS;
        break;
      }
      bytes += field.name.length + field.value.length;
      if (bytes > this.limits.maxBlockBytes) {
        this.err = HpackError.BLOCK_TOO_LARGE;
        break;
      }
      out.fields.push(field);
    }
    out.error = this.err;
    this.d = EMPTY;
    return out;
  }

  // §5.1: an integer with an N-bit prefix, starting at the current byte.
  private integer(prefixBits: number): number {
    const max = (1 << prefixBits) - 1;
    let v = this.d[this.pos++]! & max;
    if (v < max) return v;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) {
        this.err = HpackError.TRUNCATED;
        return 0;
      }
      const b = this.d[this.pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (v > MAX_INTEGER) {
        this.err = HpackError.INTEGER_OVERFLOW;
        return 0;
      }
      if ((b & 0x80) === 0) return v;
      shift += 7;
    }
  }

  // §5.2: a string literal (H bit, 7-bit prefix length, octets).
  private string(): Uint8Array | null {
    if (this.pos >= this.end) {
      this.err = HpackError.TRUNCATED;
      return null;
    }
    const huffman = (this.d[this.pos]! & 0x80) !== 0;
    const len = this.integer(7);
    if (this.err !== HpackError.NONE) return null;
    if (this.pos + len > this.end) {
      this.err = HpackError.TRUNCATED;
      return null;
    }
    const s = this.pos;
    this.pos += len;
    if (!huffman) return this.d.slice(s, s + len);
    const out = decodeHuffman(this.d, s, s + len);
    if (out === null) this.err = HpackError.BAD_HUFFMAN;
    return out === null ? null : out.slice();
  }

  // §6.2: a literal field whose name is indexed (prefix > 0) or a literal string.
  private literal(prefixBits: number): HpackField | null {
    const idx = this.integer(prefixBits);
    if (this.err !== HpackError.NONE) return null;
    let name: Uint8Array | null;
    if (idx > 0) {
      const f = this.lookup(idx);
      name = f === null ? null : f.name;
    } else {
      name = this.string();
    }
    if (name === null) return null;
    const value = this.string();
    if (value === null) return null;
    return { name, value };
  }

  private lookup(idx: number): HpackField | null {
    if (idx >= 1 && idx <= STATIC.length) return STATIC[idx - 1]!;
    const dyn = idx - STATIC.length;
    if (idx === 0 || dyn > this.length) {
      this.err = HpackError.BAD_INDEX;
      return null;
    }
    return this.entries[this.entries.length - dyn]!;
  }

  // §4.4: an entry larger than the table empties it and is not added.
  private insert(f: HpackField): void {
    const cost = f.name.length + f.value.length + ENTRY_OVERHEAD;
    if (cost > this.maxSize) {
      this.entries = [];
      this.first = 0;
      this.size = 0;
      return;
    }
    this.evict(cost);
    this.entries.push(f);
    this.size += cost;
  }

  // §4.3/§4.4: drop the oldest entries until `room` more bytes fit under maxSize.
  private evict(room: number): void {
    while (this.size + room > this.maxSize && this.first < this.entries.length) {
      const old = this.entries[this.first++]!;
      this.size -= old.name.length + old.value.length + ENTRY_OVERHEAD;
    }
    if (this.first > 256 && this.first * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.first);
      this.first = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
