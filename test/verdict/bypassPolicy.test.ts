// When the live path takes a flow off the queue: real packets (crafted IPv4/TCP, and the
// corpus SSH session) through the same EngineVerdictHandler the queue workers run, in
// PacketBatch rows as the addon fills them. Each test reads the verdict slot (bypass mark
// or not) of every packet and the handler's counters.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ipv4, tcpSegment, ip4 } from '../decode/craft';
import { corpusPath } from '../support/corpus';
import { META_STRIDE, MetaField, SkbInfo } from '../../src/capture/native';
import { PacketBatch } from '../../src/capture/packetBatch';
import { openPcap } from '../../src/capture/pcapOpen';
import { loadDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleSources } from '../../src/detect/ruleLoader';
import { DetectEngine } from '../../src/detect/detectEngine';
import { PacketInspector } from '../../src/verdict/packetInspector';
import { EngineVerdictHandler } from '../../src/verdict/engineVerdictHandler';
import { BypassReason, loadBypassOptions, type BypassOptions } from '../../src/verdict/bypassPolicy';
import { TcpFlag } from '../../src/decode/packet';

const REPEAT = 0x100000;
const BYPASS = 0x200000;
const MIB = 1024 * 1024;
const SEG = 1448;
const SYN = TcpFlag.SYN, ACK = TcpFlag.ACK, PA = TcpFlag.PSH | TcpFlag.ACK;

// An ET-style rule set: one any-any TCP content rule (so every direction of every TCP flow
// "may be needed" by a rule), a port-80 request rule, and a drop rule for the attack string.
const RULES = [
  'alert tcp any any -> any any (msg:"probe"; content:"NEVER-IN-BULK"; sid:1;)',
  'alert tcp any any -> any 80 (msg:"http request probe"; flow:to_server; content:"EVIL"; sid:2;)',
  'drop tcp any any -> any any (msg:"attack"; content:"ATTACK-STRING"; sid:3;)',
];

function handlerFor(rules: string[], bypass: Partial<BypassOptions> = {}): EngineVerdictHandler {
  const config = loadDetectConfig();
  config.ipsMode = true;
  const set = loadRuleSources([{ file: 'test.rules', text: rules.join('\n') }], config);
  const engine = DetectEngine.compile(set, config);
  const inspector = new PacketInspector(engine, { midstream: true, maxFlows: 1024 });
  return new EngineVerdictHandler(inspector, null, { ...loadBypassOptions(), ...bypass });
}

/** Runs raw IPv4 packets through the handler, one batch each; returns each packet's bypass bit. */
function judge(h: EngineVerdictHandler, packets: Uint8Array[], skb = 0): boolean[] {
  const out: boolean[] = [];
  const meta = new Uint32Array(META_STRIDE);
  const arena = new ArrayBuffer(70000);
  const batch = new PacketBatch(0, arena, meta, REPEAT, BYPASS);
  let id = 1;
  for (const pkt of packets) {
    new Uint8Array(arena).set(pkt, 0);
    meta[MetaField.ID] = id++;
    meta[MetaField.OFFSET] = 0;
    meta[MetaField.CAP_LEN] = pkt.length;
    meta[MetaField.ORIG_LEN] = pkt.length;
    meta[MetaField.HW_PROTOCOL] = 0x0800;
    meta[MetaField.MARK] = 0;
    meta[MetaField.SKB_INFO] = skb;
    batch.reset(1);
    h.handleBatch(batch);
    out.push((batch.marks[0]! & BYPASS) !== 0);
  }
  return out;
}

/** One TCP connection's packets, with sequence numbers kept per side. */
class Conn {
  private cseq = 1000;
  private sseq = 5000;
  constructor(readonly client = '10.9.0.2', readonly server = '10.9.0.3', readonly cport = 40000, readonly sport = 5201) {}
  private pkt(toServer: boolean, flags: number, payload: number[] = []): Uint8Array {
    const [src, dst] = toServer ? [this.client, this.server] : [this.server, this.client];
    const o = {
      sport: toServer ? this.cport : this.sport, dport: toServer ? this.sport : this.cport,
      seq: toServer ? this.cseq : this.sseq, ack: toServer ? this.sseq : this.cseq, flags, payload,
    };
    const bytes = Uint8Array.from(ipv4(src, dst, { proto: 6 }, tcpSegment(ip4(src), ip4(dst), o)));
    const adv = payload.length + ((flags & (SYN | TcpFlag.FIN)) !== 0 ? 1 : 0);
    if (toServer) this.cseq += adv;
    else this.sseq += adv;
    return bytes;
  }
  handshake(): Uint8Array[] {
    return [this.pkt(true, SYN), this.pkt(false, SYN | ACK), this.pkt(true, ACK)];
  }
  data(toServer: boolean, payload: number[] | string): Uint8Array {
    return this.pkt(toServer, PA, typeof payload === 'string' ? [...Buffer.from(payload, 'latin1')] : payload);
  }
  ack(toServer: boolean): Uint8Array {
    return this.pkt(toServer, ACK);
  }
  /** `bytes` of bulk data from one side, each segment ACKed by the other (as iperf3 does). */
  bulk(toServer: boolean, bytes: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    const seg = new Array<number>(SEG).fill(0x5a);
    for (let sent = 0; sent < bytes; sent += SEG) {
      out.push(this.data(toServer, seg));
      out.push(this.ack(!toServer));
    }
    return out;
  }
}

