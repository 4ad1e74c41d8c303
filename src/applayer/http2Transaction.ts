// One HTTP/2 transaction as Suricata 7 makes them (rust/src/http2/http2.rs): a stream's frames
// in both directions, or a "global" transaction holding one frame of stream 0 (SETTINGS,
// WINDOW_UPDATE, PING, GOAWAY), and the sticky buffers derived from its header blocks
// (rust/src/http2/detect.rs):
//
// - http.uri / http.uri.raw: the first `:path`; http.method: the first `:method`;
//   http.stat_code: the first `:status`; http.host.raw: `:authority` (repeats joined ", "),
//   http.host: the same lowercased and cut at the first ':'.
// - http.header: "name: value\r\n" for every field of the direction's header blocks (pseudo
//   headers included), values trimmed of spaces and tabs, cookie / set-cookie left out;
//   http.header.raw: the same untrimmed with cookies; http.header_names: "\r\n" then each name
//   and "\r\n", then "\r\n".
// - the named-header buffers (user agent, cookie, content type, server, ...): every value of
//   that name joined with ", ".
// - http.protocol is "HTTP/2" for every transaction and direction; http.stat_msg is empty
//   (HTTP/2 has no reason phrase); http.request_line is "<method> <path> HTTP/2" and
//   http.response_line "HTTP/2 <status>\r\n".
// - http.request_body / http.response_body / file.data: DATA frame payloads, decompressed per
//   content-encoding and bounded like HTTP/1 bodies (HttpBody).
import type { HpackField, HpackHeaderBlock } from './hpackDecoder';
import type { HttpBody } from './httpBody';
import { HttpProgress, BUFFER_ALIASES } from './httpTransaction';
import { latin1Text } from './latin1Text';

export const Http2FrameType = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;

/** Frame type names as `http2.frametype` takes them (Suricata's HTTP2FrameType). */
export const HTTP2_FRAME_TYPE_NAMES: readonly string[] = [
  'DATA', 'HEADERS', 'PRIORITY', 'RSTSTREAM', 'SETTINGS', 'PUSHPROMISE', 'PING', 'GOAWAY', 'WINDOWUPDATE', 'CONTINUATION',
];

/** RFC 9113 §7 error codes, named as `http2.errorcode` takes them (Suricata's HTTP2ErrorCode). */
export const HTTP2_ERROR_CODE_NAMES: readonly string[] = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED',
  'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
];

/**
 * RFC 9113 §6.5.2 setting identifiers, named as `http2.settings` takes them: Suricata's
 * HTTP2SettingsId knows 1-6 only (a later identifier is given by number).
 */
export const HTTP2_SETTINGS_NAMES: Readonly<Record<string, number>> = {
  SETTINGS_HEADER_TABLE_SIZE: 1,
  SETTINGS_ENABLE_PUSH: 2,
  SETTINGS_MAX_CONCURRENT_STREAMS: 3,
  SETTINGS_INITIAL_WINDOW_SIZE: 4,
  SETTINGS_MAX_FRAME_SIZE: 5,
  SETTINGS_MAX_HEADER_LIST_SIZE: 6,
};

export interface Http2Setting {
  id: number;
  value: number;
}

/** What a frame left for the http2.* keywords (one per frame kept on the transaction). */
export interface Http2Frame {
  type: number;
  flags: number;
  streamId: number;
  /** RST_STREAM / GOAWAY error code, else -1. */
  errorCode: number;
  /** PRIORITY weight, or the HEADERS priority weight, else -1. */
  priorityWeight: number;
  /** WINDOW_UPDATE increment, else -1. */
  window: number;
  settings: Http2Setting[] | null;
  /** Decoded header block (HEADERS / PUSH_PROMISE with their CONTINUATIONs), else null. */
  headers: HpackHeaderBlock | null;
}

const CRLF = Uint8Array.of(0x0d, 0x0a);
const COLON_SP = Uint8Array.of(0x3a, 0x20);
const SP = Uint8Array.of(0x20);
const HTTP2 = Uint8Array.from(Buffer.from('HTTP/2', 'latin1'));
const HTTP2_SP = Uint8Array.from(Buffer.from('HTTP/2 ', 'latin1'));
const EMPTY = new Uint8Array(0);
const COMMA_SP = Uint8Array.of(0x2c, 0x20);

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

function nameIs(name: Uint8Array, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if (name[i] !== lower.charCodeAt(i)) return false;
  return true;
}

function trimSpTab(v: Uint8Array): Uint8Array {
  let s = 0;
  let e = v.length;
  while (s < e && (v[s] === 0x20 || v[s] === 0x09)) s++;
  while (e > s && (v[e - 1] === 0x20 || v[e - 1] === 0x09)) e--;
  return v.subarray(s, e);
}

