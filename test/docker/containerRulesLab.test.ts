// Container-aware rule addresses without Docker: `lateral run --containers FILE` on the
// namespace lab (scripts/lab) resolves `@container:` groups from the table into the queue
// workers' rules. The attacker's Redis CONFIG SET is dropped by an `@container:attacker` rule;
// the same command from `web` is not the attacker and passes; a group nothing resolves is
// warned about once, naming the rule's file:line. The lab is removed in after().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inNs, labDown, labUp, lateralCli, LateralProcess, redis, uniquePrefix, uniqueQueue, type LabLayout } from '../live/labHarness';

const name = uniquePrefix('cg');
const instance = `cg${name}`;
let lab: LabLayout | undefined;
let dir = '';
let running: LateralProcess | undefined;

const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (!root) {
  test.skip('container rules on the lab (needs root)', () => undefined);
} else {
  test.before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-cg-'));
    lab = await labUp(name);
  });

  test.after(async () => {
    if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
    await lateralCli(['uninstall', '--instance', instance]);
    if (lab) await labDown(name);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('lateral run --containers: @container rules drop the attacker only; an unresolved group is warned about once', async () => {
    const l = lab!;
    const layout = path.join(dir, 'lab.json');
    fs.writeFileSync(layout, JSON.stringify(l));
    const rules = path.join(dir, 'groups.rules');
    fs.writeFileSync(
      rules,
      [
        'drop tcp @container:attacker any -> @container:db any (msg:"LATERAL attacker reconfigures db"; flow:to_server; content:"CONFIG"; nocase; sid:1899201; rev:1;)',
        '# a group no table entry has',
        'drop tcp @label:tier=none any -> any any (msg:"never"; content:"CONFIG"; sid:1899202; rev:1;)',
        '',
      ].join('\n'),
    );
    const eve = path.join(dir, 'eve.json');
    const q = uniqueQueue();
    running = new LateralProcess([
      'run', '--bridge', l.bridge, '--queues', String(q), '--instance', instance, '--hook', 'forward',
      '--summary-interval', '0', '--rules', rules, '--eve', eve, '--containers', layout,
    ]);
    await running.ready(60_000);
    assert.match(running.stderr, /container address groups: @container:attacker=[12] @container:db=[12] @label:tier=none=0 \(addresses, from --containers /);
    const warnings = running.stderr.split('\n').filter((x) => x.includes('resolves to no address'));
    assert.equal(warnings.length, 1, running.stderr);
    assert.match(warnings[0]!, `${rules}:3: @label:tier=none resolves to no address (--containers ${layout})`);

    assert.is((await redis(l, 'PING')).stdout.trim(), 'PONG', 'normal traffic passes');
    const attack = await redis(l, 'CONFIG', 'SET', 'dir', '/tmp');
    assert.not.ok(/^(OK|ERR)/.test(attack.stdout.trim()), `the attacker's CONFIG SET must not reach redis: ${attack.stdout}`);
    const [host, port] = l.services.redis.split(':') as [string, string];
    const fromWeb = await inNs(l.namespaces.web.netns, 'timeout', ['5', 'redis-cli', '-h', host, '-p', port, 'CONFIG', 'GET', 'maxmemory'], 10000);
    assert.match(fromWeb.stdout, 'maxmemory', 'web is not @container:attacker: its CONFIG passes');

    const code = await running.stop('SIGINT');
    assert.is(code, 0, running.stderr);
    const alerts = fs.readFileSync(eve, 'utf8').split('\n').filter((x) => x.startsWith('{')).map((x) => JSON.parse(x) as { event_type: string; alert?: { signature_id: number; action: string }; src_container?: { name: string }; dest_container?: { name: string } }).filter((r) => r.event_type === 'alert');
    assert.ok(alerts.length >= 1, 'the drop was alerted');
    for (const a of alerts) {
      assert.is(a.alert!.signature_id, 1899201);
      assert.is(a.alert!.action, 'blocked');
      assert.is(a.src_container!.name, 'attacker');
      assert.is(a.dest_container!.name, 'db');
    }
  });

  test('a reload that brings a new @container group: the group is resolved and enforced without a restart', async () => {
    const l = lab!;
    const layout = path.join(dir, 'lab.json');
    fs.writeFileSync(layout, JSON.stringify(l));
    const rules = path.join(dir, 'reload.rules');
    fs.writeFileSync(rules, 'alert tcp any any -> any any (msg:"plain"; content:"PING"; sid:1899210; rev:1;)\n');
    const pidFile = path.join(dir, 'run.pid');
    const q = uniqueQueue();
    running = new LateralProcess([
      'run', '--bridge', l.bridge, '--queues', String(q), '--instance', instance, '--hook', 'forward',
      '--summary-interval', '0', '--rules', rules, '--containers', layout, '--pid-file', pidFile,
    ]);
    await running.ready(60_000);
    assert.match((await redis(l, 'CONFIG', 'GET', 'maxmemory')).stdout, 'maxmemory', 'no group rule yet: CONFIG passes');
    fs.writeFileSync(rules, 'drop tcp @container:attacker any -> any 6379 (msg:"attacker reconfigures"; flow:to_server; content:"CONFIG"; nocase; sid:1899211; rev:1;)\n');
    const reload = await lateralCli(['reload', '--pid-file', pidFile]);
    assert.is(reload.code, 0, reload.stdout + reload.stderr);
    assert.match(running.stderr, /container address groups: @container:attacker=[12] \(addresses, from --containers /);
    const attack = await redis(l, 'CONFIG', 'SET', 'dir', '/tmp');
    assert.not.ok(/^(OK|ERR)/.test(attack.stdout.trim()), `after the reload the attacker's CONFIG SET must not reach redis: ${attack.stdout}`);
    assert.is((await redis(l, 'PING')).stdout.trim(), 'PONG', 'normal traffic passes');
    assert.is(await running.stop('SIGINT'), 0, running.stderr);
  });
}

test.run();
