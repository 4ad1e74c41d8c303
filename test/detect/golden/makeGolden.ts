// Regenerates payload.golden.json by running real Suricata (7.0.10 here) over the cases of
// payloadCases.ts: `npx tsc -p . && node dist/test/detect/golden/makeGolden.js`.
// Writes a pcap (Ethernet/IPv4/UDP or ICMP echo), runs `suricata -r --runmode single -k none`
// (single thread so thresholds see packets in order), and records which (packet, sid)
// alerted and which rules Suricata refused. Not a test: the test reads the JSON.

import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../support/corpus';
import { GOLDEN_CASES } from './payloadCases';

export interface GoldenPacket {
  proto: 'udp' | 'icmp';
  payload: string; // hex
  sport: number;
  ts: number;
  icmpType: number;
  icmpCode: number;
}

export interface GoldenFile {
  suricata: string;
  rules: string[];
  packets: GoldenPacket[];
  /** "packetIndex(1-based):sid" */
  alerts: string[];
  /** sids Suricata failed to load */
  failed: number[];
}

function csum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) + (b[i + 1] ?? 0);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

export function frame(p: GoldenPacket): Buffer {
  const payload = Buffer.from(p.payload, 'hex');
  const l4len = 8;
  const ip = Buffer.alloc(20 + l4len + payload.length);
  ip[0] = 0x45; ip.writeUInt16BE(ip.length, 2); ip[8] = 64; ip[9] = p.proto === 'udp' ? 17 : 1;
  Buffer.from([10, 0, 0, 1]).copy(ip, 12); Buffer.from([10, 0, 0, 2]).copy(ip, 16);
  ip.writeUInt16BE(csum(ip.subarray(0, 20)), 10);
  if (p.proto === 'udp') {
    ip.writeUInt16BE(p.sport, 20); ip.writeUInt16BE(5555, 22); ip.writeUInt16BE(8 + payload.length, 24);
  } else {
    ip[20] = p.icmpType; ip[21] = p.icmpCode; ip.writeUInt16BE(p.sport, 24); ip.writeUInt16BE(1, 26);
  }
  payload.copy(ip, 28);
  if (p.proto === 'icmp') ip.writeUInt16BE(csum(ip.subarray(20)), 22);
  const eth = Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  return Buffer.concat([eth, ip]);
}

function main(): void {
  const rules: string[] = [];
  const packets: GoldenPacket[] = [];
  GOLDEN_CASES.forEach((c, i) => {
    rules.push(c.rule.replace('SID', String(i + 1)));
    for (const pl of c.payloads) {
      packets.push({
        proto: c.proto ?? 'udp', payload: Buffer.from(pl, 'latin1').toString('hex'), sport: 10000 + packets.length,
        ts: 1000 + packets.length, icmpType: c.icmpType ?? -1, icmpCode: c.icmpCode ?? -1,
      });
    }
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-golden-'));
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0); hdr.writeUInt16LE(2, 4); hdr.writeUInt16LE(4, 6); hdr.writeUInt32LE(65535, 16); hdr.writeUInt32LE(1, 20);
  const recs = packets.map((p) => {
    const f = frame(p);
    const r = Buffer.alloc(16);
    r.writeUInt32LE(p.ts, 0); r.writeUInt32LE(f.length, 8); r.writeUInt32LE(f.length, 12);
    return Buffer.concat([r, f]);
  });
  fs.writeFileSync(path.join(dir, 'in.pcap'), Buffer.concat([hdr, ...recs]));
  fs.writeFileSync(path.join(dir, 'test.rules'), rules.join('\n') + '\n');
  cp.spawnSync('suricata', ['-r', path.join(dir, 'in.pcap'), '-S', path.join(dir, 'test.rules'), '-l', dir, '-k', 'none', '--runmode', 'single'], { stdio: 'ignore' });
  const alerts = new Set<string>();
  for (const l of fs.readFileSync(path.join(dir, 'eve.json'), 'utf8').split('\n')) {
    if (!l) continue;
    const e = JSON.parse(l) as { event_type: string; pcap_cnt: number; alert?: { signature_id: number } };
    if (e.event_type === 'alert' && e.alert) alerts.add(`${e.pcap_cnt}:${e.alert.signature_id}`);
  }
  const log = fs.readFileSync(path.join(dir, 'suricata.log'), 'utf8');
  const failed = [...log.matchAll(/error parsing signature ".*?sid:(\d+);\)" from file/g)].map((m) => Number(m[1]));
  const version = cp.execFileSync('suricata', ['-V']).toString().trim();
  const out: GoldenFile = { suricata: version, rules, packets, alerts: [...alerts].sort(), failed };
  const file = path.join(repoRoot, 'test/detect/golden/payload.golden.json');
  fs.writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${file}: ${rules.length} rules, ${packets.length} packets, ${alerts.size} alerts, ${failed.length} failed\n`);
}

if (require.main === module) main();
