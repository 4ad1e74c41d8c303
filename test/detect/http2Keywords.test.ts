// HTTP/2 detection end to end: the h2c upgrade capture of suricata-verify replayed (decode →
// flow → stream → HTTP/1 → HTTP/2 → detect) with
//  - the case's full test.rules (http1/http2/http rules over http.* buffers), against the
//    counts its test.yaml gives for Suricata 7;
//  - rules with the http2.* integer keywords, against Suricata 7.0.10 run here on the same
//    pcap: `suricata -r input.pcap -S <rules> -k none --set stream.midstream=true
//    --set app-layer.protocols.http2.enabled=yes` (alerts per sid in SURICATA_7_0_10 below).
// Then the rule side: http1 / http / http2 and app-layer-protocol, bad keyword values.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corpusPath } from '../support/corpus';
import { replayCapture } from '../../src/cli/replay';
import { loadRuleSources } from '../../src/detect/ruleLoader';
import { defaultDetectConfig } from '../../src/detect/detectConfig';

const CASE = corpusPath('suricata-verify', 'tests', 'http2-keywords2');

async function alerts(ruleFile: string): Promise<Record<string, number>> {
  const r = await replayCapture({
    pcapPaths: [path.join(CASE, 'input.pcap')],
    ruleFiles: [ruleFile],
    configPath: path.join(CASE, 'suricata.yaml'),
    classificationPath: corpusPath('suricata-verify', 'etc', 'classification.config'),
    checksumMode: 'none',
    simulateIps: false,
    settings: { 'stream.midstream': 'true' },
  });
  assert.equal(r.rules.skipped, []);
  const got: Record<string, number> = {};
  for (const a of r.alerts) got[a.sid] = (got[a.sid] ?? 0) + 1;
  return got;
}

test('http2-keywords2 with its full test.rules: every count of its test.yaml (Suricata 7)', async () => {
  const got = await alerts(path.join(CASE, 'test.rules'));
  assert.equal(got, {
    10: 1, 11: 1, 12: 2, 20: 1, 21: 1, 30: 2, 31: 2, 32: 2, 33: 1, 34: 1, 35: 12, 36: 1, 37: 1, 38: 6, 39: 6, 40: 1,
  });
});

const KEYWORD_RULES = `
alert http2 any any -> any any (http2.frametype:SETTINGS; sid:5;)
alert http2 any any -> any any (http2.frametype:WINDOWUPDATE; sid:7;)
alert http2 any any -> any any (http2.window:>1000; sid:8;)
alert http2 any any -> any any (http2.settings:SETTINGS_HEADER_TABLE_SIZE; sid:9;)
alert http2 any any -> any any (http2.settings:SETTINGS_HEADER_TABLE_SIZE>4096; sid:10;)
alert http2 any any -> any any (http2.size_update:4096; sid:11;)
alert http2 any any -> any any (http2.errorcode:NO_ERROR; sid:12;)
alert http2 any any -> any any (http2.priority:>0; sid:13;)
alert http2 any any -> any any (http2.frametype:HEADERS; sid:14;)
alert http2 any any -> any any (http2.frametype:DATA; sid:15;)
alert http2 any any -> any any (http2.settings:SETTINGS_MAX_CONCURRENT_STREAMS=100; sid:17;)
alert http2 any any -> any any (http2.settings:SETTINGS_INITIAL_WINDOW_SIZE>1000000; sid:20;)
alert http2 any any -> any any (http2.window:<1000; sid:21;)
alert http2 any any -> any any (http2.frametype:6; sid:35;)
`;
// Suricata 7.0.10 on the same pcap and rules (sids without alerts are absent).
const SURICATA_7_0_10 = { 5: 3, 7: 1, 8: 1, 9: 1, 10: 1, 11: 1, 14: 4, 15: 2, 17: 3, 20: 3 };

test('http2.* keywords: the same alerts per sid as Suricata 7.0.10', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-h2-')), 'kw.rules');
  fs.writeFileSync(file, KEYWORD_RULES);
  try {
    assert.equal(await alerts(file), SURICATA_7_0_10);
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});

test('rule side: http1 / http / http2 headers and buffers, unsupported and bad values', () => {
  const config = defaultDetectConfig();
  const set = loadRuleSources([{
    file: 'h2.rules',
    text: [
      'alert http1 any any -> any any (http.uri; content:"/a"; sid:1;)',
      'alert http any any -> any any (http2.frametype:DATA; sid:2;)',
      'alert tcp any any -> any any (http2.window:10; sid:3;)',
      'alert http any any -> any any (app-layer-protocol:http2; sid:4;)',
      'alert http2 any any -> any any (http2.header; content:"x"; sid:5;)',
      'alert http2 any any -> any any (http2.frametype:NOPE; sid:6;)',
      'alert http2 any any -> any any (http2.settings:SETTINGS_BOGUS; sid:7;)',
      'alert dns any any -> any any (http2.window:1; sid:8;)',
      'alert http2 any any -> any any (http2.priority:300; sid:9;)',
    ].join('\n'),
  }], config);
  const bySid = new Map(set.signatures.map((s) => [s.sid, s]));
  assert.is(bySid.get(1)!.alproto, 'http1');
  // An http2.* keyword narrows a generic http rule (and a tcp rule) to http2.
  assert.is(bySid.get(2)!.alproto, 'http2');
  assert.is(bySid.get(3)!.alproto, 'http2');
  assert.is(bySid.get(4)!.alproto, 'http');
  assert.equal(set.skipped.map((s) => [s.sid, s.reason]), [[5, 'unsupported keyword: http2.header']]);
  const errs = set.errors.map((e) => e.message);
  assert.is(errs.length, 4, errs.join('\n'));
  assert.ok(errs[0]!.startsWith('h2.rules:6: http2.frametype: unknown value "NOPE"'), errs[0]);
  assert.ok(errs[1]!.includes('unknown setting'));
  assert.ok(errs[2]!.includes('is an http2 buffer but the rule is for dns'));
  assert.ok(errs[3]!.includes('out of range'));
});

test.run();
