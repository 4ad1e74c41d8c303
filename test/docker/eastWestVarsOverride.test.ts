// The YAML override of the east-west HOME_NET / EXTERNAL_NET defaults.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readAddressVarOverrides } from '../../src/docker/eastWestVarsOverride';
import { LateralError } from '../../src/errors';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'w2-vars-'));
function yaml(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

test('only the groups the YAML sets override; the others keep the live defaults', () => {
  const f = yaml('home.yaml', '%YAML 1.1\n---\nvars:\n  address-groups:\n    HOME_NET: "[10.9.0.0/16]"\n    DNS_SERVERS: "[10.9.0.53]"\n');
  assert.equal(readAddressVarOverrides(f), { HOME_NET: '[10.9.0.0/16]' });
  const g = yaml('both.yaml', 'vars:\n  address-groups:\n    HOME_NET: any\n    EXTERNAL_NET: "!$HOME_NET"\n');
  assert.equal(readAddressVarOverrides(g), { HOME_NET: 'any', EXTERNAL_NET: '!$HOME_NET' });
  assert.equal(readAddressVarOverrides(yaml('none.yaml', 'outputs: []\n')), {});
});

test('a broken YAML or a non-string group is a LATERAL_ERR_CONFIG naming the file', () => {
  for (const [name, text] of [
    ['bad.yaml', 'vars: [\n'],
    ['num.yaml', 'vars:\n  address-groups:\n    HOME_NET: 5\n'],
  ]) {
    const f = yaml(name, text);
    try {
      readAddressVarOverrides(f);
      assert.unreachable(name);
    } catch (e) {
      assert.instance(e, LateralError);
      assert.is((e as LateralError).code, 'LATERAL_ERR_CONFIG');
      assert.match((e as Error).message + JSON.stringify((e as LateralError).location ?? ''), name);
    }
  }
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
test.run();
