// One HTTP/1.x request/response pair and the Suricata sticky buffers derived from it.
//
// Buffers follow Suricata 7 (detect-http-*.c over libhtp 0.5): headers are kept in a table
// where a repeated name is stored once, with values joined by ", " and the first
// occurrence's spelling (libhtp htp_process_request_header_generic; a repeated
// Content-Length is not joined). Derived buffers are built once on first use.
import { allocBytes } from './allocBytes';
import { latin1Text } from './latin1Text';
import { httpHeaderKey } from './httpHeaderKey';
import { HttpBody } from './httpBody';
import { normalizeHostname, normalizeHttpUri, parseHttpUri, splitHostPort } from './normalizeHttpUri';

export interface HttpHeader {
  /** Name as sent (first occurrence), trailing whitespace removed. */
  name: Uint8Array;
  /** Lowercased name, for lookups. */
  key: string;
  /** Value with surrounding whitespace removed; repeats joined with ", ". */
  value: Uint8Array;
}

/** How far a message has been parsed; a buffer is final once its stage is passed. */
export const HttpProgress = {
  NONE: 0,
  LINE: 1,
  HEADERS: 2,
  BODY: 3,
  COMPLETE: 4,
} as const;

const COLON_SP = Uint8Array.of(0x3a, 0x20);

const COMMA_SP = Uint8Array.of(0x2c, 0x20);

/** Copies src into out at `at`; returns the end. */
function put(out: Uint8Array, at: number, src: Uint8Array): number {
  const n = src.length;
  if (n <= 16) {
    for (let i = 0; i < n; i++) out[at + i] = src[i]!;
  } else {
    out.set(src, at);
  }
  return at + n;
}

/** Writes "Name: value\r\n" per header (except those keyed `skip`) at `at`; returns the end. */
function putHeaderLines(out: Uint8Array, at: number, hs: readonly HttpHeader[], skip: string | null): number {
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i]!;
    if (h.key === skip) continue;
    at = put(out, at, h.name);
    out[at++] = 0x3a;
    out[at++] = 0x20;
    at = put(out, at, h.value);
    out[at++] = 0x0d;
    out[at++] = 0x0a;
  }
  return at;
}

/** The parts joined into one slab buffer (cold: multi-buffers; see the make* for the hot ones). */
function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (let i = 0; i < parts.length; i++) n += parts[i]!.length;
  const out = allocBytes(n);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    out.set(parts[i]!, at);
    at += parts[i]!.length;
  }
  return out;
}

const CONNECT = 'CONNECT';
// Derived-buffer slots (HttpTransaction.derive).
const D_URI = 0, D_HOST_RAW = 1, D_HOST = 2, D_HDR_TS = 3, D_HDR_TC = 4, D_HN_TS = 5, D_HN_TC = 6, D_ST_TS = 7, D_ST_TC = 8;
const D_COUNT = 9;

export function addHeader(headers: HttpHeader[], name: Uint8Array, value: Uint8Array): void {
  const key = httpHeaderKey(name);
  for (const h of headers) {
    if (h.key === key) {
      joinHeaderValue(h, value);
      return;
    }
  }
  headers.push({ name, key, value });
}

/** A repeat of header h: its value is appended after ", " (a repeated Content-Length is not). */
export function joinHeaderValue(h: HttpHeader, value: Uint8Array): void {
  if (h.key !== 'content-length') h.value = concat([h.value, COMMA_SP, value]);
}

export class HttpTransaction {
  /** Position of this transaction on its flow, from 0. */
  readonly id: number;

  requestProgress: number = HttpProgress.NONE;
  responseProgress: number = HttpProgress.NONE;

  requestLine: Uint8Array | null = null;
  method: Uint8Array | null = null;
  uriRaw: Uint8Array | null = null;
  /** Request protocol ("HTTP/1.1"); empty for HTTP/0.9. */
  protocol: Uint8Array | null = null;
  requestHeaders: HttpHeader[] = [];
  /** The header block as received, including the terminating empty line. */
  requestHeadersRaw: Uint8Array | null = null;
  requestBody: HttpBody | null = null;

  responseLine: Uint8Array | null = null;
  responseProtocol: Uint8Array | null = null;
  statusCode: Uint8Array | null = null;
  statusMessage: Uint8Array | null = null;
  responseHeaders: HttpHeader[] = [];
  responseHeadersRaw: Uint8Array | null = null;
  responseBody: HttpBody | null = null;

  /** Anomaly flags (HttpAnomaly bits). */
  anomalies = 0;
  /**
   * Counts the response start lines seen: an interim (1xx) response's line and headers are
   * replaced by the final response's (see bufferVersion).
   */
  responseGeneration = 0;

