// Rule reload, offline (src/cli/ruleReload.ts): what the main thread refuses, that the worker's
// sliced load is the same rule set as loadRuleSources (ET Open), and that a swap keeps each
// flow's flowbits and drop decision while new flows get the new rules. Crafted TCP packets
// through the real PacketInspector.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LateralError } from '../../src/errors';
import { compileRuleReloadInSlices, readRuleSources, swapEngine, validateRuleReload } from '../../src/cli/ruleReload';
import { liveDetectConfig } from '../../src/verdict/createVerdictHandler';
import { loadRuleSources } from '../../src/detect/ruleLoader';
import { DetectEngine, Verdict } from '../../src/detect/detectEngine';
import { DecodeContext } from '../../src/decode/decodeStats';
import { decodePacket } from '../../src/decode/decodePacket';
import { Packet } from '../../src/decode/packet';
import { PacketInspector } from '../../src/verdict/packetInspector';
import { corpusPath } from '../support/corpus';
import { ACK, ip4, PSH_ACK, RAW, SYN, SYN_ACK, tcpFrame } from './frames';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-rulereload-'));
const file = (name: string, text: string): string => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};

test('validateRuleReload: a parse error refuses the reload with file:line: cause', () => {
  const f = file('broken.rules', 'alert tcp any any -> any 80 (msg:"ok"; content:"a"; sid:1;)\n\nalert tcp any any -> any 80 (msg:"typo"; content:"b"; sid:2; rev:1\n');
  try {
    validateRuleReload([f], undefined, false);
    assert.unreachable('must refuse');
  } catch (e) {
    assert.instance(e, LateralError);
    const err = e as LateralError;
    assert.is(err.code, 'LATERAL_ERR_RULE_PARSE');
    assert.equal(err.location, { file: f, line: 3 });
    assert.match(err.message, `${f}:3: option "rev:1" not terminated`);
  }
});

test('validateRuleReload: unreadable file, bad YAML and an empty set are refused; unsupported rules are not', () => {
  assert.throws(() => validateRuleReload([path.join(dir, 'missing.rules')], undefined, false), (e: LateralError) => e.code === 'LATERAL_ERR_IO' && /missing\.rules: cannot read rule file: ENOENT/.test(e.message));
  const ok = file('ok.rules', 'alert tcp any any -> any 80 (msg:"ok"; content:"a"; sid:1;)\nalert tcp any any -> any 80 (msg:"unsupported"; content:"a"; nosuchkeyword; sid:2;)\n');
  const yaml = file('bad.yaml', 'vars:\n  address-groups:\n    HOME_NET: [unclosed\n');
  assert.throws(() => validateRuleReload([ok], yaml, false), (e: LateralError) => e.code === 'LATERAL_ERR_CONFIG' && e.message.includes('bad.yaml'));
  assert.throws(() => validateRuleReload([file('empty.rules', '# nothing\n')], undefined, false), /no rule loaded/);
  const v = validateRuleReload([ok], undefined, false);
  assert.is(v.summary.loaded, 1);
  assert.is(v.summary.skipped, 1, 'an unsupported keyword skips that rule, as at start');
  assert.is(v.sources[0]!.text, fs.readFileSync(ok, 'utf8'), 'the workers get the text that was validated');
});

test('the sliced worker load equals loadRuleSources on ET Open, and yields between slices', async () => {
  const sources = readRuleSources([corpusPath('et-open', 'et-open.rules')]);
  const config = liveDetectConfig(undefined, false);
  const reference = loadRuleSources(sources, config);
  let yields = 0;
  const r = await compileRuleReloadInSlices({ generation: 1, sources, configPath: undefined, monitor: false }, () => {
    yields++;
    return new Promise((res) => setImmediate(res));
  });
  const sids = (sigs: { sid: number; rev: number }[]): string => sigs.map((s) => `${s.sid}:${s.rev}`).join(',');
  assert.is(r.summary.loaded, reference.signatures.length);
  assert.is(r.summary.skipped, reference.skipped.length + reference.errors.length);
  assert.is(sids(r.engine.signatures), sids(DetectEngine.compile(reference, config).signatures), 'same signatures in the same order');
  assert.equal(r.engine.flowbitNames, [...reference.flowbits.slots.keys()], 'same flowbit slots');
  assert.ok(yields > 10, `parsing yielded to batches ${yields} times`);
  console.log(
    `  ET Open sliced reload: ${r.summary.loaded} rules, parse ${Math.round(r.timing.parseMs)} ms in ${r.timing.slices} slices, ` +
      `compile ${Math.round(r.timing.compileMs)} ms, longest block ${Math.round(r.timing.longestSliceMs)} ms`,
  );
});

