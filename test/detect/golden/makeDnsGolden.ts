// Regenerates dns.golden.json: ET Open dns.query rules, one crafted query each (dnsCraft.ts)
// in its own UDP flow to port 53, run through real Suricata 7.0.10; records (flow, sid)
// alerts. Run: `npx tsc -p . && node dist/test/detect/golden/makeDnsGolden.js`.

import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corpusPath, repoRoot } from '../../support/corpus';
import { defaultDetectConfig } from '../../../src/detect/detectConfig';
import { loadRuleFiles } from '../../../src/detect/ruleLoader';
import { buildPcap, type EtFlow } from './makeEtGolden';
import { craftDns } from './dnsCraft';

export interface DnsGolden {
  suricata: string;
  lines: number[];
  alerts: string[];
}

export function dnsFlow(i: number, packet: Buffer): EtFlow {
  return {
    proto: 17, src: `10.5.${(i >> 8) & 255}.${i & 255}`, dst: `10.6.${(i >> 8) & 255}.${i & 255}`,
    sport: 40000 + (i % 20000), dport: 53, toServer: true, payload: packet.toString('hex'),
  };
}

function main(): void {
  const file = corpusPath('et-open', 'et-open.rules');
  const set = loadRuleFiles([file], defaultDetectConfig());
  const lines: number[] = [];
  const flows: EtFlow[] = [];
  const ip = (a: string): Uint8Array => { const b = new Uint8Array(16); b[10] = 0xff; b[11] = 0xff; b.set(a.split('.').map(Number), 12); return b; };
  for (const s of set.signatures) {
    const c = craftDns(s, flows.length);
    if (!c) continue;
    const f = dnsFlow(flows.length, c.packet);
    if (!s.src.match(ip(f.src)) || !s.dst.match(ip(f.dst)) || !s.dport.match(53) || !s.sport.match(f.sport)) continue;
    lines.push(s.location.line);
    flows.push(f);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-dnsgolden-'));
  const { pcap, flowOfPacket } = buildPcap(flows);
  fs.writeFileSync(path.join(dir, 'in.pcap'), pcap);
  const text = fs.readFileSync(file, 'utf8').split('\n');
  fs.writeFileSync(path.join(dir, 'test.rules'), lines.map((l) => text[l - 1]).join('\n') + '\n');
  cp.spawnSync('suricata', ['-r', path.join(dir, 'in.pcap'), '-S', path.join(dir, 'test.rules'), '-l', dir, '-k', 'none', '--runmode', 'single'], { stdio: 'ignore' });
  const alerts = new Set<string>();
  for (const l of fs.readFileSync(path.join(dir, 'eve.json'), 'utf8').split('\n')) {
    if (!l) continue;
    const e = JSON.parse(l) as { event_type: string; pcap_cnt?: number; alert?: { signature_id: number } };
    if (e.event_type === 'alert' && e.alert && e.pcap_cnt) alerts.add(`${flowOfPacket[e.pcap_cnt - 1]}:${e.alert.signature_id}`);
  }
  const out: DnsGolden = { suricata: cp.execFileSync('suricata', ['-V']).toString().trim(), lines, alerts: [...alerts].sort() };
  fs.writeFileSync(path.join(repoRoot, 'test/detect/golden/dns.golden.json'), JSON.stringify(out) + '\n');
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${lines.length} rules/flows, ${alerts.size} alerts\n`);
}

if (require.main === module) main();
