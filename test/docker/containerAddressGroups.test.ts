// Container-aware rule addresses in the engine, without Docker: `@container:`/`@label:`
// groups compiled into AddressSets, members replaced at run time (no recompile), crafted
// packets through the live verdict handler (the workers' code), the per-container drop
// policy, and `lateral replay` / `lateral rules check` resolving groups from a --containers
// table (or warning once, with file:line, without one). The same against a real dockerd is in
// containerRulesLive.test.ts. Groups are per thread: each test uses its own expressions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { NfVerdict } from '../../src/capture/native';
import { ipv4BatchOf } from '../support/packetBatch';
import { parseAddressSet, dynamicAddressGroup } from '../../src/detect/addressSet';
import { LateralError } from '../../src/errors';
import { createVerdictHandler } from '../../src/verdict/createVerdictHandler';
import { alertRecordsOf } from '../../src/output/alertRecords';
import type { AlertRecordInput } from '../../src/output/eveAlert';
import { addressGroupRefs, applyAddressGroupUpdate, followAddressGroups, resolveAddressGroups } from '../../src/docker/containerAddressGroups';
import { loadContainerSourceFile } from '../../src/docker/containerSourceFile';
import { ContainerModeTable } from '../../src/docker/containerModeTable';
import { ContainerMode } from '../../src/docker/containerDirectory';
import { parseIpv4, parseIpAddress } from '../../src/docker/parseIpAddress';
import { runReplay } from '../../src/cli/replay';
import { runRulesCheck } from '../../src/cli/rulesCheck';
import { corpusPath } from '../support/corpus';
import { ip4, ipv4, tcpSegment } from '../decode/craft';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-groups-'));
const where = { file: 'test.rules', line: 3 };
const noVars = (): string | undefined => undefined;

function addr(a: string): Uint8Array {
  const b = new Uint8Array(16);
  assert.ok(parseIpAddress(a, b), a);
  return b;
}

function tcp(src: string, dst: string, sport: number, dport: number, seq: number, payload: string): number[] {
  return ipv4(src, dst, { proto: 6 }, tcpSegment(ip4(src), ip4(dst), { sport, dport, seq, ack: 1, flags: 0x18, payload }));
}

test('a group is one shared object, empty until resolved, and its AddressSets follow every replacement', () => {
  const a = parseAddressSet('@container:g1-web', where, noVars);
  const b = parseAddressSet('[@container:g1-web,10.200.0.0/16]', where, noVars);
  const g = dynamicAddressGroup('@container:g1-web');
  assert.is(a.groups[0], g);
  assert.is(b.groups[0], g);
  assert.not.ok(g.resolved);
  assert.not.ok(a.match(addr('10.9.0.2')), 'unresolved = matches nothing');
  assert.ok(b.match(addr('10.200.1.1')), 'the static part of a list still matches');
  g.setMembers(['10.9.0.2/32', 'fd00::2/128']);
  assert.ok(a.match(addr('10.9.0.2')));
  assert.ok(a.match(addr('fd00::2')));
  assert.ok(b.match(addr('10.9.0.2')));
  assert.not.ok(a.match(addr('10.9.0.3')));
  // The container moved: the old address no longer matches, the new one does.
  g.setMembers(['10.9.0.7']);
  assert.not.ok(a.match(addr('10.9.0.2')));
  assert.ok(a.match(addr('10.9.0.7')));
  assert.not.ok(a.match(addr('fd00::2')));
  g.setMembers([]);
  assert.not.ok(a.match(addr('10.9.0.7')));
  assert.ok(b.match(addr('10.200.1.1')));
  assert.is(g.updates, 3);
});

test('negation, YAML variables and Suricata\'s only-negated rule with groups', () => {
  const vars = (n: string): string | undefined => ({ DB_SERVERS: '@label:g2tier=db', HOME_NET: '[10.0.0.0/8,fd00::/8]' } as Record<string, string>)[n];
  const notWeb = parseAddressSet('!@container:g2-web', where, vars);
  const db = parseAddressSet('$DB_SERVERS', where, vars);
  const homeNotDb = parseAddressSet('[$HOME_NET,!$DB_SERVERS]', where, vars);
  const dbNotOne = parseAddressSet('[@label:g2tier=db,!10.5.0.9]', where, vars);
  // Empty groups: "all but web" is everything; "db minus one address" is nothing (not all of IPv4).
  assert.ok(notWeb.any);
  assert.not.ok(dbNotOne.match(addr('1.2.3.4')));
  assert.ok(homeNotDb.match(addr('10.5.0.9')));
  dynamicAddressGroup('@container:g2-web').setMembers(['10.5.0.2']);
  dynamicAddressGroup('@label:g2tier=db').setMembers(['10.5.0.9', '10.5.0.10']);
  assert.not.ok(notWeb.match(addr('10.5.0.2')));
  assert.ok(notWeb.match(addr('10.5.0.3')));
  assert.ok(notWeb.match(addr('fd00::1')));
  assert.ok(db.match(addr('10.5.0.9')));
  assert.not.ok(homeNotDb.match(addr('10.5.0.9')));
  assert.ok(homeNotDb.match(addr('10.5.0.2')));
  assert.not.ok(dbNotOne.match(addr('10.5.0.9')));
  assert.ok(dbNotOne.match(addr('10.5.0.10')));
});

