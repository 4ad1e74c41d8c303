// Installs and removes Lateral's iptables rules (see firewallRules.ts for their shape),
// checks the br_netfilter prerequisites, and reads the queue rule's hit counters.
//
// All commands run through execFile with argument arrays; bridge and instance names are
// validated before use. Install is idempotent (it removes this instance's rules first),
// and removal finds rules by their comment tag, so it also works after a crash.
import { execFileSync } from 'node:child_process';
import { runCommand } from './runCommand';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { LateralError } from '../errors';
import { detectIptablesBackend, IptablesBackend } from './firewallBackend';
import {
  buildFirewallPlan,
  chainName,
  COMMENT_PREFIX,
  commentTag,
  FirewallConfig,
  FirewallPlan,
  IpFamily,
  IptablesRule,
  parseIptablesSave,
  ruleTag,
  SavedRule,
  validateBridgeName,
} from './firewallRules';

const FAMILIES: readonly IpFamily[] = ['ipv4', 'ipv6'];
const BRIDGE_SYSCTLS: Record<IpFamily, string> = {
  ipv4: '/proc/sys/net/bridge/bridge-nf-call-iptables',
  ipv6: '/proc/sys/net/bridge/bridge-nf-call-ip6tables',
};

// runCommand, not execFileSync: the counters are read every few seconds while workers judge
// packets, and a fork of this process stalls them (./runCommand.ts).
function run(cmd: string, args: readonly string[]): string {
  try {
    return runCommand(cmd, args, 30000);
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    const detail = (err.stderr ?? '').toString().trim() || err.message || String(e);
    throw new LateralError('LATERAL_ERR_FIREWALL', `${cmd} ${args.join(' ')}: ${detail}`, undefined, { cause: e });
  }
}

/**
 * Makes sure bridged IPv4/IPv6 traffic reaches iptables: br_netfilter loaded (or built
 * in) and bridge-nf-call-ip{,6}tables = 1. Returns what it changed; throws with the fix
 * when it cannot.
 */
export function ensureBrNetfilter(): string[] {
  const changed: string[] = [];
  if (!existsSync(BRIDGE_SYSCTLS.ipv4)) {
    try {
      execFileSync('modprobe', ['br_netfilter'], { stdio: 'ignore', timeout: 15000 });
      changed.push('loaded br_netfilter');
    } catch {
      // Reported below with the fix.
    }
  }
  for (const fam of FAMILIES) {
    const file = BRIDGE_SYSCTLS[fam];
    if (!existsSync(file)) {
      throw new LateralError(
        'LATERAL_ERR_KERNEL',
        `br_netfilter is not available (${file} missing): bridged container traffic would never reach iptables. ` +
          'Fix: `modprobe br_netfilter` (and add it to /etc/modules-load.d), or use a kernel with CONFIG_BRIDGE_NETFILTER.',
      );
    }
    if (readFileSync(file, 'utf8').trim() !== '1') {
      try {
        writeFileSync(file, '1\n');
        changed.push(`set ${file.replace('/proc/sys/', '').replace(/\//g, '.')}=1`);
      } catch (e) {
        throw new LateralError(
          'LATERAL_ERR_KERNEL',
          `${file} is 0 and cannot be set (${String(e)}): bridged traffic bypasses iptables. ` +
            'Fix: `sysctl -w net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1`.',
        );
      }
    }
  }
  return changed;
}

export function bridgeExists(name: string): boolean {
  validateBridgeName(name);
  return existsSync(`/sys/class/net/${name}/bridge`);
}

export interface FirewallOptions extends Omit<FirewallConfig, 'hookChain'> {
  /** 'auto': DOCKER-USER when Docker's chain exists, else FORWARD. */
  hook: 'auto' | 'FORWARD' | 'DOCKER-USER';
  backend?: IptablesBackend;
}

export class Firewall {
  readonly backend: IptablesBackend;
  /** Where each family's jump went: Docker may have DOCKER-USER for IPv4 only. */
  hookChains: Record<IpFamily, 'FORWARD' | 'DOCKER-USER'>;
  private plans: Record<IpFamily, FirewallPlan>;
  private readonly instance: string;
  private readonly options: FirewallOptions;
  private currentBridges: string[];
  /** True between a successful install() and remove(), also while the bridge list is empty. */
  private active = false;

