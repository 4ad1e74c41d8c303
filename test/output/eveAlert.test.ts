// EVE alert records: exact Suricata field names, order and formats (timestamp, IPv6
// expansion, proto names, ICMP type/code instead of ports, bytes escaping).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AlertRecordInput, buildEveAlert, formatEveAlert } from '../../src/output/eveAlert';
import { Packet } from '../../src/decode/packet';
import { corpusPath } from '../support/corpus';
import { readPcap } from './fixtures/pcapRecords';
import { packetAlertFields } from '../../src/output/eveAlert';
import { formatEveIp, formatEveTimestamp, eveString, eveProtoName } from '../../src/output/eveFormat';

const enc = new TextEncoder();

function mapped(a: number, b: number, c: number, d: number): Uint8Array {
  const x = new Uint8Array(16);
  x[10] = 0xff; x[11] = 0xff; x[12] = a; x[13] = b; x[14] = c; x[15] = d;
  return x;
}

function httpAlert(): AlertRecordInput {
  return {
    tsSec: 1639149630, tsUsec: 123456, flowId: 1038930578016525, pcapCnt: 4,
    ipVersion: 4, src: mapped(172, 17, 0, 2), dst: mapped(172, 17, 0, 3), srcPort: 49757, dstPort: 80, ipProto: 6,
    appProto: 'http', toServer: true, blocked: true,
    gid: 1, sid: 2018358, rev: 10, signature: 'ET HUNTING suspicious POST', category: 'Potentially Bad Traffic', severity: 2,
    http: { hostname: enc.encode('api.internal'), url: enc.encode('/etc/passwd'), userAgent: enc.encode('curl/8.0'), method: enc.encode('GET'), protocol: enc.encode('HTTP/1.1'), status: 200, length: 1234 },
    srcContainer: { name: 'web', image: 'nginx:1.25', network: 'bridge' },
  };
}

test('timestamp is Suricata format in UTC with microseconds', () => {
  assert.is(formatEveTimestamp(1639149630, 123456), '2021-12-10T15:20:30.123456+0000');
  assert.is(formatEveTimestamp(0, 7), '1970-01-01T00:00:00.000007+0000');
});

test('IPv6 is printed fully expanded, IPv4-mapped as dotted quad', () => {
  const v6 = new Uint8Array([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x02, 0xb3, 0xff, 0xfe, 0x1e, 0x83, 0x29]);
  assert.is(formatEveIp(v6, 6), 'fe80:0000:0000:0000:0202:b3ff:fe1e:8329');
  assert.is(formatEveIp(mapped(10, 0, 0, 255), 4), '10.0.0.255');
  assert.is(formatEveIp(new Uint8Array([192, 168, 1, 2]), 4), '192.168.1.2');
});

test('proto names follow Suricata', () => {
  assert.is(eveProtoName(6), 'TCP');
  assert.is(eveProtoName(17), 'UDP');
  assert.is(eveProtoName(1), 'ICMP');
  assert.is(eveProtoName(58), 'IPv6-ICMP');
  assert.is(eveProtoName(253), '253');
});

test('invalid UTF-8 bytes are escaped, valid UTF-8 kept', () => {
  assert.is(eveString(new Uint8Array([0x61, 0xff, 0x0a, 0x62])), 'a\\xFF\\x0Ab');
  assert.is(eveString(enc.encode('häst')), 'häst');
});

test('HTTP alert: exact line, Suricata key order, container additions', () => {
  const line = formatEveAlert(httpAlert());
  assert.is(
    line,
    '{"timestamp":"2021-12-10T15:20:30.123456+0000","flow_id":1038930578016525,"pcap_cnt":4,"event_type":"alert",' +
      '"src_ip":"172.17.0.2","src_port":49757,"dest_ip":"172.17.0.3","dest_port":80,"proto":"TCP","direction":"to_server",' +
      '"alert":{"action":"blocked","gid":1,"signature_id":2018358,"rev":10,"signature":"ET HUNTING suspicious POST","category":"Potentially Bad Traffic","severity":2},' +
      '"app_proto":"http","http":{"hostname":"api.internal","url":"/etc/passwd","http_user_agent":"curl/8.0","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":1234},' +
      '"src_container":{"name":"web","image":"nginx:1.25","network":"bridge"},"dest_container":{"name":"unknown"}}',
  );
});