// A login sets a flowbit; a later "secret" on the same flow alerts only if the bit is set.
const V1 = `alert tcp any any -> any 7000 (msg:"login"; flow:to_server,established; content:"LOGIN"; flowbits:set,authed; flowbits:noalert; sid:1; rev:1;)
alert tcp any any -> any 7000 (msg:"secret after login"; flow:to_server,established; content:"SECRET"; flowbits:isset,authed; sid:2; rev:1;)
drop tcp any any -> any 7000 (msg:"kill"; flow:to_server,established; content:"KILL"; sid:3; rev:1;)
`;
// The reloaded set adds flowbits used before `authed`, so its slot number changes.
const V2 = `alert tcp any any -> any 7000 (msg:"other"; flow:to_server,established; content:"OTHER"; flowbits:set,zzz; flowbits:set,aaa; flowbits:noalert; sid:10; rev:1;)
${V1}alert tcp any any -> any 7000 (msg:"new rule"; flow:to_server,established; content:"NEWRULE"; sid:4; rev:1;)
`;

test('swapEngine keeps flowbits and the drop decision of open flows; new rules apply at once', async () => {
  const config = liveDetectConfig(undefined, false);
  const insp = new PacketInspector(DetectEngine.compile(loadRuleSources([{ file: 'v1', text: V1 }], config), config), { midstream: false, maxFlows: 100 });
  const ctx = new DecodeContext('none');
  const p = new Packet();
  const c = ip4(10, 7, 0, 2);
  const s = ip4(10, 7, 0, 3);
  const seq = new Map<number, number>();
  const send = (sport: number, flags: number, text = ''): { verdict: number; sids: number[] } => {
    const payload = Buffer.from(text);
    const mySeq = seq.get(sport) ?? 100;
    decodePacket(p, tcpFrame(c, s, sport, 7000, mySeq, 901, flags, payload), RAW, ctx, false);
    p.tsSec = 1_700_000_000;
    seq.set(sport, mySeq + payload.length + (flags === SYN ? 1 : 0));
    const verdict = insp.inspect(p);
    const r = insp.result!;
    return { verdict, sids: Array.from({ length: r.alertCount }, (_, i) => r.alerts[i]!.sid) };
  };
  const open = (sport: number): void => {
    send(sport, SYN);
    decodePacket(p, tcpFrame(s, c, 7000, sport, 900, 101, SYN_ACK), RAW, ctx, false);
    p.tsSec = 1_700_000_000;
    insp.inspect(p);
    send(sport, ACK);
  };
  open(41000); // logs in before the reload
  open(41001); // is dropped before the reload
  open(41002); // never logs in
  assert.equal(send(41000, PSH_ACK, 'LOGIN').sids, []);
  assert.is(send(41001, PSH_ACK, 'KILL').verdict, Verdict.DROP_FLOW);

  const r = await compileRuleReloadInSlices({ generation: 2, sources: [{ file: 'v2', text: V2 }], configPath: undefined, monitor: false }, () => Promise.resolve());
  assert.is.not(r.engine.flowbitNames.indexOf('authed'), 0, 'authed moved to another slot');
  assert.is(swapEngine(insp, r.engine), 3, 'three flows kept their detection state');
  assert.is(insp.detectEngine, r.engine);

  assert.equal(send(41000, PSH_ACK, 'SECRET').sids, [2], 'the flowbit set before the reload is still set');
  assert.equal(send(41002, PSH_ACK, 'SECRET').sids, [], 'no login, no alert');
  assert.is(send(41001, PSH_ACK, 'hello').verdict, Verdict.DROP_FLOW, 'a flow dropped before the reload stays dropped');
  assert.equal(send(41002, PSH_ACK, 'NEWRULE').sids, [4], 'the new rule is in force');
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test.run();
