// Turns the engine's alerts for one packet into EVE alert inputs with the flow and app-layer
// context Suricata puts in its alert records (app_proto, http/dns/tls objects). Runs only for
// packets that alerted, so it may build objects.

import { AppProto } from '../applayer/appProto';
import type { DetectResult } from '../detect/detectEngine';
import type { PacketInspector } from '../verdict/packetInspector';
import { packetAlertFields, type AlertRecordInput, type HttpAlertInput } from './eveAlert';

export function alertRecordsOf(inspector: PacketInspector, result: DetectResult): AlertRecordInput[] {
  const p = inspector.packet;
  const flow = inspector.flow;
  const app = inspector.appLayer;
  const base = packetAlertFields(p);
  const records: AlertRecordInput[] = [];
  let http: HttpAlertInput | undefined;
  const tx = inspector.httpTransaction;
  if (tx !== null) {
    http = { length: tx.responseBody ? tx.responseBody.received : 0 };
    if (tx.host !== null) http.hostname = tx.host;
    if (tx.uriRaw !== null) http.url = tx.uriRaw;
    const ua = tx.requestHeader('user-agent');
    if (ua !== null) http.userAgent = ua;
    if (tx.method !== null) http.method = tx.method;
    if (tx.protocol !== null) http.protocol = tx.protocol;
    if (tx.status > 0) http.status = tx.status;
  }
  for (let i = 0; i < result.alertCount; i++) {
    const a = result.alerts[i]!;
    const record: AlertRecordInput = {
      ...base,
      flowId: flow?.id ?? 0,
      toServer: inspector.toServer,
      blocked: a.action === 'blocked',
      gid: a.gid,
      sid: a.sid,
      rev: a.rev,
      signature: a.msg,
      category: a.category,
      severity: a.priority,
    };
    if (inspector.appProto !== '') record.appProto = inspector.appProto;
    if (http !== undefined) record.http = http;
    if (app !== null && app.proto === AppProto.DNS && app.dns.length > 0) {
      const m = app.dns[app.dns.length - 1]!.message;
      record.dns = { id: m.id, queries: m.questions.map((q) => ({ rrname: q.nameBytes, rrtype: q.type })) };
    }
    if (app !== null && app.proto === AppProto.TLS && app.tls !== null) {
      record.tls = {};
      if (app.tls.sni !== null) record.tls.sni = app.tls.sni;
      if (app.tls.version !== 0) record.tls.version = app.tls.version;
    }
    if (flow !== null) {
      record.flow = {
        pktsToServer: flow.pktsToServer, pktsToClient: flow.pktsToClient,
        bytesToServer: flow.bytesToServer, bytesToClient: flow.bytesToClient,
        startSec: flow.startSec, startUsec: flow.startUsec,
      };
    }
    records.push(record);
  }
  return records;
}
