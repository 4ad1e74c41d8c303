// Content-based app-layer protocol detection (port independent, like Suricata's
// app-layer-detect-proto.c with its pattern and probing parsers).
//
// Called per direction on the first bytes seen in that direction. Returns an AppProtoId when
// the bytes identify a protocol, AppProto.UNKNOWN when they rule out every protocol we know,
// or DETECT_NEED_MORE while they are a prefix of something that could still match. The
// caller bounds how long it keeps asking (see AppLayerState).
import { AppProto } from './appProto';
import { probeDns } from './dnsParser';

export const DETECT_NEED_MORE = -1;

// HTTP/1.x request methods Suricata registers as detection patterns (app-layer-htp.c
// HTPRegisterPatternsForProtocolDetection), each followed by a space or tab.
const HTTP_METHODS: readonly Uint8Array[] = [
  'GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE', 'PATCH', 'PROPFIND',
  'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'CHECKOUT', 'UNCHECKOUT', 'CHECKIN',
  'UPDATE', 'LABEL', 'REPORT', 'MKWORKSPACE', 'MKACTIVITY', 'MERGE', 'INVALID', 'VERSION-CONTROL',
  'BASELINE-CONTROL', 'SEARCH',
].map((m) => Buffer.from(m + ' ', 'latin1'));

const HTTP_SLASH = Buffer.from('HTTP/', 'latin1');
// RFC 9113 §3.4 client preface: Suricata detects HTTP/2 by it (a "big magic string").
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const SSH_DASH = Buffer.from('SSH-', 'latin1');

// Outcome of comparing data[start..end) with a literal at the start.
const LIT_NO = 0;
const LIT_PREFIX = 1; // data so far is a prefix of the literal
const LIT_YES = 2;

function literalAt(data: Uint8Array, start: number, end: number, lit: Uint8Array, caseless: boolean): number {
  const n = Math.min(end - start, lit.length);
  for (let i = 0; i < n; i++) {
    let c = data[start + i]!;
    if (caseless && c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== lit[i]) return LIT_NO;
  }
  return n === lit.length ? LIT_YES : LIT_PREFIX;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function readU32BE(d: Uint8Array, o: number): number {
  return ((d[o]! << 24) >>> 0) + (d[o + 1]! << 16) + (d[o + 2]! << 8) + d[o + 3]!;
}

function readI32LE(d: Uint8Array, o: number): number {
  return d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24);
}

function detectHttpRequest(d: Uint8Array, s: number, e: number): number {
  let prefix = false;
  for (let i = 0; i < HTTP_METHODS.length; i++) {
    const r = literalAt(d, s, e, HTTP_METHODS[i]!, false);
    if (r === LIT_YES) return AppProto.HTTP;
    if (r === LIT_PREFIX) prefix = true;
  }
  return prefix ? DETECT_NEED_MORE : AppProto.UNKNOWN;
}

// TLS record header (RFC 8446 §5.1 / RFC 5246 §6.2): type 22 handshake, version 3.x,
// then a handshake header whose type fits the direction (ClientHello / ServerHello).
function detectTls(d: Uint8Array, s: number, e: number, toServer: boolean): number {
  const n = e - s;
  if (n >= 1 && d[s] !== 0x16) return AppProto.UNKNOWN;
  if (n >= 2 && d[s + 1] !== 0x03) return AppProto.UNKNOWN;
  if (n >= 3 && d[s + 2]! > 0x04) return AppProto.UNKNOWN;
  if (n < 6) return DETECT_NEED_MORE;
  const hsType = d[s + 5]!;
  if (toServer ? hsType !== 1 : hsType !== 2) return AppProto.UNKNOWN;
  return AppProto.TLS;
}

// RESP (redis serialization protocol): a client sends an array of bulk strings,
// "*<n>\r\n$<len>\r\n..."; a server replies with + - : $ or *.
function detectRedis(d: Uint8Array, s: number, e: number, toServer: boolean): number {
  const n = e - s;
  if (n < 1) return DETECT_NEED_MORE;
  const c0 = d[s]!;
  if (toServer) {
    if (c0 !== 0x2a /* * */) return AppProto.UNKNOWN;
  } else if (c0 !== 0x2b && c0 !== 0x2d && c0 !== 0x3a && c0 !== 0x24 && c0 !== 0x2a) {
    return AppProto.UNKNOWN;
  }
  // The first line must end in CRLF within a short distance; for "*" and "$" it is a number.
  let i = s + 1;
  const numeric = c0 === 0x2a || c0 === 0x24 || c0 === 0x3a;
  if (numeric && i < e && d[i] === 0x2d) i++; // "*-1" / "$-1" null replies
  for (; i < e && i < s + 512; i++) {
    const c = d[i]!;
    if (c === 0x0d) break;
    if (numeric && !isDigit(c)) return AppProto.UNKNOWN;
    if (!numeric && (c < 0x20 || c > 0x7e)) return AppProto.UNKNOWN;
  }
  if (i >= s + 512) return AppProto.UNKNOWN;
  if (i + 1 >= e) return DETECT_NEED_MORE;
  if (d[i + 1] !== 0x0a || i === s + 1) return AppProto.UNKNOWN;
  if (!toServer) return AppProto.REDIS;
  if (i + 2 >= e) return DETECT_NEED_MORE;
  return d[i + 2] === 0x24 ? AppProto.REDIS : AppProto.UNKNOWN;
}

