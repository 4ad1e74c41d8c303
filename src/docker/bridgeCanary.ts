// Proves that traffic across a bridge reaches Lateral's queue rule (DESIGN.md "br_netfilter":
// "prove the path with a canary"), instead of trusting that the rules are installed.
//
// For a moment, two network namespaces of our own are attached to the bridge through veth
// pairs; one sends a few tagged UDP datagrams ("lateral-canary") to the other. The probe
// only talks between our two namespaces: static neighbour entries and static FDB entries
// mean no ARP and no flooding to the containers on the bridge, and IPv6 is disabled on the
// probe interfaces so no neighbour discovery leaves them either. The addresses come from
// 198.18.0.0/15 (RFC 2544, benchmarking), never routed.
//
// Proof: the per-bridge NFQUEUE rule's packet counter (iptables -c) must grow while the
// probe runs. The counter only grows when br_netfilter handed the bridged packet to
// iptables, our hook was reached (DOCKER-USER / FORWARD) and our queue rule matched it — the
// failures seen in practice (bridge-nf-call-iptables=0, a flushed DOCKER-USER, rules in the
// iptables backend dockerd does not use, a bridge we were not told about). Other traffic on
// the same bridge can only add hits that are themselves proof the rule works.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Firewall } from '../capture/firewall';
import { validateBridgeName } from '../capture/firewallRules';
import { readNfqueueProc } from '../capture/nfqueueProc';

export interface CanaryResult {
  bridge: string;
  /** True when the probe's packets hit the bridge's queue rule. */
  protected: boolean;
  /** Queue-rule hits on this bridge during the probe. */
  hits: number;
  /** Why it is not protected ('' when it is). */
  reason: string;
}

export interface CanaryOptions {
  /** Datagrams sent (default 3). */
  packets?: number;
  /** Wait after sending before reading the counters, ms (default 150). */
  settleMs?: number;
  /**
   * Lateral's queues (first, last): when given, the packets must also have been handed to a
   * bound listener — the kernel's per-queue id sequence (/proc/net/netfilter/nfnetlink_queue)
   * must grow — not only have matched the rule (which --queue-bypass lets pass unbound).
   */
  queues?: readonly [number, number];
}

/** Packets handed to listeners of queues first..last since they were bound, or -1 if none is bound. */
export function queuedToListeners(first: number, last: number): number {
  const bound = readNfqueueProc().filter((e) => e.queue >= first && e.queue <= last);
  if (bound.length === 0) return -1;
  let n = 0;
  for (const e of bound) n += e.idSequence;
  return n;
}

/** The queue rule hit counters; the Firewall gives them, tests may pass their own. */
export type BridgeHitCounter = Pick<Firewall, 'bridgeQueueHits'>;

const PROBE_A = '198.18.0.1';
const PROBE_B = '198.18.0.2';
export const CANARY_PAYLOAD = 'lateral-canary';

function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000 });
}

function quiet(cmd: string, args: readonly string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10000 });
  } catch {
    // cleanup of something already gone
  }
}

/** Sends the probe across `bridge` and reports whether it reached the queue rule. */
export async function probeBridge(bridge: string, counter: BridgeHitCounter, options: CanaryOptions = {}): Promise<CanaryResult> {
  validateBridgeName(bridge);
  const tag = randomBytes(4).toString('hex');
  const nsA = `lateral-canary-${tag}-a`;
  const nsB = `lateral-canary-${tag}-b`;
  const hostA = `lcn${tag}a`;
  const hostB = `lcn${tag}b`;
  const packets = options.packets ?? 3;
  try {
    for (const [ns, host, addr] of [
      [nsA, hostA, PROBE_A],
      [nsB, hostB, PROBE_B],
    ] as const) {
      ip(['netns', 'add', ns]);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { stdio: 'ignore', timeout: 10000 });
      ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', 'probe', 'netns', ns]);
      // No IPv6 on the host end either: a bridge port would otherwise send router
      // solicitations and DAD to every container on the bridge.
      writeFileSync(`/proc/sys/net/ipv6/conf/${host}/disable_ipv6`, '1\n');
      ip(['-n', ns, 'addr', 'add', `${addr}/30`, 'dev', 'probe']);
    }
    const macA = ip(['-n', nsA, '-j', 'link', 'show', 'probe']);
    const macB = ip(['-n', nsB, '-j', 'link', 'show', 'probe']);
    const a = (JSON.parse(macA) as { address: string }[])[0]!.address;
    const b = (JSON.parse(macB) as { address: string }[])[0]!.address;
    ip(['-n', nsA, 'neigh', 'add', PROBE_B, 'lladdr', b, 'dev', 'probe', 'nud', 'permanent']);
    ip(['-n', nsB, 'neigh', 'add', PROBE_A, 'lladdr', a, 'dev', 'probe', 'nud', 'permanent']);
    for (const host of [hostA, hostB]) ip(['link', 'set', host, 'master', bridge, 'up']);
    execFileSync('bridge', ['fdb', 'replace', b, 'dev', hostB, 'master', 'static'], { stdio: 'ignore', timeout: 10000 });
    execFileSync('bridge', ['fdb', 'replace', a, 'dev', hostA, 'master', 'static'], { stdio: 'ignore', timeout: 10000 });
    for (const ns of [nsA, nsB]) ip(['-n', ns, 'link', 'set', 'probe', 'up']);

    const before = counter.bridgeQueueHits().get(bridge) ?? 0;
    const q = options.queues;
    const queuedBefore = q ? queuedToListeners(q[0], q[1]) : 0;
    // Bash's /dev/udp: one datagram per redirection, no extra tool in the image.
    const send = `for i in $(seq 1 ${packets}); do printf '${CANARY_PAYLOAD}' > /dev/udp/${PROBE_B}/9; done`;
    execFileSync('ip', ['netns', 'exec', nsA, 'bash', '-c', send], { stdio: 'ignore', timeout: 10000 });
    await sleep(options.settleMs ?? 150);
    const hits = (counter.bridgeQueueHits().get(bridge) ?? 0) - before;
    if (hits > 0 && q) {
      const queuedAfter = queuedToListeners(q[0], q[1]);
      if (queuedBefore < 0 || queuedAfter <= queuedBefore) {
        return {
          bridge,
          protected: false,
          hits,
          reason: `the probe matched the queue rule on ${bridge} but no Lateral worker received it (queues ${q[0]}-${q[1]} ${queuedAfter < 0 ? 'not bound' : 'received nothing'})`,
        };
      }
    }
    if (hits > 0) return { bridge, protected: true, hits, reason: '' };
    return {
      bridge,
      protected: false,
      hits,
      reason: `${packets} probe packets crossed ${bridge} but none reached Lateral's queue rule (check net.bridge.bridge-nf-call-iptables, the iptables backend, and that ${bridge} is in the protected set)`,
    };
  } catch (e) {
    return { bridge, protected: false, hits: 0, reason: `the canary could not run on ${bridge}: ${(e as Error).message.split('\n')[0]}` };
  } finally {
    // Deleting a namespace deletes its veth end, and with it the pair's host end.
    quiet('ip', ['netns', 'del', nsA]);
    quiet('ip', ['netns', 'del', nsB]);
    quiet('ip', ['link', 'del', hostA]);
    quiet('ip', ['link', 'del', hostB]);
  }
}
