// App-layer fields for EVE-JSON enrichment, shaped like Suricata 7's eve.json objects
// (output-json-http.c, rust dns/log.rs (v2 format), output-json-tls.c, rust ssh/logger.rs),
// so existing EVE pipelines read them unchanged. Cold path: called when an event is written.
import { latin1Text } from './latin1Text';
import { DNS_RCODE_NAMES, DNS_RR_TYPE_NAMES, DnsMessage } from './dnsParser';
import { HttpTransaction } from './httpTransaction';
import { SshParser } from './sshParser';
import { tlsVersionName, TlsParser } from './tlsParser';

export interface HttpEve {
  hostname?: string;
  url?: string;
  http_user_agent?: string;
  http_content_type?: string;
  http_refer?: string;
  http_method?: string;
  protocol?: string;
  status?: number;
  redirect?: string;
  length: number;
}

const s = (b: Uint8Array | null): string | undefined => (b === null ? undefined : latin1Text(b));

/**
 * The EVE `http` object of a transaction. `url` is the raw request-target, as Suricata logs
 * it; `length` is the response body bytes seen so far (dechunked, before inflating).
 */
export function httpEve(tx: HttpTransaction): HttpEve {
  const out: HttpEve = { length: tx.responseBody ? tx.responseBody.received : 0 };
  const set = <K extends keyof HttpEve>(k: K, v: HttpEve[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set('hostname', s(tx.host));
  set('url', s(tx.uriRaw));
  set('http_user_agent', s(tx.requestHeader('user-agent')));
  // Suricata logs the media type only: the value up to the first ';'.
  const ct = tx.responseHeader('content-type');
  set('http_content_type', s(ct === null ? null : ct.indexOf(0x3b) >= 0 ? ct.subarray(0, ct.indexOf(0x3b)) : ct));
  set('http_refer', s(tx.requestHeader('referer')));
  set('http_method', s(tx.method));
  set('protocol', s(tx.protocol));
  if (tx.status > 0) out.status = tx.status;
  set('redirect', s(tx.responseHeader('location')));
  return out;
}

function rrtype(t: number): string {
  return DNS_RR_TYPE_NAMES[t] ?? String(t);
}

/** The EVE `dns` object of one message (Suricata 7 "version 2" format). */
export function dnsEve(m: DnsMessage): Record<string, unknown> {
  const q = m.questions[0];
  if (!m.response) {
    return { type: 'query', id: m.id, rrname: q?.name ?? '', rrtype: q ? rrtype(q.type) : '', opcode: m.opcode };
  }
  const out: Record<string, unknown> = {
    version: 2,
    type: 'answer',
    id: m.id,
    flags: m.flags.toString(16),
    qr: true,
    rrname: q?.name ?? '',
    rrtype: q ? rrtype(q.type) : '',
    rcode: DNS_RCODE_NAMES[m.rcode] ?? String(m.rcode),
    opcode: m.opcode,
  };
  if (m.flags & 0x0100) out.rd = true;
  if (m.flags & 0x0080) out.ra = true;
  if (m.flags & 0x0400) out.aa = true;
  if (m.answers.length) {
    out.answers = m.answers.map((a) => ({ rrname: a.name, rrtype: rrtype(a.type), ttl: a.ttl, ...(a.data ? { rdata: a.data } : {}) }));
  }
  return out;
}

/** The EVE `tls` object. */
export function tlsEve(t: TlsParser): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (t.certSubject !== null) out.subject = t.certSubject;
  if (t.certIssuer !== null) out.issuerdn = t.certIssuer;
  if (t.sni !== null) out.sni = latin1Text(t.sni);
  out.version = tlsVersionName(t.version || t.clientVersion);
  return out;
}

/** The EVE `ssh` object. */
export function sshEve(p: SshParser): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, toServer] of [['client', true], ['server', false]] as const) {
    const b = p.banner(toServer);
    if (b) out[key] = { proto_version: s(b.proto), software_version: s(b.software) };
  }
  return out;
}