// PostgreSQL frontend's first message (protocol docs, "Message Formats"): Int32 length then
// Int32 code: 196608 (3.0 StartupMessage), 80877103 SSLRequest, 80877104 GSSENCRequest,
// 80877102 CancelRequest. The backend speaks second; we only detect from the client side.
function detectPgsql(d: Uint8Array, s: number, e: number, toServer: boolean): number {
  if (!toServer) return AppProto.UNKNOWN;
  if (e - s < 8) {
    // The length field is small and big-endian, so its first two bytes are zero.
    if (e - s >= 1 && d[s] !== 0) return AppProto.UNKNOWN;
    if (e - s >= 2 && d[s + 1] !== 0) return AppProto.UNKNOWN;
    return DETECT_NEED_MORE;
  }
  const len = readU32BE(d, s);
  const code = readU32BE(d, s + 4);
  if ((code === 80877103 || code === 80877104) && len === 8) return AppProto.PGSQL;
  if (code === 80877102 && len === 16) return AppProto.PGSQL;
  if (code === 196608 && len >= 8 && len <= 10000) return AppProto.PGSQL;
  return AppProto.UNKNOWN;
}

// MySQL server greeting (Protocol::HandshakeV10): 3-byte length, sequence 0, protocol 10,
// then a NUL-terminated printable server version; or an ERR_Packet refusing the client.
function detectMysql(d: Uint8Array, s: number, e: number, toServer: boolean): number {
  if (toServer) return AppProto.UNKNOWN;
  const n = e - s;
  if (n >= 4 && d[s + 3] !== 0) return AppProto.UNKNOWN;
  if (n < 5) return DETECT_NEED_MORE;
  const len = d[s]! | (d[s + 1]! << 8) | (d[s + 2]! << 16);
  if (d[s + 4] === 0xff) {
    // ERR_Packet instead of a greeting ("Host ... is not allowed to connect"): an error
    // code, then a printable message filling the packet.
    if (len < 4 || len > 1024) return AppProto.UNKNOWN;
    if (n < 4 + len) return DETECT_NEED_MORE;
    for (let i = s + 7; i < s + 4 + len; i++) if (d[i]! < 0x20 || d[i]! > 0x7e) return AppProto.UNKNOWN;
    return AppProto.MYSQL;
  }
  if (d[s + 4] !== 0x0a) return AppProto.UNKNOWN;
  if (len < 20 || len > 1024) return AppProto.UNKNOWN;
  for (let i = s + 5; i < e && i < s + 5 + 64; i++) {
    const c = d[i]!;
    if (c === 0) return i > s + 5 ? AppProto.MYSQL : AppProto.UNKNOWN;
    if (c < 0x20 || c > 0x7e) return AppProto.UNKNOWN;
  }
  return e - s < 5 + 64 ? DETECT_NEED_MORE : AppProto.UNKNOWN;
}

// MongoDB wire protocol header: messageLength, requestID, responseTo, opCode (all int32 LE).
// OP_MSG 2013, OP_QUERY 2004, OP_COMPRESSED 2012 from clients; OP_REPLY 1 / OP_MSG from servers.
function detectMongodb(d: Uint8Array, s: number, e: number, toServer: boolean): number {
  const n = e - s;
  if (n < 16) {
    // messageLength < 48 MiB: its top byte is zero.
    if (n >= 4 && d[s + 3] !== 0) return AppProto.UNKNOWN;
    return DETECT_NEED_MORE;
  }
  const len = readI32LE(d, s);
  const responseTo = readI32LE(d, s + 8);
  const op = readI32LE(d, s + 12);
  if (len < 16 || len > 48 * 1024 * 1024) return AppProto.UNKNOWN;
  if (toServer) {
    // Requests carry responseTo 0; some drivers (PyMongo's OP_QUERY) send -1.
    if (responseTo !== 0 && responseTo !== -1) return AppProto.UNKNOWN;
    if (op !== 2013 && op !== 2004 && op !== 2012) return AppProto.UNKNOWN;
  } else if (op !== 1 && op !== 2013 && op !== 2012) {
    return AppProto.UNKNOWN;
  }
  return AppProto.MONGODB;
}