  /** Derived buffers by D_* slot: undefined until made (null: made, absent). */
  private derived: Array<Uint8Array | null | undefined> | null = null;
  /** The status code parsed from `statusParsedFrom` (the view it was parsed from). */
  private statusValue = 0;
  private statusParsedFrom: Uint8Array | null = null;

  constructor(id: number) {
    this.id = id;
  }

  requestHeader(key: string): Uint8Array | null {
    for (const h of this.requestHeaders) if (h.key === key) return h.value;
    return null;
  }

  responseHeader(key: string): Uint8Array | null {
    for (const h of this.responseHeaders) if (h.key === key) return h.value;
    return null;
  }

  /** Numeric status code, or 0 when absent or not a number. */
  get status(): number {
    const code = this.statusCode;
    if (!code) return 0;
    // Parsed once per status line (the getter is read several times per response packet).
    if (code !== this.statusParsedFrom) {
      // Digits only (the usual "200"): read them; anything else as Number() reads it.
      let v = 0;
      let i = 0;
      while (i < code.length && i < 15 && code[i]! >= 0x30 && code[i]! <= 0x39) v = v * 10 + code[i++]! - 0x30;
      if (i === 0 || i < code.length) {
        const n = Number(latin1Text(code));
        v = Number.isInteger(n) ? n : 0;
      }
      this.statusValue = v;
      this.statusParsedFrom = code;
    }
    return this.statusValue;
  }

  /**
   * Approximate bytes this transaction keeps: start lines, header blocks and bodies (derived
   * buffers and joined header values are not counted). For the parser's per-flow budget.
   */
  retainedBytes(): number {
    return (this.requestLine?.length ?? 0) + (this.requestHeadersRaw?.length ?? 0) + (this.requestBody?.retainedBytes ?? 0) +
      (this.responseLine?.length ?? 0) + (this.responseHeadersRaw?.length ?? 0) + (this.responseBody?.retainedBytes ?? 0);
  }

  /** Drops cached buffers (the parser calls this when the transaction changes). */
  invalidate(): void {
    if (this.derived !== null) this.derived.fill(undefined);
  }

  /**
   * A derived buffer (D_*), made on first use and kept until invalidate(): a slot per buffer
   * instead of a Map and a closure per call, since the engine asks for each of them on every
   * packet of the transaction.
   */
  private derive(k: number): Uint8Array | null {
    let d = this.derived;
    if (d === null) {
      d = this.derived = [];
      for (let i = 0; i < D_COUNT; i++) d.push(undefined);
    }
    let v = d[k];
    if (v === undefined) v = d[k] = this.make(k);
    return v;
  }

  private make(k: number): Uint8Array | null {
    switch (k) {
      case D_URI:
        return this.uriRaw ? normalizeHttpUri(this.uriRaw, this.isConnect()) : null;
      case D_HOST_RAW: {
        const uh = this.uriHost();
        return uh !== null ? uh : this.requestHeader('host');
      }
      case D_HOST: {
        const uh = this.uriHost();
        if (uh !== null) return normalizeHostname(uh);
        const h = this.requestHeader('host');
        if (h === null) return null;
        // Most Host values have no port or brackets: no split (an object and two views).
        let plain = h.length === 0 || h[0] !== 0x5b;
        for (let i = 0; plain && i < h.length; i++) if (h[i] === 0x3a) plain = false;
        return normalizeHostname(plain ? h : splitHostPort(h).host);
      }
      case D_HDR_TS: case D_HDR_TC: return this.makeHeader(k === D_HDR_TS);
      case D_HN_TS: case D_HN_TC: return this.makeHeaderNames(k === D_HN_TS);
      case D_ST_TS: case D_ST_TC: return this.makeStart(k === D_ST_TS);
      default: return null;
    }
  }

  /**
   * The host of an absolute-form or authority-form request-target, or null. An origin-form
   * target ("/path", the usual) has none: it is not parsed for it (that made an object and
   * views twice per transaction).
   */
  private uriHost(): Uint8Array | null {
    const raw = this.uriRaw;
    const connect = this.isConnect();
    if (raw === null || raw.length === 0 || (raw[0] === 0x2f && !connect)) return null;
    const u = parseHttpUri(raw, connect);
    return u.hostname;
  }

  /** `http.uri`: the normalised request-target (see normalizeHttpUri). */
  get uri(): Uint8Array | null {
    return this.derive(D_URI);
  }

  private isConnect(): boolean {
    const m = this.method;
    if (m === null || m.length !== 7) return false;
    for (let i = 0; i < 7; i++) if (m[i] !== CONNECT.charCodeAt(i)) return false;
    return true;
  }

  /** `http.host.raw`: the host of an absolute URI, else the Host header value as sent. */
  get hostRaw(): Uint8Array | null {
    return this.derive(D_HOST_RAW);
  }

