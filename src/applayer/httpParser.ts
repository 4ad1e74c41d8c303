// Incremental HTTP/1.x parser for one connection, after libhtp 0.5 as Suricata 7 uses it.
//
// Fed in-order stream bytes per direction in any split. Requests and responses are paired
// in order (pipelining: responses go to the oldest transaction without one). Bodies follow
// RFC 7230 §3.3.3: chunked, then Content-Length, else (responses) until the connection
// closes; HEAD, 1xx, 204 and 304 responses have none. 1xx interim responses (except 101)
// are skipped; 101 and a 2xx answer to CONNECT switch both directions to tunnel mode (no
// more HTTP parsing), as libhtp does. Lines end at LF; a CR before it is dropped. Leading
// empty lines before a request line are ignored (RFC 7230 §3.5).
//
// Memory is bounded: a line longer than `maxLine` or a header block longer than
// `maxHeaderBlock` stops parsing of that direction (counted); bodies are kept up to the
// body limits; at most `maxTransactions` transactions are kept per flow (oldest dropped,
// counted).
import { allocBytes, shrinkBytes } from './allocBytes';
import { latin1Text } from './latin1Text';
import { httpHeaderKey } from './httpHeaderKey';
import { AppLayerCounters } from './appLayerCounters';
import { HttpBody, parseContentEncoding } from './httpBody';
import { HttpHeader, HttpProgress, HttpTransaction, joinHeaderValue } from './httpTransaction';

export interface HttpLimits {
  maxLine: number;
  maxHeaderBlock: number;
  requestBodyLimit: number;
  responseBodyLimit: number;
  /** Compressed bytes kept per body before inflating. */
  compressedBodyLimit: number;
  maxTransactions: number;
  /**
   * Bytes the kept transactions of one flow may hold together (see
   * HttpTransaction.retainedBytes); past it the oldest are evicted like past maxTransactions.
   * Without it one connection could pin 256 × (64 KiB headers + bodies), ~75 MiB measured.
   * Optional so limits written out in full elsewhere stay valid; 0 = no byte budget.
   */
  maxRetainedBytes?: number;
}

// Suricata 7 defaults: request-body-limit / response-body-limit 100 KiB; libhtp's hard
// field limit is 18000 bytes.
export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxLine: 18000,
  maxHeaderBlock: 65536,
  requestBodyLimit: 100 * 1024,
  responseBodyLimit: 100 * 1024,
  compressedBodyLimit: 1024 * 1024,
  maxTransactions: 256,
  maxRetainedBytes: 8 * 1024 * 1024,
};

/** Anomaly bits set on HttpTransaction.anomalies. */
export const HttpAnomaly = {
  INVALID_REQUEST_LINE: 1 << 0,
  INVALID_RESPONSE_LINE: 1 << 1,
  HEADER_WITHOUT_COLON: 1 << 2,
  FOLDED_HEADER: 1 << 3,
  CONTENT_LENGTH_CONFLICT: 1 << 4,
  INVALID_CHUNK: 1 << 5,
  LINE_TOO_LONG: 1 << 6,
  RESPONSE_WITHOUT_REQUEST: 1 << 7,
  INTERIM_RESPONSE: 1 << 8,
  /** Header fields dropped: too many repetitions or too many distinct names (see below). */
  HEADER_LIMIT: 1 << 9,
} as const;

// libhtp (PR #212, Suricata 5+) keeps at most 64 repetitions of header names per message and
// drops the values of further ones ("Excessive header repetitions"): joining every repeat
// made a 64 KiB block of "a: b" lines cost quadratic time. Distinct names are bounded too, so
// a block of tiny unique headers cannot make a per-message table of tens of thousands.
const MAX_HEADER_REPETITIONS = 64;
const MAX_HEADERS = 1024;

// Per-direction states.
const S_LINE = 0;
const S_HEADERS = 1;
const S_BODY_LENGTH = 2;
const S_CHUNK_SIZE = 3;
const S_CHUNK_DATA = 4;
const S_CHUNK_DATA_END = 5;
const S_TRAILERS = 6;
const S_BODY_CLOSE = 7;
const S_TUNNEL = 8;
const S_ERROR = 9;
/** Client sent CONNECT: hold its bytes until the response says tunnel or not (libhtp). */
const S_CONNECT_WAIT = 10;
const MAX_CONNECT_HELD = 65536;

const NO_BYTES: Uint8Array = new Uint8Array(0);