/** Index of the first true, or -1. */
const first = (a: boolean[]): number => a.indexOf(true);

test('one-way bulk (iperf3-like): bypassed on the packet that reaches the 1 MiB depth, never before', () => {
  const h = handlerFor(RULES);
  const c = new Conn();
  const pkts = [...c.handshake(), c.data(true, 'iperf3-cookie-0123456789abcdefghijklmnopq'), ...c.bulk(true, MIB + 64 * SEG)];
  const marks = judge(h, pkts);
  const at = first(marks);
  assert.ok(at > 0, 'the flow was bypassed');
  // Client bytes before packet `at`: the cookie plus the bulk segments (every other packet).
  const dataPackets = (at - 4) / 2;
  const before = 40 + dataPackets * SEG;
  assert.ok(before < MIB && before + SEG >= MIB, `bypassed on the segment crossing the depth (${before} bytes before it)`);
  assert.ok(marks.slice(0, at).every((m) => !m), 'no packet inside the depth carries the bypass mark');
  assert.ok(marks.slice(at).every((m) => m), 'packets still in flight after the decision get the mark again');
  assert.is(h.counters.bypassedFlows, 1);
  assert.is(h.counters.bypassDepth, 1);
  assert.is(h.counters.bypassed, marks.length - at);
  assert.is(h.inspector.flow!.bypassReason, BypassReason.DEPTH);
});

test('a flow still inside the depth is never bypassed (both directions busy, just below 1 MiB each)', () => {
  const h = handlerFor(RULES);
  const c = new Conn();
  const marks = judge(h, [...c.handshake(), ...c.bulk(true, MIB - 2 * SEG), ...c.bulk(false, MIB - 2 * SEG)]);
  assert.is(first(marks), -1);
  assert.is(h.counters.bypassedFlows, 0);
});

