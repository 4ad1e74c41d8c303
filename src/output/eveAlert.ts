// EVE `alert` records, field for field as Suricata 7 writes them (docs.suricata.io,
// output/eve/eve-json-format: common section, alert, http, dns, tls), plus Lateral's
// `src_container` / `dest_container`. The caller passes numbers and bytes as the engine has
// them; every string in the record is built here, once per alert (cold path).

import { DNS_RR_TYPE_NAMES } from '../applayer/dnsParser';
import { tlsVersionName } from '../applayer/tlsParser';
import type { Packet } from '../decode/packet';
import { eveProtoName, eveString, formatEveIp, formatEveTimestamp } from './eveFormat';

/** Who is behind an address, from the Docker identity map. */
export interface ContainerIdentity {
  name: string;
  image?: string;
  network?: string;
}

export interface HttpAlertInput {
  hostname?: Uint8Array | string;
  url?: Uint8Array | string;
  userAgent?: Uint8Array | string;
  method?: Uint8Array | string;
  /** e.g. "HTTP/1.1" as on the request line. */
  protocol?: Uint8Array | string;
  /** Response status code, when a response was seen. */
  status?: number;
  /** Response body length in bytes (Suricata's `length`). */
  length?: number;
}

export interface DnsQueryInput {
  rrname: Uint8Array | string;
  /** Numeric RR type (1 = A, 28 = AAAA ...). */
  rrtype: number;
}

export interface DnsAlertInput {
  /** DNS transaction id. */
  id?: number;
  queries: DnsQueryInput[];
}

export interface TlsAlertInput {
  sni?: Uint8Array | string;
  /** Wire version: 0x0300 SSLv3, 0x0301..0x0304 TLS 1.0..1.3. */
  version?: number;
}

/** Per-flow counters Suricata adds to alerts as the `flow` object. */
export interface FlowAlertInput {
  pktsToServer: number;
  pktsToClient: number;
  bytesToServer: number;
  bytesToClient: number;
  startSec: number;
  startUsec: number;
}

/**
 * Everything an alert record needs, as plain numbers and bytes (structured-clone safe, so a
 * worker thread can post it to the thread that owns the EVE writer).
 */
export interface AlertRecordInput {
  /** Packet time, seconds and microseconds since the epoch. */
  tsSec: number;
  tsUsec: number;
  /** Flow identifier; a bigint is masked to 48 bits like Suricata's FlowGetId. */
  flowId: number | bigint;
  /** 1-based packet index in the pcap (offline); 0 or absent on the live path: omitted. */
  pcapCnt?: number;
  /** 4 or 6. */
  ipVersion: number;
  /** Packet source/destination: 4 bytes, or 16 (IPv6, or IPv4-mapped as in Packet). */
  src: Uint8Array;
  dst: Uint8Array;
  srcPort: number;
  dstPort: number;
  /** IANA protocol number (6, 17, 1, 58 ...). */
  ipProto: number;
  /** ICMP type/code; printed instead of ports for ICMP and ICMPv6. */
  icmpType?: number;
  icmpCode?: number;
  /** Detected application protocol ("http", "dns", "tls" ...); absent when none. */
  appProto?: string;
  /** True when the packet goes from client to server. */
  toServer: boolean;
  /** True when the packet (and flow) was dropped: action "blocked". */
  blocked: boolean;
  gid: number;
  sid: number;
  rev: number;
  /** The rule's msg. */
  signature: string;
  /** classtype description, "" when the rule has none. */
  category: string;
  /** classtype priority or the rule's `priority`; Suricata's default is 3. */
  severity: number;
  http?: HttpAlertInput;
  dns?: DnsAlertInput;
  tls?: TlsAlertInput;
  flow?: FlowAlertInput;
  srcContainer?: ContainerIdentity;
  destContainer?: ContainerIdentity;
  /** Evidence pcap written for this alert (docs/evidence.md); absent when none. */
  evidence?: { pcap: string };
}

/** The JSON shape written for an alert (key order is Suricata's). */
export interface EveAlertRecord {
  timestamp: string;
  flow_id: number;
  pcap_cnt?: number;
  event_type: 'alert';
  src_ip: string;
  src_port?: number;
  dest_ip: string;
  dest_port?: number;
  proto: string;
  icmp_type?: number;
  icmp_code?: number;
  direction: 'to_server' | 'to_client';
  alert: {
    action: 'allowed' | 'blocked';
    gid: number;
    signature_id: number;
    rev: number;
    signature: string;
    category: string;
    severity: number;
  };
  app_proto?: string;
  http?: Record<string, string | number>;
  dns?: { query: Array<Record<string, string | number>> };
  tls?: Record<string, string>;
  flow?: Record<string, string | number>;
  evidence?: { pcap: string };
  src_container: ContainerIdentity;
  dest_container: ContainerIdentity;
}

const FLOW_ID_MASK = 0xffffffffffffn;

function unknownContainer(c: ContainerIdentity | undefined): ContainerIdentity {
  if (!c) return { name: 'unknown' };
  const out: ContainerIdentity = { name: c.name };
  if (c.image !== undefined) out.image = c.image;
  if (c.network !== undefined) out.network = c.network;
  return out;
}