/** Header block buffer taken when a message starts (grown by doubling, shrunk when done). */
const HDR_INITIAL = 2048;
/** Partial-line buffers kept for reuse (never exposed: lines are parsed or copied out). */
const LINE_SIZE = 256;
const LINE_POOL_MAX = 64;
const linePool: Uint8Array[] = [];

class Direction {
  state = S_LINE;
  /**
   * A line that did not end in the bytes fed so far. Complete lines are parsed where they
   * lie (the stream window), so this is only taken (from linePool) for a line split across
   * packets, and given back as soon as it is empty: between packets an idle direction keeps
   * no buffer.
   */
  line = NO_BYTES;
  lineLen = 0;
  /**
   * The header block of the message being parsed, as received (line ends included), for
   * http.header.raw; empty between messages. It becomes the transaction's own block when the
   * headers end (shrunk to size, not copied), so the views into it never change.
   */
  hdr = NO_BYTES;
  hdrLen = 0;
  /** Where the header lines start in `hdr` (after the start line). */
  hdrStart = 0;
  /** The block the start line's views were made in (a grown block needs them moved). */
  lineBlock = NO_BYTES;
  remaining = 0;
  tx: HttpTransaction | null = null;
  /** CONNECT: client bytes held until the response (null until the first). */
  held: Uint8Array[] | null = null;
  heldLen = 0;
}

/** Forgets a message in progress that will never complete (its transaction keeps its views). */
function dropScratch(d: Direction): void {
  d.lineLen = 0;
  d.hdr = NO_BYTES;
  d.hdrLen = 0;
  d.hdrStart = 0;
  d.lineBlock = NO_BYTES;
}

// A view into `old` moved to the same place in `block` (a grown copy of `old`'s start).
function rebase(v: Uint8Array | null, old: Uint8Array, block: Uint8Array): Uint8Array | null {
  if (v === null || v.buffer !== old.buffer) return v;
  const o = v.byteOffset - old.byteOffset;
  if (o < 0 || o + v.length > old.length) return v;
  return block.subarray(o, o + v.length);
}

function looksLikeStatusLine(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  while (i < e && isSpace(b[i]!)) i++;
  return e - i >= 4 && startsWithHttp(b, i);
}

/** b[i, i+4) is "http" in any case (the caller checked there are 4 bytes). */
function startsWithHttp(b: Uint8Array, i: number): boolean {
  return (b[i]! | 0x20) === 0x68 && (b[i + 1]! | 0x20) === 0x74 && (b[i + 2]! | 0x20) === 0x74 && (b[i + 3]! | 0x20) === 0x70;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d;
}

function trim(d: Uint8Array): Uint8Array {
  let s = 0;
  let e = d.length;
  while (s < e && isSpace(d[s]!)) s++;
  while (e > s && isSpace(d[e - 1]!)) e--;
  return d.subarray(s, e);
}

function asciiEq(d: Uint8Array | null, s: string): boolean {
  if (!d || d.length !== s.length) return false;
  for (let i = 0; i < s.length; i++) {
    let c = d[i]!;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== s.charCodeAt(i)) return false;
  }
  return true;
}

