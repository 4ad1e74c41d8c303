// `lateral run` Docker flags and the canary's EVE record (no Docker needed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canaryEveRecord, parseDockerRunFlags } from '../../src/cli/runDocker';
import { parseRunOptions } from '../../src/cli/runOptions';
import { LateralError } from '../../src/errors';

test('no Docker flag: null, run parses its own arguments unchanged', () => {
  assert.is(parseDockerRunFlags(['--bridge', 'br0', '--queues', '0-1']), null);
});

test('--all-networks / --network are split off; the rest stays for parseRunOptions', () => {
  const all = parseDockerRunFlags(['--all-networks', '--queues', '3', '--rule-check', '5', '--no-canary', '--vars=/etc/lateral/vars.yaml'])!;
  assert.is(all.networks, undefined);
  assert.equal(all.rest, ['--queues', '3']);
  assert.is(all.checkIntervalMs, 5000);
  assert.is(all.canary, false);
  assert.is(all.varsFile, '/etc/lateral/vars.yaml');
  const some = parseDockerRunFlags(['--network', 'backend', '--network=frontend', '--docker-socket', '/tmp/d.sock'])!;
  assert.equal(some.networks, ['backend', 'frontend']);
  assert.is(some.socketPath, '/tmp/d.sock');
  assert.is(some.checkIntervalMs, 2000);
  // What prepareDockerRun hands to the normal parser.
  const opts = parseRunOptions([...all.rest, '--bridge', 'docker0', '--bridge', 'br-0123456789ab']);
  assert.equal(opts.bridges, ['docker0', 'br-0123456789ab']);
});

test('bad combinations are usage errors naming the flag', () => {
  const bad: [string[], RegExp][] = [
    [['--all-networks', '--network', 'x'], /exclude each other/],
    [['--all-networks', '--bridge', 'br0'], /--bridge cannot be combined/],
    [['--network'], /--network needs a value/],
    [['--network', 'a b'], /not a Docker network name/],
    [['--no-canary', '--bridge', 'br0'], /--no-canary needs --all-networks or --network/],
    [['--all-networks', '--rule-check', 'soon'], /rule-check/],
  ];
  for (const [argv, re] of bad) {
    try {
      parseDockerRunFlags(argv);
      assert.unreachable(argv.join(' '));
    } catch (e) {
      assert.instance(e, LateralError, argv.join(' '));
      assert.is((e as LateralError).code, 'LATERAL_ERR_USAGE');
      assert.match((e as Error).message, re);
    }
  }
});

test('an unprotected bridge becomes an alert-like EVE record', () => {
  const r = canaryEveRecord({ bridge: 'br-0123456789ab', protected: false, hits: 0, reason: 'none reached' }, Date.UTC(2026, 10, 27, 12, 0, 0, 250));
  assert.is(r.event_type, 'alert');
  assert.match(String(r.timestamp), /^2026-11-27T\d\d:00:00\.250000[+-]\d{4}$/);
  assert.is(r.in_iface, 'br-0123456789ab');
  const alert = r.alert as Record<string, unknown>;
  assert.is(alert.signature_id, 1899001);
  assert.is(alert.action, 'allowed');
  assert.equal(r.lateral, { bridge: 'br-0123456789ab', protected: false, reason: 'none reached' });
  JSON.parse(JSON.stringify(r));
});

test.run();