test('plain Suricata addresses are unchanged; bad expressions and members are errors', () => {
  const plain = parseAddressSet('[10.0.0.0/8,!10.1.0.0/16]', where, noVars);
  assert.is(plain.groups.length, 0);
  assert.equal(Array.from(plain.v4), [0x0a000000, 0x0a00ffff, 0x0a020000, 0x0affffff]);
  assert.throws(() => parseAddressSet('[10.0.0.0/8,!10.0.0.0/8]', where, noVars), /matches nothing/);
  for (const bad of ['@pod:web', '@container:', '@label:=db', '@container:a b']) {
    try {
      parseAddressSet(bad, where, noVars);
      assert.unreachable(bad);
    } catch (e) {
      assert.instance(e, LateralError);
      assert.is((e as LateralError).code, 'LATERAL_ERR_RULE_PARSE');
      assert.match((e as Error).message, 'test.rules:3: ');
    }
  }
  const g = dynamicAddressGroup('@container:g3');
  const s = parseAddressSet('@container:g3', where, noVars);
  g.setMembers(['10.3.0.1']);
  assert.equal(applyAddressGroupUpdate([['@container:g3', ['10.3.0.2', 'not-an-ip']]]).length, 1);
  assert.ok(s.match(addr('10.3.0.1')), 'a bad update leaves the members as they were');
  assert.throws(() => g.setMembers(['any']), /not an address/);
});

test('live verdicts: a group rule fires only once resolved, follows a moved container; plain rules unchanged', () => {
  const rules = path.join(tmp, 'live.rules');
  fs.writeFileSync(
    rules,
    [
      'drop tcp @container:g4-attacker any -> @label:g4tier=db any (msg:"attacker to db"; flow:to_server; content:"CONFIG SET"; sid:4001; rev:1;)',
      'alert tcp any any -> any 80 (msg:"plain suricata rule"; content:"../"; sid:4002; rev:1;)',
      '',
    ].join('\n'),
  );
  const { engine } = createVerdictHandler({ queue: 0, ruleFiles: [rules], monitor: false });
  const alerts: AlertRecordInput[] = [];
  engine!.onAlert = (insp, r) => {
    for (const a of alertRecordsOf(insp, r)) alerts.push(a);
  };
  const refs = addressGroupRefs().filter((r) => r.expr.includes('g4'));
  assert.equal(refs, [
    { expr: '@container:g4-attacker', file: rules, line: 1 },
    { expr: '@label:g4tier=db', file: rules, line: 1 },
  ]);
  const exploit = (src: string, sport: number): number[] => tcp(src, '10.9.0.3', sport, 6379, 1000, 'CONFIG SET dir /tmp\r\n');

  let batch = ipv4BatchOf([exploit('10.9.0.4', 40001), tcp('10.9.0.4', '10.9.0.2', 40002, 80, 1, 'GET /../x HTTP/1.1\r\n\r\n')]);
  engine!.handleBatch(batch);
  assert.equal(Array.from(batch.verdicts.subarray(0, 2)), [NfVerdict.REPEAT, NfVerdict.REPEAT], 'unresolved groups match nothing');
  assert.equal(alerts.map((a) => a.sid), [4002]);

  // What the main thread posts once Docker knows the containers.
  const containers = path.join(tmp, 'g4.json');
  fs.writeFileSync(containers, JSON.stringify({ containers: [
    { name: 'g4-attacker', addresses: ['10.9.0.4'] },
    { name: 'g4-db', addresses: ['10.9.0.3'], labels: { g4tier: 'db' } },
  ] }));
  const { update } = resolveAddressGroups(refs, loadContainerSourceFile(containers));
  assert.equal(update, [['@container:g4-attacker', ['10.9.0.4/32']], ['@label:g4tier=db', ['10.9.0.3/32']]]);
  assert.equal(applyAddressGroupUpdate(update), []);
  alerts.length = 0;
  batch = ipv4BatchOf([exploit('10.9.0.4', 40003), exploit('10.9.0.5', 40004)]);
  engine!.handleBatch(batch);
  assert.equal(Array.from(batch.verdicts.subarray(0, 2)), [NfVerdict.DROP, NfVerdict.REPEAT]);
  assert.equal(alerts.map((a) => [a.sid, a.blocked]), [[4001, true]]);

  // The attacker restarted with another address: the old one is no longer the attacker.
  applyAddressGroupUpdate([['@container:g4-attacker', ['10.9.0.5/32']]]);
  alerts.length = 0;
  batch = ipv4BatchOf([exploit('10.9.0.4', 40005), exploit('10.9.0.5', 40006)]);
  engine!.handleBatch(batch);
  assert.equal(Array.from(batch.verdicts.subarray(0, 2)), [NfVerdict.REPEAT, NfVerdict.DROP]);
  assert.equal(alerts.map((a) => a.sid), [4001]);
});

