// The inspection buffers a rule can point content at, numbered so the hot path uses integer
// keys. Sticky buffers (`http.uri; content:..`) and legacy content modifiers
// (`content:..; http_uri;`) resolve to the same id here, so both spellings compile to one
// internal form. bufferPriority() gives Suricata's fast-pattern list priorities.

export const BufferId = {
  /** Packet payload; the stream variant is chosen by the engine per flow:only_stream / no_stream. */
  PAYLOAD: 0,
  HTTP_URI: 1,
  HTTP_URI_RAW: 2,
  HTTP_METHOD: 3,
  HTTP_PROTOCOL: 4,
  HTTP_HEADER: 5,
  HTTP_HEADER_RAW: 6,
  HTTP_HEADER_NAMES: 7,
  HTTP_HOST: 8,
  HTTP_HOST_RAW: 9,
  HTTP_USER_AGENT: 10,
  HTTP_COOKIE: 11,
  HTTP_CONTENT_TYPE: 12,
  HTTP_REFERER: 13,
  HTTP_ACCEPT: 14,
  HTTP_ACCEPT_ENC: 15,
  HTTP_ACCEPT_LANG: 16,
  HTTP_REQUEST_LINE: 17,
  HTTP_REQUEST_BODY: 18,
  HTTP_STAT_CODE: 19,
  HTTP_STAT_MSG: 20,
  HTTP_RESPONSE_LINE: 21,
  /**
   * file.data: for HTTP the response body (dechunked, decompressed); http.response_body and
   * http_server_body are the same buffer in Suricata 7.
   */
  FILE_DATA: 22,
  HTTP_START: 23,
  HTTP_SERVER: 24,
  HTTP_LOCATION: 25,
  HTTP_CONTENT_LEN: 26,
  HTTP_CONNECTION: 27,
  DNS_QUERY: 28,
  TLS_SNI: 29,
  TLS_CERT_SUBJECT: 30,
  TLS_CERT_ISSUER: 31,
  SSH_PROTO: 32,
  SSH_SOFTWARE: 33,
  /** Two bytes, big-endian TLS record/handshake version (e.g. 0x0303) — read by tls.version. */
  TLS_VERSION: 34,
  /** Reassembled stream data of this direction (engine-internal; rules say no buffer for it). */
  STREAM: 35,
  /** tls.certs: each certificate of the server chain (DER), multi-value. */
  TLS_CERTS: 36,
  /** JA3 / JA3S fingerprints of the TLS hellos (the MD5 as 32 lowercase hex chars, or the string). */
  JA3_HASH: 37,
  JA3_STRING: 38,
  JA3S_HASH: 39,
  JA3S_STRING: 40,
} as const;

export const BUFFER_COUNT = 41;

export interface BufferInfo {
  id: number;
  /** Suricata's sticky-buffer name. */
  name: string;
  /** Other sticky names (Suricata 5 spellings) resolving to this buffer. */
  aliases: string[];
  /** The legacy content modifier that moves the previous content into this buffer, if any. */
  legacy: string | null;
  /** The pcre modifier letter selecting this buffer, if any. */
  pcreFlag: string | null;
  /** App-layer protocol the buffer implies ('' for the payload). */
  alproto: string;
  /** Direction the buffer exists in: 1 to server, 2 to client, 3 both. */
  direction: 1 | 2 | 3;
  /** True when the app layer may hand out several values per transaction (getBuffer index > 0). */
  multi: boolean;
}

function b(
  id: number, name: string, aliases: string[], legacy: string | null, pcreFlag: string | null,
  alproto: string, direction: 1 | 2 | 3, multi = false,
): BufferInfo {
  return { id, name, aliases, legacy, pcreFlag, alproto, direction, multi };
}