  constructor(options: FirewallOptions) {
    this.backend = options.backend ?? detectIptablesBackend();
    this.instance = options.instance;
    this.options = options;
    this.currentBridges = [...options.bridges];
    this.hookChains = this.pickHooks();
    this.plans = this.buildPlans();
  }

  private pickHooks(): Record<IpFamily, 'FORWARD' | 'DOCKER-USER'> {
    const hook = (fam: IpFamily): 'FORWARD' | 'DOCKER-USER' => {
      const has = this.chainExists(fam, 'DOCKER-USER');
      if (this.options.hook === 'DOCKER-USER' && !has && fam === 'ipv4') {
        throw new LateralError('LATERAL_ERR_FIREWALL', `--hook docker-user: ${this.backend.iptables} has no DOCKER-USER chain (is dockerd running?)`);
      }
      return this.options.hook !== 'FORWARD' && has ? 'DOCKER-USER' : 'FORWARD';
    };
    return { ipv4: hook('ipv4'), ipv6: hook('ipv6') };
  }

  private buildPlans(): Record<IpFamily, FirewallPlan> {
    // An empty bridge list installs nothing; the plan is built for a placeholder only so the
    // chain name and shared rules stay known (validation of real names happens in setBridges).
    const bridges = this.currentBridges.length > 0 ? this.currentBridges : ['lo'];
    return {
      ipv4: buildFirewallPlan({ ...this.options, bridges, hookChain: this.hookChains.ipv4 }),
      ipv6: buildFirewallPlan({ ...this.options, bridges, hookChain: this.hookChains.ipv6 }),
    };
  }

  /** The bridges whose traffic is queued (or will be, once installed). */
  get bridges(): readonly string[] {
    return this.currentBridges;
  }

  /** e.g. "DOCKER-USER" or "DOCKER-USER (IPv4), FORWARD (IPv6)". */
  get hookDescription(): string {
    const { ipv4, ipv6 } = this.hookChains;
    return ipv4 === ipv6 ? ipv4 : `${ipv4} (IPv4), ${ipv6} (IPv6)`;
  }

  private cmd(fam: IpFamily): string {
    return fam === 'ipv4' ? this.backend.iptables : this.backend.ip6tables;
  }

  private save(fam: IpFamily, table: string, counters: boolean): string {
    const args = ['-t', table];
    if (counters) args.push('-c');
    return run(fam === 'ipv4' ? this.backend.iptablesSave : this.backend.ip6tablesSave, args);
  }

  private chainExists(fam: IpFamily, chain: string): boolean {
    return parseIptablesSave(this.save(fam, 'filter', false)).chains.get('filter')?.includes(chain) ?? false;
  }

  /**
   * Whether a rule of ours is in the kernel, compared on what identifies it (table, chain,
   * target, match modules, interfaces, our comment tag) in iptables-save's listing. Not
   * `iptables -C`: iptables-nft cannot -C a CONNMARK --mask rule it listed itself.
   */
  private ruleExists(fam: IpFamily, r: IptablesRule, saved?: SavedRule[]): boolean {
    const rules = saved ?? parseIptablesSave(this.save(fam, r.table, false)).rules;
    const want = ruleSignature(r.table, r.chain, r.spec);
    return rules.some((x) => ruleSignature(x.table, x.chain, x.spec) === want);
  }

  private bridgeRule(fam: IpFamily, bridge: string): IptablesRule {
    const plan = this.plans[fam];
    const i = this.currentBridges.indexOf(bridge);
    return plan.chainRules[2 + i]!; // after the repeat and bypass RETURN rules
  }

