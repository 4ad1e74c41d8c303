// Regenerates et.golden.json: the ET Open rules that need no app-layer parser (plain
// tcp/udp/ip payload and header rules, ~2,400), one crafted flow per rule whose payload is
// built from the rule's own contents (offsets/distances padded), run through real Suricata
// 7.0.10. The test replays the same flows through our engine and compares, per flow, which
// sids alerted. Run: `npx tsc -p . && node dist/test/detect/golden/makeEtGolden.js`.
//
// TCP flows are a full handshake, one data segment and the peer's ACK (so Suricata's stream
// engine sees established, acknowledged data); UDP flows are one packet.

import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corpusPath, repoRoot } from '../../support/corpus';
import { defaultDetectConfig } from '../../../src/detect/detectConfig';
import { loadRuleFiles } from '../../../src/detect/ruleLoader';
import { BufferId } from '../../../src/detect/buffers';
import { ContentMatch } from '../../../src/detect/keywords/content';
import type { AddressSet } from '../../../src/detect/addressSet';
import type { PortSet } from '../../../src/detect/portSet';
import type { Signature } from '../../../src/detect/signature';

export interface EtFlow {
  proto: 6 | 17;
  /** Data packet addresses/ports (the rule's src/dst side). */
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** Data goes from the flow's initiator (true) or from the responder (false). */
  toServer: boolean;
  payload: string; // hex
}

export interface EtGolden {
  suricata: string;
  /** Line numbers in et-open.rules of the rules used. */
  lines: number[];
  flows: EtFlow[];
  /** "flowIndex:sid" */
  alerts: string[];
}

export function selectEtRules(sigs: Signature[]): Signature[] {
  return sigs.filter((s) => s.alproto === '' && (s.ipProtos.length === 0 || s.ipProtos[0] === 6 || s.ipProtos[0] === 17) &&
    !(s.ipProtos[0] === 17 && s.flowDirection === 2));
}

function ip4(a: number[]): string {
  return a.join('.');
}

