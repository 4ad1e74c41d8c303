// Flow bypass on live traffic: an iperf3 bulk flow through a namespace lab and `lateral run`
// with rules. Once the flow is past the stream depth (1 MiB) it must leave the queue: the
// kernel's nfnetlink_queue packet ids for our queue stop advancing while iperf3 keeps
// moving data, and Lateral counts the bypass. Afterwards an attack on a NEW flow must still
// be dropped (bypass is per connection, not a hole in the queue).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readNfqueueProc } from '../../src/capture/nfqueueProc';
import { curl, inNs, LabLayout, labDown, labUp, lateralCli, LateralProcess, uniquePrefix, uniqueQueue } from './labHarness';

const name = uniquePrefix('byp');
const instance = `t${name}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-bypass-'));
let lab: LabLayout;
let running: LateralProcess | undefined;
let iperfServer: ChildProcess | undefined;

const live = suite('flow bypass (live)');

live.before(async () => {
  lab = await labUp(name);
});

live.after(async () => {
  if (running && running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
  if (iperfServer && iperfServer.exitCode === null) iperfServer.kill('SIGKILL');
  await lateralCli(['uninstall', '--instance', instance]);
  await labDown(name);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function queuedSoFar(queue: number): number {
  const e = readNfqueueProc().find((x) => x.queue === queue);
  if (!e) throw new Error(`queue ${queue} is not bound`);
  return e.idSequence;
}

live('an iperf3 bulk flow past depth stops being queued; an attack on a new flow is still dropped', async () => {
  const rules = path.join(tmp, 'bypass.rules');
  fs.writeFileSync(rules, [
    'alert tcp any any -> any any (msg:"probe"; content:"NEVER-IN-BULK"; sid:1;)',
    'drop http any any -> any any (msg:"attack"; http.uri; content:"ATTACK-STRING"; sid:3;)',
  ].join('\n') + '\n');
  const eve = path.join(tmp, 'eve.json');
  const q = uniqueQueue();
  running = new LateralProcess(['run', '--bridge', lab.bridge, '--queues', String(q), '--instance', instance, '--hook', 'forward',
    '--summary-interval', '0', '--rules', rules, '--eve', eve]);
  await running.ready(60000);
  iperfServer = spawn('ip', ['netns', 'exec', lab.namespaces.web.netns, 'iperf3', '-s', '-1'], { stdio: 'ignore' });
  await sleep(500);

  const start = queuedSoFar(q);
  const client = inNs(lab.namespaces.attacker.netns, 'iperf3', ['-c', lab.namespaces.web.ip, '-t', '6', '-J'], 30000);
  await sleep(2000);
  const at2s = queuedSoFar(q);
  await sleep(3000);
  const at5s = queuedSoFar(q);
  const r = await client;
  assert.is(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { end: { sum_received: { bytes: number } }; intervals: Array<{ sum: { bytes: number; start: number } }> };
  const late = result.intervals.filter((i) => i.sum.start >= 2 && i.sum.start < 5).reduce((a, i) => a + i.sum.bytes, 0);
  // The flow kept moving data between the two samples...
  assert.ok(late > 50 * 1024 * 1024, `iperf3 moved ${late} bytes in seconds 2-5`);
  // ... but (almost) none of it reached the queue: at most a few stragglers and the control connection.
  assert.ok(at2s - start >= 10, `packets (GSO: up to 64 KiB each) were queued before the depth (${at2s - start})`);
  assert.ok(at5s - at2s < 50, `queued packets between 2 s and 5 s: ${at5s - at2s} (iperf3 moved ${late} bytes then)`);

  // A new connection with an attack is inspected and dropped; a clean one passes.
  const attack = await inNs(lab.namespaces.attacker.netns, 'curl', ['-s', '--max-time', '3', `http://${lab.services.http}/ATTACK-STRING`], 10000);
  assert.is.not(attack.code, 0, 'the attack request did not get through');
  const clean = await curl(lab);
  assert.is(clean.code, 0, clean.stderr);

  assert.is(await running.stop('SIGINT'), 0, running.stderr);
  assert.ok(running.counter('bypassed') > 0, running.stderr);
  assert.ok(running.counter('dropped') >= 1, running.stderr);
  const alerts = fs.readFileSync(eve, 'utf8').split('\n').filter((l) => l.includes('"event_type":"alert"'));
  assert.ok(alerts.some((l) => l.includes('"signature_id":3') && l.includes('"action":"blocked"')), alerts.join('\n'));
});

live.run();
