// Regenerates http.golden.json: ET Open HTTP request rules, one crafted request per rule
// (httpCraft.ts) in its own TCP flow to port 80, run through real Suricata 7.0.10; records
// (flow, sid) alerts. Flows are regenerated from the rules by the test, so only rule lines
// and alerts are stored. Run: `npx tsc -p . && node dist/test/detect/golden/makeHttpGolden.js`.

import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corpusPath, repoRoot } from '../../support/corpus';
import { defaultDetectConfig } from '../../../src/detect/detectConfig';
import { loadRuleFiles } from '../../../src/detect/ruleLoader';
import { buildPcap, type EtFlow } from './makeEtGolden';
import { craftHttp } from './httpCraft';

export interface HttpGolden {
  suricata: string;
  lines: number[];
  alerts: string[];
}

export function httpFlow(i: number, request: string): EtFlow {
  return {
    proto: 6, src: `10.7.${(i >> 8) & 255}.${i & 255}`, dst: `10.8.${(i >> 8) & 255}.${i & 255}`,
    sport: 30000 + (i % 30000), dport: 80, toServer: true, payload: Buffer.from(request, 'latin1').toString('hex'),
  };
}

function main(): void {
  const file = corpusPath('et-open', 'et-open.rules');
  const set = loadRuleFiles([file], defaultDetectConfig());
  const lines: number[] = [];
  const flows: EtFlow[] = [];
  for (const s of set.signatures) {
    const c = craftHttp(s);
    if (!c || c.request.length > 1400) continue;
    // Addresses must satisfy the rule header: HOME_NET on both sides works for most
    // ($HOME_NET/$HTTP_SERVERS/any); rules that need an external side are left out.
    const f = httpFlow(flows.length, c.request);
    const ip = (a: string): Uint8Array => { const b = new Uint8Array(16); b[10] = 0xff; b[11] = 0xff; b.set(a.split('.').map(Number), 12); return b; };
    if (!s.src.match(ip(f.src)) || !s.dst.match(ip(f.dst)) || !s.dport.match(80) || !s.sport.match(f.sport)) continue;
    lines.push(s.location.line);
    flows.push(f);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-httpgolden-'));
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
  const out: HttpGolden = { suricata: cp.execFileSync('suricata', ['-V']).toString().trim(), lines, alerts: [...alerts].sort() };
  fs.writeFileSync(path.join(repoRoot, 'test/detect/golden/http.golden.json'), JSON.stringify(out) + '\n');
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${lines.length} rules/flows, ${alerts.size} alerts\n`);
}

if (require.main === module) main();
