// Firewall.setBridges / missingRules against the real kernel, and the bridge canary that
// proves a bridge's traffic reaches the queue rule. Two bridges of our own (w2f*), hook
// FORWARD, a queue nobody binds (--queue-bypass: the probe passes, the counter still counts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { Firewall, listFirewallLeftovers } from '../../src/capture/firewall';
import { probeBridge } from '../../src/docker/bridgeCanary';
import { NfQueue } from '../../src/capture/nfqueue';

const tag = (process.pid % 100000).toString(36) + Math.floor(Math.random() * 1296).toString(36);
const BR1 = `w2f${tag}a`;
const BR2 = `w2f${tag}b`;
const instance = `w2f${tag}`;
const queue = 20000 + ((process.pid * 11 + Math.floor(Math.random() * 5000)) % 40000);
const root = typeof process.getuid === 'function' && process.getuid() === 0;
let fw: Firewall | undefined;

function ipt(args: string[]): void {
  execFileSync(fw!.backend.iptables, ['-w', '5', ...args], { stdio: 'ignore' });
}

if (!root) {
  test.skip('firewall bridges (needs root)', () => undefined);
} else {
  test.before(() => {
    for (const b of [BR1, BR2]) execFileSync('ip', ['link', 'add', b, 'type', 'bridge']);
    for (const b of [BR1, BR2]) execFileSync('ip', ['link', 'set', b, 'up']);
    fw = new Firewall({ bridges: [BR1], firstQueue: queue, lastQueue: queue, queueBypass: true, repeatMark: 0x100000, bypassMark: 0x200000, instance, hook: 'FORWARD' });
  });

  test.after(() => {
    try {
      fw?.remove();
    } finally {
      for (const b of [BR1, BR2]) spawnSync('ip', ['link', 'del', b], { stdio: 'ignore' });
    }
  });

  test('setBridges adds and removes only per-bridge queue rules; repeating it changes nothing', () => {
    fw!.install();
    assert.equal(fw!.missingRules(), []);
    assert.equal(fw!.setBridges([BR1, BR2]), { added: [BR2], removed: [] });
    assert.equal(fw!.setBridges([BR1, BR2]), { added: [], removed: [] });
    assert.equal(fw!.missingRules(), []);
    const queueRules = (): string[] => listFirewallLeftovers(fw!.backend, instance).filter((l) => l.includes('NFQUEUE') && l.startsWith(fw!.backend.iptablesSave));
    assert.is(queueRules().length, 2);
    assert.equal(fw!.setBridges([BR2]), { added: [], removed: [BR1] });
    const left = queueRules();
    assert.is(left.length, 1);
    assert.ok(left[0]!.includes(`-i ${BR2}`), left[0]);
    assert.equal(fw!.missingRules(), []);
  });

  test('missingRules reports a deleted hook (as when dockerd flushes DOCKER-USER); install() restores it', () => {
    fw!.setBridges([BR1, BR2]);
    ipt(['-D', 'FORWARD', '-m', 'physdev', '--physdev-is-bridged', '-m', 'comment', '--comment', `lateral:${instance}`, '-j', `LATERAL-${instance}`]);
    const missing = fw!.missingRules();
    assert.is(missing.length, 1, missing.join('\n'));
    assert.match(missing[0]!, /-A FORWARD/);
    fw!.install();
    assert.equal(fw!.missingRules(), []);
    assert.equal([...fw!.bridges].sort(), [BR1, BR2]);
  });

  test('the canary passes on a protected bridge and reports one Lateral was not told about', async () => {
    fw!.setBridges([BR1]);
    const ok = await probeBridge(BR1, fw!);
    assert.ok(ok.protected, ok.reason);
    assert.ok(ok.hits >= 3, `hits ${ok.hits}`);
    const bad = await probeBridge(BR2, fw!);
    assert.not.ok(bad.protected);
    assert.is(bad.hits, 0);
    assert.match(bad.reason, /none reached Lateral's queue rule/);
    // Nothing of the probe is left behind.
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    assert.not.match(links, /lcn[0-9a-f]{8}[ab]/);
    const ns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    assert.not.match(ns, /lateral-canary-/);
  });

  test('with the queue range given, the canary also needs a bound worker to receive the probe', async () => {
    fw!.setBridges([BR1]);
    const unbound = await probeBridge(BR1, fw!, { queues: [queue, queue] });
    assert.not.ok(unbound.protected);
    assert.ok(unbound.hits > 0);
    assert.match(unbound.reason, /no Lateral worker received it .*not bound/);
    let seen = 0;
    const q = new NfQueue({ queue, repeatMark: 0x100000, bypassMark: 0x200000, failOpen: true });
    try {
      q.start((b) => {
        seen += b.count;
      });
      const bound = await probeBridge(BR1, fw!, { queues: [queue, queue] });
      assert.ok(bound.protected, bound.reason);
      assert.ok(seen >= 3, `worker saw ${seen}`);
    } finally {
      q.close();
    }
  });

  test('an empty bridge list removes the rules; a bridge coming back reinstalls them', () => {
    fw!.setBridges([]);
    assert.equal(listFirewallLeftovers(fw!.backend, instance), []);
    assert.equal(fw!.missingRules(), []);
    fw!.setBridges([BR2]);
    assert.equal(fw!.missingRules(), []);
    assert.ok(listFirewallLeftovers(fw!.backend, instance).some((l) => l.includes(`-i ${BR2}`)));
  });
}

test.run();
