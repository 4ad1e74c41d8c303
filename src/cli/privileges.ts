// Least privilege for `lateral run`: once the queues are bound and the firewall rules are in,
// the process needs only CAP_NET_ADMIN (verdicts on the bound netlink sockets, iptables-nft
// children to remove its rules at exit). Everything else — CAP_SYS_ADMIN, CAP_DAC_OVERRIDE,
// CAP_SYS_PTRACE, ... — would only help an attacker who got code execution through a parser
// bug. See docs/hardening.md for what each later action of `run` still needs.
import * as fs from 'node:fs';
import { loadNativeAddon } from '../capture/native';
import { LateralError } from '../errors';

/** What dropPrivileges() did, for the startup log. */
export interface PrivilegeReport {
  kept: string[];
  /** Capabilities that were effective before and are gone now. */
  dropped: string[];
  /** Bounding set after the drop (what any child process can ever get). */
  bounding: string[];
  /** Threads asked / threads that confirmed. */
  threads: number;
  threadsDropped: number;
  /**
   * Thread ids still holding more than `keep`. On Node 20 this is one thread: the SIGUSR1
   * inspector watchdog (node's StartDebugSignalHandler) blocks every signal, so it cannot be
   * reached; it only waits on a semaphore and runs no packet code. Start `run` with a bounded
   * capability set from outside (systemd CapabilityBoundingSet=) to cover it too.
   */
  privilegedThreads: number[];
  noNewPrivs: boolean;
}

/** The capability sets of this thread, from /proc/thread-self/status (hex masks). */
export interface CapabilitySets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  bounding: bigint;
  ambient: bigint;
  noNewPrivs: boolean;
}

export function readCapabilitySets(statusFile = '/proc/thread-self/status'): CapabilitySets {
  const text = fs.readFileSync(statusFile, 'latin1');
  const field = (name: string): string => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(text)?.[1] ?? '0';
  return {
    effective: BigInt(`0x${field('CapEff')}`),
    permitted: BigInt(`0x${field('CapPrm')}`),
    inheritable: BigInt(`0x${field('CapInh')}`),
    bounding: BigInt(`0x${field('CapBnd')}`),
    ambient: BigInt(`0x${field('CapAmb')}`),
    noNewPrivs: field('NoNewPrivs') === '1',
  };
}

/** Names of the bits set in mask (unknown high bits as CAP_<n>). */
export function capabilityNames(mask: bigint): string[] {
  const names = loadNativeAddon().CAPABILITY_NAMES;
  const out: string[] = [];
  for (let c = 0; c < 64; c++) if ((mask >> BigInt(c)) & 1n) out.push(names[c] ?? `CAP_${c}`);
  return out;
}

/**
 * Keep only `keep` in every thread of the process (effective, permitted; bounding set and
 * inheritable/ambient cleared of the rest; no_new_privs set). Irreversible. Throws
 * LATERAL_ERR_KERNEL when the kernel refuses; threads that could not be reached are listed in
 * the report (privilegedThreads) for the caller to log.
 */
export function dropPrivileges(keep: readonly string[] = ['CAP_NET_ADMIN']): PrivilegeReport {
  const addon = loadNativeAddon();
  const unknown = keep.filter((k) => !addon.CAPABILITY_NAMES.includes(k));
  if (unknown.length > 0) throw new LateralError('LATERAL_ERR_USAGE', `unknown capability ${unknown.join(', ')} (expected names like CAP_NET_ADMIN)`);
  const before = readCapabilitySets();
  const r = addon.dropCapabilities([...keep]);
  const after = readCapabilitySets();
  if (r.error !== '') throw new LateralError('LATERAL_ERR_KERNEL', `cannot drop capabilities: ${r.error}`);
  const wanted = after.effective;
  const privilegedThreads: number[] = [];
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const t = readCapabilitySets(`/proc/self/task/${tid}/status`);
      if ((t.effective | t.permitted | t.bounding) & ~wanted) privilegedThreads.push(Number(tid));
    } catch {
      // the thread exited meanwhile
    }
  }
  return {
    kept: capabilityNames(after.effective),
    dropped: capabilityNames(before.effective & ~after.effective),
    bounding: capabilityNames(after.bounding),
    threads: r.threads,
    threadsDropped: r.threadsDropped,
    privilegedThreads,
    noNewPrivs: after.noNewPrivs,
  };
}

/**
 * What `lateral run` keeps after its queues are bound and its rules are in (docs/hardening.md,
 * measured with a real run):
 * - CAP_NET_ADMIN: verdicts and config messages on the bound NFQUEUE sockets, iptables
 *   (reinstall after dockerd flushed DOCKER-USER, removal at exit), rebinding.
 * - CAP_NET_RAW: iptables-legacy opens a raw socket; Docker mode keeps it because a dockerd
 *   restart may come back on the legacy backend.
 * - CAP_SYS_PTRACE (Docker mode): /proc/<pid>/root of containers, to map bridge ports.
 * - CAP_SYS_ADMIN (Docker mode with the canary): `ip netns add` for the probe namespaces of
 *   each newly protected bridge. --no-canary drops it.
 */
export function runCapabilities(o: { backend: 'nft' | 'legacy'; docker: boolean; canary: boolean }): string[] {
  const keep = ['CAP_NET_ADMIN'];
  if (o.backend === 'legacy' || o.docker) keep.push('CAP_NET_RAW');
  if (o.docker) keep.push('CAP_SYS_PTRACE');
  if (o.docker && o.canary) keep.push('CAP_SYS_ADMIN');
  return keep;
}