export class Http2Transaction {
  /** Stream id; 0 for a global transaction. */
  streamId: number;
  /** A transaction of one stream-0 frame (Suricata's HTTP2StateGlobal): complete both ways. */
  readonly global: boolean;
  requestProgress: number = HttpProgress.NONE;
  responseProgress: number = HttpProgress.NONE;
  readonly framesTs: Http2Frame[] = [];
  readonly framesTc: Http2Frame[] = [];
  requestBody: HttpBody | null = null;
  responseBody: HttpBody | null = null;
  /** Made from an HTTP/1.1 request upgraded to h2c (stream 1). */
  upgraded = false;
  /** Decoded header bytes kept (maintained by the parser for its per-connection budget). */
  headerBytes = 0;
  /**
   * Detection has inspected this direction once complete (Suricata's per-transaction inspection
   * flags): streams finish out of order, so later packets skip it instead of scanning it again.
   */
  inspectedTs = false;
  inspectedTc = false;
  private cache: Map<string, Uint8Array | null> | null = null;

  constructor(readonly id: number, streamId: number, global = false) {
    this.streamId = streamId;
    this.global = global;
    if (global) {
      this.requestProgress = HttpProgress.COMPLETE;
      this.responseProgress = HttpProgress.COMPLETE;
    }
  }

  /** Drops cached buffers (the parser calls this when the transaction changes). */
  invalidate(): void {
    if (this.cache !== null) this.cache.clear();
  }

  /** Every header field of one direction, in order (HEADERS, CONTINUATION, PUSH_PROMISE). */
  fields(toServer: boolean): HpackField[] {
    const out: HpackField[] = [];
    for (const f of toServer ? this.framesTs : this.framesTc) if (f.headers !== null) for (const h of f.headers.fields) out.push(h);
    return out;
  }

  /** Approximate bytes kept (header fields and bodies), for the parser's per-flow budget. */
  retainedBytes(): number {
    let n = (this.requestBody?.retainedBytes ?? 0) + (this.responseBody?.retainedBytes ?? 0);
    for (const fr of [this.framesTs, this.framesTc]) {
      for (const f of fr) {
        n += 32;
        if (f.headers !== null) for (const h of f.headers.fields) n += h.name.length + h.value.length;
        if (f.settings !== null) n += 8 * f.settings.length;
      }
    }
    return n;
  }

  private firstValue(toServer: boolean, name: string): Uint8Array | null {
    for (const f of toServer ? this.framesTs : this.framesTc) {
      if (f.headers === null) continue;
      for (const h of f.headers.fields) if (nameIs(h.name, name)) return h.value;
    }
    return null;
  }

  /** All values of a header name (lowercase, as HTTP/2 sends names), joined with ", ". */
  headerValue(toServer: boolean, name: string): Uint8Array | null {
    const parts: Uint8Array[] = [];
    for (const f of toServer ? this.framesTs : this.framesTc) {
      if (f.headers === null) continue;
      for (const h of f.headers.fields) {
        if (!nameIs(h.name, name)) continue;
        if (parts.length > 0) parts.push(COMMA_SP);
        parts.push(h.value);
      }
    }
    if (parts.length === 0) return null;
    return parts.length === 1 ? parts[0]! : concat(parts);
  }

  private cached(key: string, make: () => Uint8Array | null): Uint8Array | null {
    if (this.cache === null) this.cache = new Map();
    if (this.cache.has(key)) return this.cache.get(key)!;
    const v = make();
    this.cache.set(key, v);
    return v;
  }

  private headerBuffer(toServer: boolean, raw: boolean): Uint8Array | null {
    const parts: Uint8Array[] = [];
    for (const h of this.fields(toServer)) {
      if (!raw && nameIs(h.name, toServer ? 'cookie' : 'set-cookie')) continue;
      parts.push(h.name, COLON_SP, raw ? h.value : trimSpTab(h.value), CRLF);
    }
    return parts.length > 0 ? concat(parts) : null;
  }

  private headerNames(toServer: boolean): Uint8Array | null {
    const fields = this.fields(toServer);
    if (fields.length === 0) return null;
    const parts: Uint8Array[] = [CRLF];
    for (const h of fields) parts.push(h.name, CRLF);
    parts.push(CRLF);
    return concat(parts);
  }

  private hostNorm(): Uint8Array | null {
    const v = this.headerValue(true, ':authority');
    if (v === null) return null;
    const colon = v.indexOf(0x3a);
    const host = colon >= 0 ? v.subarray(0, colon) : v;
    return Uint8Array.from(Buffer.from(latin1Text(host).toLowerCase(), 'latin1'));
  }

