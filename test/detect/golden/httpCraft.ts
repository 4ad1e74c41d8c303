// Crafts one HTTP/1.1 request per ET Open HTTP rule from the rule's own request-buffer
// contents (method, uri, host, user agent, cookie, a few headers, body), and the buffers
// a Suricata-like app layer would hand the engine for it. Used by makeHttpGolden.ts (real
// Suricata alerts) and httpGolden.test.ts (our engine). Only rules whose contents survive
// libhtp normalisation unchanged are used (no %, .., //, spaces or control bytes in URIs).

import { BufferId } from '../../../src/detect/buffers';
import { ContentMatch } from '../../../src/detect/keywords/content';
import type { Signature } from '../../../src/detect/signature';

const ALLOWED = new Set<number>([
  BufferId.PAYLOAD, BufferId.HTTP_METHOD, BufferId.HTTP_URI, BufferId.HTTP_URI_RAW, BufferId.HTTP_HOST,
  BufferId.HTTP_USER_AGENT, BufferId.HTTP_COOKIE, BufferId.HTTP_REQUEST_BODY, BufferId.HTTP_CONTENT_TYPE,
  BufferId.HTTP_REFERER, BufferId.HTTP_ACCEPT, BufferId.HTTP_ACCEPT_LANG, BufferId.HTTP_ACCEPT_ENC,
]);

function joined(s: Signature, id: number): Buffer | null {
  const l = s.buffers.find((x) => x.bufferId === id && x.transforms.length === 0);
  if (!l) return null;
  const out: number[] = [];
  for (const m of l.items) {
    if (!(m instanceof ContentMatch) || m.negated) continue;
    if (!m.relative && m.hasOffset && m.offsetVar < 0) while (out.length < m.offset) out.push(0x78);
    if (m.relative && m.distanceVar < 0 && m.distance > 0) for (let k = 0; k < m.distance; k++) out.push(0x78);
    out.push(...(m.nocase ? m.lower : m.pattern));
  }
  return Buffer.from(out);
}

const SAFE_URI = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]*$/;
const SAFE_VALUE = /^[\x20-\x7e]*$/;

export interface HttpCase {
  request: string; // latin1
  buffers: Array<[number, string]>; // bufferId, latin1 value
}

/** The request for a rule, or null when the rule is not a good fit. */
export function craftHttp(s: Signature): HttpCase | null {
  if (s.alproto !== 'http' || s.flowDirection === 2) return null;
  if (s.buffers.some((l) => !ALLOWED.has(l.bufferId) || l.transforms.length > 0)) return null;
  if (s.buffers.some((l) => l.bufferId === BufferId.PAYLOAD)) return null;
  const str = (b: Buffer | null): string | null => (b ? b.toString('latin1') : null);
  let method = str(joined(s, BufferId.HTTP_METHOD)) ?? 'GET';
  if (!/^[A-Z]+$/.test(method)) return null;
  let uri = str(joined(s, BufferId.HTTP_URI)) ?? str(joined(s, BufferId.HTTP_URI_RAW)) ?? '/';
  if (!uri.startsWith('/')) uri = '/x' + uri;
  if (!SAFE_URI.test(uri) || /\/\.|\/\/|%/.test(uri)) return null;
  const host = (str(joined(s, BufferId.HTTP_HOST)) ?? 'app.internal').replace(/^\./, 'a.');
  if (!/^[a-z0-9.\-]+$/.test(host)) return null;
  const headers: Array<[string, string | null, number]> = [
    ['User-Agent', str(joined(s, BufferId.HTTP_USER_AGENT)) ?? 'Mozilla/5.0', BufferId.HTTP_USER_AGENT],
    ['Cookie', str(joined(s, BufferId.HTTP_COOKIE)), BufferId.HTTP_COOKIE],
    ['Content-Type', str(joined(s, BufferId.HTTP_CONTENT_TYPE)), BufferId.HTTP_CONTENT_TYPE],
    ['Referer', str(joined(s, BufferId.HTTP_REFERER)), BufferId.HTTP_REFERER],
    ['Accept', str(joined(s, BufferId.HTTP_ACCEPT)), BufferId.HTTP_ACCEPT],
    ['Accept-Language', str(joined(s, BufferId.HTTP_ACCEPT_LANG)), BufferId.HTTP_ACCEPT_LANG],
    ['Accept-Encoding', str(joined(s, BufferId.HTTP_ACCEPT_ENC)), BufferId.HTTP_ACCEPT_ENC],
  ];
  const body = str(joined(s, BufferId.HTTP_REQUEST_BODY));
  if (body !== null && method === 'GET') method = 'POST';
  for (const [, v] of headers) if (v !== null && (!SAFE_VALUE.test(v) || v !== v.trim() || v === '')) return null;
  const lines = [`${method} ${uri} HTTP/1.1`, `Host: ${host}`];
  const buffers: Array<[number, string]> = [
    [BufferId.HTTP_METHOD, method], [BufferId.HTTP_URI, uri], [BufferId.HTTP_URI_RAW, uri], [BufferId.HTTP_HOST, host],
  ];
  for (const [name, v, id] of headers) {
    if (v === null) continue;
    lines.push(`${name}: ${v}`);
    buffers.push([id, v]);
  }
  if (body !== null) {
    lines.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
    buffers.push([BufferId.HTTP_REQUEST_BODY, body]);
  }
  return { request: lines.join('\r\n') + '\r\n\r\n' + (body ?? ''), buffers };
}
