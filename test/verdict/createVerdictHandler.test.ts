// The live engine's configuration: east-west EXTERNAL_NET (`any` unless the YAML names it),
// IPS vs monitor, and the rule summary the workers report. Real rules, crafted packets,
// through the real PacketInspector.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createVerdictHandler } from '../../src/verdict/createVerdictHandler';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeContext } from '../../src/decode/decodeStats';
import { LinkType, Packet } from '../../src/decode/packet';
import { Verdict } from '../../src/verdict/packetInspector';
import { ip4, ipv4, tcpSegment } from '../decode/craft';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-cvh-'));
const rules = path.join(dir, 'ew.rules');
fs.writeFileSync(rules, [
  // A perimeter-style rule: blind between two home addresses under Suricata's defaults.
  'drop tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"perimeter style"; flow:stateless; content:"evil"; sid:1; rev:1;)',
  'alert tcp any any -> any any (msg:"broken"; content:"x"; nosuchkeyword; sid:2; rev:1;)',
  'this is not a rule',
].join('\n'));

function packetFrom(src: string, dst: string, payload: string): Packet {
  const p = new Packet();
  p.tsSec = 1_700_000_000;
  const bytes = Uint8Array.from(ipv4(src, dst, { proto: 6 }, tcpSegment(ip4(src), ip4(dst), { sport: 40000, dport: 80, flags: 0x18, payload })));
  decodePacket(p, bytes, LinkType.RAW, new DecodeContext('none'));
  return p;
}

function verdictFor(configPath: string | undefined, monitor: boolean): { verdict: number; alerts: number; externalNet: string } {
  const created = createVerdictHandler({ queue: 0, ruleFiles: [rules], configPath, monitor });
  const insp = created.engine!.inspector;
  const verdict = insp.inspect(packetFrom('10.1.0.2', '10.1.0.3', 'GET /evil'));
  return { verdict, alerts: insp.result?.alertCount ?? 0, externalNet: created.rules!.externalNet };
}

test('east-west: EXTERNAL_NET is any live, so a perimeter rule fires between two containers and drops', () => {
  const r = verdictFor(undefined, false);
  assert.is(r.externalNet, 'any');
  assert.is(r.alerts, 1);
  assert.is(r.verdict, Verdict.DROP_FLOW);
});

test('monitor: the same rule alerts but does not drop', () => {
  const r = verdictFor(undefined, true);
  assert.is(r.alerts, 1);
  assert.is(r.verdict, Verdict.ACCEPT);
});

test('a YAML that names EXTERNAL_NET keeps it, even at Suricata\'s default', () => {
  const yaml = path.join(dir, 'suricata.yaml');
  fs.writeFileSync(yaml, 'vars:\n  address-groups:\n    EXTERNAL_NET: "!$HOME_NET"\n');
  const r = verdictFor(yaml, false);
  assert.is(r.externalNet, '!$HOME_NET');
  assert.is(r.alerts, 0);
  assert.is(r.verdict, Verdict.ACCEPT);
  // A YAML without it gets the east-west default.
  fs.writeFileSync(yaml, 'vars:\n  address-groups:\n    HOME_NET: "[10.0.0.0/8]"\n');
  assert.is(verdictFor(yaml, false).externalNet, 'any');
});

test('rule summary: loaded, and bad rules skipped with their reasons; no rules = accept-all handler', () => {
  const created = createVerdictHandler({ queue: 0, ruleFiles: [rules], monitor: false });
  assert.is(created.rules!.loaded, 1);
  assert.is(created.rules!.skipped, 2);
  assert.ok(created.rules!.errors.length + created.rules!.skippedRules.length === 2);
  assert.ok(created.rules!.loadMs > 0);
  const none = createVerdictHandler({ queue: 0, ruleFiles: [], monitor: false });
  assert.is(none.engine, null);
  assert.is(none.rules, null);
  assert.throws(() => createVerdictHandler({ queue: 0, ruleFiles: [path.join(dir, 'missing.rules')], monitor: false }), /missing\.rules/);
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
test.run();
