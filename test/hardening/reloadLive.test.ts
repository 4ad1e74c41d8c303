// Rule reload without a gap, live: a counted UDP stream crosses a lab bridge through
// `lateral run` while the rules are reloaded 21 times (SIGHUP and `lateral reload`, alternating
// a file that drops a marker pattern with one that only alerts on it), plus one broken file.
// Proves: every legitimate datagram arrives (receiver count = sender count), the kernel queue
// dropped nothing, Lateral judged every packet it saw, each reload took effect (the marker
// passes / is dropped as the current file says), and the broken file kept the old rules.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corpusPath } from '../support/corpus';
import { readNfqueueProc } from '../../src/capture/nfqueueProc';
import { readReloadStatus } from '../../src/cli/runControl';
import { LabLayout, labDown, labUp, lateralCli, LateralProcess, uniquePrefix, uniqueQueue } from '../live/labHarness';
import { lossEvidence, lossEvidenceDelta, UdpCounter } from '../live/udpCounter';

const name = uniquePrefix('rld');
const instance = `t${name}`;
const PORT = 9317;
const RELOADS = 21;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-reload-'));
const rulesFile = path.join(dir, 'live.rules');
const pidFile = path.join(dir, 'run.pid');

const DROPS = `drop udp any any -> any any (msg:"reload marker dropped"; content:"RELOADMARK"; sid:9100001; rev:1;)
alert tcp any any -> any 1 (msg:"never"; content:"zzzz-never"; sid:9100002; rev:1;)
`;
const PASSES = `alert udp any any -> any any (msg:"reload marker seen"; content:"RELOADMARK"; sid:9100003; rev:1;)
`;
// Line 3: an operator's typo (unterminated option): a parse error, not an unsupported rule.
const BROKEN = `${DROPS}alert udp any any -> any any (msg:"broken"; content:"x"; sid:9100004; rev:1
`;

/** Replaces the rules file atomically, as an operator's `mv` would. */
function writeRules(text: string): void {
  fs.writeFileSync(`${rulesFile}.tmp`, text);
  fs.renameSync(`${rulesFile}.tmp`, rulesFile);
}

let lab: LabLayout;
let running: LateralProcess | undefined;
let traffic: UdpCounter | undefined;

const t = suite('rule reload without a gap (live)');

t.before(async () => {
  lab = await labUp(name);
});

