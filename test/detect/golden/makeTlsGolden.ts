// Regenerates tls.golden.json: ET Open tls.sni rules, one crafted ClientHello each (tlsCraft.ts)
// in its own TCP flow to port 443, run through real Suricata 7.0.10; records (flow, sid)
// alerts. Run: `npx tsc -p . && node dist/test/detect/golden/makeTlsGolden.js`.

import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corpusPath, repoRoot } from '../../support/corpus';
import { defaultDetectConfig } from '../../../src/detect/detectConfig';
import { loadRuleFiles } from '../../../src/detect/ruleLoader';
import { buildPcap, type EtFlow } from './makeEtGolden';
import { craftTls } from './tlsCraft';

export interface TlsGolden {
  suricata: string;
  lines: number[];
  /** Flow index → true when the server side is outside HOME_NET. */
  external: number[];
  alerts: string[];
}

export function tlsFlow(i: number, packet: Buffer, external = false): EtFlow {
  return {
    proto: 6, src: `10.3.${(i >> 8) & 255}.${i & 255}`, dst: `${external ? 11 : 10}.4.${(i >> 8) & 255}.${i & 255}`,
    sport: 40000 + (i % 20000), dport: 443, toServer: true, payload: packet.toString('hex'),
  };
}

function main(): void {
  const file = corpusPath('et-open', 'et-open.rules');
  const set = loadRuleFiles([file], defaultDetectConfig());
  const lines: number[] = [];
  const external: number[] = [];
  const flows: EtFlow[] = [];
  const ip = (a: string): Uint8Array => { const b = new Uint8Array(16); b[10] = 0xff; b[11] = 0xff; b.set(a.split('.').map(Number), 12); return b; };
  for (const s of set.signatures) {
    const c = craftTls(s);
    if (!c) continue;
    let f = tlsFlow(flows.length, c.hello);
    if (!s.dst.match(ip(f.dst))) f = tlsFlow(flows.length, c.hello, true);
    if (!s.src.match(ip(f.src)) || !s.dst.match(ip(f.dst)) || !s.dport.match(443) || !s.sport.match(f.sport)) continue;
    lines.push(s.location.line);
    if (f.dst.startsWith('11.')) external.push(flows.length);
    flows.push(f);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-tlsgolden-'));
  const { pcap, flowOfPacket } = buildPcap(flows);
  fs.writeFileSync(path.join(dir, 'in.pcap'), pcap);
  const text = fs.readFileSync(file, 'utf8').split('\n');
  fs.writeFileSync(path.join(dir, 'test.rules'), lines.map((l) => text[l - 1]).join('\n') + '\n');
  cp.spawnSync('suricata', ['-r', path.join(dir, 'in.pcap'), '-S', path.join(dir, 'test.rules'), '-l', dir, '-k', 'none', '--runmode', 'single'], { stdio: 'ignore' });
  const byTuple = new Map<string, number>();
  flows.forEach((f, i) => byTuple.set(`${f.src}:${f.sport}-${f.dst}:${f.dport}`, i));
  const alerts = new Set<string>();
  for (const l of fs.readFileSync(path.join(dir, 'eve.json'), 'utf8').split('\n')) {
    if (!l) continue;
    const e = JSON.parse(l) as { event_type: string; pcap_cnt?: number; alert?: { signature_id: number }; src_ip: string; src_port: number; dest_ip: string; dest_port: number };
    if (e.event_type !== 'alert' || !e.alert) continue;
    const fi = e.pcap_cnt ? flowOfPacket[e.pcap_cnt - 1] : byTuple.get(`${e.src_ip}:${e.src_port}-${e.dest_ip}:${e.dest_port}`);
    if (fi !== undefined) alerts.add(`${fi}:${e.alert.signature_id}`);
  }
  const out: TlsGolden = { suricata: cp.execFileSync('suricata', ['-V']).toString().trim(), lines, external, alerts: [...alerts].sort() };
  fs.writeFileSync(path.join(repoRoot, 'test/detect/golden/tls.golden.json'), JSON.stringify(out) + '\n');
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${lines.length} rules/flows, ${alerts.size} alerts\n`);
}

if (require.main === module) main();
