// Warm-up of a freshly compiled engine before its queue is bound (live path, cold path).
//
// Why: V8 compiles a function to bytecode on its first call and to optimised code only after
// it ran hot, on background threads. Without a warm-up the first connections after `lateral
// run` starts pay all of that inline: measured (docs/performance.md "Added latency") the first
// HTTP request through a fresh worker with ET Open took 32-104 ms against a 2-4 ms median, the
// next few were 2-5x the median, and V8's background compiler threads used ~0.4 s of CPU during
// the first 500 requests (0.12 s once warm) on cores the traffic also needs.
//
// So each worker judges a few hundred synthetic connections (TCP handshake, an HTTP/1.1
// request and response, close; a DNS query and answer) with the engine it is about to use,
// through a throwaway EngineVerdictHandler and PacketInspector: the real flow table, counters
// and alert sink never see them. Alerts they raise are discarded; threshold/xbits state the
// engine may have kept for their addresses (198.18.255.0/24, RFC 2544 benchmarking space) is
// cleared afterwards.
import { MetaField, META_STRIDE, SkbInfo } from '../capture/native';
import { PacketBatch } from '../capture/packetBatch';
import type { DetectEngine } from '../detect/detectEngine';
import { EngineVerdictHandler } from './engineVerdictHandler';
import { PacketInspector } from './packetInspector';
import type { BypassOptions } from './bypassPolicy';

export interface WarmupOptions {
  /** Synthetic connections to judge (each an HTTP exchange plus a DNS exchange). Default 500. */
  connections?: number;
  /** Stop early once this much wall time is spent. Default 3000 ms. */
  budgetMs?: number;
  bypass?: BypassOptions;
}

export interface WarmupResult {
  connections: number;
  packets: number;
  /** Alerts the synthetic traffic raised (discarded). */
  alerts: number;
  ms: number;
}

const SLOT = 2048;
const CLIENT = [198, 18, 255, 1];
const SERVER = [198, 18, 255, 2];
const TCP = { FIN: 0x01, SYN: 0x02, PSH: 0x08, ACK: 0x10 } as const;

const HTTP_REQUEST = ascii(
  'GET /index.html?id=42&lang=en HTTP/1.1\r\nHost: warmup.invalid\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n' +
  'Accept: text/html,*/*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n',
);
const HTTP_RESPONSE = ascii(
  'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 120\r\n' +
  'Cache-Control: no-cache\r\n\r\n' + '<!DOCTYPE html><html><head><title>ok</title></head><body>' + 'x'.repeat(120 - 65) + '</body></html>',
);

/** Judges synthetic connections with `engine` on a throwaway inspector; see the file header. */
export function warmUpEngine(engine: DetectEngine, options: WarmupOptions = {}): WarmupResult {
  const t0 = performance.now();
  const connections = options.connections ?? 500;
  const budgetMs = options.budgetMs ?? 3000;
  const inspector = new PacketInspector(engine, { midstream: true, maxFlows: 4096 });
  const handler = new EngineVerdictHandler(inspector, null, options.bypass);
  let alerts = 0;
  handler.onAlert = (_insp, r) => { alerts += r.alertCount; };
  const rows = 16;
  const meta = new Uint32Array(META_STRIDE * rows);
  const arena = new ArrayBuffer(SLOT * rows);
  const batch = new PacketBatch(0, arena, meta, 0x100000, 0x200000);
  const w = new BatchWriter(new Uint8Array(arena), meta);
  let done = 0;
  let packets = 0;
  for (; done < connections && performance.now() - t0 < budgetMs; done++) {
    const port = 20000 + (done % 40000);
    const cseq = 1000 + done * 7919;
    const sseq = 5000 + done * 104729;
    // Packets arrive one or two per batch live (docs/performance.md): judge them that way.
    const tcp = (fromClient: boolean, flags: number, seq: number, ack: number, payload: Uint8Array | null): void => {
      w.tcp(fromClient, port, flags, seq, ack, payload);
      if (w.count >= 2) packets += w.flush(batch, handler);
    };
    tcp(true, TCP.SYN, cseq, 0, null);
    tcp(false, TCP.SYN | TCP.ACK, sseq, cseq + 1, null);
    tcp(true, TCP.ACK, cseq + 1, sseq + 1, null);
    tcp(true, TCP.PSH | TCP.ACK, cseq + 1, sseq + 1, HTTP_REQUEST);
    tcp(false, TCP.ACK, sseq + 1, cseq + 1 + HTTP_REQUEST.length, null);
    tcp(false, TCP.PSH | TCP.ACK, sseq + 1, cseq + 1 + HTTP_REQUEST.length, HTTP_RESPONSE);
    tcp(true, TCP.ACK, cseq + 1 + HTTP_REQUEST.length, sseq + 1 + HTTP_RESPONSE.length, null);
    tcp(false, TCP.FIN | TCP.ACK, sseq + 1 + HTTP_RESPONSE.length, cseq + 1 + HTTP_REQUEST.length, null);
    tcp(true, TCP.FIN | TCP.ACK, cseq + 1 + HTTP_REQUEST.length, sseq + 2 + HTTP_RESPONSE.length, null);
    tcp(false, TCP.ACK, sseq + 2 + HTTP_RESPONSE.length, cseq + 2 + HTTP_REQUEST.length, null);
    w.udp(true, port, 53, dnsQuery(done & 0xffff, false));
    w.udp(false, port, 53, dnsQuery(done & 0xffff, true));
    packets += w.flush(batch, handler);
  }
  packets += w.flush(batch, handler);
  inspector.flush();
  engine.resetThresholds();
  return { connections: done, packets, alerts, ms: performance.now() - t0 };
}