/** In Suricata's registration order, which decides fast-pattern ties. */
export const BUFFERS: readonly BufferInfo[] = [
  b(BufferId.PAYLOAD, 'payload', [], null, null, '', 3),
  b(BufferId.HTTP_METHOD, 'http.method', [], 'http_method', 'M', 'http', 1),
  b(BufferId.HTTP_URI, 'http.uri', [], 'http_uri', 'U', 'http', 1),
  b(BufferId.HTTP_URI_RAW, 'http.uri.raw', [], 'http_raw_uri', 'I', 'http', 1),
  b(BufferId.HTTP_PROTOCOL, 'http.protocol', ['http_protocol'], null, null, 'http', 3),
  b(BufferId.HTTP_REQUEST_LINE, 'http.request_line', ['http_request_line'], null, null, 'http', 1),
  b(BufferId.HTTP_REQUEST_BODY, 'http.request_body', ['http_client_body'], 'http_client_body', 'P', 'http', 1),
  b(BufferId.HTTP_RESPONSE_LINE, 'http.response_line', ['http_response_line'], null, null, 'http', 2),
  b(BufferId.HTTP_STAT_MSG, 'http.stat_msg', [], 'http_stat_msg', 'Y', 'http', 2),
  b(BufferId.HTTP_STAT_CODE, 'http.stat_code', [], 'http_stat_code', 'S', 'http', 2),
  b(BufferId.HTTP_HEADER, 'http.header', [], 'http_header', 'H', 'http', 3),
  b(BufferId.HTTP_HEADER_RAW, 'http.header.raw', [], 'http_raw_header', 'D', 'http', 3),
  b(BufferId.HTTP_HEADER_NAMES, 'http.header_names', [], null, null, 'http', 3),
  b(BufferId.HTTP_COOKIE, 'http.cookie', [], 'http_cookie', 'C', 'http', 3),
  b(BufferId.HTTP_USER_AGENT, 'http.user_agent', [], 'http_user_agent', 'V', 'http', 1),
  b(BufferId.HTTP_HOST, 'http.host', [], 'http_host', 'W', 'http', 1),
  b(BufferId.HTTP_HOST_RAW, 'http.host.raw', [], 'http_raw_host', 'Z', 'http', 1),
  b(BufferId.HTTP_ACCEPT, 'http.accept', ['http_accept'], null, null, 'http', 1),
  b(BufferId.HTTP_ACCEPT_ENC, 'http.accept_enc', ['http_accept_enc'], null, null, 'http', 1),
  b(BufferId.HTTP_ACCEPT_LANG, 'http.accept_lang', ['http_accept_lang'], null, null, 'http', 1),
  b(BufferId.HTTP_REFERER, 'http.referer', ['http_referer'], null, null, 'http', 1),
  b(BufferId.HTTP_CONNECTION, 'http.connection', ['http_connection'], null, null, 'http', 3),
  b(BufferId.HTTP_CONTENT_TYPE, 'http.content_type', ['http_content_type'], null, null, 'http', 3),
  b(BufferId.HTTP_CONTENT_LEN, 'http.content_len', ['http_content_len'], null, null, 'http', 3),
  b(BufferId.HTTP_START, 'http.start', ['http_start'], null, null, 'http', 3),
  b(BufferId.HTTP_SERVER, 'http.server', ['http_server'], null, null, 'http', 2),
  b(BufferId.HTTP_LOCATION, 'http.location', ['http_location'], null, null, 'http', 2),
  b(BufferId.FILE_DATA, 'file.data', ['file_data', 'http.response_body', 'http_response_body'], 'http_server_body', 'Q', 'http', 3, true),
  b(BufferId.DNS_QUERY, 'dns.query', ['dns_query'], null, null, 'dns', 1, true),
  b(BufferId.TLS_SNI, 'tls.sni', ['tls_sni'], null, null, 'tls', 1),
  b(BufferId.TLS_CERT_SUBJECT, 'tls.cert_subject', ['tls_cert_subject'], null, null, 'tls', 2),
  b(BufferId.TLS_CERTS, 'tls.certs', [], null, null, 'tls', 2, true),
  b(BufferId.TLS_CERT_ISSUER, 'tls.cert_issuer', ['tls_cert_issuer'], null, null, 'tls', 2),
  b(BufferId.JA3_HASH, 'ja3.hash', ['ja3_hash'], null, null, 'tls', 1),
  b(BufferId.JA3_STRING, 'ja3.string', ['ja3_string'], null, null, 'tls', 1),
  b(BufferId.JA3S_HASH, 'ja3s.hash', [], null, null, 'tls', 2),
  b(BufferId.JA3S_STRING, 'ja3s.string', [], null, null, 'tls', 2),
  b(BufferId.SSH_PROTO, 'ssh.proto', ['ssh_proto'], null, null, 'ssh', 3),
  b(BufferId.SSH_SOFTWARE, 'ssh.software', ['ssh_software'], null, null, 'ssh', 3),
];

const byId: BufferInfo[] = [];
const bySticky = new Map<string, BufferInfo>();
const byLegacy = new Map<string, BufferInfo>();
const byPcreFlag = new Map<string, BufferInfo>();
for (const info of BUFFERS) {
  byId[info.id] = info;
  if (info.id !== BufferId.PAYLOAD) {
    bySticky.set(info.name, info);
    for (const a of info.aliases) bySticky.set(a, info);
  }
  if (info.legacy) byLegacy.set(info.legacy, info);
  if (info.pcreFlag) byPcreFlag.set(info.pcreFlag, info);
}

export function bufferInfo(id: number): BufferInfo {
  return byId[id] ?? byId[BufferId.PAYLOAD]!;
}
export function stickyBuffer(name: string): BufferInfo | undefined {
  return bySticky.get(name);
}
export function legacyModifier(name: string): BufferInfo | undefined {
  return byLegacy.get(name);
}
export function pcreBufferFlag(flag: string): BufferInfo | undefined {
  return byPcreFlag.get(flag);
}
/**
 * Suricata's fast-pattern list priority (the `priority` of DetectAppLayerMpmRegister /
 * SupportFastPatternForSigMatchList): the LOWEST number wins, then the longest content
 * among the lists of that priority. Most app-layer buffers are 2, the payload 3, and the
 * short, low-entropy request/status line pieces 3-4 so that "GET"/"200" are not chosen.
 */
const MPM_PRIORITY: Record<number, number> = {
  [BufferId.PAYLOAD]: 3,
  [BufferId.HTTP_METHOD]: 4,
  [BufferId.HTTP_STAT_CODE]: 4,
  [BufferId.HTTP_PROTOCOL]: 4,
  [BufferId.HTTP_STAT_MSG]: 3,
};
export function bufferPriority(id: number): number {
  return MPM_PRIORITY[id] ?? 2;
}
