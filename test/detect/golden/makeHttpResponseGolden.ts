// Regenerates http-response.golden.json: ET Open HTTP response rules (httpResponseCraft.ts),
// one GET + crafted response per rule, through real Suricata 7.0.10; (flow, sid) alerts.
// Run: `npx tsc -p . && node dist/test/detect/golden/makeHttpResponseGolden.js`.

import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corpusPath, repoRoot } from '../../support/corpus';
import { defaultDetectConfig } from '../../../src/detect/detectConfig';
import { loadRuleFiles } from '../../../src/detect/ruleLoader';
import { buildPcapFromPackets, type WirePacket } from './makeEtGolden';
import { craftHttpResponse, exchangePackets } from './httpResponseCraft';

export interface HttpResponseGolden {
  suricata: string;
  lines: number[];
  /** per flow: [client ip, server ip] */
  hosts: Array<[string, string]>;
  alerts: string[];
}

function main(): void {
  const file = corpusPath('et-open', 'et-open.rules');
  const set = loadRuleFiles([file], defaultDetectConfig());
  const lines: number[] = [];
  const hosts: Array<[string, string]> = [];
  const flows: WirePacket[][] = [];
  const ip = (a: string): Uint8Array => { const b = new Uint8Array(16); b[10] = 0xff; b[11] = 0xff; b.set(a.split('.').map(Number), 12); return b; };
  for (const s of set.signatures) {
    const c = craftHttpResponse(s);
    if (!c) continue;
    const i = flows.length;
    // The response goes server → client: the rule's src is the server side.
    const server = [`10.2.${(i >> 8) & 255}.${i & 255}`, `11.2.${(i >> 8) & 255}.${i & 255}`].find((a) => s.src.match(ip(a)));
    const client = [`10.1.${(i >> 8) & 255}.${i & 255}`, `11.1.${(i >> 8) & 255}.${i & 255}`].find((a) => s.dst.match(ip(a)));
    const cport = 30000 + (i % 30000);
    if (!server || !client || !s.sport.match(80) || !s.dport.match(cport)) continue;
    lines.push(s.location.line);
    hosts.push([client, server]);
    flows.push(exchangePackets(client, server, cport, c));
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-httprespgolden-'));
  const { pcap, flowOfPacket } = buildPcapFromPackets(flows);
  fs.writeFileSync(path.join(dir, 'in.pcap'), pcap);
  const text = fs.readFileSync(file, 'utf8').split('\n');
  fs.writeFileSync(path.join(dir, 'test.rules'), lines.map((l) => text[l - 1]).join('\n') + '\n');
  cp.spawnSync('suricata', ['-r', path.join(dir, 'in.pcap'), '-S', path.join(dir, 'test.rules'), '-l', dir, '-k', 'none', '--runmode', 'single'], { stdio: 'ignore' });
  const byHost = new Map<string, number>();
  hosts.forEach(([c, s], i) => { byHost.set(c, i); byHost.set(s, i); });
  const alerts = new Set<string>();
  for (const l of fs.readFileSync(path.join(dir, 'eve.json'), 'utf8').split('\n')) {
    if (!l) continue;
    const e = JSON.parse(l) as { event_type: string; pcap_cnt?: number; alert?: { signature_id: number }; src_ip: string };
    if (e.event_type !== 'alert' || !e.alert) continue;
    const fi = e.pcap_cnt ? flowOfPacket[e.pcap_cnt - 1] : byHost.get(e.src_ip);
    if (fi !== undefined) alerts.add(`${fi}:${e.alert.signature_id}`);
  }
  const out: HttpResponseGolden = { suricata: cp.execFileSync('suricata', ['-V']).toString().trim(), lines, hosts, alerts: [...alerts].sort() };
  fs.writeFileSync(path.join(repoRoot, 'test/detect/golden/http-response.golden.json'), JSON.stringify(out) + '\n');
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${lines.length} rules/flows, ${alerts.size} alerts\n`);
}

if (require.main === module) main();