/** Writes raw IPv4 packets into the batch arena and its metadata rows. */
class BatchWriter {
  count = 0;
  private id = 1;
  constructor(private readonly bytes: Uint8Array, private readonly meta: Uint32Array) {}

  tcp(fromClient: boolean, clientPort: number, flags: number, seq: number, ack: number, payload: Uint8Array | null): void {
    const plen = payload?.length ?? 0;
    const o = this.ip(fromClient, 6, 20 + plen);
    const b = this.bytes;
    const [sp, dp] = fromClient ? [clientPort, 80] : [80, clientPort];
    put16(b, o, sp);
    put16(b, o + 2, dp);
    put32(b, o + 4, seq);
    put32(b, o + 8, ack);
    b[o + 12] = 5 << 4;
    b[o + 13] = flags;
    put16(b, o + 14, 64240);
    put32(b, o + 16, 0); // checksum + urgent: not verified (the row says CSUMNOTREADY, as veth traffic does)
    if (payload !== null) b.set(payload, o + 20);
  }

  udp(fromClient: boolean, clientPort: number, serverPort: number, payload: Uint8Array): void {
    const o = this.ip(fromClient, 17, 8 + payload.length);
    const b = this.bytes;
    put16(b, o, fromClient ? clientPort : serverPort);
    put16(b, o + 2, fromClient ? serverPort : clientPort);
    put16(b, o + 4, 8 + payload.length);
    put16(b, o + 6, 0);
    b.set(payload, o + 8);
  }

  /** One IPv4 header in the next slot; returns the offset of its transport header. */
  private ip(fromClient: boolean, proto: number, l4Length: number): number {
    const row = this.count++;
    const o = row * SLOT;
    const b = this.bytes;
    const total = 20 + l4Length;
    b[o] = 0x45;
    b[o + 1] = 0;
    put16(b, o + 2, total);
    put16(b, o + 4, this.id & 0xffff);
    put16(b, o + 6, 0x4000);
    b[o + 8] = 64;
    b[o + 9] = proto;
    put16(b, o + 10, 0);
    b.set(fromClient ? CLIENT : SERVER, o + 12);
    b.set(fromClient ? SERVER : CLIENT, o + 16);
    put16(b, o + 10, ipChecksum(b, o));
    const m = row * META_STRIDE;
    this.meta.fill(0, m, m + META_STRIDE);
    this.meta[m + MetaField.ID] = this.id++;
    this.meta[m + MetaField.HW_PROTOCOL] = 0x0800;
    this.meta[m + MetaField.OFFSET] = o;
    this.meta[m + MetaField.CAP_LEN] = total;
    this.meta[m + MetaField.ORIG_LEN] = total;
    this.meta[m + MetaField.SKB_INFO] = SkbInfo.CSUMNOTREADY;
    return o + 20;
  }

  /** Judges the packets written so far; returns how many. */
  flush(batch: PacketBatch, handler: EngineVerdictHandler): number {
    const n = this.count;
    if (n === 0) return 0;
    batch.reset(n);
    handler.handleBatch(batch);
    this.count = 0;
    return n;
  }
}

/** A DNS A query for www.example.com (or its answer). */
function dnsQuery(id: number, answer: boolean): Uint8Array {
  const q = [3, ...ascii('www'), 7, ...ascii('example'), 3, ...ascii('com'), 0, 0, 1, 0, 1];
  const head = [id >> 8, id & 0xff, answer ? 0x81 : 0x01, answer ? 0x80 : 0x00, 0, 1, 0, answer ? 1 : 0, 0, 0, 0, 0];
  const rr = answer ? [0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34] : [];
  return Uint8Array.from([...head, ...q, ...rr]);
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function put32(b: Uint8Array, o: number, v: number): void {
  put16(b, o, (v >>> 16) & 0xffff);
  put16(b, o + 2, v & 0xffff);
}

function ipChecksum(b: Uint8Array, o: number): number {
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (b[o + i]! << 8) | b[o + i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