test('live alert omits pcap_cnt; allowed action; bigint flow id masked to 48 bits', () => {
  const a = httpAlert();
  a.pcapCnt = 0;
  a.blocked = false;
  a.toServer = false;
  a.flowId = (1n << 60n) | 0x123456789abcn;
  const r = buildEveAlert(a);
  assert.is(r.pcap_cnt, undefined);
  assert.not.ok('pcap_cnt' in r);
  assert.is(r.alert.action, 'allowed');
  assert.is(r.direction, 'to_client');
  assert.is(r.flow_id, 0x123456789abc);
});

test('ICMPv6 alert prints type/code instead of ports', () => {
  const src = new Uint8Array(16); src[0] = 0xfd; src[15] = 1;
  const dst = new Uint8Array(16); dst[0] = 0xfd; dst[15] = 2;
  const r = buildEveAlert({
    tsSec: 1, tsUsec: 0, flowId: 7, ipVersion: 6, src, dst, srcPort: 0, dstPort: 0, ipProto: 58, icmpType: 128, icmpCode: 0,
    toServer: true, blocked: false, gid: 1, sid: 9, rev: 1, signature: 'ping6', category: '', severity: 3,
  });
  assert.is(r.src_ip, 'fd00:0000:0000:0000:0000:0000:0000:0001');
  assert.is(r.proto, 'IPv6-ICMP');
  assert.is(r.icmp_type, 128);
  assert.is(r.icmp_code, 0);
  assert.not.ok('src_port' in r);
  assert.equal(r.src_container, { name: 'unknown' });
});

test('DNS and TLS objects, flow counters', () => {
  const a = httpAlert();
  delete a.http;
  a.appProto = 'dns';
  a.dns = { id: 4660, queries: [{ rrname: enc.encode('evil.example'), rrtype: 28 }, { rrname: 'x.test', rrtype: 999 }] };
  a.tls = { sni: enc.encode('db.internal'), version: 0x0303 };
  a.flow = { pktsToServer: 3, pktsToClient: 2, bytesToServer: 300, bytesToClient: 200, startSec: 1639149629, startUsec: 5 };
  const r = JSON.parse(formatEveAlert(a)) as Record<string, unknown>;
  assert.equal(r.dns, { query: [{ type: 'query', id: 4660, rrname: 'evil.example', rrtype: 'AAAA' }, { type: 'query', id: 4660, rrname: 'x.test', rrtype: '999' }] });
  assert.equal(r.tls, { sni: 'db.internal', version: 'TLS 1.2' });
  assert.equal(r.flow, { pkts_toserver: 3, pkts_toclient: 2, bytes_toserver: 300, bytes_toclient: 200, start: '2021-12-10T15:20:29.000005+0000' });
});

test('hostile header bytes cannot break the JSON line', () => {
  const a = httpAlert();
  a.http = { userAgent: new Uint8Array([0x22, 0x7d, 0x0a, 0xc3, 0x28]) };
  const line = formatEveAlert(a);
  assert.not.ok(line.includes('\n'));
  const r = JSON.parse(line) as { http: { http_user_agent: string } };
  assert.is(r.http.http_user_agent, '"}\\x0A\\xC3(');
});

test('packetAlertFields: a corpus packet in a reused Packet gives a stable alert', () => {
  const rec = readPcap(corpusPath('pcaps', 'postgres-app-traffic.pcap')).find((r) => r.dstPort === 5432)!;
  const p = new Packet();
  // Fill the shared Packet view as the decoder does (IPv4 stored IPv4-mapped).
  p.data = rec.data; p.tsSec = rec.tsSec; p.tsUsec = rec.tsUsec; p.pcapIndex = 3; p.ipVersion = 4; p.ipProto = 6;
  p.src.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...rec.data.subarray(26, 30)]);
  p.dst.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...rec.data.subarray(30, 34)]);
  p.srcPort = rec.srcPort; p.dstPort = rec.dstPort;
  const fields = packetAlertFields(p);
  p.reset(); // the live path reuses the Packet for the next batch
  const r = buildEveAlert({ ...fields, flowId: 1, appProto: 'pgsql', toServer: true, blocked: false, gid: 1, sid: 1, rev: 1, signature: 's', category: '', severity: 3 });
  assert.is(r.src_ip, rec.src);
  assert.is(r.dest_ip, rec.dst);
  assert.is(r.dest_port, 5432);
  assert.is(r.pcap_cnt, 3);
  assert.is(r.timestamp, formatEveTimestamp(rec.tsSec, rec.tsUsec));
  assert.not.ok('icmp_type' in r);
});

test.run();
