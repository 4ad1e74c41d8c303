// The live data path end to end: a namespace lab, `lateral run` as a child process, real
// HTTP and Redis traffic through the bridge, br_netfilter and NFQUEUE.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { backendByName, detectIptablesBackend } from '../../src/capture/firewallBackend';
import { listFirewallLeftovers } from '../../src/capture/firewall';
import { readNfqueueProc } from '../../src/capture/nfqueueProc';
import { curl, curl6, LabLayout, labDown, labUp, lateralCli, LateralProcess, redis, sh, uniquePrefix, uniqueQueue } from './labHarness';

const name = uniquePrefix('run');
const instance = `t${name}`;
let lab: LabLayout;
let running: LateralProcess | undefined;

const live = suite('lateral run (live)');

live.before(async () => {
  lab = await labUp(name);
});

live.after.each(async () => {
  if (running && running.child.exitCode === null && running.child.signalCode === null) {
    running.child.kill('SIGKILL');
  }
  running = undefined;
});

live.after(async () => {
  await lateralCli(['uninstall', '--instance', instance]);
  await labDown(name);
});

function runArgs(queue: number, ...extra: string[]): string[] {
  return ['run', '--bridge', lab.bridge, '--queues', `${queue}-${queue + 1}`, '--instance', instance, '--hook', 'forward', '--summary-interval', '0', ...extra];
}

live('HTTP (IPv4 and IPv6) and Redis pass through lateral run and are counted per protocol', async () => {
  const q = uniqueQueue();
  running = new LateralProcess(runArgs(q));
  await running.ready();
  // Both queues are bound by our process while it runs.
  const bound = readNfqueueProc().filter((e) => e.queue === q || e.queue === q + 1);
  assert.is(bound.length, 2, 'both queues bound');

  for (let i = 0; i < 3; i++) {
    const r = await curl(lab);
    assert.is(r.code, 0, `curl ${i}: ${r.stderr}`);
    assert.match(r.stdout, `lateral lab web (${name})`);
  }
  const v6 = await curl6(lab);
  assert.is(v6.code, 0, `curl over IPv6: ${v6.stderr}`);
  assert.match(v6.stdout, `lateral lab web (${name})`);
  const set = await redis(lab, 'SET', 'lateral-key', 'hello');
  assert.is(set.stdout.trim(), 'OK', set.stderr);
  const get = await redis(lab, 'GET', 'lateral-key');
  assert.is(get.stdout.trim(), 'hello');

  const code = await running.stop('SIGINT');
  assert.is(code, 0, running.stderr);
  const packets = running.counter('packets');
  // Each exchange is at least SYN, SYN-ACK, ACK, request, response and the FINs (7).
  assert.ok(running.counter('ipv4') >= 5 * 7, `ipv4: ${running.stderr}`);
  assert.ok(running.counter('ipv6') >= 7, `ipv6 (ip6tables rules + bridge-nf-call-ip6tables): ${running.stderr}`);
  assert.ok(running.counter('tcp') >= 6 * 7, `tcp: ${running.stderr}`);
  assert.ok(running.counter('ipv4') + running.counter('ipv6') <= packets);
  assert.is(running.counter('tcp') + running.counter('udp') + running.counter('icmp') + running.counter('other'), packets, 'every packet classified once');
  assert.is(running.counter('accepted'), packets);
  assert.is(running.counter('dropped'), 0);
  assert.is(running.counter('enobufs'), 0);
  assert.is(running.counter('unverdicted'), 0);
  assert.is(running.counter('uninspected'), 0);
  // SIGINT removed the rules.
  const backend = detectIptablesBackend();
  assert.equal(listFirewallLeftovers(backend, instance), []);
});

live('kill -9 with --fail-open (--queue-bypass): traffic keeps passing', async () => {
  const q = uniqueQueue();
  running = new LateralProcess(runArgs(q, '--fail-open'));
  await running.ready();
  assert.is((await curl(lab)).code, 0);
  running.child.kill('SIGKILL');
  await running.stop('SIGKILL');
  // The rules are still there (nobody removed them), the queue has no listener.
  assert.ok(listFirewallLeftovers(detectIptablesBackend(), instance).length > 0, 'rules remain after a crash');
  const r = await curl(lab);
  assert.is(r.code, 0, `curl after crash: ${r.stderr}`);
  assert.is((await redis(lab, 'PING')).stdout.trim(), 'PONG');
});

live('kill -9 with --fail-closed: traffic stops until uninstall', async () => {
  const q = uniqueQueue();
  running = new LateralProcess(runArgs(q, '--fail-closed'));
  await running.ready();
  assert.is((await curl(lab)).code, 0, 'passes while lateral runs');
  running.child.kill('SIGKILL');
  await running.stop('SIGKILL');
  const r = await curl(lab, 2);
  assert.is.not(r.code, 0, 'curl must fail while the queue has no listener');
  assert.is.not((await redis(lab, 'PING')).stdout.trim(), 'PONG');

  const u = await lateralCli(['uninstall', '--instance', instance]);
  assert.is(u.code, 0, u.stderr);
  assert.match(u.stderr, /removed [1-9]\d* rule/);
  assert.is((await curl(lab)).code, 0, 'passes again after uninstall');
});

live('refusals: a missing bridge exits 2; a queue bound by someone else exits 1 and leaves no rules', async () => {
  const missing = await lateralCli(['run', '--bridge', 'nosuchbr0', '--instance', instance]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, 'bridge nosuchbr0 does not exist');

  const q = uniqueQueue();
  running = new LateralProcess(runArgs(q));
  await running.ready();
  const second = await lateralCli(['run', '--bridge', lab.bridge, '--queues', String(q), '--instance', `${instance}b`, '--hook', 'forward']);
  assert.is(second.code, 1, second.stderr);
  assert.match(second.stderr, /already bound.*\[LATERAL_ERR_KERNEL\]/);
  assert.equal(listFirewallLeftovers(detectIptablesBackend(), `${instance}b`), [], 'the failed run installed nothing');
  assert.is((await curl(lab)).code, 0, 'the first instance still carries the traffic');
  assert.is(await running.stop('SIGTERM'), 0);
});

live('after uninstall and lab down, no NFQUEUE rule and no lab remains', async () => {
  const q = uniqueQueue();
  running = new LateralProcess(runArgs(q));
  await running.ready();
  running.child.kill('SIGKILL');
  await running.stop('SIGKILL');
  const u = await lateralCli(['uninstall', '--instance', instance]);
  assert.is(u.code, 0, u.stderr);
  for (const b of ['nft', 'legacy'] as const) {
    assert.equal(listFirewallLeftovers(backendByName(b, 'test'), instance), [], `${b} leftovers`);
    const save = await sh(`iptables-${b}-save`, []);
    assert.not.match(save.stdout, `lateral:${instance}`);
  }
  await labDown(name);
  const ns = await sh('ip', ['netns', 'list']);
  assert.not.match(ns.stdout, `${name}-`);
  const links = await sh('ip', ['-o', 'link', 'show']);
  assert.not.match(links.stdout, `${name}-`);
  const fwd = await sh('iptables-save', ['-t', 'filter']);
  assert.not.match(fwd.stdout, `lateral-lab:${name}`);
});

live.run();