  /**
   * Idempotent: removes this instance's old rules, then installs the plan for both families.
   * The hook chain is chosen again each time (auto: DOCKER-USER once dockerd made it).
   */
  install(): void {
    removeFirewallRules(this.backend, this.instance);
    this.hookChains = this.pickHooks();
    this.plans = this.buildPlans();
    this.active = true;
    if (this.currentBridges.length === 0) return; // nothing to queue until a bridge comes
    try {
      for (const fam of FAMILIES) {
        const ipt = this.cmd(fam);
        const plan = this.plans[fam];
        run(ipt, ['-w', '5', '-t', 'filter', '-N', plan.chain]);
        for (const r of plan.chainRules) run(ipt, ['-w', '5', '-t', r.table, '-A', r.chain, ...r.spec]);
        // Hooks last: the chain is complete before any packet can jump into it.
        for (const r of plan.hookRules) run(ipt, ['-w', '5', '-t', r.table, '-I', r.chain, '1', ...r.spec]);
      }
    } catch (e) {
      this.active = false;
      removeFirewallRules(this.backend, this.instance);
      throw e;
    }
  }

  /**
   * Changes the protected bridges. When installed, only the per-bridge queue rules change
   * (appended or deleted in place), so the other bridges are never without a rule; calling it
   * twice with the same list changes nothing. Going to or from an empty list installs or
   * removes everything.
   */
  setBridges(bridges: readonly string[]): { added: string[]; removed: string[] } {
    const next = [...new Set(bridges)];
    for (const b of next) validateBridgeName(b);
    const added = next.filter((b) => !this.currentBridges.includes(b));
    const removed = this.currentBridges.filter((b) => !next.includes(b));
    if (!this.active) {
      this.currentBridges = next;
      this.plans = this.buildPlans();
      return { added, removed };
    }
    if (next.length === 0 || this.currentBridges.length === 0) {
      this.currentBridges = next;
      this.install();
      return { added, removed };
    }
    const before = FAMILIES.map((fam) => removed.map((b) => this.bridgeRule(fam, b)));
    this.currentBridges = [...this.currentBridges.filter((b) => !removed.includes(b)), ...added];
    this.plans = this.buildPlans();
    FAMILIES.forEach((fam, k) => {
      const ipt = this.cmd(fam);
      for (const b of added) {
        const r = this.bridgeRule(fam, b);
        if (!this.ruleExists(fam, r)) run(ipt, ['-w', '5', '-t', r.table, '-A', r.chain, ...r.spec]);
      }
      for (const r of before[k]!) {
        if (this.ruleExists(fam, r)) run(ipt, ['-w', '5', '-t', r.table, '-D', r.chain, ...r.spec]);
      }
    });
    return { added, removed };
  }

  /**
   * Rules of the installed plan that are not in the kernel (e.g. dockerd flushed or recreated
   * DOCKER-USER), as readable lines; [] when all are there or nothing is installed. A hook
   * that should now go to DOCKER-USER (auto, dockerd started after us) also counts as missing.
   */
  missingRules(): string[] {
    if (!this.active || this.currentBridges.length === 0) return [];
    const missing: string[] = [];
    for (const fam of FAMILIES) {
      const plan = this.plans[fam];
      const filter = parseIptablesSave(this.save(fam, 'filter', false));
      const saved = [...filter.rules, ...parseIptablesSave(this.save(fam, 'mangle', false)).rules];
      if (this.options.hook === 'auto' && this.hookChains[fam] === 'FORWARD' && (filter.chains.get('filter') ?? []).includes('DOCKER-USER')) {
        missing.push(`${this.cmd(fam)}: hook belongs in DOCKER-USER now`);
      }
      for (const r of [...plan.hookRules, ...plan.chainRules]) {
        if (!this.ruleExists(fam, r, saved)) missing.push(`${this.cmd(fam)} -t ${r.table} -A ${r.chain} ${r.spec.join(' ')}`);
      }
    }
    return missing;
  }

  remove(): number {
    this.active = false;
    return removeFirewallRules(this.backend, this.instance);
  }

  /** Packets that hit our NFQUEUE rules (both families) since install. */
  queueRuleHits(): number {
    let hits = 0;
    for (const n of this.bridgeQueueHits().values()) hits += n;
    return hits;
  }