test('drop policy: between two monitor-mode containers the drop is an alert with action allowed, counted', () => {
  const rules = path.join(tmp, 'mode.rules');
  fs.writeFileSync(rules, 'drop tcp any any -> any 6379 (msg:"redis config"; content:"CONFIG SET"; sid:4101; rev:1;)\n');
  const { engine } = createVerdictHandler({ queue: 0, ruleFiles: [rules], monitor: false });
  const alerts: AlertRecordInput[] = [];
  engine!.onAlert = (insp, r) => {
    for (const a of alertRecordsOf(insp, r)) alerts.push(a);
  };
  const M = ContainerMode.MONITOR;
  const P = ContainerMode.PROTECT;
  const ips = ['10.8.0.2', '10.8.0.3', '10.8.0.4', '10.8.0.5'];
  engine!.dropPolicy = new ContainerModeTable({ ipv4: ips.map(parseIpv4), ipv4Modes: [M, M, P, M], ipv6: [], ipv6Modes: [] }, ContainerMode.PROTECT);
  const batch = ipv4BatchOf([
    tcp('10.8.0.2', '10.8.0.3', 41001, 6379, 1, 'CONFIG SET dir /tmp\r\n'), // monitor -> monitor
    tcp('10.8.0.5', '10.8.0.4', 41002, 6379, 1, 'CONFIG SET dir /tmp\r\n'), // monitor -> protect
    tcp('10.8.0.2', '10.8.0.9', 41003, 6379, 1, 'CONFIG SET dir /tmp\r\n'), // monitor -> unlabelled (global protect)
  ]);
  engine!.handleBatch(batch);
  assert.equal(Array.from(batch.verdicts.subarray(0, 3)), [NfVerdict.REPEAT, NfVerdict.DROP, NfVerdict.DROP]);
  assert.equal(alerts.map((a) => [a.sid, a.blocked]), [[4101, false], [4101, true], [4101, true]]);
  assert.is(engine!.counters.dropsWaived, 1);
  assert.is(engine!.counters.dropped, 2);
});

test('replay: --containers resolves groups (alerts); without it one warning per group with file:line, no alert', async () => {
  const rules = path.join(tmp, 'replay.rules');
  fs.writeFileSync(rules, '# container rules\nalert tcp @container:g5-attacker any -> @label:g5tier=web 80 (msg:"attacker to web"; flow:to_server; content:"?id="; sid:4201; rev:1;)\n');
  const containers = path.join(tmp, 'g5.json');
  fs.writeFileSync(containers, JSON.stringify({ containers: [
    { name: 'g5-attacker', addresses: ['192.168.111.148'] },
    { name: 'g5-web', addresses: ['192.168.111.154'], labels: { g5tier: 'web' } },
  ] }));
  const pcap = corpusPath('pcaps', 'dvwa-sqli.pcapng');
  const run = async (extra: string[]): Promise<{ alerts: Array<Record<string, unknown>>; stderr: string }> => {
    const eve = path.join(tmp, `eve-${extra.length}.json`);
    let stderr = '';
    const err = new PassThrough();
    err.on('data', (d: Buffer) => (stderr += d.toString()));
    assert.is(await runReplay([pcap, '--rules', rules, '--eve', eve, ...extra], err), 0);
    const text = fs.existsSync(eve) ? fs.readFileSync(eve, 'utf8') : '';
    return { alerts: text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.event_type === 'alert'), stderr };
  };
  const without = await run([]);
  assert.is(without.alerts.length, 0);
  const warnings = without.stderr.split('\n').filter((l) => l.includes('resolves to no address'));
  assert.is(warnings.length, 2, without.stderr);
  assert.match(warnings[0]!, `${rules}:2: @container:g5-attacker resolves to no address`);
  const withTable = await run(['--containers', containers]);
  assert.ok(withTable.alerts.length > 0, withTable.stderr);
  for (const a of withTable.alerts) {
    assert.is((a.alert as { signature_id: number }).signature_id, 4201);
    assert.is(a.src_ip, '192.168.111.148');
    assert.is(a.dest_ip, '192.168.111.154');
  }
  assert.not.match(withTable.stderr, 'resolves to no address');

  // rules check says the same, once per group.
  let out = '';
  const o = new PassThrough();
  o.on('data', (d: Buffer) => (out += d.toString()));
  assert.is(await runRulesCheck([rules], o), 0);
  assert.match(out, '1 loaded');
  assert.is(out.split('\n').filter((l) => l.startsWith('warning:') && l.includes('resolves to no address')).length, 2);
});

test('followAddressGroups without a live source: posts once, warns once per empty group', () => {
  const posted: unknown[] = [];
  const logs: string[] = [];
  const f = followAddressGroups([{ expr: '@network:g6net', file: 'r.rules', line: 9 }], null, (u) => posted.push(u), (l) => logs.push(l), 'no Docker');
  assert.equal(posted, [[['@network:g6net', []]]]);
  assert.equal(logs, ['warning: r.rules:9: @network:g6net resolves to no address (no Docker); rules using it match nothing until it does']);
  f.close();
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
