// --containers files: the lab layout and the plain list both name addresses in Packet's
// 16-byte form; broken files are refused with the file named.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadContainersFile, parseContainersJson, StaticContainerIdentities } from '../../src/cli/containerIdentity';
import { parseIpAddress } from '../../src/docker/parseIpAddress';
import { LateralError } from '../../src/errors';

function addr(text: string): Uint8Array {
  const a = new Uint8Array(16);
  assert.ok(parseIpAddress(text, a), text);
  return a;
}

const LAB = {
  name: 'lab',
  bridge: 'lab-br',
  subnet: '10.213.55.0/24',
  namespaces: {
    web: { netns: 'lab-web', ip: '10.213.55.2', ip6: 'fd0d:213:55::2', hostVeth: 'lab-web', mac: '' },
    db: { netns: 'lab-db', ip: '10.213.55.3', ip6: 'fd0d:213:55::3', hostVeth: 'lab-db', mac: '' },
    attacker: { netns: 'lab-attacker', ip: '10.213.55.4', ip6: 'fd0d:213:55::4', hostVeth: 'lab-att', mac: '' },
  },
  services: { http: '10.213.55.2:80', redis: '10.213.55.3:6379' },
};

test('the lab layout names each namespace by role, on the lab bridge, for IPv4 and IPv6', () => {
  const ids = new StaticContainerIdentities(parseContainersJson(JSON.stringify(LAB), 'lab.json'));
  assert.equal(ids.identify(addr('10.213.55.4')), { name: 'attacker', network: 'lab-br' });
  assert.is(ids.identify(addr('fd0d:213:55::2'))?.name, 'web');
  assert.is(ids.identify(addr('10.213.55.3'))?.name, 'db');
  assert.is(ids.identify(addr('10.213.55.9')), undefined);
  assert.is(ids.identify(addr('fd0d:213:55::9')), undefined);
  // High addresses (sign bit set) are keyed correctly too.
  const high = new StaticContainerIdentities([{ address: '200.1.2.3', identity: { name: 'x' } }]);
  assert.is(high.identify(addr('200.1.2.3'))?.name, 'x');
});

test('a plain list carries image and network', () => {
  const entries = parseContainersJson(JSON.stringify({ containers: [{ name: 'api', image: 'api:1', network: 'backend', addresses: ['172.18.0.5', 'fd00::5'] }] }), 'c.json');
  const ids = new StaticContainerIdentities(entries);
  assert.equal(ids.identify(addr('172.18.0.5')), { name: 'api', image: 'api:1', network: 'backend' });
  assert.is(ids.identify(addr('fd00::5'))?.name, 'api');
  // The bare array is accepted too.
  assert.is(parseContainersJson('[{"name":"a","addresses":["10.0.0.1"]}]', 'c.json').length, 1);
});

test('broken files are refused with the file and the cause', () => {
  const cases: Array<[string, RegExp]> = [
    ['{', /c\.json: --containers: not JSON/],
    ['{"containers":[{"addresses":["10.0.0.1"]}]}', /containers\[0\] has no name/],
    ['{"containers":[{"name":"a","addresses":["10.0.0.300"]}]}', /not an IP address: "10\.0\.0\.300"/],
    ['{"namespaces":{"web":{"ip":"nope"}}}', /namespaces\.web\.ip: not an IP address/],
    ['{"something":1}', /expected a lab layout/],
  ];
  for (const [text, re] of cases) {
    try {
      parseContainersJson(text, 'c.json');
      assert.unreachable(text);
    } catch (e) {
      assert.instance(e, LateralError);
      assert.is((e as LateralError).code, 'LATERAL_ERR_CONFIG');
      assert.match((e as Error).message, re);
    }
  }
  const missing = path.join(os.tmpdir(), `lateral-no-such-${process.pid}.json`);
  assert.throws(() => loadContainersFile(missing), (e: Error) => e.message.includes(missing) && /cannot read/.test(e.message));
  const file = path.join(os.tmpdir(), `lateral-containers-${process.pid}.json`);
  fs.writeFileSync(file, JSON.stringify(LAB));
  try {
    assert.is(loadContainersFile(file).length, 6);
  } finally {
    fs.rmSync(file);
  }
});

test.run();