  /** Per bridge: packets that hit its NFQUEUE rule (both families) since the rule was added. */
  bridgeQueueHits(): Map<string, number> {
    const hits = new Map<string, number>();
    for (const fam of FAMILIES) {
      for (const r of parseIptablesSave(this.save(fam, 'filter', true)).rules) {
        if (r.chain !== this.plans[fam].chain || !r.spec.includes('NFQUEUE')) continue;
        const i = r.spec.indexOf('-i');
        const bridge = i >= 0 ? r.spec[i + 1]! : '';
        hits.set(bridge, (hits.get(bridge) ?? 0) + r.packets);
      }
    }
    return hits;
  }
}

/** What identifies one of our rules, independent of the order iptables-save prints it in. */
function ruleSignature(table: string, chain: string, spec: readonly string[]): string {
  const get = (flag: string): string => {
    const i = spec.indexOf(flag);
    return i >= 0 ? spec[i + 1] ?? '' : '';
  };
  const modules = spec.filter((_, i) => i > 0 && spec[i - 1] === '-m').sort().join(',');
  return [table, chain, get('-j'), get('-i'), get('-o'), get('--comment'), modules].join('|');
}

/**
 * Removes every rule tagged `lateral:<instance>` (or every `lateral:*` rule when instance
 * is undefined) and our chains, in filter and mangle, for both families. Returns the
 * number of rules removed. Works from iptables' own listing, so nothing needs to be
 * remembered across a crash.
 */
export function removeFirewallRules(backend: IptablesBackend, instance?: string): number {
  let removed = 0;
  let firstError: unknown;
  for (const fam of FAMILIES) {
    const ipt = fam === 'ipv4' ? backend.iptables : backend.ip6tables;
    const save = fam === 'ipv4' ? backend.iptablesSave : backend.ip6tablesSave;
    const ourChains = new Set<string>();
    for (const table of ['filter', 'mangle']) {
      let text: string;
      try {
        text = run(save, ['-t', table]);
      } catch {
        continue; // table or backend unavailable: nothing of ours can be there
      }
      const parsed = parseIptablesSave(text);
      if (table === 'filter') {
        for (const c of parsed.chains.get('filter') ?? []) {
          if (instance === undefined ? c === 'LATERAL' || c.startsWith('LATERAL-') : c === chainName(instance)) ourChains.add(c);
        }
      }
      for (const r of parsed.rules) {
        const tag = ruleTag(r.spec);
        if (tag === undefined || (instance !== undefined && tag !== commentTag(instance))) continue;
        if (ourChains.has(r.chain)) continue; // flushed with the chain below
        try {
          run(ipt, ['-w', '5', '-t', table, '-D', r.chain, ...r.spec]);
          removed++;
        } catch (e) {
          // Keep going (someone may have removed it meanwhile); report the first failure.
          firstError ??= e;
        }
      }
    }
    for (const c of ourChains) {
      const listed = run(save, ['-t', 'filter']);
      removed += parseIptablesSave(listed).rules.filter((r) => r.chain === c).length;
      try {
        run(ipt, ['-w', '5', '-t', 'filter', '-F', c]);
        run(ipt, ['-w', '5', '-t', 'filter', '-X', c]);
      } catch (e) {
        firstError ??= e;
      }
    }
  }
  if (firstError !== undefined) throw firstError;
  return removed;
}

/** Whether any lateral-tagged rule or chain remains (for uninstall checks and tests). */
export function listFirewallLeftovers(backend: IptablesBackend, instance?: string): string[] {
  const left: string[] = [];
  const want = instance === undefined ? COMMENT_PREFIX : commentTag(instance);
  for (const save of [backend.iptablesSave, backend.ip6tablesSave]) {
    for (const table of ['filter', 'mangle']) {
      let text: string;
      try {
        text = run(save, ['-t', table]);
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        const isChain = instance === undefined ? /^:LATERAL(-| )/.test(line) : line.startsWith(`:${chainName(instance)} `);
        if (isChain || line.includes(want)) left.push(`${save} ${table}: ${line}`);
      }
    }
  }
  return left;
}
