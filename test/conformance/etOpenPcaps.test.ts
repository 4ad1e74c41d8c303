// ET Open over every corpus pcap, compared per signature id with Suricata 7.0.10
// (test/fixtures/suricataEtOpenPcaps.json, made by makeSuricataReference.sh beside it:
// -k none, HOME_NET=any, EXTERNAL_NET=any). The rules are loaded and compiled ONCE and the
// engine is shared; each pcap gets a fresh PacketInspector (replayWithEngine).
//
// Compared: every sid Lateral loaded. Excluded and counted: sids Lateral skips (unsupported
// keyword) or rejects, and loaded sids whose flowbits:isset names a flowbit that only skipped
// rules set (they cannot fire without the skipped rule, so their difference is the skip).
// Pcaps that still differ are listed with their reason in etOpenKnownDifferences.json
// (explained in docs/conformance.md); a listed pcap that starts to agree fails the test until
// it is removed from the list.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { corpusPath, repoRoot } from '../support/corpus';
import { prepareReplayEngine, replayWithEngine, type ReplayEngine } from '../../src/cli/replay';

const reference = JSON.parse(
  fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'suricataEtOpenPcaps.json'), 'utf8'),
) as { suricata: string; pcaps: Record<string, Record<string, number>> };
const knownDifferences = JSON.parse(
  fs.readFileSync(path.join(repoRoot, 'test', 'conformance', 'etOpenKnownDifferences.json'), 'utf8'),
) as Record<string, string>;

const ET = corpusPath('et-open', 'et-open.rules');
let prepared: ReplayEngine | null = null;
/** Sids compared (loaded and not dependent on a skipped rule's flowbit). */
const compared = new Set<string>();
let dependentOnSkipped = 0;

function flowbitNames(text: string, ops: RegExp): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/flowbits\s*:\s*(\w+)\s*,\s*([^;]+);/g)) {
    if (ops.test(m[1]!)) for (const n of m[2]!.split(/[|&]/)) names.push(n.trim());
  }
  return names;
}

test('ET Open loads once for all pcaps', () => {
  prepared = prepareReplayEngine({
    ruleFiles: [ET],
    simulateIps: false,
    settings: { 'vars.address-groups.HOME_NET': 'any', 'vars.address-groups.EXTERNAL_NET': 'any' },
  }, 'skip');
  const sigs = prepared.rules.signatures;
  assert.ok(sigs.length > 23_000, `${sigs.length} loaded`);
  const setByLoaded = new Set<string>();
  for (const s of sigs) for (const n of flowbitNames(s.text, /^(set|setx|toggle)$/)) setByLoaded.add(n);
  for (const s of sigs) {
    const needs = flowbitNames(s.text, /^isset$/);
    if (needs.some((n) => !setByLoaded.has(n))) dependentOnSkipped++;
    else compared.add(String(s.sid));
  }
});

const outcomes: { pcap: string; equal: boolean }[] = [];
let sidsCompared = 0;
let sidsExcluded = 0;

for (const [pcap, want] of Object.entries(reference.pcaps)) {
  test(`ET Open ${pcap}`, async () => {
    assert.ok(prepared !== null, 'engine loaded');
    const result = await replayWithEngine(prepared, [corpusPath('pcaps', pcap)], 'none');
    const got: Record<string, number> = {};
    for (const a of result.alerts) got[String(a.sid)] = (got[String(a.sid)] ?? 0) + 1;
    const expected: Record<string, number> = {};
    for (const [sid, n] of Object.entries(want)) {
      if (compared.has(sid)) expected[sid] = n;
      else sidsExcluded++;
    }
    for (const sid of Object.keys(got)) assert.ok(compared.has(sid), `sid ${sid} alerted but is not a compared sid`);
    sidsCompared += new Set([...Object.keys(got), ...Object.keys(expected)]).size;
    const equal = JSON.stringify(Object.entries(got).sort()) === JSON.stringify(Object.entries(expected).sort());
    outcomes.push({ pcap, equal });
    if (pcap in knownDifferences) {
      assert.not.ok(equal, `${pcap} now matches Suricata: remove it from etOpenKnownDifferences.json`);
    } else {
      assert.equal(got, expected, `${pcap}: alerts per sid differ from Suricata ${reference.suricata}`);
    }
  });
}

test('ET Open summary', () => {
  const p = prepared!;
  const equal = outcomes.filter((o) => o.equal).length;
  process.stdout.write(
    `\n  ET Open over corpus pcaps: ${equal}/${outcomes.length} pcaps equal to Suricata ${reference.suricata}; ` +
      `${sidsCompared} alerting sids compared; ${p.rules.signatures.length} rules loaded, ` +
      `${p.rules.skipped.length} skipped, ${p.rules.errors.length} rejected, ${dependentOnSkipped} excluded ` +
      `(flowbit set only by skipped rules); ${sidsExcluded} reference sids not compared; ` +
      `load+compile ${(p.ruleLoadMs / 1000).toFixed(1)} s\n`,
  );
  for (const name of Object.keys(knownDifferences)) assert.ok(name in reference.pcaps, `${name} is not a corpus pcap`);
});

test.run();