  /**
   * A Suricata HTTP sticky buffer by name for this transaction (see the header comment), or
   * null when it has none. The same names and aliases as HttpTransaction.buffer.
   */
  buffer(name: string, toServer: boolean): Uint8Array | null {
    const key = BUFFER_ALIASES[name] ?? name;
    switch (key) {
      case 'http.uri':
      case 'http.uri.raw':
        return toServer ? this.firstValue(true, ':path') : null;
      case 'http.method': return toServer ? this.firstValue(true, ':method') : null;
      case 'http.protocol': return HTTP2;
      case 'http.stat_code': return toServer ? null : this.firstValue(false, ':status');
      case 'http.stat_msg': return toServer ? null : EMPTY;
      case 'http.host': return toServer ? this.cached('host', () => this.hostNorm()) : null;
      case 'http.host.raw': return toServer ? this.cached('hostRaw', () => this.headerValue(true, ':authority')) : null;
      case 'http.request_line':
        return toServer ? this.cached('rl', () => {
          const m = this.firstValue(true, ':method');
          const p = this.firstValue(true, ':path');
          return m === null || p === null ? null : concat([m, SP, p, SP, HTTP2]);
        }) : null;
      case 'http.response_line':
        return toServer ? null : this.cached('sl', () => {
          const s = this.firstValue(false, ':status');
          return s === null ? null : concat([HTTP2_SP, s, CRLF]);
        });
      case 'http.header': return this.cached(toServer ? 'h_ts' : 'h_tc', () => this.headerBuffer(toServer, false));
      case 'http.header.raw': return this.cached(toServer ? 'hr_ts' : 'hr_tc', () => this.headerBuffer(toServer, true));
      case 'http.header_names': return this.cached(toServer ? 'hn_ts' : 'hn_tc', () => this.headerNames(toServer));
      case 'http.user_agent': return toServer ? this.cached('ua', () => this.headerValue(true, 'user-agent')) : null;
      case 'http.cookie': return this.cached(toServer ? 'c_ts' : 'c_tc', () => this.headerValue(toServer, toServer ? 'cookie' : 'set-cookie'));
      case 'http.content_type': return this.cached(toServer ? 'ct_ts' : 'ct_tc', () => this.headerValue(toServer, 'content-type'));
      case 'http.content_len': return this.cached(toServer ? 'cl_ts' : 'cl_tc', () => this.headerValue(toServer, 'content-length'));
      case 'http.referer': return toServer ? this.cached('ref', () => this.headerValue(true, 'referer')) : null;
      case 'http.accept': return toServer ? this.cached('acc', () => this.headerValue(true, 'accept')) : null;
      case 'http.accept_enc': return toServer ? this.cached('acce', () => this.headerValue(true, 'accept-encoding')) : null;
      case 'http.accept_lang': return toServer ? this.cached('accl', () => this.headerValue(true, 'accept-language')) : null;
      case 'http.connection': return this.cached(toServer ? 'cn_ts' : 'cn_tc', () => this.headerValue(toServer, 'connection'));
      case 'http.server': return toServer ? null : this.cached('srv', () => this.headerValue(false, 'server'));
      case 'http.location': return toServer ? null : this.cached('loc', () => this.headerValue(false, 'location'));
      case 'http.request_body': return toServer && this.requestBody ? this.requestBody.bytes() : null;
      case 'http.response_body': return !toServer && this.responseBody ? this.responseBody.bytes() : null;
      case 'file.data':
        return toServer ? (this.requestBody ? this.requestBody.bytes() : null) : this.responseBody ? this.responseBody.bytes() : null;
      default:
        // http.start (HTTP/1 only in Suricata 7) and anything else.
        return null;
    }
  }

  /**
   * The index-th value of one kind over this direction's frames, or -1 past the last (for the
   * http2.* integer keywords): 0 frame types, 1 RST_STREAM/GOAWAY error codes, 2 priority
   * weights, 3 WINDOW_UPDATE increments, 4 HPACK size updates, 5/6 SETTINGS ids/values.
   * Cold-ish: only rules with http2.* keywords call it, on their candidate transactions.
   */
  valueAt(kind: number, index: number, toServer: boolean): number {
    let n = 0;
    for (const f of toServer ? this.framesTs : this.framesTc) {
      switch (kind) {
        case 0:
          if (n++ === index) return f.type;
          break;
        case 1:
          if (f.errorCode >= 0 && n++ === index) return f.errorCode;
          break;
        case 2:
          if (f.priorityWeight >= 0 && n++ === index) return f.priorityWeight;
          break;
        case 3:
          if (f.window >= 0 && n++ === index) return f.window;
          break;
        case 4:
          if (f.headers !== null) {
            const u = f.headers.sizeUpdates;
            if (index - n < u.length) return u[index - n]!;
            n += u.length;
          }
          break;
        case 5:
        case 6:
          if (f.settings !== null) {
            if (index - n < f.settings.length) {
              const st = f.settings[index - n]!;
              return kind === 5 ? st.id : st.value;
            }
            n += f.settings.length;
          }
          break;
        default:
          return -1;
      }
    }
    return -1;
  }

  /** Whether the named buffer can still change for this direction (false once final). */
  bufferFinal(name: string, toServer: boolean): boolean {
    return (toServer ? this.requestProgress : this.responseProgress) >= HttpProgress.COMPLETE;
  }
}