/** Parses a Content-Length like libhtp (digits with surrounding whitespace); -1 if invalid. */
function parseContentLength(v: Uint8Array): number {
  let s = 0;
  let e = v.length;
  while (s < e && isSpace(v[s]!)) s++;
  while (e > s && isSpace(v[e - 1]!)) e--;
  if (e === s || e - s > 15) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = v[i]!;
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/** A folded field: its first line's content and each continuation line, in one copy. */
function unfold(block: Uint8Array, start: number, end: number, pieces: number[]): Uint8Array {
  let len = end - start;
  for (let i = 0; i < pieces.length; i += 2) len += pieces[i + 1]! - pieces[i]!;
  const out = new Uint8Array(len);
  out.set(block.subarray(start, end));
  let at = end - start;
  for (let i = 0; i < pieces.length; i += 2) {
    out.set(block.subarray(pieces[i]!, pieces[i + 1]!), at);
    at += pieces[i + 1]! - pieces[i]!;
  }
  return out;
}

/** d holds exactly the characters of s (case-sensitive, as method names are compared). */
function bytesEqual(d: Uint8Array, s: string): boolean {
  if (d.length !== s.length) return false;
  for (let i = 0; i < s.length; i++) if (d[i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Headers in a block above which addField looks names up in a Map. */
const HEADER_INDEX_MIN = 16;

function findHeader(list: HttpHeader[], key: string): HttpHeader | undefined {
  for (let i = 0; i < list.length; i++) if (list[i]!.key === key) return list[i];
  return undefined;
}

function hasChunked(te: Uint8Array | null): boolean {
  if (!te) return false;
  return latin1Text(te).toLowerCase().includes('chunked');
}

export class HttpParser {
  /** Open transactions, oldest first; `transactions[i].id` grows by one. */
  readonly transactions: HttpTransaction[] = [];
  private nextId = 0;
  private readonly req = new Direction();
  private readonly res = new Direction();
  /** Index (tx id) of the next transaction awaiting a response. */
  private nextResponseTxId = 0;
  /** True once the connection switched protocols / tunnelled. */
  tunnel = false;
  /** Name index of the header block being split, when it is large (addField). */
  private headerIndex: Map<string, HttpHeader> | null = null;

  constructor(
    private readonly counters: AppLayerCounters = new AppLayerCounters(),
    private readonly limits: HttpLimits = DEFAULT_HTTP_LIMITS,
  ) {}

  /** The transaction with the given id, if still kept. */
  transaction(id: number): HttpTransaction | null {
    const first = this.transactions.length ? this.transactions[0]!.id : 0;
    return this.transactions[id - first] ?? null;
  }

  /**
   * Drops transactions that are complete in both directions and older than `beforeId`
   * (the engine calls this once it has inspected them).
   */
  releaseBefore(beforeId: number): void {
    let n = 0;
    while (n < this.transactions.length) {
      const t = this.transactions[n]!;
      if (t.id >= beforeId || t.requestProgress < HttpProgress.COMPLETE || t.responseProgress < HttpProgress.COMPLETE) break;
      n++;
    }
    if (n === 0) return;
    // Their bodies' buffers go back to the pool (HttpBody.release): nothing reads them now.
    for (let i = 0; i < n; i++) {
      const t = this.transactions[i]!;
      t.requestBody?.release();
      t.responseBody?.release();
    }
    this.transactions.splice(0, n);
  }

  /**
   * Bytes of parse buffers the two directions hold now (a partial line, the header block of
   * a message in progress); 0 for a parser between messages. Transactions not counted.
   */
  scratchBytes(): number {
    return this.req.line.length + this.req.hdr.length + this.res.line.length + this.res.hdr.length;
  }

  /**
   * Feeds in-order stream bytes of one direction. Returns where HTTP parsing stopped: `end`, or
   * the first byte after the message that switched the connection to a tunnel (101, CONNECT),
   * so the caller can hand the rest to the next protocol (h2c upgrade).
   */
  feed(toServer: boolean, data: Uint8Array, start = 0, end = data.length): number {
    const d = toServer ? this.req : this.res;
    const stop = this.feedDirection(toServer, d, data, start, end);
    // A direction that stopped parsing (limit, tunnel) keeps nothing it will never finish.
    if (d.state === S_ERROR || d.state === S_TUNNEL) dropScratch(d);
    if (d.lineLen === 0 && d.line !== NO_BYTES) {
      // No partial line left: the buffer goes back to the pool.
      if (d.line.length === LINE_SIZE && linePool.length < LINE_POOL_MAX) linePool.push(d.line);
      d.line = NO_BYTES;
    }
    return stop;
  }

  private feedDirection(toServer: boolean, d: Direction, data: Uint8Array, start: number, end: number): number {
    let pos = start;
    while (pos < end) {
      switch (d.state) {
        case S_TUNNEL:
        case S_ERROR:
          return pos;
        case S_CONNECT_WAIT: {
          const take = Math.min(end - pos, MAX_CONNECT_HELD - d.heldLen);
          if (take > 0) {
            (d.held ??= []).push(data.slice(pos, pos + take));
            d.heldLen += take;
          }
          if (take < end - pos) this.counters.httpConnectHeldDropped += end - pos - take;
          return end;
        }
        case S_LINE:
        case S_HEADERS:
        case S_CHUNK_SIZE:
        case S_CHUNK_DATA_END:
        case S_TRAILERS: {
          let nl = -1;
          for (let i = pos; i < end; i++) if (data[i] === 0x0a) { nl = i; break; }
          const stop = nl < 0 ? end : nl + 1;
          if (nl >= 0 && d.lineLen === 0) {
            // A whole line in these bytes (the usual case): parsed where it lies, no copy.
            if (stop - pos > this.limits.maxLine) {
              this.lineTooLong(d);
              return end;
            }
            const from = pos;
            pos = stop;
            this.onLine(toServer, d, data, from, stop);
            break;
          }
          if (!this.appendLine(d, data, pos, stop)) return end;
          pos = stop;
          if (nl >= 0) {
            const n = d.lineLen;
            d.lineLen = 0;
            this.onLine(toServer, d, d.line, 0, n);
          }
          break;
        }
        case S_BODY_LENGTH: {
          const n = Math.min(d.remaining, end - pos);
          this.bodyData(toServer, d, data, pos, pos + n);
          pos += n;
          d.remaining -= n;
          if (d.remaining === 0) this.messageComplete(toServer, d);
          break;
        }
        case S_CHUNK_DATA: {
          const n = Math.min(d.remaining, end - pos);
          this.bodyData(toServer, d, data, pos, pos + n);
          pos += n;
          d.remaining -= n;
          if (d.remaining === 0) d.state = S_CHUNK_DATA_END;
          break;
        }
        case S_BODY_CLOSE:
          this.bodyData(toServer, d, data, pos, end);
          pos = end;
          break;
        default:
          return end;
      }
    }
    return end;
  }

  /** The connection closed (FIN/RST) in a direction: ends a body delimited by close. */
  close(toServer: boolean): void {
    const d = toServer ? this.req : this.res;
    if (d.state === S_BODY_CLOSE) this.messageComplete(toServer, d);
  }

  /** Reassembly lost bytes in a direction: stop parsing it (we cannot resynchronise). */
  gap(toServer: boolean): void {
    const d = toServer ? this.req : this.res;
    d.state = S_ERROR;
    dropScratch(d);
    if (d.line !== NO_BYTES) {
      if (d.line.length === LINE_SIZE && linePool.length < LINE_POOL_MAX) linePool.push(d.line);
      d.line = NO_BYTES;
    }
  }

  private lineTooLong(d: Direction): void {
    this.counters.httpLineTooLong++;
    if (d.tx) d.tx.anomalies |= HttpAnomaly.LINE_TOO_LONG;
    d.state = S_ERROR;
  }

  private appendLine(d: Direction, data: Uint8Array, s: number, e: number): boolean {
    const n = e - s;
    if (d.lineLen + n > this.limits.maxLine) {
      this.lineTooLong(d);
      return false;
    }
    if (d.lineLen + n > d.line.length) {
      const size = Math.min(this.limits.maxLine, Math.max(d.line.length * 2, d.lineLen + n, LINE_SIZE));
      const nb = size === LINE_SIZE && linePool.length > 0 ? linePool.pop()! : new Uint8Array(size);
      for (let i = 0; i < d.lineLen; i++) nb[i] = d.line[i]!;
      if (d.line.length === LINE_SIZE && linePool.length < LINE_POOL_MAX) linePool.push(d.line);
      d.line = nb;
    }
    if (n <= 64) {
      // Most header lines: a copy by hand allocates no view.
      const line = d.line;
      for (let i = s, at = d.lineLen; i < e; i++) line[at++] = data[i]!;
    } else {
      d.line.set(data.subarray(s, e), d.lineLen);
    }
    d.lineLen += n;
    return true;
  }

  // A complete line b[s, eol) including its LF; b is the fed bytes or the partial-line buffer.
  private onLine(toServer: boolean, d: Direction, b: Uint8Array, s: number, eol: number): void {
    let e = eol - 1;
    if (e > s && b[e - 1] === 0x0d) e--;
    // The line without its end is b[s, e).
    switch (d.state) {
      case S_LINE: {
        if (e === s) return; // empty lines before a request/status line
        if (!toServer && !looksLikeStatusLine(b, s, e)) {
          this.responseWithoutStatusLine(d, b, s, eol);
          return;
        }
        const at = d.hdrLen;
        if (!this.appendHdr(d, b, s, eol)) return;
        d.lineBlock = d.hdr;
        if (toServer) this.requestLine(d, d.hdr.subarray(at, at + (e - s)));
        else this.statusLine(d, d.hdr.subarray(at, at + (e - s)));
        d.hdrStart = d.hdrLen;
        return;
      }
      case S_HEADERS:
        // Only the line is kept here; the fields are split when the block is complete.
        if (!this.appendHdr(d, b, s, eol)) return;
        if (e === s) this.headersComplete(toServer, d);
        return;
      case S_CHUNK_SIZE: {
        let i = s;
        while (i < e && isSpace(b[i]!)) i++;
        let n = 0;
        let digits = 0;
        for (; i < e; i++) {
          const c = b[i]!;
          const v = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
          if (v < 0) break;
          n = n * 16 + v;
          digits++;
        }
        if (e === s) return; // tolerate stray empty lines between chunks
        if (digits === 0 || digits > 12 || (i < e && b[i] !== 0x3b && !isSpace(b[i]!))) {
          this.counters.httpInvalidChunk++;
          if (d.tx) d.tx.anomalies |= HttpAnomaly.INVALID_CHUNK;
          d.state = S_ERROR;
          return;
        }
        if (n === 0) {
          d.state = S_TRAILERS;
        } else {
          d.remaining = n;
          d.state = S_CHUNK_DATA;
        }
        return;
      }
      case S_CHUNK_DATA_END:
        // The CRLF after chunk data; tolerate its absence as libhtp does.
        d.state = S_CHUNK_SIZE;
        if (e !== s) this.onLine(toServer, d, b, s, eol);
        return;
      case S_TRAILERS:
        if (e === s) this.messageComplete(toServer, d);
        return;
    }
  }

  private newTransaction(): HttpTransaction {
    const tx = new HttpTransaction(this.nextId++);
    this.counters.httpTransactions++;
    this.transactions.push(tx);
    if (this.transactions.length > this.limits.maxTransactions) this.evictOldest();
    const budget = this.limits.maxRetainedBytes ?? 0;
    if (budget > 0) {
      // Once per new transaction (not per packet): sum what the flow keeps, drop the oldest.
      let bytes = 0;
      for (const t of this.transactions) bytes += t.retainedBytes();
      while (bytes > budget && this.transactions.length > 1) bytes -= this.evictOldest().retainedBytes();
    }
    return tx;
  }

  private evictOldest(): HttpTransaction {
    const old = this.transactions.shift()!;
    this.counters.httpTxEvicted++;
    if (this.nextResponseTxId <= old.id) this.nextResponseTxId = old.id + 1;
    // A direction still parsing the evicted transaction (mid-headers or mid-body) finishes
    // that message into it, detached from the list. Dropping it here left the direction in
    // a header or body state without a transaction, and its next header line threw (found
    // by the hardening fuzzer: 256 one-line HTTP/0.9 requests during a split response).
    return old;
  }

  // libhtp htp_parse_request_line_generic: method, whitespace, target, whitespace, protocol.
  private requestLine(d: Direction, line: Uint8Array): void {
    const tx = this.newTransaction();
    d.tx = tx;
    // A view into the message's header block, which the transaction keeps (no copy).
    const rl = line;
    tx.requestLine = rl;
    let i = 0;
    while (i < rl.length && isSpace(rl[i]!)) i++; // leading whitespace: ignored (IDS personality)
    const ms = i;
    while (i < rl.length && !isSpace(rl[i]!)) i++;
    tx.method = rl.subarray(ms, i);
    while (i < rl.length && isSpace(rl[i]!)) i++;
    const us = i;
    while (i < rl.length && !isSpace(rl[i]!)) i++;
    let ue = i;
    while (i < rl.length && isSpace(rl[i]!)) i++;
    let proto = rl.subarray(i);
    // libhtp: if what follows the target does not look like "HTTP", the spaces belong to the target.
    if (proto.length > 0 && !(proto.length >= 4 && asciiEq(proto.subarray(0, 4), 'http'))) {
      ue = rl.length;
      while (ue > us && isSpace(rl[ue - 1]!)) ue--;
      proto = rl.subarray(rl.length);
    }
    tx.uriRaw = rl.subarray(us, ue);
    tx.protocol = trim(proto);
    if (tx.method.length === 0 || tx.uriRaw.length === 0) {
      tx.anomalies |= HttpAnomaly.INVALID_REQUEST_LINE;
      this.counters.httpInvalidRequestLine++;
    }
    tx.requestProgress = HttpProgress.LINE;
    tx.invalidate();
    if (tx.protocol.length === 0) {
      // HTTP/0.9: a request line alone, no headers (RFC 1945 "Simple-Request").
      tx.requestProgress = HttpProgress.COMPLETE;
      this.takeHdr(d);
      d.tx = null;
      return;
    }
    d.state = S_HEADERS;
  }

  // libhtp (htp_treat_response_line_as_body): a server line that does not start with
  // "HTTP" is an HTTP/0.9-style response: everything up to the close is its body.
  private responseWithoutStatusLine(d: Direction, b: Uint8Array, s: number, eol: number): void {
    const tx = this.responseTransaction();
    d.tx = tx;
    tx.anomalies |= HttpAnomaly.INVALID_RESPONSE_LINE;
    this.counters.httpInvalidResponseLine++;
    tx.responseGeneration++;
    tx.responseProgress = HttpProgress.BODY;
    tx.responseBody = new HttpBody(parseContentEncoding(null), this.limits.responseBodyLimit, this.limits.compressedBodyLimit, this.counters);
    tx.responseBody.append(b, s, eol);
    tx.invalidate();
    d.state = S_BODY_CLOSE;
  }

  private responseTransaction(): HttpTransaction {
    let tx = this.transaction(this.nextResponseTxId);
    if (!tx || tx.responseProgress >= HttpProgress.COMPLETE) {
      // A response nobody asked for (or we lost the request): libhtp creates a transaction.
      tx = this.newTransaction();
      tx.anomalies |= HttpAnomaly.RESPONSE_WITHOUT_REQUEST;
      this.nextResponseTxId = tx.id;
    }
    return tx;
  }

  private statusLine(d: Direction, line: Uint8Array): void {
    const tx = this.responseTransaction();
    d.tx = tx;
    // The response buffers are made anew (after an interim response: replaced).
    tx.responseGeneration++;
    const sl = line;
    tx.responseLine = sl;
    let i = 0;
    while (i < sl.length && isSpace(sl[i]!)) i++;
    const ps = i;
    while (i < sl.length && !isSpace(sl[i]!)) i++;
    tx.responseProtocol = sl.subarray(ps, i);
    while (i < sl.length && isSpace(sl[i]!)) i++;
    const cs = i;
    while (i < sl.length && !isSpace(sl[i]!)) i++;
    tx.statusCode = sl.subarray(cs, i);
    while (i < sl.length && isSpace(sl[i]!)) i++;
    tx.statusMessage = sl.subarray(i);
    if (!(tx.responseProtocol.length >= 4 && asciiEq(tx.responseProtocol.subarray(0, 4), 'http')) || tx.status === 0) {
      tx.anomalies |= HttpAnomaly.INVALID_RESPONSE_LINE;
      this.counters.httpInvalidResponseLine++;
    }
    tx.responseProgress = HttpProgress.LINE;
    tx.responseHeaders = [];
    tx.invalidate();
    d.state = S_HEADERS;
  }

  // Appends a line b[s, e) to the header block; false (direction stopped, counted) when over
  // the limit. The block is taken from the slab at the message's first line; growing copies
  // it into a larger one (views into the old one, the start line's, are moved at the end).
  private appendHdr(d: Direction, b: Uint8Array, s: number, e: number): boolean {
    const n = e - s;
    const off = d.hdrLen;
    if (off + n > this.limits.maxHeaderBlock) {
      this.counters.httpHeaderBlockTooLong++;
      d.state = S_ERROR;
      return false;
    }
    if (off + n > d.hdr.length) {
      const nb = allocBytes(Math.min(this.limits.maxHeaderBlock, Math.max(d.hdr.length * 2, off + n, HDR_INITIAL)));
      if (off > 0) nb.set(d.hdr.subarray(0, off));
      d.hdr = nb;
    }
    const hdr = d.hdr;
    if (n <= 64) {
      for (let i = s, at = off; i < e; i++) hdr[at++] = b[i]!;
    } else {
      hdr.set(b.subarray(s, e), off);
    }
    d.hdrLen = off + n;
    return true;
  }

  // The message's block becomes the transaction's: shrunk to its length (the slab takes the
  // rest back when nothing was allocated since), the start-line views moved onto it if the
  // block grew after they were made. The direction keeps no buffer until its next message.
  private takeHdr(d: Direction): Uint8Array {
    const block = shrinkBytes(d.hdr, d.hdrLen);
    const tx = d.tx;
    const old = d.lineBlock;
    if (tx && old !== d.hdr && old !== NO_BYTES) {
      if (d === this.req) {
        tx.requestLine = rebase(tx.requestLine, old, block);
        tx.method = rebase(tx.method, old, block);
        tx.uriRaw = rebase(tx.uriRaw, old, block);
        tx.protocol = rebase(tx.protocol, old, block);
      } else {
        tx.responseLine = rebase(tx.responseLine, old, block);
        tx.responseProtocol = rebase(tx.responseProtocol, old, block);
        tx.statusCode = rebase(tx.statusCode, old, block);
        tx.statusMessage = rebase(tx.statusMessage, old, block);
      }
      tx.invalidate();
    }
    d.hdr = NO_BYTES;
    d.lineBlock = NO_BYTES;
    d.hdrLen = 0;
    d.hdrStart = 0;
    return block;
  }

  // One field h[hs, he): name and value become views of h (two per field, not four).
  /** A field h[hs, he) and its continuation lines (pieces: start/end pairs in h), if any. */
  private addFolded(toServer: boolean, tx: HttpTransaction, h: Uint8Array, hs: number, he: number, pieces: number[] | null, repeats: number): number {
    if (pieces === null) return this.addField(toServer, tx, h, hs, he, repeats);
    const u = unfold(h, hs, he, pieces);
    return this.addField(toServer, tx, u, 0, u.length, repeats);
  }

  private addField(toServer: boolean, tx: HttpTransaction, h: Uint8Array, hs: number, he: number, repeats: number): number {
    let colon = -1;
    for (let i = hs; i < he; i++) if (h[i] === 0x3a) { colon = i; break; }
    let name: Uint8Array;
    let vs: number;
    if (colon < 0) {
      // libhtp: a line without a colon becomes a header with an empty name.
      tx.anomalies |= HttpAnomaly.HEADER_WITHOUT_COLON;
      name = h.subarray(hs, hs);
      vs = hs;
    } else {
      let ne = colon;
      while (ne > hs && isSpace(h[ne - 1]!)) ne--;
      let ns = hs;
      while (ns < ne && isSpace(h[ns]!)) ns++;
      name = h.subarray(ns, ne);
      vs = colon + 1;
    }
    let ve = he;
    while (vs < ve && isSpace(h[vs]!)) vs++;
    while (ve > vs && isSpace(h[ve - 1]!)) ve--;
    const value = h.subarray(vs, ve);
    const list = toServer ? tx.requestHeaders : tx.responseHeaders;
    const key = httpHeaderKey(name);
    // Names are looked up in a Map only for large blocks (a linear search is cheaper for the
    // usual handful of headers, and allocates nothing).
    let index = this.headerIndex;
    if (index === null && list.length >= HEADER_INDEX_MIN) {
      index = this.headerIndex = new Map<string, HttpHeader>();
      for (const hd of list) index.set(hd.key, hd);
    }
    const existing = index !== null ? index.get(key) : findHeader(list, key);
    if (existing !== undefined) {
      if (repeats >= MAX_HEADER_REPETITIONS) return this.dropHeader(tx, repeats);
      if (key === 'content-length' && parseContentLength(existing.value) !== parseContentLength(value)) {
        tx.anomalies |= HttpAnomaly.CONTENT_LENGTH_CONFLICT;
      }
      joinHeaderValue(existing, value);
      return repeats + 1;
    }
    if (list.length >= MAX_HEADERS) return this.dropHeader(tx, repeats);
    const header: HttpHeader = { name, key, value };
    list.push(header);
    if (index !== null) index.set(key, header);
    return repeats;
  }

  private dropHeader(tx: HttpTransaction, repeats: number): number {
    tx.anomalies |= HttpAnomaly.HEADER_LIMIT;
    this.counters.httpHeadersDropped++;
    return repeats;
  }

  private headersComplete(toServer: boolean, d: Direction): void {
    const tx = d.tx!;
    const start = d.hdrStart;
    const end = d.hdrLen;
    const block = this.takeHdr(d);
    const raw = block.subarray(start, end);
    // Fields, line by line (each ends at LF, a CR before it dropped). A line starting with
    // whitespace continues the field before it (obs-fold, RFC 7230 §3.2.4): libhtp appends
    // it as it is. Continuations are noted and joined once per field: joining line by line
    // made a block of thousands of short continuation lines cost quadratic time (found by
    // the hardening fuzzer). The message's header list starts empty (a new transaction, or
    // reset by statusLine).
    let repeats = 0;
    let fs = -1;
    let fe = -1;
    let pieces: number[] | null = null;
    for (let i = start; i < end;) {
      let nl = i;
      while (nl < end && block[nl] !== 0x0a) nl++;
      let e = nl;
      if (e > i && block[e - 1] === 0x0d) e--;
      if (e > i) {
        if (fs >= 0 && isSpace(block[i]!)) {
          tx.anomalies |= HttpAnomaly.FOLDED_HEADER;
          (pieces ??= []).push(i, e);
        } else {
          if (fs >= 0) repeats = this.addFolded(toServer, tx, block, fs, fe, pieces, repeats);
          fs = i;
          fe = e;
          pieces = null;
        }
      }
      i = nl + 1;
    }
    if (fs >= 0) repeats = this.addFolded(toServer, tx, block, fs, fe, pieces, repeats);
    this.headerIndex = null;
    if (toServer) tx.requestHeadersRaw = raw;
    else tx.responseHeadersRaw = raw;
    tx.invalidate();

    if (toServer) {
      tx.requestProgress = HttpProgress.HEADERS;
      const te = tx.requestHeader('transfer-encoding');
      const cl = tx.requestHeader('content-length');
      if (hasChunked(te) || (cl !== null && parseContentLength(cl) > 0)) {
        tx.requestBody = new HttpBody(parseContentEncoding(tx.requestHeader('content-encoding')),
          this.limits.requestBodyLimit, this.limits.compressedBodyLimit, this.counters, cl !== null ? Math.max(0, parseContentLength(cl)) : 0);
      }
      if (hasChunked(te)) {
        d.state = S_CHUNK_SIZE;
        tx.requestProgress = HttpProgress.BODY;
      } else if (cl !== null && parseContentLength(cl) > 0) {
        d.remaining = parseContentLength(cl);
        d.state = S_BODY_LENGTH;
        tx.requestProgress = HttpProgress.BODY;
      } else {
        this.messageComplete(true, d);
      }
      return;
    }

    const status = tx.status;
    if (status >= 100 && status < 200 && status !== 101) {
      // Interim response: the real one follows for the same request.
      tx.anomalies |= HttpAnomaly.INTERIM_RESPONSE;
      tx.responseProgress = HttpProgress.NONE;
      d.state = S_LINE;
      return;
    }
    tx.responseProgress = HttpProgress.HEADERS;
    const method = tx.method === null ? '' : bytesEqual(tx.method, 'CONNECT') ? 'CONNECT' : bytesEqual(tx.method, 'HEAD') ? 'HEAD' : '?';
    if (status === 101 || (method === 'CONNECT' && status >= 200 && status < 300)) {
      tx.responseProgress = HttpProgress.COMPLETE;
      this.req.held = null;
      this.req.heldLen = 0;
      this.enterTunnel();
      return;
    }
    if (method === 'CONNECT' && this.req.state === S_CONNECT_WAIT) {
      // Refused: what the client sent meanwhile is HTTP again.
      this.req.state = S_LINE;
      const held = this.req.held;
      this.req.held = null;
      this.req.heldLen = 0;
      if (held !== null) for (const h of held) this.feed(true, h);
    }
    const te = tx.responseHeader('transfer-encoding');
    const cl = tx.responseHeader('content-length');
    const noBody = method === 'HEAD' || status === 204 || status === 304;
    if (!noBody) {
      tx.responseBody = new HttpBody(parseContentEncoding(tx.responseHeader('content-encoding')),
        this.limits.responseBodyLimit, this.limits.compressedBodyLimit, this.counters, cl !== null ? Math.max(0, parseContentLength(cl)) : 0);
    }
    if (noBody) {
      this.messageComplete(false, d);
    } else if (hasChunked(te)) {
      d.state = S_CHUNK_SIZE;
      tx.responseProgress = HttpProgress.BODY;
    } else if (cl !== null && parseContentLength(cl) >= 0) {
      d.remaining = parseContentLength(cl);
      tx.responseProgress = HttpProgress.BODY;
      if (d.remaining === 0) this.messageComplete(false, d);
      else d.state = S_BODY_LENGTH;
    } else {
      d.state = S_BODY_CLOSE;
      tx.responseProgress = HttpProgress.BODY;
    }
  }

  private enterTunnel(): void {
    this.tunnel = true;
    this.counters.httpTunnels++;
    this.req.state = S_TUNNEL;
    this.res.state = S_TUNNEL;
  }

  private bodyData(toServer: boolean, d: Direction, data: Uint8Array, s: number, e: number): void {
    if (e <= s) return;
    const tx = d.tx;
    const body = tx ? (toServer ? tx.requestBody : tx.responseBody) : null;
    // No tx.invalidate(): no cached buffer depends on the body, and dropping them on every
    // body segment rebuilt http.header / http.start / ... for each packet of the response.
    if (body) body.append(data, s, e);
  }

  private messageComplete(toServer: boolean, d: Direction): void {
    const tx = d.tx;
    d.state = S_LINE;
    d.tx = null;
    if (!tx) return;
    if (toServer) {
      tx.requestProgress = HttpProgress.COMPLETE;
      if (tx.method && bytesEqual(tx.method, 'CONNECT') && tx.responseProgress < HttpProgress.HEADERS) {
        // Wait for the response before parsing anything else from the client (libhtp).
        d.state = S_CONNECT_WAIT;
      }
    } else {
      tx.responseProgress = HttpProgress.COMPLETE;
      this.nextResponseTxId = tx.id + 1;
    }
    tx.invalidate();
  }
}