const USER_SP = Buffer.from('USER ', 'latin1');
const AUTH_SP = Buffer.from('AUTH ', 'latin1');
const EHLO_SP = Buffer.from('EHLO ', 'latin1');
const HELO_SP = Buffer.from('HELO ', 'latin1');
const B220 = Buffer.from('220', 'latin1');

function containsCaseless(d: Uint8Array, s: number, e: number, word: string): boolean {
  outer: for (let i = s; i + word.length <= e; i++) {
    for (let j = 0; j < word.length; j++) {
      let c = d[i + j]!;
      if (c >= 0x61 && c <= 0x7a) c -= 0x20;
      if (c !== word.charCodeAt(j)) continue outer;
    }
    return true;
  }
  return false;
}

// FTP / SMTP: client commands (USER, AUTH → ftp; EHLO, HELO → smtp), or the server's "220"
// banner naming the service. A plain "220" banner naming neither stays unknown on that side.
function detectFtpSmtp(d: Uint8Array, s: number, e: number, toServer: boolean): number {
  if (toServer) {
    let prefix = false;
    for (const [lit, proto] of [[USER_SP, AppProto.FTP], [EHLO_SP, AppProto.SMTP], [HELO_SP, AppProto.SMTP]] as const) {
      const r = literalAt(d, s, e, lit, true);
      if (r === LIT_YES) return proto;
      if (r === LIT_PREFIX) prefix = true;
    }
    // "AUTH " is shared by FTP (RFC 2228) and SMTP; only FTP clients open with it.
    const a = literalAt(d, s, e, AUTH_SP, true);
    if (a === LIT_YES) return AppProto.FTP;
    if (a === LIT_PREFIX) prefix = true;
    return prefix ? DETECT_NEED_MORE : AppProto.UNKNOWN;
  }
  const r = literalAt(d, s, e, B220, false);
  if (r === LIT_NO) return AppProto.UNKNOWN;
  let eol = -1;
  for (let i = s; i < e && i < s + 512; i++) if (d[i] === 0x0a) { eol = i; break; }
  if (eol < 0) return e - s < 512 ? DETECT_NEED_MORE : AppProto.UNKNOWN;
  if (containsCaseless(d, s, eol, 'FTP')) return AppProto.FTP;
  if (containsCaseless(d, s, eol, 'SMTP')) return AppProto.SMTP;
  return AppProto.UNKNOWN;
}

type Probe = (d: Uint8Array, s: number, e: number, toServer: boolean) => number;
const PROBES: readonly Probe[] = [detectTls, detectRedis, detectPgsql, detectMysql, detectMongodb, detectFtpSmtp];

/**
 * Identify the app-layer protocol from the first bytes of one direction.
 * @param data bytes starting at the first byte of the direction's stream (or one UDP payload)
 * @param start first byte to look at in `data`
 * @param end one past the last byte
 * @param toServer direction: client to server
 * @param isTcp TCP stream (else a UDP datagram, where only DNS is detected)
 * @returns an AppProtoId, AppProto.UNKNOWN (nothing can match), or DETECT_NEED_MORE
 */
export function detectAppProtocol(data: Uint8Array, start: number, end: number, toServer: boolean, isTcp: boolean): number {
  if (!isTcp) return probeDns(data, start, end, false, toServer) === 1 ? AppProto.DNS : AppProto.UNKNOWN;
  if (end <= start) return DETECT_NEED_MORE;
  let more = false;
  let r: number;

  if (toServer) {
    const h2 = literalAt(data, start, end, HTTP2_PREFACE, false);
    if (h2 === LIT_YES) return AppProto.HTTP2;
    r = detectHttpRequest(data, start, end);
    if (h2 === LIT_PREFIX && r === AppProto.UNKNOWN) r = DETECT_NEED_MORE;
  } else {
    const h = literalAt(data, start, end, HTTP_SLASH, false);
    r = h === LIT_YES ? AppProto.HTTP : h === LIT_PREFIX ? DETECT_NEED_MORE : AppProto.UNKNOWN;
  }
  if (r > 0) return r;
  if (r === DETECT_NEED_MORE) more = true;

  const ssh = literalAt(data, start, end, SSH_DASH, false);
  if (ssh === LIT_YES) return AppProto.SSH;
  if (ssh === LIT_PREFIX) more = true;

  for (let i = 0; i < PROBES.length; i++) {
    r = PROBES[i]!(data, start, end, toServer);
    if (r > 0) return r;
    if (r === DETECT_NEED_MORE) more = true;
  }

  // DNS over TCP (RFC 1035 §4.2.2): a 2-byte length, then a message. Tried last: its
  // probe is the weakest signature.
  const dns = probeDns(data, start, end, true, toServer);
  if (dns === 1) return AppProto.DNS;
  if (dns === 0) more = true;
  return more ? DETECT_NEED_MORE : AppProto.UNKNOWN;
}
