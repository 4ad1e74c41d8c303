// Conformance with Suricata 7.0.10 on the suricata-verify cases of the shared corpus: each case's
// pcap is replayed with its rules, config and flags, and the alerts are compared per signature id
// and count with what Suricata raised (expected.json). Cases that still differ are listed with
// their reason in test/conformance/knownDifferences.json (and explained in docs/conformance.md):
// such a case is reported, not failed, but a listed case that starts to pass fails the test
// until it is removed from the list, so the list can only shrink honestly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { corpusPath, repoRoot } from '../support/corpus';
import { replayCapture, type ReplayOptions } from '../../src/cli/replay';

interface ExpectedCase {
  pcap: string;
  rules: string;
  config: string | null;
  args: string[];
  alerts: Record<string, number>;
}

const verifyDir = corpusPath('suricata-verify');
const expected = JSON.parse(fs.readFileSync(path.join(verifyDir, 'expected.json'), 'utf8')) as {
  cases: Record<string, ExpectedCase>;
};
const knownDifferences = JSON.parse(
  fs.readFileSync(path.join(repoRoot, 'test', 'conformance', 'knownDifferences.json'), 'utf8'),
) as Record<string, string>;

/** Suricata's command-line flags as replay options. */
function optionsFor(c: ExpectedCase): ReplayOptions {
  const options: ReplayOptions = {
    pcapPaths: [path.join(verifyDir, c.pcap)],
    ruleFiles: [path.join(verifyDir, c.rules)],
    configPath: c.config === null ? undefined : path.join(verifyDir, c.config),
    classificationPath: path.join(verifyDir, 'etc', 'classification.config'),
    checksumMode: 'auto',
    simulateIps: false,
    settings: {},
  };
  for (const arg of c.args) {
    const [flag, value] = arg.split(/\s+/, 2);
    if (flag === '-k') options.checksumMode = value as ReplayOptions['checksumMode'];
    else if (flag === '--simulate-ips') options.simulateIps = true;
    else if (flag === '--set') {
      const eq = value.indexOf('=');
      options.settings[value.slice(0, eq)] = value.slice(eq + 1);
    } else throw new Error(`unknown Suricata flag in expected.json: ${arg}`);
  }
  return options;
}

function countBySid(sids: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sid of sids) counts[String(sid)] = (counts[String(sid)] ?? 0) + 1;
  return counts;
}

const outcomes: { name: string; equal: boolean; got: Record<string, number>; want: Record<string, number> }[] = [];

for (const [name, c] of Object.entries(expected.cases)) {
  test(`suricata-verify ${name}`, async () => {
    let got: Record<string, number>;
    try {
      const result = await replayCapture(optionsFor(c));
      got = countBySid(result.alerts.map((a) => a.sid));
    } catch (e) {
      // A case Lateral cannot run at all (e.g. a rule it rejects) is a difference too.
      got = { [`error: ${(e as Error).message}`]: 1 };
    }
    const equal = JSON.stringify(Object.entries(got).sort()) === JSON.stringify(Object.entries(c.alerts).sort());
    outcomes.push({ name, equal, got, want: c.alerts });
    if (name in knownDifferences) {
      assert.not.ok(equal, `${name} now matches Suricata: remove it from knownDifferences.json`);
    } else {
      assert.equal(got, c.alerts, `${name}: alerts per sid differ from Suricata 7.0.10`);
    }
  });
}

test('conformance summary', () => {
  const equal = outcomes.filter((o) => o.equal).length;
  const lines = outcomes
    .filter((o) => !o.equal)
    .map((o) => `  ${o.name}: got ${JSON.stringify(o.got)} want ${JSON.stringify(o.want)} (${knownDifferences[o.name] ?? 'unexplained'})`);
  console.log(`suricata-verify conformance: ${equal}/${outcomes.length} cases equal to Suricata 7.0.10`);
  if (lines.length > 0) console.log(lines.join('\n'));
  assert.is(outcomes.length, Object.keys(expected.cases).length);
});

test.run();
