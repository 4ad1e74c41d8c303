import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { LateralError } from '../../src/errors';
import { parseRunOptions } from '../../src/cli/runOptions';
import { main } from '../../src/cli/main';

function usage(argv: string[], pattern: RegExp): void {
  try {
    parseRunOptions(argv);
    assert.unreachable(`should refuse ${argv.join(' ')}`);
  } catch (e) {
    assert.instance(e, LateralError);
    assert.is((e as LateralError).code, 'LATERAL_ERR_USAGE');
    assert.match((e as Error).message, pattern);
  }
}

test('defaults: fail-open both ways, queue 0, auto hook, GSO on', () => {
  const o = parseRunOptions(['--bridge', 'docker0']);
  assert.equal(o.bridges, ['docker0']);
  assert.is(o.firstQueue, 0);
  assert.is(o.lastQueue, 0);
  assert.is(o.queueBypass, true);
  assert.is(o.overloadAccept, true);
  assert.is(o.hook, 'auto');
  assert.is(o.gso, true);
  assert.is(o.instance, 'main');
});

test('repeated bridges, queue ranges, fail-closed, overload override, = syntax', () => {
  const o = parseRunOptions(['--bridge=docker0', '--bridge', 'br-abc', '--queues', '2-5', '--fail-closed', '--overload', 'accept', '--eve', '-', '--hook', 'forward']);
  assert.equal(o.bridges, ['docker0', 'br-abc']);
  assert.is(o.firstQueue, 2);
  assert.is(o.lastQueue, 5);
  assert.is(o.queueBypass, false);
  assert.is(o.overloadAccept, true);
  assert.is(o.eve, '-');
  assert.is(o.hook, 'FORWARD');
});

test('engine flags: default rules file exists, IPS unless --monitor, metrics port alone means loopback', () => {
  const d = parseRunOptions(['--bridge', 'docker0']);
  assert.is(d.ruleFiles.length, 1);
  assert.match(d.ruleFiles[0]!, /rules\/lateral\.rules$/);
  assert.ok(fs.existsSync(d.ruleFiles[0]!), d.ruleFiles[0]);
  assert.is(d.monitor, false);
  assert.is(d.metricsListen, undefined);
  assert.is(d.statsIntervalMs, 8000);
  const o = parseRunOptions(['--bridge', 'x', '--rules', 'a.rules', '--rules', 'b.rules', '--config', 'c.yaml', '--monitor',
    '--containers', 'lab.json', '--metrics-listen', '9640', '--stats-interval', '0']);
  assert.equal(o.ruleFiles, ['a.rules', 'b.rules']);
  assert.is(o.configPath, 'c.yaml');
  assert.is(o.monitor, true);
  assert.is(o.containersFile, 'lab.json');
  assert.is(o.metricsListen, '127.0.0.1:9640');
  assert.is(o.statsIntervalMs, 0);
  assert.is(parseRunOptions(['--bridge', 'x', '--metrics-listen', ':9641']).metricsListen, '127.0.0.1:9641');
  assert.is(parseRunOptions(['--bridge', 'x', '--metrics-listen', '0.0.0.0:9641']).metricsListen, '0.0.0.0:9641');
  assert.equal(parseRunOptions(['--bridge', 'x', '--no-rules']).ruleFiles, []);
  usage(['--bridge', 'x', '--no-rules', '--rules', 'a'], /exclude each other/);
});

test('bad flags are usage errors naming the flag', () => {
  usage([], /--bridge is required/);
  usage(['--bridge'], /--bridge needs a value/);
  usage(['--bridge', 'x', '--frobnicate'], /unknown flag --frobnicate/);
  usage(['--bridge', 'x', '--queues', '5-2'], /end before start/);
  usage(['--bridge', 'x', '--queues', 'a'], /--queues expects N or A-B/);
  usage(['--bridge', 'x', '--fail-open', '--fail-closed'], /exclude each other/);
  usage(['--bridge', 'x;reboot'], /invalid bridge name/);
  usage(['--bridge', 'x', '--repeat-mark', '3'], /single bit/);
  usage(['--bridge', 'x', '--repeat-mark', '0x10', '--bypass-mark', '16'], /must differ/);
  usage(['--bridge', 'x', '--metrics-listen', 'nonsense'], /HOST:PORT/);
  usage(['--bridge', 'x', '--overload', 'maybe'], /accept or drop/);
  usage(['--bridge', 'x', '--batch', '0'], /--batch must be in 1\.\.4096/);
  usage(['--bridge', 'x', 'extra'], /unexpected argument/);
});

test('main exits 2 for an unknown command and for bad flags', async () => {
  const write = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((s: string) => {
    err += s;
    return true;
  }) as typeof process.stderr.write;
  try {
    assert.is(await main(['frob']), 2);
    assert.is(await main(['run', '--bridge', 'x', '--nope']), 2);
    assert.is(await main(['uninstall', '--instance', 'NO WAY']), 2);
  } finally {
    process.stderr.write = write;
  }
  assert.match(err, 'unknown command "frob"');
  assert.match(err, 'unknown flag --nope');
  assert.match(err, '[LATERAL_ERR_USAGE]');
});

test.run();