  /** `http.host`: the host lowercased, without port or trailing dot. */
  get host(): Uint8Array | null {
    return this.derive(D_HOST);
  }

  /**
   * `http.header` for one direction: "Name: value\r\n" per header from the header table,
   * skipping Cookie (request) / Set-Cookie (response): those are in `http.cookie` only
   * (Suricata detect-http-header.c).
   */
  header(toServer: boolean): Uint8Array | null {
    return this.derive(toServer ? D_HDR_TS : D_HDR_TC);
  }

  private makeHeader(toServer: boolean): Uint8Array | null {
    const hs = toServer ? this.requestHeaders : this.responseHeaders;
    const skip = toServer ? 'cookie' : 'set-cookie';
    if ((toServer ? this.requestProgress : this.responseProgress) < HttpProgress.HEADERS) return null;
    // Sized first, then written into one slab buffer (no list of parts per buffer).
    let n = 0;
    let count = 0;
    for (let i = 0; i < hs.length; i++) {
      const h = hs[i]!;
      if (h.key === skip) continue;
      n += h.name.length + h.value.length + 4;
      count++;
    }
    if (count === 0) return null;
    const out = allocBytes(n);
    putHeaderLines(out, 0, hs, skip);
    return out;
  }

  /** `http.header_names`: "\r\nName1\r\nName2\r\n\r\n" (as sent, each name once). */
  headerNames(toServer: boolean): Uint8Array | null {
    return this.derive(toServer ? D_HN_TS : D_HN_TC);
  }

  private makeHeaderNames(toServer: boolean): Uint8Array | null {
    const hs = toServer ? this.requestHeaders : this.responseHeaders;
    if ((toServer ? this.requestProgress : this.responseProgress) < HttpProgress.HEADERS || hs.length === 0) return null;
    let n = 4;
    for (let i = 0; i < hs.length; i++) n += hs[i]!.name.length + 2;
    const out = allocBytes(n);
    out[0] = 0x0d;
    out[1] = 0x0a;
    let at = 2;
    for (let i = 0; i < hs.length; i++) {
      at = put(out, at, hs[i]!.name);
      out[at++] = 0x0d;
      out[at++] = 0x0a;
    }
    out[at++] = 0x0d;
    out[at] = 0x0a;
    return out;
  }

  /**
   * `http.start`: the request/status line and "\r\n", then every header (Cookie included)
   * as "Name: value\r\n", then "\r\n" when there was at least one header
   * (detect-http-start.c).
   */
  start(toServer: boolean): Uint8Array | null {
    return this.derive(toServer ? D_ST_TS : D_ST_TC);
  }

  private makeStart(toServer: boolean): Uint8Array | null {
    const line = toServer ? this.requestLine : this.responseLine;
    if (!line || (toServer ? this.requestProgress : this.responseProgress) < HttpProgress.HEADERS) return null;
    const hs = toServer ? this.requestHeaders : this.responseHeaders;
    let n = line.length + 2 + (hs.length > 0 ? 2 : 0);
    for (let i = 0; i < hs.length; i++) n += hs[i]!.name.length + hs[i]!.value.length + 4;
    const out = allocBytes(n);
    let at = put(out, 0, line);
    out[at++] = 0x0d;
    out[at++] = 0x0a;
    at = putHeaderLines(out, at, hs, null);
    if (hs.length > 0) {
      out[at++] = 0x0d;
      out[at] = 0x0a;
    }
    return out;
  }

  /**
   * `http.request_header` / `http.response_header` (Suricata 7 multi-buffers): one
   * "Name: value" per header table entry, no line end. Empty before the headers are done.
   */
  headerLines(toServer: boolean): Uint8Array[] {
    if ((toServer ? this.requestProgress : this.responseProgress) < HttpProgress.HEADERS) return [];
    return (toServer ? this.requestHeaders : this.responseHeaders).map((h) => concat([h.name, COLON_SP, h.value]));
  }