function flowIdNumber(id: number | bigint): number {
  if (typeof id === 'bigint') return Number(id & FLOW_ID_MASK);
  // A number above 2^53 has already lost precision; keep the 48 bits Suricata keeps.
  return Number.isSafeInteger(id) && id >= 0 ? id : Number(BigInt(Math.trunc(Math.abs(id))) & FLOW_ID_MASK);
}

/** Builds the record object; `formatEveAlert` is the usual entry point. */
export function buildEveAlert(a: AlertRecordInput): EveAlertRecord {
  const isIcmp = a.ipProto === 1 || a.ipProto === 58;
  const rec: Partial<EveAlertRecord> = {};
  rec.timestamp = formatEveTimestamp(a.tsSec, a.tsUsec);
  rec.flow_id = flowIdNumber(a.flowId);
  if (a.pcapCnt !== undefined && a.pcapCnt > 0) rec.pcap_cnt = a.pcapCnt;
  rec.event_type = 'alert';
  rec.src_ip = formatEveIp(a.src, a.ipVersion);
  if (!isIcmp) rec.src_port = a.srcPort;
  rec.dest_ip = formatEveIp(a.dst, a.ipVersion);
  if (!isIcmp) rec.dest_port = a.dstPort;
  rec.proto = eveProtoName(a.ipProto);
  if (isIcmp) {
    if (a.icmpType !== undefined && a.icmpType >= 0) rec.icmp_type = a.icmpType;
    if (a.icmpCode !== undefined && a.icmpCode >= 0) rec.icmp_code = a.icmpCode;
  }
  rec.direction = a.toServer ? 'to_server' : 'to_client';
  rec.alert = {
    action: a.blocked ? 'blocked' : 'allowed',
    gid: a.gid,
    signature_id: a.sid,
    rev: a.rev,
    signature: a.signature,
    category: a.category,
    severity: a.severity,
  };
  if (a.appProto) rec.app_proto = a.appProto;
  if (a.http) {
    const h = a.http;
    const o: Record<string, string | number> = {};
    if (h.hostname !== undefined) o.hostname = eveString(h.hostname);
    if (h.url !== undefined) o.url = eveString(h.url);
    if (h.userAgent !== undefined) o.http_user_agent = eveString(h.userAgent);
    if (h.method !== undefined) o.http_method = eveString(h.method);
    if (h.protocol !== undefined) o.protocol = eveString(h.protocol);
    if (h.status !== undefined && h.status > 0) o.status = h.status;
    if (h.length !== undefined) o.length = h.length;
    rec.http = o;
  }
  if (a.dns) {
    const id = a.dns.id;
    rec.dns = {
      query: a.dns.queries.map((q) => {
        const o: Record<string, string | number> = { type: 'query' };
        if (id !== undefined) o.id = id;
        o.rrname = eveString(q.rrname);
        o.rrtype = DNS_RR_TYPE_NAMES[q.rrtype] ?? String(q.rrtype);
        return o;
      }),
    };
  }
  if (a.tls) {
    const o: Record<string, string> = {};
    if (a.tls.sni !== undefined) o.sni = eveString(a.tls.sni);
    if (a.tls.version !== undefined) o.version = tlsVersionName(a.tls.version);
    rec.tls = o;
  }
  if (a.flow) {
    const f = a.flow;
    rec.flow = {
      pkts_toserver: f.pktsToServer,
      pkts_toclient: f.pktsToClient,
      bytes_toserver: f.bytesToServer,
      bytes_toclient: f.bytesToClient,
      start: formatEveTimestamp(f.startSec, f.startUsec),
    };
  }
  if (a.evidence) rec.evidence = { pcap: a.evidence.pcap };
  rec.src_container = unknownContainer(a.srcContainer);
  rec.dest_container = unknownContainer(a.destContainer);
  return rec as EveAlertRecord;
}

/** One EVE line (no trailing newline) for an alert. */
export function formatEveAlert(a: AlertRecordInput): string {
  return JSON.stringify(buildEveAlert(a));
}

/** The packet-derived part of an AlertRecordInput. */
export type PacketAlertFields = Pick<
  AlertRecordInput,
  'tsSec' | 'tsUsec' | 'pcapCnt' | 'ipVersion' | 'src' | 'dst' | 'srcPort' | 'dstPort' | 'ipProto' | 'icmpType' | 'icmpCode'
>;

/**
 * Copies what an alert needs out of a decoded Packet. The addresses are copied because the
 * live path reuses Packet objects (and their address arrays) for the next batch.
 */
export function packetAlertFields(p: Packet): PacketAlertFields {
  const f: PacketAlertFields = {
    tsSec: p.tsSec,
    tsUsec: p.tsUsec,
    pcapCnt: p.pcapIndex,
    ipVersion: p.ipVersion,
    src: p.src.slice(),
    dst: p.dst.slice(),
    srcPort: p.srcPort,
    dstPort: p.dstPort,
    ipProto: p.ipProto,
  };
  if (p.icmpType >= 0) f.icmpType = p.icmpType;
  if (p.icmpCode >= 0) f.icmpCode = p.icmpCode;
  return f;
}
