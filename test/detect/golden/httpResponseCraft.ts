// Crafts one HTTP exchange per ET Open HTTP response rule (file.data / http.response_body,
// http.stat_code, http.stat_msg, http.content_type, http.server, http.location): a plain
// GET, then a 200-style response whose headers and body carry the rule's contents, and the
// buffers an app layer hands the engine on the response. Used by makeHttpResponseGolden.ts
// and httpResponseGolden.test.ts.

import { BufferId } from '../../../src/detect/buffers';
import { ContentMatch } from '../../../src/detect/keywords/content';
import type { Signature } from '../../../src/detect/signature';
import type { WirePacket } from './makeEtGolden';

const RESPONSE = new Set<number>([
  BufferId.FILE_DATA, BufferId.HTTP_STAT_CODE, BufferId.HTTP_STAT_MSG, BufferId.HTTP_CONTENT_TYPE,
  BufferId.HTTP_SERVER, BufferId.HTTP_LOCATION,
]);

function joined(s: Signature, id: number): string | null {
  const l = s.buffers.find((x) => x.bufferId === id && x.transforms.length === 0);
  if (!l) return null;
  const out: number[] = [];
  for (const m of l.items) {
    if (!(m instanceof ContentMatch) || m.negated) continue;
    if (!m.relative && m.hasOffset && m.offsetVar < 0) while (out.length < m.offset) out.push(0x78);
    if (m.relative && m.distanceVar < 0 && m.distance > 0) for (let k = 0; k < m.distance; k++) out.push(0x78);
    out.push(...m.pattern);
  }
  return Buffer.from(out).toString('latin1');
}

export interface HttpResponseCase {
  request: string;
  response: string;
  buffers: Array<[number, string]>;
}

export function craftHttpResponse(s: Signature): HttpResponseCase | null {
  if (s.alproto !== 'http' || s.flowDirection === 1) return null;
  if (s.buffers.length === 0 || s.buffers.some((l) => !RESPONSE.has(l.bufferId) || l.transforms.length > 0)) return null;
  const code = joined(s, BufferId.HTTP_STAT_CODE) ?? '200';
  if (!/^\d{3}$/.test(code)) return null;
  const msg = joined(s, BufferId.HTTP_STAT_MSG) ?? 'OK';
  const ctype = joined(s, BufferId.HTTP_CONTENT_TYPE) ?? 'text/html';
  const server = joined(s, BufferId.HTTP_SERVER);
  const location = joined(s, BufferId.HTTP_LOCATION);
  const body = joined(s, BufferId.FILE_DATA) ?? 'hello';
  for (const v of [msg, ctype, server ?? 'x', location ?? 'x']) if (!/^[\x20-\x7e]+$/.test(v) || v !== v.trim()) return null;
  if (body.length === 0 || body.length > 1200) return null;
  const head = [`HTTP/1.1 ${code} ${msg}`, `Content-Type: ${ctype}`];
  if (server) head.push(`Server: ${server}`);
  if (location) head.push(`Location: ${location}`);
  head.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
  const response = head.join('\r\n') + '\r\n\r\n' + body;
  const request = 'GET / HTTP/1.1\r\nHost: app.internal\r\nUser-Agent: Mozilla/5.0\r\n\r\n';
  const buffers: Array<[number, string]> = [
    [BufferId.HTTP_METHOD, 'GET'], [BufferId.HTTP_URI, '/'], [BufferId.HTTP_URI_RAW, '/'], [BufferId.HTTP_HOST, 'app.internal'],
    [BufferId.HTTP_USER_AGENT, 'Mozilla/5.0'], [BufferId.HTTP_STAT_CODE, code], [BufferId.HTTP_STAT_MSG, msg],
    [BufferId.HTTP_CONTENT_TYPE, ctype], [BufferId.FILE_DATA, body],
  ];
  if (server) buffers.push([BufferId.HTTP_SERVER, server]);
  if (location) buffers.push([BufferId.HTTP_LOCATION, location]);
  return { request, response, buffers };
}

/** Client → server request, server response, client ACK; client is the rule's dst side. */
export function exchangePackets(client: string, server: string, cport: number, c: HttpResponseCase): WirePacket[] {
  const req = Buffer.from(c.request, 'latin1'), resp = Buffer.from(c.response, 'latin1');
  const cs = (flags: number, seq: number, ack: number, pl = Buffer.alloc(0)): WirePacket => ({ src: client, dst: server, sport: cport, dport: 80, proto: 6, flags, seq, ack, payload: pl });
  const sc = (flags: number, seq: number, ack: number, pl = Buffer.alloc(0)): WirePacket => ({ src: server, dst: client, sport: 80, dport: cport, proto: 6, flags, seq, ack, payload: pl });
  return [
    cs(0x02, 1000, 0), sc(0x12, 5000, 1001), cs(0x10, 1001, 5001),
    cs(0x18, 1001, 5001, req), sc(0x10, 5001, 1001 + req.length),
    sc(0x18, 5001, 1001 + req.length, resp), cs(0x10, 1001 + req.length, 5001 + resp.length),
  ];
}