test('depth in one direction while the other carried data a rule may inspect: conservative keeps it, suricata bypasses', () => {
  // A download on port 80: the request went to the server, the response passes the depth.
  const download = (policy: 'conservative' | 'suricata'): { marks: boolean[]; h: EngineVerdictHandler } => {
    const h = handlerFor(RULES, { depth: policy });
    const c = new Conn('10.9.0.2', '10.9.0.3', 40001, 80);
    const pkts = [...c.handshake(), c.data(true, 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n'), ...c.bulk(false, MIB + 16 * SEG)];
    return { marks: judge(h, pkts), h };
  };
  const cons = download('conservative');
  assert.is(first(cons.marks), -1, 'rule 2 (port 80, to_server) may still need the request side');
  assert.ok(cons.h.bypass.counters.heldByOtherDirection > 0);
  const suri = download('suricata');
  assert.ok(first(suri.marks) > 0, "Suricata 7's condition: either direction at depth");
  assert.is(suri.h.counters.bypassDepth, 1);
});

test('depth in one direction, data the other way but no rule can match that direction: bypassed', () => {
  // Only a to_server rule for port 80: the server's replies on port 5201 are needed by none.
  const h = handlerFor(['alert tcp any any -> any 80 (msg:"x"; flow:to_server; content:"EVIL"; sid:9;)']);
  const c = new Conn();
  const pkts = [...c.handshake(), c.data(false, 'server hello banner'), ...c.bulk(true, MIB + 8 * SEG)];
  const marks = judge(h, pkts);
  assert.ok(first(marks) > 0);
  assert.is(h.counters.bypassDepth, 1);
});

test('a flowbit set on the flow keeps it queued past the depth (a later isset must see it)', () => {
  const rules = [
    'alert tcp any any -> any any (msg:"mark"; content:"LOGIN"; flowbits:set,seen.login; flowbits:noalert; sid:10;)',
    'alert tcp any any -> any any (msg:"after login"; flowbits:isset,seen.login; content:"SECRET"; sid:11;)',
  ];
  const h = handlerFor(rules);
  const c = new Conn();
  const marks = judge(h, [...c.handshake(), c.data(true, 'LOGIN bob'), ...c.bulk(true, MIB + 8 * SEG)]);
  assert.is(first(marks), -1);
  assert.ok(h.bypass.counters.heldByFlowbits > 0);
  // The same transfer without the flowbit is bypassed.
  const h2 = handlerFor(rules);
  const c2 = new Conn();
  assert.ok(first(judge(h2, [...c2.handshake(), c2.data(true, 'HELLO bob'), ...c2.bulk(true, MIB + 8 * SEG)])) > 0);
});

test('a pass rule bypasses at once; stream.bypass: no bypasses nothing', () => {
  const rules = ['pass tcp any any -> any 5201 (msg:"trusted"; sid:20;)'];
  const h = handlerFor(rules);
  const c = new Conn();
  const marks = judge(h, [...c.handshake(), c.data(true, 'x')]);
  assert.is(first(marks), 0, 'header-only pass acts on the flow from its first packet');
  assert.is(h.counters.bypassPass, 1);
  const off = handlerFor(rules, { enabled: false });
  const c2 = new Conn();
  assert.is(first(judge(off, [...c2.handshake(), c2.data(true, 'x'), ...c2.bulk(true, MIB + 8 * SEG)])), -1);
});

// TLS records (RFC 8446 §5.1): ClientHello, ServerHello, ChangeCipherSpec both ways, then
// application data.
function u16(n: number): number[] {
  return [n >> 8, n & 255];
}
function record(type: number, body: number[]): number[] {
  return [type, 3, 3, ...u16(body.length), ...body];
}
function handshakeMsg(type: number, body: number[]): number[] {
  return record(22, [type, 0, body.length >> 8, body.length & 255, ...body]);
}
const CLIENT_HELLO = handshakeMsg(1, [3, 3, ...new Array<number>(32).fill(7), 0, ...u16(2), 0x13, 0x01, 1, 0, ...u16(0)]);
const SERVER_HELLO = handshakeMsg(2, [3, 3, ...new Array<number>(32).fill(9), 0, 0x13, 0x01, 0, ...u16(0)]);
const CCS = record(20, [1]);
const APP_DATA = record(23, new Array<number>(200).fill(0xa5));

function tlsSession(mode: 'default' | 'bypass' | 'full'): { marks: boolean[]; h: EngineVerdictHandler } {
  const h = handlerFor(RULES, { tlsEncryption: mode });
  const c = new Conn('10.9.0.2', '10.9.0.3', 40002, 443);
  const pkts = [
    ...c.handshake(),
    c.data(true, CLIENT_HELLO), c.data(false, [...SERVER_HELLO, ...CCS]), c.data(true, CCS),
    c.data(true, APP_DATA), c.data(false, APP_DATA), c.data(true, APP_DATA),
  ];
  return { marks: judge(h, pkts), h };
}

test('TLS with encryption-handling bypass: bypassed on the first application-data record, not before', () => {
  const { marks, h } = tlsSession('bypass');
  assert.equal(marks, [false, false, false, false, false, false, true, true, true]);
  assert.is(h.counters.bypassEncrypted, 1);
  assert.ok(h.inspector.appLayer!.tls!.handshakeDone);
});

test("TLS with encryption-handling default or full (Suricata's default is default): stays queued", () => {
  for (const mode of ['default', 'full'] as const) {
    const { marks, h } = tlsSession(mode);
    assert.is(first(marks), -1, mode);
    assert.ok(h.inspector.appLayer!.tls!.handshakeDone, `${mode}: handshake seen as done all the same`);
  }
});

test('SSH (corpus sshguess): a session is bypassed once both sides sent NEWKEYS', () => {
  // Ethernet frames in the pcap; the queue hands us raw IP: strip the link header.
  const h = handlerFor(RULES);
  const reader = openPcap(corpusPath('pcaps', 'ssh-password-guessing.pcap'));
  const pkts: Uint8Array[] = [];
  for (let rec = reader.next(); rec !== null && pkts.length < 40; rec = reader.next()) {
    const d = rec.data;
    if (d.length > 14 && d[12] === 0x08 && d[13] === 0x00) pkts.push(d.slice(14));
  }
  reader.close();
  // Captured checksums may be offloaded: judge them as the kernel's CHECKSUM_PARTIAL packets.
  const marks = judge(h, pkts, SkbInfo.CSUMNOTREADY);
  const at = first(marks);
  assert.ok(at > 0, 'the first session was bypassed');
  // tshark: frame 17 is the server's NEWKEYS, frame 19 the client's (both in stream 0).
  assert.is(at, 18, 'on the client NEWKEYS packet (frame 19), after the server sent its own');
  assert.is(h.counters.bypassEncrypted, 1);
});

test('bypass settings come from the Suricata-style YAML; bad values name the key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bypass-yaml-'));
  const good = path.join(dir, 'good.yaml');
  fs.writeFileSync(good, '%YAML 1.1\n---\nstream:\n  bypass: no\n  bypass-depth: suricata\napp-layer:\n  protocols:\n    tls:\n      encryption-handling: bypass\n');
  assert.equal(loadBypassOptions(good), { enabled: false, depth: 'suricata', tlsEncryption: 'bypass' });
  assert.equal(loadBypassOptions(), { enabled: true, depth: 'conservative', tlsEncryption: 'default' });
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, 'app-layer:\n  protocols:\n    tls:\n      encryption-handling: sometimes\n');
  assert.throws(() => loadBypassOptions(bad), /encryption-handling: "sometimes" is not one of default, bypass, full/);
  fs.rmSync(dir, { recursive: true });
});

test.run();
