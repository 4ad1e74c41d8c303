// Incremental HTTP/2 parser for one connection (RFC 9113), after Suricata 7's
// rust/src/http2/http2.rs: cleartext HTTP/2 only — prior-knowledge h2c (the client preface)
// and HTTP/1.1 upgraded to h2c. HTTP/2 over TLS is encrypted and is seen as TLS.
//
// Each direction is fed in-order stream bytes in any split. The client's 24-byte preface comes
// first (RFC 9113 §3.4), then 9-byte frame headers and payloads. Header blocks (HEADERS or
// PUSH_PROMISE followed by CONTINUATION frames, §6.10) are joined and decoded with that
// direction's HPACK decoder. As in Suricata, every frame is kept on a transaction: the stream's
// (one transaction per stream id; PUSH_PROMISE goes to the promised stream), or for stream 0 a
// new "global" transaction per frame — except empty SETTINGS (acknowledgements), which Suricata
// skips. An h2c upgrade makes stream 1 a transaction holding the HTTP/1.1 request's method,
// path and headers (Suricata's HTTP2MimicHttp1Request), and the HTTP2-Settings header's
// SETTINGS as a global transaction.
//
// Memory is bounded: a non-DATA frame is buffered up to `maxFrame` bytes (longer ones are
// skipped and counted; DATA is never buffered, it streams into the bounded bodies), a header
// block up to `maxHeaderBlock`, HPACK per hpackDecoder.ts, and at most `maxTransactions`
// transactions per connection (oldest dropped, counted). Malformed input (a bad preface, a
// CONTINUATION out of place, an HPACK error) is counted; a broken preface or block sequence
// stops that direction, as a connection error would end the connection (RFC 9113 §5.4.1).
import { AppLayerCounters } from './appLayerCounters';
import { HpackDecoder, HpackError, HpackHeaderBlock, DEFAULT_HPACK_LIMITS, type HpackLimits } from './hpackDecoder';
import { HttpBody, parseContentEncoding } from './httpBody';
import { DEFAULT_HTTP_LIMITS } from './httpParser';
import { HttpProgress, type HttpTransaction } from './httpTransaction';
import { Http2FrameType, Http2Transaction, type Http2Frame, type Http2Setting } from './http2Transaction';

