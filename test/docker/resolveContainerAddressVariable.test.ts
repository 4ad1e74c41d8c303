// The @kind:value syntax of container-aware rule addresses (resolution is tested live, in
// containerDirectory.test.ts, against a real dockerd).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LateralError } from '../../src/errors';
import { isContainerAddressVariable, parseContainerAddressVariable } from '../../src/docker/resolveContainerAddressVariable';

test('parses the four kinds', () => {
  assert.equal(parseContainerAddressVariable('@container:web'), { kind: 'container', key: 'web', value: undefined });
  assert.equal(parseContainerAddressVariable('@label:tier=db'), { kind: 'label', key: 'tier', value: 'db' });
  assert.equal(parseContainerAddressVariable('@label:com.example.role'), { kind: 'label', key: 'com.example.role', value: undefined });
  assert.equal(parseContainerAddressVariable('@label:k='), { kind: 'label', key: 'k', value: '' });
  assert.equal(parseContainerAddressVariable(' @network:backend '), { kind: 'network', key: 'backend', value: undefined });
  assert.equal(parseContainerAddressVariable('@image:registry:5000/redis:7'), { kind: 'image', key: 'registry:5000/redis:7', value: undefined });
});

test('plain Suricata addresses are not container expressions', () => {
  for (const a of ['any', '$HOME_NET', '!$HOME_NET', '10.0.0.0/8', '[1.2.3.4,$X]', 'fd00::/8']) {
    assert.not.ok(isContainerAddressVariable(a), a);
  }
  assert.ok(isContainerAddressVariable('@container:web'));
});

test('bad expressions throw LATERAL_ERR_CONFIG with the location and cause', () => {
  for (const [bad, cause] of [
    ['@pod:web', 'expected @container'],
    ['@container:', 'expected @container'],
    ['@label:=db', 'empty label key'],
    ['@container:web,db', 'characters outside'],
    ['@container:we b', 'characters outside'],
  ] as const) {
    try {
      parseContainerAddressVariable(bad, { file: 'lateral.yaml', line: 7 });
      assert.unreachable(bad);
    } catch (err) {
      assert.instance(err, LateralError);
      assert.is((err as LateralError).code, 'LATERAL_ERR_CONFIG');
      assert.match((err as LateralError).message, 'lateral.yaml:7: ');
      assert.match((err as LateralError).message, cause);
    }
  }
});

test.run();
