// Which firewall backend dockerd uses, and what Lateral does about it.
//
// Docker ≥ 28 can program its bridge rules with nftables (`dockerd --firewall-backend=
// nftables`, daemon.json "firewall-backend"). Its rules then live in their own nft tables and
// there is no DOCKER-USER chain. Lateral falls back to its own chain hooked from FORWARD (the
// same Firewall hook 'auto' uses when DOCKER-USER is absent), and says what is needed for
// repeat mode to keep working: Docker's nft chains see the packets Lateral accepted with
// NF_REPEAT again and apply their own policy, so dockerd must accept packets that carry
// Lateral's repeat mark — `--bridge-accept-fwmark` (Docker ≥ 28.2) does exactly that.
//
// Evidence, strongest first: GET /info's FirewallBackend.Driver (Docker ≥ 28), dockerd's
// own command line, its daemon.json, and finally the fact itself: dockerd runs and the
// iptables filter table has no DOCKER-USER chain. Cold path (once at start).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DockerFirewallEvidence {
  /** GET /info body, if the daemon answered. */
  info?: Record<string, unknown> | null;
  /** dockerd's argv (from /proc/PID/cmdline), if it runs on this host. */
  dockerdArgv?: readonly string[] | null;
  /** The daemon.json dockerd reads, if readable. */
  daemonJson?: { path: string; text: string } | null;
  /** Whether the iptables filter table Lateral uses has Docker's DOCKER-USER chain. */
  dockerUserChain: boolean;
}

export interface DockerFirewallDetection {
  backend: 'iptables' | 'nftables' | 'none';
  /** Which evidence decided, for the log. */
  reason: string;
}

/** Value of `--name=value` / `--name value` in an argv, last one wins (as dockerd's flags). */
function flagValue(argv: readonly string[], name: string): string | undefined {
  let v: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === name && i + 1 < argv.length) v = argv[++i];
    else if (a.startsWith(`${name}=`)) v = a.slice(name.length + 1);
  }
  return v;
}

/** Decides from the evidence; never throws (a broken daemon.json is reported, not fatal). */
export function detectDockerFirewallBackend(e: DockerFirewallEvidence): DockerFirewallDetection {
  const fb = e.info?.['FirewallBackend'] as { Driver?: unknown } | undefined;
  if (fb && typeof fb.Driver === 'string' && fb.Driver !== '') {
    return { backend: fb.Driver.startsWith('nftables') ? 'nftables' : 'iptables', reason: `docker info: FirewallBackend ${fb.Driver}` };
  }
  const argv = e.dockerdArgv ?? [];
  const flag = flagValue(argv, '--firewall-backend');
  if (flag !== undefined) return { backend: flag === 'nftables' ? 'nftables' : 'iptables', reason: `dockerd --firewall-backend=${flag}` };
  if (flagValue(argv, '--iptables') === 'false') return { backend: 'none', reason: 'dockerd --iptables=false (Docker programs no firewall rules)' };
  if (e.daemonJson) {
    let doc: unknown;
    try {
      doc = JSON.parse(e.daemonJson.text);
    } catch (err) {
      doc = undefined;
      if (!e.dockerUserChain) return { backend: 'nftables', reason: `no DOCKER-USER chain; ${e.daemonJson.path} is not JSON (${(err as Error).message})` };
    }
    const v = (doc as Record<string, unknown> | undefined)?.['firewall-backend'];
    if (typeof v === 'string') return { backend: v === 'nftables' ? 'nftables' : 'iptables', reason: `${e.daemonJson.path}: "firewall-backend": "${v}"` };
    if ((doc as Record<string, unknown> | undefined)?.['iptables'] === false) return { backend: 'none', reason: `${e.daemonJson.path}: "iptables": false` };
  }
  if (e.dockerUserChain) return { backend: 'iptables', reason: 'DOCKER-USER chain present' };
  return { backend: 'nftables', reason: 'dockerd runs but the filter table has no DOCKER-USER chain' };
}

/**
 * What to log: null when DOCKER-USER is used (nothing to advise); else the fallback and the
 * dockerd option that keeps repeat mode working.
 */
export function dockerFirewallAdvice(d: DockerFirewallDetection, repeatMark: number, hook: string): string | null {
  if (d.backend === 'iptables') return null;
  const mark = `0x${repeatMark.toString(16)}/0x${repeatMark.toString(16)}`;
  if (d.backend === 'none') {
    return `Docker programs no firewall rules (${d.reason}): Lateral's chain is hooked from ${hook}; nothing of Docker's to skip`;
  }
  return (
    `Docker's nftables firewall backend (${d.reason}): no DOCKER-USER chain, so Lateral's chain is hooked from ${hook}. ` +
    `Docker's own nft rules still judge what Lateral accepts (NF_REPEAT with mark ${mark}); start dockerd with ` +
    `--bridge-accept-fwmark=${mark} (daemon.json "bridge-accept-fwmark": "${mark}", Docker >= 28.2) so they accept it, ` +
    `or inter-container traffic Docker would otherwise drop stays dropped (docs/docker.md)`
  );
}

/** dockerd's argv from /proc (first process named dockerd), or null. */
export function findDockerdArgv(procRoot = '/proc'): string[] | null {
  let pids: string[];
  try {
    pids = fs.readdirSync(procRoot).filter((p) => /^\d+$/.test(p));
  } catch {
    return null;
  }
  for (const pid of pids) {
    try {
      if (fs.readFileSync(path.join(procRoot, pid, 'comm'), 'utf8').trim() !== 'dockerd') continue;
      return fs.readFileSync(path.join(procRoot, pid, 'cmdline'), 'utf8').split('\0').filter((a) => a !== '');
    } catch {
      // exited meanwhile
    }
  }
  return null;
}

/** The daemon.json dockerd reads (--config-file, else /etc/docker/daemon.json), or null. */
export function readDaemonJson(argv: readonly string[] | null, fallback = '/etc/docker/daemon.json'): { path: string; text: string } | null {
  const file = (argv && flagValue(argv, '--config-file')) ?? fallback;
  try {
    return { path: file, text: fs.readFileSync(file, 'utf8') };
  } catch {
    return null;
  }
}

/** Whether `iptablesSave -t filter` lists a DOCKER-USER chain. */
export function hasDockerUserChain(iptablesSave: string): boolean {
  try {
    return /^:DOCKER-USER /m.test(execFileSync(iptablesSave, ['-t', 'filter'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    return false;
  }
}