/** RFC 9113 §3.4: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n". */
export const HTTP2_PREFACE = Uint8Array.from(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'));
export const HTTP2_FRAME_HEADER_LENGTH = 9;

export interface Http2Limits {
  /** Largest non-DATA frame payload buffered (Suricata handles 65536). */
  maxFrame: number;
  /** Largest header block (HEADERS/PUSH_PROMISE plus CONTINUATIONs) joined for decoding. */
  maxHeaderBlock: number;
  maxTransactions: number;
  /** Frames recorded per transaction and direction (a long stream's DATA frames beyond are not). */
  maxFramesPerTx: number;
  /** Decoded header bytes the kept transactions of one connection may hold together. */
  maxHeaderBytes: number;
  requestBodyLimit: number;
  responseBodyLimit: number;
  compressedBodyLimit: number;
  hpack: HpackLimits;
}

export const DEFAULT_HTTP2_LIMITS: Http2Limits = {
  maxFrame: 65536,
  maxHeaderBlock: 256 * 1024,
  maxTransactions: 256,
  maxFramesPerTx: 256,
  maxHeaderBytes: 8 * 1024 * 1024,
  requestBodyLimit: DEFAULT_HTTP_LIMITS.requestBodyLimit,
  responseBodyLimit: DEFAULT_HTTP_LIMITS.responseBodyLimit,
  compressedBodyLimit: DEFAULT_HTTP_LIMITS.compressedBodyLimit,
  hpack: DEFAULT_HPACK_LIMITS,
};

const FLAG_END_STREAM = 0x1;
const FLAG_ACK = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;

// Per-direction states.
const S_PREFACE = 0;
const S_HEADER = 1;
const S_PAYLOAD = 2;
/** DATA payload: streamed to the body, padding skipped. */
const S_DATA = 3;
/** A frame too long to buffer: its payload is skipped. */
const S_SKIP = 4;
const S_ERROR = 5;

class Direction {
  state = S_HEADER;
  prefaceAt = 0;
  readonly head = new Uint8Array(HTTP2_FRAME_HEADER_LENGTH);
  headLen = 0;
  // The current frame.
  type = 0;
  flags = 0;
  streamId = 0;
  length = 0;
  payload = new Uint8Array(0);
  payloadLen = 0;
  /** Bytes of the current frame not yet consumed (S_DATA / S_SKIP). */
  remaining = 0;
  /** DATA: padding still to skip once the data part is done; -1 while the pad length byte is due. */
  padding = 0;
  dataTx: Http2Transaction | null = null;
  /** An unfinished header block: first frame's type, stream, flags, priority and fragments. */
  blockType = -1;
  blockStream = 0;
  blockFlags = 0;
  blockPriority = -1;
  blockPromised = 0;
  block: Uint8Array[] = [];
  blockLen = 0;
  readonly hpack: HpackDecoder;

  constructor(hpack: HpackLimits) {
    this.hpack = new HpackDecoder(hpack);
  }
}

function u32(d: Uint8Array, o: number): number {
  return ((d[o]! << 24) >>> 0) + (d[o + 1]! << 16) + (d[o + 2]! << 8) + d[o + 3]!;
}

function frame(type: number, flags: number, streamId: number): Http2Frame {
  return { type, flags, streamId, errorCode: -1, priorityWeight: -1, window: -1, settings: null, headers: null };
}

function parseSettings(d: Uint8Array, s: number, e: number): Http2Setting[] {
  const out: Http2Setting[] = [];
  for (let i = s; i + 6 <= e; i += 6) out.push({ id: (d[i]! << 8) | d[i + 1]!, value: u32(d, i + 2) });
  return out;
}

export class Http2Parser {
  /** Transactions in creation order; ids grow by one. */
  readonly transactions: Http2Transaction[] = [];
  private nextId = 0;
  /** Decoded header bytes held by the kept transactions. */
  private headerBytes = 0;
  private readonly ts: Direction;
  private readonly tc: Direction;

  constructor(
    private readonly counters: AppLayerCounters = new AppLayerCounters(),
    private readonly limits: Http2Limits = DEFAULT_HTTP2_LIMITS,
    /** The client must send the preface first (prior knowledge, and after an h2c upgrade). */
    expectPreface = true,
    /** First transaction id: after an h2c upgrade, ids continue those of the HTTP/1.1 part. */
    firstTxId = 0,
  ) {
    this.nextId = firstTxId;
    this.ts = new Direction(limits.hpack);
    this.tc = new Direction(limits.hpack);
    if (expectPreface) this.ts.state = S_PREFACE;
  }

  /** The transaction with the given id, if still kept. */
  transaction(id: number): Http2Transaction | null {
    const first = this.transactions.length ? this.transactions[0]!.id : 0;
    return this.transactions[id - first] ?? null;
  }

  /** Whether a direction stopped on an error it cannot recover from. */
  failed(toServer: boolean): boolean {
    return (toServer ? this.ts : this.tc).state === S_ERROR;
  }

  /**
   * h2c upgrade (RFC 7540 §3.2): the HTTP/1.1 request becomes stream 1's request (method,
   * target as :path, Host as :authority, the other headers as sent), and its HTTP2-Settings
   * header (base64url SETTINGS payload) a global transaction, as Suricata's
   * HTTP2MimicHttp1Request does.
   */
  mimicUpgrade(req: HttpTransaction): void {
    const tx = this.newTransaction(1, false);
    tx.upgraded = true;
    const block = new HpackHeaderBlock();
    const f = (name: string, value: Uint8Array | null): void => {
      if (value !== null) block.fields.push({ name: Uint8Array.from(Buffer.from(name, 'latin1')), value });
    };
    f(':method', req.method);
    f(':path', req.uriRaw);
    let settings: Http2Setting[] | null = null;
    for (const h of req.requestHeaders) {
      if (h.key === 'host') f(':authority', h.value);
      else if (h.key === 'http2-settings') {
        const raw = Buffer.from(Buffer.from(h.value).toString('latin1'), 'base64url');
        settings = parseSettings(raw, 0, raw.length);
      } else block.fields.push({ name: h.name, value: h.value });
    }
    const fr = frame(Http2FrameType.HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 1);
    fr.headers = block;
    this.keepFrame(tx, true, fr);
    tx.requestProgress = HttpProgress.COMPLETE;
    if (settings !== null) {
      const g = this.newTransaction(0, true);
      const sf = frame(Http2FrameType.SETTINGS, 0, 0);
      sf.settings = settings;
      this.keepFrame(g, true, sf);
      this.applySettings(true, settings);
    }
  }

  /** Feeds in-order stream bytes of one direction. */
  feed(toServer: boolean, data: Uint8Array, start = 0, end = data.length): void {
    const d = toServer ? this.ts : this.tc;
    let pos = start;
    while (pos < end) {
      switch (d.state) {
        case S_ERROR:
          return;
        case S_PREFACE: {
          while (pos < end && d.prefaceAt < HTTP2_PREFACE.length) {
            if (data[pos] !== HTTP2_PREFACE[d.prefaceAt]) {
              this.counters.http2BadPreface++;
              d.state = S_ERROR;
              return;
            }
            pos++;
            d.prefaceAt++;
          }
          if (d.prefaceAt === HTTP2_PREFACE.length) d.state = S_HEADER;
          break;
        }
        case S_HEADER: {
          const n = Math.min(HTTP2_FRAME_HEADER_LENGTH - d.headLen, end - pos);
          d.head.set(data.subarray(pos, pos + n), d.headLen);
          d.headLen += n;
          pos += n;
          if (d.headLen === HTTP2_FRAME_HEADER_LENGTH) this.frameHeader(toServer, d);
          break;
        }
        case S_PAYLOAD: {
          const n = Math.min(d.length - d.payloadLen, end - pos);
          d.payload.set(data.subarray(pos, pos + n), d.payloadLen);
          d.payloadLen += n;
          pos += n;
          if (d.payloadLen === d.length) {
            d.state = S_HEADER;
            this.framePayload(toServer, d, d.payload.subarray(0, d.length));
          }
          break;
        }
        case S_DATA: {
          if (d.padding < 0) {
            // PADDED: the pad length byte comes first (RFC 9113 §6.1).
            d.padding = data[pos++]!;
            d.remaining--;
            if (d.padding > d.remaining) {
              this.counters.http2MalformedFrames++;
              d.padding = d.remaining;
            }
            break;
          }
          const dataLeft = d.remaining - d.padding;
          const n = Math.min(end - pos, d.remaining);
          const dn = Math.min(n, dataLeft);
          if (dn > 0) this.dataBytes(toServer, d, data, pos, pos + dn);
          pos += n;
          d.remaining -= n;
          if (d.remaining === 0) this.dataEnd(toServer, d);
          break;
        }
        case S_SKIP: {
          const n = Math.min(end - pos, d.remaining);
          pos += n;
          d.remaining -= n;
          if (d.remaining === 0) d.state = S_HEADER;
          break;
        }
        default:
          return;
      }
    }
  }

  /** Reassembly lost bytes in a direction: framing cannot be recovered. */
  gap(toServer: boolean): void {
    (toServer ? this.ts : this.tc).state = S_ERROR;
  }

  private frameHeader(toServer: boolean, d: Direction): void {
    const h = d.head;
    d.headLen = 0;
    d.length = (h[0]! << 16) | (h[1]! << 8) | h[2]!;
    d.type = h[3]!;
    d.flags = h[4]!;
    d.streamId = u32(h, 5) & 0x7fffffff;
    this.counters.http2Frames++;
    // §6.10: once a header block started, only its CONTINUATIONs may follow.
    if (d.blockType >= 0 && (d.type !== Http2FrameType.CONTINUATION || d.streamId !== d.blockStream)) {
      this.counters.http2MalformedFrames++;
      d.state = S_ERROR;
      return;
    }
    if (d.type === Http2FrameType.DATA) {
      const tx = d.streamId === 0 ? null : this.streamTx(d.streamId);
      d.dataTx = tx;
      if (tx !== null) {
        const fr = frame(Http2FrameType.DATA, d.flags, d.streamId);
        this.keepFrame(tx, toServer, fr);
        if (toServer ? tx.requestProgress < HttpProgress.BODY : tx.responseProgress < HttpProgress.BODY) this.setProgress(tx, toServer, HttpProgress.BODY);
      }
      d.remaining = d.length;
      d.padding = (d.flags & FLAG_PADDED) !== 0 ? -1 : 0;
      if (d.length === 0) this.dataEnd(toServer, d);
      else d.state = S_DATA;
      return;
    }
    if (d.length > this.limits.maxFrame) {
      this.counters.http2FrameTooLong++;
      d.remaining = d.length;
      d.state = S_SKIP;
      // A skipped header block fragment leaves the HPACK tables out of step: stop there.
      if (d.type === Http2FrameType.HEADERS || d.type === Http2FrameType.CONTINUATION || d.type === Http2FrameType.PUSH_PROMISE) {
        d.state = S_ERROR;
      }
      return;
    }
    if (d.payload.length < d.length) d.payload = new Uint8Array(Math.max(d.length, Math.min(this.limits.maxFrame, d.payload.length * 2), 64));
    d.payloadLen = 0;
    if (d.length === 0) this.framePayload(toServer, d, d.payload.subarray(0, 0));
    else d.state = S_PAYLOAD;
  }

  private framePayload(toServer: boolean, d: Direction, p: Uint8Array): void {
    const type = d.type;
    const sid = d.streamId;
    switch (type) {
      case Http2FrameType.HEADERS:
      case Http2FrameType.PUSH_PROMISE: {
        let s = 0;
        let e = p.length;
        let pad = 0;
        if ((d.flags & FLAG_PADDED) !== 0) {
          if (e < 1) return this.malformed();
          pad = p[0]!;
          s = 1;
        }
        let weight = -1;
        let promised = 0;
        if (type === Http2FrameType.HEADERS && (d.flags & FLAG_PRIORITY) !== 0) {
          if (e - s < 5) return this.malformed();
          weight = p[s + 4]!;
          s += 5;
        } else if (type === Http2FrameType.PUSH_PROMISE) {
          if (e - s < 4) return this.malformed();
          promised = u32(p, s) & 0x7fffffff;
          s += 4;
        }
        if (pad > e - s) return this.malformed();
        e -= pad;
        d.blockType = type;
        d.blockStream = sid;
        d.blockFlags = d.flags;
        d.blockPriority = weight;
        d.blockPromised = promised;
        d.block = [];
        d.blockLen = 0;
        this.blockFragment(toServer, d, p.slice(s, e), (d.flags & FLAG_END_HEADERS) !== 0);
        return;
      }
      case Http2FrameType.CONTINUATION:
        if (d.blockType < 0) {
          // §6.10: a CONTINUATION must follow HEADERS, PUSH_PROMISE or CONTINUATION.
          this.counters.http2MalformedFrames++;
          d.state = S_ERROR;
          return;
        }
        this.blockFragment(toServer, d, p.slice(), (d.flags & FLAG_END_HEADERS) !== 0);
        return;
      default:
        break;
    }
    // Frames without a header block.
    if (type === Http2FrameType.SETTINGS && p.length === 0) return; // acknowledgements: no transaction (Suricata)
    const fr = frame(type, d.flags, sid);
    switch (type) {
      case Http2FrameType.PRIORITY:
        if (p.length !== 5) this.counters.http2MalformedFrames++;
        else fr.priorityWeight = p[4]!;
        break;
      case Http2FrameType.RST_STREAM:
        if (p.length !== 4) this.counters.http2MalformedFrames++;
        else fr.errorCode = u32(p, 0);
        break;
      case Http2FrameType.SETTINGS:
        if (p.length % 6 !== 0 || (d.flags & FLAG_ACK) !== 0) this.counters.http2MalformedFrames++;
        fr.settings = parseSettings(p, 0, p.length);
        this.applySettings(toServer, fr.settings);
        break;
      case Http2FrameType.GOAWAY:
        if (p.length < 8) this.counters.http2MalformedFrames++;
        else fr.errorCode = u32(p, 4);
        break;
      case Http2FrameType.WINDOW_UPDATE:
        if (p.length !== 4) this.counters.http2MalformedFrames++;
        else fr.window = u32(p, 0) & 0x7fffffff;
        break;
      default:
        // PING and unknown types (RFC 9113 §5.5: ignored) are kept for http2.frametype.
        break;
    }
    const tx = sid === 0 ? this.newTransaction(0, true) : this.streamTx(sid);
    this.keepFrame(tx, toServer, fr);
    if (type === Http2FrameType.RST_STREAM && sid !== 0) {
      // The stream ends in both directions (§6.4).
      this.setProgress(tx, true, HttpProgress.COMPLETE);
      this.setProgress(tx, false, HttpProgress.COMPLETE);
    }
  }

  private malformed(): void {
    this.counters.http2MalformedFrames++;
  }

  private blockFragment(toServer: boolean, d: Direction, frag: Uint8Array, last: boolean): void {
    if (d.blockLen + frag.length > this.limits.maxHeaderBlock) {
      this.counters.http2HeaderBlockTooLong++;
      d.state = S_ERROR;
      return;
    }
    d.block.push(frag);
    d.blockLen += frag.length;
    if (!last) return;
    const whole = d.block.length === 1 ? d.block[0]! : Uint8Array.from(Buffer.concat(d.block));
    d.block = [];
    d.blockLen = 0;
    const type = d.blockType;
    d.blockType = -1;
    const decoded = d.hpack.decode(whole);
    if (decoded.error !== HpackError.NONE) this.counters.http2HpackErrors++;
    const sid = type === Http2FrameType.PUSH_PROMISE ? d.blockPromised : d.blockStream;
    if (sid === 0) {
      this.counters.http2MalformedFrames++;
      return;
    }
    const tx = this.streamTx(sid);
    const fr = frame(type, d.blockFlags, d.blockStream);
    fr.headers = decoded;
    fr.priorityWeight = d.blockPriority;
    this.keepFrame(tx, toServer, fr);
    if (type === Http2FrameType.PUSH_PROMISE) return;
    const done = (d.blockFlags & FLAG_END_STREAM) !== 0;
    const cur = toServer ? tx.requestProgress : tx.responseProgress;
    // Trailers (a second HEADERS) keep the progress the body reached.
    this.setProgress(tx, toServer, done ? HttpProgress.COMPLETE : Math.max(cur, HttpProgress.HEADERS));
  }

  private dataBytes(toServer: boolean, d: Direction, data: Uint8Array, s: number, e: number): void {
    const tx = d.dataTx;
    if (tx === null) return;
    let body = toServer ? tx.requestBody : tx.responseBody;
    if (body === null) {
      const enc = parseContentEncoding(tx.headerValue(toServer, 'content-encoding'));
      body = toServer
        ? new HttpBody(enc, this.limits.requestBodyLimit, this.limits.compressedBodyLimit, this.counters)
        : new HttpBody(enc, this.limits.responseBodyLimit, this.limits.compressedBodyLimit, this.counters);
      if (toServer) tx.requestBody = body;
      else tx.responseBody = body;
    }
    body.append(data, s, e);
    tx.invalidate();
  }

  private dataEnd(toServer: boolean, d: Direction): void {
    d.state = S_HEADER;
    const tx = d.dataTx;
    d.dataTx = null;
    if (tx !== null && (d.flags & FLAG_END_STREAM) !== 0) this.setProgress(tx, toServer, HttpProgress.COMPLETE);
  }

  // SETTINGS_HEADER_TABLE_SIZE from one endpoint bounds the other endpoint's encoder, i.e. the
  // decoder of the opposite direction (Suricata applies it at once).
  private applySettings(toServer: boolean, settings: Http2Setting[]): void {
    for (const s of settings) if (s.id === 1) (toServer ? this.tc : this.ts).hpack.setMaxSize(s.value);
  }

  private setProgress(tx: Http2Transaction, toServer: boolean, p: number): void {
    if (toServer) tx.requestProgress = p;
    else tx.responseProgress = p;
    tx.invalidate();
  }

  private keepFrame(tx: Http2Transaction, toServer: boolean, fr: Http2Frame): void {
    const list = toServer ? tx.framesTs : tx.framesTc;
    let bytes = 0;
    if (fr.headers !== null) for (const h of fr.headers.fields) bytes += h.name.length + h.value.length;
    if (list.length >= this.limits.maxFramesPerTx) {
      this.counters.http2FramesDropped++;
      return;
    }
    // Over the connection's header budget: drop the oldest transactions, never the current one.
    while (this.headerBytes + bytes > this.limits.maxHeaderBytes && this.transactions.length > 1 && this.transactions[0] !== tx) {
      this.evictOldest();
    }
    if (this.headerBytes + bytes > this.limits.maxHeaderBytes) {
      this.counters.http2FramesDropped++;
      return;
    }
    tx.headerBytes += bytes;
    this.headerBytes += bytes;
    list.push(fr);
    tx.invalidate();
  }

  private evictOldest(): void {
    const old = this.transactions.shift()!;
    this.headerBytes -= old.headerBytes;
    this.counters.http2TxEvicted++;
  }

  /** The transaction of a stream, created on its first frame (newest first: ids are reused rarely). */
  private streamTx(sid: number): Http2Transaction {
    for (let i = this.transactions.length - 1; i >= 0; i--) {
      const t = this.transactions[i]!;
      if (!t.global && t.streamId === sid) return t;
    }
    return this.newTransaction(sid, false);
  }

  private newTransaction(sid: number, global: boolean): Http2Transaction {
    const tx = new Http2Transaction(this.nextId++, sid, global);
    this.counters.http2Transactions++;
    this.transactions.push(tx);
    if (this.transactions.length > this.limits.maxTransactions) this.evictOldest();
    return tx;
  }
}
