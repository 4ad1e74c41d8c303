// ContainerMap: the three accepted file shapes (lab layout, list, flat), lookups in the
// Packet address forms, and errors that name the file and the bad entry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { containerMapFromJson, loadContainerMap } from '../../src/cli/containerMap';
import { parseIpAddress } from '../../src/docker/parseIpAddress';
import { LateralError } from '../../src/errors';

function addr(ip: string): Uint8Array {
  const a = new Uint8Array(16);
  assert.ok(parseIpAddress(ip, a), ip);
  return a;
}

// Verbatim output of `scripts/lab up --name w4man`.
const LAB = '{"name":"w4man","bridge":"w4man-br","subnet":"10.213.97.0/24","subnet6":"fd0d:213:97::/64","namespaces":{"web":{"netns":"w4man-web","ip":"10.213.97.2","ip6":"fd0d:213:97::2","hostVeth":"w4man-web","mac":"6e:06:73:c5:0e:aa"},"db":{"netns":"w4man-db","ip":"10.213.97.3","ip6":"fd0d:213:97::3","hostVeth":"w4man-db","mac":"32:18:64:79:91:56"},"attacker":{"netns":"w4man-attacker","ip":"10.213.97.4","ip6":"fd0d:213:97::4","hostVeth":"w4man-att","mac":"ba:41:0b:d6:ec:1c"}},"services":{"http":"10.213.97.2:80","redis":"10.213.97.3:6379"}}';

test('the lab layout: one name per namespace role, IPv4 and IPv6, network = the bridge', () => {
  const m = containerMapFromJson(JSON.parse(LAB), 'layout.json');
  assert.is(m.size, 6);
  assert.equal(m.lookup(addr('10.213.97.3')), { name: 'db', network: 'w4man-br' });
  assert.is(m.nameOf(addr('fd0d:213:97::4')), 'attacker');
  assert.is(m.nameOf(Uint8Array.from([10, 213, 97, 2])), 'web', '4-byte form');
  assert.is(m.nameOf(addr('10.213.97.9')), 'unknown');
  assert.is(m.lookup(addr('fd0d:213:97::9')), null);
  assert.equal(m.identities().map((i) => i.name), ['web', 'db', 'attacker']);
});

test('the list and flat shapes, with image and network', () => {
  const list = containerMapFromJson({ containers: [{ name: 'api', ips: ['172.18.0.5', 'fd00::5'], image: 'api:1', network: 'backend' }, { name: 'cache', ip: '172.18.0.6' }] }, 'c.json');
  assert.equal(list.lookup(addr('fd00::5')), { name: 'api', image: 'api:1', network: 'backend' });
  assert.is(list.nameOf(addr('172.18.0.6')), 'cache');
  const flat = containerMapFromJson({ '172.17.0.2': 'web', '172.17.0.3': { name: 'db', image: 'redis:7' } }, 'f.json');
  assert.is(flat.nameOf(addr('172.17.0.2')), 'web');
  assert.equal(flat.lookup(addr('172.17.0.3')), { name: 'db', image: 'redis:7' });
});

test('bad files: LATERAL_ERR_CONFIG / LATERAL_ERR_IO naming the file and the entry', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-cmap-'));
  try {
    const expectError = (fn: () => unknown, code: string, text: RegExp): void => {
      try {
        fn();
      } catch (e) {
        assert.instance(e, LateralError);
        assert.is((e as LateralError).code, code);
        assert.match((e as Error).message, text);
        return;
      }
      assert.unreachable('no error');
    };
    const write = (name: string, text: string): string => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, text);
      return f;
    };
    expectError(() => loadContainerMap(path.join(dir, 'missing.json')), 'LATERAL_ERR_IO', /missing\.json: --containers: cannot read/);
    expectError(() => loadContainerMap(write('broken.json', '{"a":')), 'LATERAL_ERR_CONFIG', /broken\.json: --containers: not JSON/);
    expectError(() => loadContainerMap(write('str.json', '"web"')), 'LATERAL_ERR_CONFIG', /str\.json: .*expected a lab layout/);
    expectError(() => loadContainerMap(write('badip.json', '{"namespaces":{"web":{"ip":"10.0.0.300"}}}')), 'LATERAL_ERR_CONFIG', /namespaces\.web\.ip: not an IP address: "10\.0\.0\.300"/);
    expectError(() => loadContainerMap(write('noips.json', '{"containers":[{"name":"x"}]}')), 'LATERAL_ERR_CONFIG', /containers\[0\] \(x\) has no addresses/);
    expectError(() => loadContainerMap(write('flat.json', '{"10.0.0.1":42}')), 'LATERAL_ERR_CONFIG', /"10\.0\.0\.1": expected a name/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