t.after(async () => {
  traffic?.close();
  if (running && running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
  await lateralCli(['uninstall', '--instance', instance]);
  await labDown(name);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function waitStatus(generation: number, timeoutMs = 20000): Promise<{ ok: boolean; message: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = readReloadStatus(pidFile);
    if (s !== null && s.generation >= generation) return s;
    if (Date.now() > deadline) throw new Error(`no reload status ${generation}: ${running?.stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t('21 reloads under a counted UDP stream: nothing lost, everything judged, each reload takes effect', async () => {
  writeRules(PASSES);
  const q = uniqueQueue();
  running = new LateralProcess([
    'run', '--bridge', lab.bridge, '--queues', `${q}-${q + 1}`, '--instance', instance, '--hook', 'forward',
    '--summary-interval', '0', '--rules', rulesFile, '--pid-file', pidFile,
  ]);
  await running.ready();
  const web = lab.namespaces.web;
  traffic = new UdpCounter(lab.namespaces.attacker.netns, web.netns, web.ip, PORT, 400);
  const evidenceBefore = lossEvidence(lab.namespaces.attacker.netns, web.netns);
  await traffic.ready();

  assert.ok(await traffic.marker('before', 2000), 'the marker passes under the alert-only rules');
  let drops = false;
  let generation = 0;
  const effect: string[] = [];
  for (let i = 0; i < RELOADS; i++) {
    drops = !drops;
    writeRules(drops ? DROPS : PASSES);
    generation++;
    if (i % 2 === 0) {
      running.child.kill('SIGHUP');
      const s = await waitStatus(generation);
      assert.ok(s.ok, s.message);
    } else {
      const r = await lateralCli(['reload', '--pid-file', pidFile]);
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stderr, `reload ${generation} of pid`);
    }
    const got = await traffic.marker(`m${i}`, drops ? 600 : 2000);
    effect.push(`${drops ? 'drop' : 'pass'}:${got ? 'arrived' : 'blocked'}`);
    assert.is(got, !drops, `reload ${generation} (${drops ? 'drop' : 'alert'} rules): marker ${got ? 'arrived' : 'blocked'}`);
  }

  // A broken file: refused with file:line: cause, the running (drop) rules stay.
  assert.ok(drops, 'the last good file drops the marker');
  writeRules(BROKEN);
  const bad = await lateralCli(['reload', '--pid-file', pidFile]);
  assert.is(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, `${rulesFile}:3:`);
  assert.match(bad.stderr, 'not terminated');
  assert.match(bad.stderr, 'the running rules stay');
  assert.not.ok(await traffic.marker('after-broken', 600), 'still the drop rules after the refused reload');

  const counts = await traffic.finish();
  const evidence = lossEvidenceDelta(evidenceBefore, lossEvidence(lab.namespaces.attacker.netns, web.netns));
  const proc = readNfqueueProc().filter((e) => e.queue === q || e.queue === q + 1);
  assert.is(proc.length, 2);
  const queueDropped = proc.reduce((n, e) => n + e.queueDropped, 0);
  const userDropped = proc.reduce((n, e) => n + e.userDropped, 0);
  assert.is(await running.stop('SIGINT'), 0, running.stderr);

  console.log(
    `  reload: ${RELOADS} reloads + 1 refused; legit sent ${counts.sent}, received ${counts.received} (dups ${counts.duplicates}; kernel: ${evidence || 'no drops'}); ` +
      `queue_dropped ${queueDropped} user_dropped ${userDropped}; lateral packets ${running.counter('packets')} accepted ${running.counter('accepted')} ` +
      `dropped ${running.counter('dropped')} unverdicted ${running.counter('unverdicted')} uninspected ${running.counter('uninspected')}`,
  );
  assert.ok(counts.sent > 2000, `a real stream: ${counts.sent}`);
  assert.is(counts.sendErrors, 0, 'the sender sent every datagram');
  assert.is(counts.received, counts.sent, `every legitimate datagram arrived (missing ${counts.missing.join(',')}; kernel counters that moved: ${evidence || 'none'})`);
  assert.is(queueDropped, 0, 'NFQUEUE queue_dropped');
  assert.is(userDropped, 0, 'NFQUEUE user_dropped');
  assert.is(running.counter('reloads'), RELOADS);
  assert.is(running.counter('reload_failures'), 1);
  const packets = running.counter('packets');
  assert.ok(packets >= counts.sent, `lateral saw every datagram: ${packets} >= ${counts.sent}`);
  assert.is(running.counter('accepted') + running.counter('dropped') + running.counter('bypassed'), packets, 'every packet got a verdict');
  assert.is(running.counter('dropped'), Math.ceil(RELOADS / 2) + 1, 'exactly the markers sent under the drop rules were dropped');
  assert.is(running.counter('unverdicted'), 0);
  assert.is(running.counter('uninspected'), 0);
  assert.is(running.counter('enobufs'), 0);
  assert.match(running.stderr, /reload 22: refused, the running rules stay: .*live\.rules:3: .*not terminated/);
});

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

// The compile block (DetectEngine.compile) holds the queue: packets wait in the kernel, so the
// queue must hold rate × compile time or the overload path (FAIL_OPEN: counted uninspected)
// takes over. Measured here 1–17 s per worker depending on load: 400 pps × 17 s < 32768.
t('reload to ET Open (24k rules) under the stream: the compile stalls the queue, nothing is lost', async () => {
  const etOpen = corpusPath('et-open', 'et-open.rules');
  writeRules(PASSES);
  const q = uniqueQueue();
  running = new LateralProcess([
    'run', '--bridge', lab.bridge, '--queues', `${q}-${q + 1}`, '--instance', instance, '--hook', 'forward',
    '--summary-interval', '0', '--rules', rulesFile, '--pid-file', pidFile, '--queue-maxlen', '32768',
  ]);
  await running.ready();
  const web = lab.namespaces.web;
  traffic = new UdpCounter(lab.namespaces.attacker.netns, web.netns, web.ip, PORT + 1, 400);
  const evidenceBefore = lossEvidence(lab.namespaces.attacker.netns, web.netns);
  await traffic.ready();
  const rssBefore = rssMiB(running.child.pid!);
  writeRules(fs.readFileSync(etOpen, 'utf8') + DROPS);
  const t0 = Date.now();
  const r = await lateralCli(['reload', '--pid-file', pidFile, '--timeout', '240'], 250000);
  const reloadMs = Date.now() - t0;
  assert.is(r.code, 0, r.stderr + running.stderr);
  assert.ok(!(await traffic.marker('et', 600)), 'the new rules (ET Open + the marker drop) are in force');
  const rssAfter = rssMiB(running.child.pid!);
  const counts = await traffic.finish();
  const evidence = lossEvidenceDelta(evidenceBefore, lossEvidence(lab.namespaces.attacker.netns, web.netns));
  const proc = readNfqueueProc().filter((e) => e.queue === q || e.queue === q + 1);
  const queueDropped = proc.reduce((n, e) => n + e.queueDropped, 0);
  const userDropped = proc.reduce((n, e) => n + e.userDropped, 0);
  // Two ET Open engines per process: shutdown (flush, final counters) is slower on a loaded box.
  assert.is(await running.stop('SIGINT', 60000), 0, running.stderr);
  const line = /reload 1: (.*)/.exec(running.stderr)?.[1] ?? '';
  console.log(
    `  ET Open reload: ${reloadMs} ms end to end (${line}); RSS ${rssBefore} -> ${rssAfter} MiB; legit sent ${counts.sent}, received ${counts.received} (kernel: ${evidence || 'no drops'}); ` +
      `queue_dropped ${queueDropped} user_dropped ${userDropped} uninspected ${running.counter('uninspected')}; load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`,
  );
  assert.is(counts.sendErrors, 0, 'the sender sent every datagram');
  assert.is(counts.received, counts.sent, `every legitimate datagram arrived (missing ${counts.missing.join(',')}; kernel counters that moved: ${evidence || 'none'})`);
  assert.is(queueDropped + userDropped, 0, 'the kernel queue held the packets during the compile');
  assert.is(running.counter('unverdicted'), 0);
  assert.is(running.counter('uninspected'), 0);
  assert.ok(running.counter('packets') >= counts.sent);
});

t.run();
