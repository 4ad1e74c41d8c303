// App-layer protocol identifiers and their names.
//
// Names follow Suricata's `app-layer-protocol` keyword and EVE `app_proto` field. Suricata 7
// knows http, dns, tls, ssh, ftp, smtp and pgsql (pgsql is disabled in its stock yaml);
// mysql arrived in Suricata 8; redis and mongodb have no Suricata parser at all, so a rule
// naming them would not load in Suricata. `SURICATA7_KNOWN` lets the integrator report
// what Suricata 7 itself would log (it logs "failed" for flows it cannot identify).

export const AppProto = {
  /** Not (yet) identified. */
  UNKNOWN: 0,
  HTTP: 1,
  DNS: 2,
  TLS: 3,
  SSH: 4,
  FTP: 5,
  SMTP: 6,
  PGSQL: 7,
  MYSQL: 8,
  REDIS: 9,
  MONGODB: 10,
  /** Both directions were looked at and nothing matched (Suricata's "failed"). */
  FAILED: 11,
  /** Cleartext HTTP/2: prior-knowledge h2c or an HTTP/1.1 upgrade (http2Parser.ts). */
  HTTP2: 12,
} as const;

export type AppProtoId = (typeof AppProto)[keyof typeof AppProto];

/** Names indexed by AppProtoId. */
export const APP_PROTO_NAMES: readonly string[] = [
  'unknown', 'http', 'dns', 'tls', 'ssh', 'ftp', 'smtp', 'pgsql', 'mysql', 'redis', 'mongodb', 'failed', 'http2',
];

/** Whether Suricata 7 has a parser of this name (so `app-layer-protocol:<name>` loads there). */
export const SURICATA7_KNOWN: readonly boolean[] = [
  true, true, true, true, true, true, true, true, false, false, false, true, true,
];

export function appProtoName(id: number): string {
  return APP_PROTO_NAMES[id] ?? 'unknown';
}

/**
 * The AppProtoId for a Suricata-style name, or -1. `http1` is Suricata 7's name for HTTP/1.x
 * (`http` there means http1 or http2, see appProtoEquals).
 */
export function appProtoByName(name: string): number {
  const n = name.toLowerCase();
  if (n === 'http1') return AppProto.HTTP;
  return APP_PROTO_NAMES.indexOf(n);
}