function pickAddr(set: AddressSet, i: number, home: boolean): string {
  const cands = home ? [[10, 9, (i >> 8) & 255, i & 255], [11, 9, (i >> 8) & 255, i & 255]] : [[11, 9, (i >> 8) & 255, i & 255], [10, 9, (i >> 8) & 255, i & 255]];
  for (const c of cands) {
    const b = new Uint8Array(16); b[10] = 0xff; b[11] = 0xff; b.set(c, 12);
    if (set.match(b)) return ip4(c);
  }
  const v = set.v4;
  if (v.length >= 2) {
    const n = v[0]!;
    return ip4([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  }
  return '';
}

function pickPort(set: PortSet, fallback: number): number {
  if (set.any || set.match(fallback)) return fallback;
  const lo = set.ranges[0]!;
  return lo === 0 ? (set.match(1) ? 1 : fallback) : lo;
}

/** Payload that satisfies the rule's payload contents where simple padding can. */
export function craftPayload(s: Signature): Buffer {
  const out: number[] = [];
  const list = s.buffers.find((l) => l.bufferId === BufferId.PAYLOAD);
  for (const m of list?.items ?? []) {
    if (!(m instanceof ContentMatch) || m.negated) continue;
    if (!m.relative && m.hasOffset && m.offsetVar < 0) while (out.length < m.offset) out.push(0x78);
    if (m.relative && m.distanceVar < 0 && m.distance > 0) for (let k = 0; k < m.distance; k++) out.push(0x78);
    if (m.endswith) { /* nothing after: stays last if it is the last content */ }
    out.push(...m.pattern);
  }
  return Buffer.from(out.length ? out : [0x78]);
}

function main(): void {
  const file = corpusPath('et-open', 'et-open.rules');
  const set = loadRuleFiles([file], defaultDetectConfig());
  const rules = selectEtRules(set.signatures);
  const flows: EtFlow[] = [];
  const lines: number[] = [];
  rules.forEach((s) => {
    const i = flows.length + 1;
    const src = pickAddr(s.src, i, true), dst = pickAddr(s.dst, i + 20000, false);
    if (!src || !dst) return;
    lines.push(s.location.line);
    flows.push({
      proto: s.ipProtos[0] === 17 || s.ipProtos.length === 0 ? 17 : 6,
      src, dst, sport: pickPort(s.sport, 1024 + (i % 60000)), dport: pickPort(s.dport, 2000 + (i % 60000)),
      toServer: s.flowDirection !== 2, payload: craftPayload(s).toString('hex'),
    });
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-etgolden-'));
  const { pcap, flowOfPacket } = buildPcap(flows);
  fs.writeFileSync(path.join(dir, 'in.pcap'), pcap);
  const text = fs.readFileSync(file, 'utf8').split('\n');
  fs.writeFileSync(path.join(dir, 'test.rules'), lines.map((l) => text[l - 1]).join('\n') + '\n');
  cp.spawnSync('suricata', ['-r', path.join(dir, 'in.pcap'), '-S', path.join(dir, 'test.rules'), '-l', dir, '-k', 'none', '--runmode', 'single'], { stdio: 'ignore' });
  // Alerts raised when Suricata flushes a stream at the end carry no pcap_cnt: map those
  // to their flow by the 5-tuple (every flow has its own address pair).
  const byTuple = new Map<string, number>();
  flows.forEach((f, i) => {
    byTuple.set(`${f.src}:${f.sport}-${f.dst}:${f.dport}`, i);
    byTuple.set(`${f.dst}:${f.dport}-${f.src}:${f.sport}`, i);
  });
  const alerts = new Set<string>();
  for (const l of fs.readFileSync(path.join(dir, 'eve.json'), 'utf8').split('\n')) {
    if (!l) continue;
    const e = JSON.parse(l) as {
      event_type: string; pcap_cnt?: number; alert?: { signature_id: number };
      src_ip: string; src_port: number; dest_ip: string; dest_port: number;
    };
    if (e.event_type !== 'alert' || !e.alert) continue;
    const fi = e.pcap_cnt ? flowOfPacket[e.pcap_cnt - 1] : byTuple.get(`${e.src_ip}:${e.src_port}-${e.dest_ip}:${e.dest_port}`);
    if (fi !== undefined) alerts.add(`${fi}:${e.alert.signature_id}`);
  }
  const version = cp.execFileSync('suricata', ['-V']).toString().trim();
  const out: EtGolden = { suricata: version, lines, flows, alerts: [...alerts].sort() };
  const target = path.join(repoRoot, 'test/detect/golden/et.golden.json');
  fs.writeFileSync(target, JSON.stringify(out) + '\n');
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${target}: ${lines.length} rules/flows, ${alerts.size} alerts\n`);
}

function csum(b: Buffer, init = 0): number {
  let s = init;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) + (b[i + 1] ?? 0);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

export interface WirePacket {
  src: string; dst: string; sport: number; dport: number; proto: 6 | 17;
  flags: number; seq: number; ack: number; payload: Buffer;
}

/** The packets of one flow, in order, with the data packet's index. */
export function flowPackets(f: EtFlow): { packets: WirePacket[]; dataIndex: number } {
  const payload = Buffer.from(f.payload, 'hex');
  const d = { src: f.src, dst: f.dst, sport: f.sport, dport: f.dport };
  if (f.proto === 17) return { packets: [{ ...d, proto: 17, flags: 0, seq: 0, ack: 0, payload }], dataIndex: 0 };
  // Client/server: the data sender is the client when toServer.
  const c = f.toServer ? { ip: f.src, port: f.sport } : { ip: f.dst, port: f.dport };
  const s = f.toServer ? { ip: f.dst, port: f.dport } : { ip: f.src, port: f.sport };
  const cs = (flags: number, seq: number, ack: number, pl = Buffer.alloc(0)): WirePacket => ({ src: c.ip, dst: s.ip, sport: c.port, dport: s.port, proto: 6, flags, seq, ack, payload: pl });
  const sc = (flags: number, seq: number, ack: number, pl = Buffer.alloc(0)): WirePacket => ({ src: s.ip, dst: c.ip, sport: s.port, dport: c.port, proto: 6, flags, seq, ack, payload: pl });
  const packets = [cs(0x02, 1000, 0), sc(0x12, 5000, 1001), cs(0x10, 1001, 5001)];
  if (f.toServer) packets.push(cs(0x18, 1001, 5001, payload), sc(0x10, 5001, 1001 + payload.length));
  else packets.push(sc(0x18, 5001, 1001, payload), cs(0x10, 1001, 5001 + payload.length));
  return { packets, dataIndex: 3 };
}

function wire(p: WirePacket): Buffer {
  const l4len = p.proto === 6 ? 20 : 8;
  const b = Buffer.alloc(20 + l4len + p.payload.length);
  b[0] = 0x45; b.writeUInt16BE(b.length, 2); b[8] = 64; b[9] = p.proto;
  const sa = p.src.split('.').map(Number), da = p.dst.split('.').map(Number);
  Buffer.from(sa).copy(b, 12); Buffer.from(da).copy(b, 16);
  b.writeUInt16BE(csum(b.subarray(0, 20)), 10);
  b.writeUInt16BE(p.sport, 20); b.writeUInt16BE(p.dport, 22);
  if (p.proto === 6) {
    b.writeUInt32BE(p.seq >>> 0, 24); b.writeUInt32BE(p.ack >>> 0, 28); b[32] = 0x50; b[33] = p.flags; b.writeUInt16BE(65535, 34);
  } else b.writeUInt16BE(8 + p.payload.length, 24);
  p.payload.copy(b, 20 + l4len);
  return Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]), b]);
}

export function buildPcap(flows: EtFlow[]): { pcap: Buffer; flowOfPacket: number[] } {
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0); hdr.writeUInt16LE(2, 4); hdr.writeUInt16LE(4, 6); hdr.writeUInt32LE(65535, 16); hdr.writeUInt32LE(1, 20);
  const recs: Buffer[] = [hdr];
  const flowOfPacket: number[] = [];
  let n = 0;
  flows.forEach((f, i) => {
    for (const p of flowPackets(f).packets) {
      const w = wire(p);
      const r = Buffer.alloc(16);
      r.writeUInt32LE(1000 + Math.floor(n / 100), 0); r.writeUInt32LE((n % 100) * 1000, 4); r.writeUInt32LE(w.length, 8); r.writeUInt32LE(w.length, 12);
      recs.push(r, w);
      flowOfPacket.push(i);
      n++;
    }
  });
  return { pcap: Buffer.concat(recs), flowOfPacket };
}

if (require.main === module) main();