  /**
   * A Suricata HTTP sticky buffer by name (`http.uri`, `http_uri`, `http.header`, ...,
   * `file.data`), for the given direction. Null when the transaction has no such buffer
   * (yet). Request-only buffers return null for toServer=false and vice versa.
   */
  buffer(name: string, toServer: boolean): Uint8Array | null {
    const key = BUFFER_ALIASES[name] ?? name;
    switch (key) {
      case 'http.uri': return toServer ? this.uri : null;
      case 'http.uri.raw': return toServer ? this.uriRaw : null;
      case 'http.method': return toServer ? this.method : null;
      case 'http.request_line': return toServer ? this.requestLine : null;
      case 'http.protocol': return toServer ? this.protocol : this.responseProtocol;
      case 'http.header': return this.header(toServer);
      case 'http.header.raw': return toServer ? this.requestHeadersRaw : this.responseHeadersRaw;
      case 'http.header_names': return this.headerNames(toServer);
      case 'http.start': return this.start(toServer);
      case 'http.host': return toServer ? this.host : null;
      case 'http.host.raw': return toServer ? this.hostRaw : null;
      case 'http.user_agent': return toServer ? this.requestHeader('user-agent') : null;
      case 'http.cookie': return toServer ? this.requestHeader('cookie') : this.responseHeader('set-cookie');
      case 'http.content_type': return toServer ? this.requestHeader('content-type') : this.responseHeader('content-type');
      case 'http.content_len': return toServer ? this.requestHeader('content-length') : this.responseHeader('content-length');
      case 'http.referer': return toServer ? this.requestHeader('referer') : null;
      case 'http.accept': return toServer ? this.requestHeader('accept') : null;
      case 'http.accept_enc': return toServer ? this.requestHeader('accept-encoding') : null;
      case 'http.accept_lang': return toServer ? this.requestHeader('accept-language') : null;
      case 'http.connection': return toServer ? this.requestHeader('connection') : this.responseHeader('connection');
      case 'http.request_body': return toServer && this.requestBody ? this.requestBody.bytes() : null;
      case 'http.stat_code': return toServer ? null : this.statusCode;
      case 'http.stat_msg': return toServer ? null : this.statusMessage;
      case 'http.response_line': return toServer ? null : this.responseLine;
      case 'http.response_body': return !toServer && this.responseBody ? this.responseBody.bytes() : null;
      case 'file.data':
        // Suricata's file.data is the response body to the client and the request body to the server.
        return toServer ? (this.requestBody ? this.requestBody.bytes() : null) : this.responseBody ? this.responseBody.bytes() : null;
      case 'http.server': return toServer ? null : this.responseHeader('server');
      case 'http.location': return toServer ? null : this.responseHeader('location');
      default: return null;
    }
  }

  /**
   * For progressive inspection (DetectContext.bufferVersion): a number that stays the same as
   * long as the named buffer of this direction only grows — request buffers are written once,
   * response ones once per response start line (a 1xx interim response is replaced), bodies
   * grow at their end unless decompressed — or -1 when the buffer may change otherwise.
   */
  bufferVersion(name: string, toServer: boolean): number {
    const key = BUFFER_ALIASES[name] ?? name;
    const version = toServer ? 0 : this.responseGeneration;
    if (key === 'http.request_body' || key === 'http.response_body' || key === 'file.data') {
      const body = toServer ? this.requestBody : this.responseBody;
      return body === null || body.appendOnly ? version : -1;
    }
    return version;
  }

  /** Whether the named buffer can still change for this direction (false once final). */
  bufferFinal(name: string, toServer: boolean): boolean {
    const key = BUFFER_ALIASES[name] ?? name;
    const p = toServer ? this.requestProgress : this.responseProgress;
    if (key === 'http.request_body' || key === 'http.response_body' || key === 'file.data') return p >= HttpProgress.COMPLETE;
    if (key === 'http.uri' || key === 'http.uri.raw' || key === 'http.method' || key === 'http.request_line' ||
        key === 'http.stat_code' || key === 'http.stat_msg' || key === 'http.response_line') return p >= HttpProgress.LINE;
    return p >= HttpProgress.HEADERS;
  }
}

/** Legacy content modifiers and Suricata 6 names, mapped to the Suricata 7 buffer names. */
export const BUFFER_ALIASES: Readonly<Record<string, string>> = {
  http_uri: 'http.uri',
  http_raw_uri: 'http.uri.raw',
  http_method: 'http.method',
  http_request_line: 'http.request_line',
  http_protocol: 'http.protocol',
  http_header: 'http.header',
  http_raw_header: 'http.header.raw',
  http_header_names: 'http.header_names',
  http_start: 'http.start',
  http_host: 'http.host',
  http_raw_host: 'http.host.raw',
  http_user_agent: 'http.user_agent',
  http_cookie: 'http.cookie',
  http_content_type: 'http.content_type',
  http_content_len: 'http.content_len',
  http_referer: 'http.referer',
  http_accept: 'http.accept',
  http_accept_enc: 'http.accept_enc',
  http_accept_lang: 'http.accept_lang',
  http_connection: 'http.connection',
  http_client_body: 'http.request_body',
  http_stat_code: 'http.stat_code',
  http_stat_msg: 'http.stat_msg',
  http_response_line: 'http.response_line',
  http_server_body: 'http.response_body',
  file_data: 'file.data',
  http_server: 'http.server',
  http_location: 'http.location',
};
