// The iptables rules Lateral installs, generated as argument arrays (never shell strings).
//
// Layout (filter table, per family):
//   FORWARD (or DOCKER-USER when Docker made it) -> jump to our chain, first position
//   our chain:  -m mark --mark R/R -j RETURN          packets we already judged (NF_REPEAT)
//               -m connmark --mark B/B -j RETURN      flows we took off the queue (bypass)
//               -m physdev --physdev-is-bridged -i BR -o BR -j NFQUEUE ... (per bridge)
// mangle POSTROUTING: -m mark --mark B/B -j CONNMARK --save-mark --mask B, because the
// verdict cannot set a connmark on kernels without NFQA_CFG_F_CONNTRACK (DESIGN.md).
// Every rule carries `-m comment --comment lateral:<instance>` so uninstall finds it.
import { LateralError } from '../errors';

export type IpFamily = 'ipv4' | 'ipv6';

export interface FirewallConfig {
  bridges: readonly string[];
  /** First and last queue number (inclusive); the kernel balances flows across them. */
  firstQueue: number;
  lastQueue: number;
  /** true: --queue-bypass (traffic passes while no Lateral is bound); false: fail closed. */
  queueBypass: boolean;
  repeatMark: number;
  bypassMark: number;
  /** Distinguishes concurrent installs (tests); 'main' for the normal one. */
  instance: string;
  /** Jump from DOCKER-USER (when Docker's chain exists) instead of FORWARD. */
  hookChain: 'FORWARD' | 'DOCKER-USER';
}

export interface IptablesRule {
  table: 'filter' | 'mangle';
  chain: string;
  /** Everything after `-A CHAIN` / `-I CHAIN`. */
  spec: string[];
}

export interface FirewallPlan {
  /** Our own chain in the filter table (created, flushed and deleted by us). */
  chain: string;
  /** Rules appended to our chain, in order. */
  chainRules: IptablesRule[];
  /** Rules inserted at position 1 of built-in or Docker chains. */
  hookRules: IptablesRule[];
}

export const COMMENT_PREFIX = 'lateral:';
const INSTANCE_RE = /^[a-z0-9][a-z0-9_-]{0,19}$/;
// Linux interface names: up to 15 bytes, no '/', whitespace or ':'; we stay stricter.
const BRIDGE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

export function validateBridgeName(name: string): void {
  if (!BRIDGE_RE.test(name)) {
    throw new LateralError('LATERAL_ERR_USAGE', `invalid bridge name ${JSON.stringify(name)} (1-15 of A-Z a-z 0-9 _ . -)`);
  }
}

export function validateInstance(name: string): void {
  if (!INSTANCE_RE.test(name)) {
    throw new LateralError('LATERAL_ERR_USAGE', `invalid instance name ${JSON.stringify(name)} (1-20 of a-z 0-9 _ -)`);
  }
}

export function commentTag(instance: string): string {
  return COMMENT_PREFIX + instance;
}

/** Our chain's name: LATERAL for the main instance, LATERAL-<instance> otherwise (max 28 chars). */
export function chainName(instance: string): string {
  return instance === 'main' ? 'LATERAL' : `LATERAL-${instance}`;
}

export function markArg(bit: number): string {
  const hex = '0x' + (bit >>> 0).toString(16);
  return `${hex}/${hex}`;
}

function validateMark(name: string, bit: number): void {
  if (!Number.isInteger(bit) || bit <= 0 || bit > 0xffffffff) {
    throw new LateralError('LATERAL_ERR_USAGE', `${name} mark must be a non-zero 32-bit value, got ${bit}`);
  }
}

export function buildFirewallPlan(cfg: FirewallConfig): FirewallPlan {
  validateInstance(cfg.instance);
  if (cfg.bridges.length === 0) throw new LateralError('LATERAL_ERR_USAGE', 'at least one --bridge is required');
  for (const b of cfg.bridges) validateBridgeName(b);
  validateMark('repeat', cfg.repeatMark);
  validateMark('bypass', cfg.bypassMark);
  if ((cfg.repeatMark & cfg.bypassMark) !== 0) {
    throw new LateralError('LATERAL_ERR_USAGE', 'the repeat and bypass marks must not share bits');
  }
  if (!(cfg.firstQueue >= 0 && cfg.lastQueue >= cfg.firstQueue && cfg.lastQueue <= 65535)) {
    throw new LateralError('LATERAL_ERR_USAGE', `bad queue range ${cfg.firstQueue}-${cfg.lastQueue}`);
  }
  const tag = ['-m', 'comment', '--comment', commentTag(cfg.instance)];
  const chain = chainName(cfg.instance);
  const queueArgs =
    cfg.firstQueue === cfg.lastQueue
      ? ['--queue-num', String(cfg.firstQueue)]
      : ['--queue-balance', `${cfg.firstQueue}:${cfg.lastQueue}`];
  if (cfg.queueBypass) queueArgs.push('--queue-bypass');

  const chainRules: IptablesRule[] = [
    { table: 'filter', chain, spec: ['-m', 'mark', '--mark', markArg(cfg.repeatMark), ...tag, '-j', 'RETURN'] },
    { table: 'filter', chain, spec: ['-m', 'connmark', '--mark', markArg(cfg.bypassMark), ...tag, '-j', 'RETURN'] },
  ];
  for (const br of cfg.bridges) {
    chainRules.push({
      table: 'filter',
      chain,
      spec: ['-i', br, '-o', br, '-m', 'physdev', '--physdev-is-bridged', ...tag, '-j', 'NFQUEUE', ...queueArgs],
    });
  }
  const hookRules: IptablesRule[] = [
    { table: 'filter', chain: cfg.hookChain, spec: ['-m', 'physdev', '--physdev-is-bridged', ...tag, '-j', chain] },
    {
      table: 'mangle',
      chain: 'POSTROUTING',
      spec: ['-m', 'mark', '--mark', markArg(cfg.bypassMark), ...tag, '-j', 'CONNMARK', '--save-mark', '--mask', '0x' + (cfg.bypassMark >>> 0).toString(16)],
    },
  ];
  return { chain, chainRules, hookRules };
}

/**
 * Splits one iptables-save line into arguments, honouring the double quotes it puts
 * around comments. Only used on iptables' own output.
 */
export function splitSaveLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (inQuote) {
      if (c === '\\' && i + 1 < line.length) {
        cur += line[++i];
      } else if (c === '"') {
        inQuote = false;
      } else {
        cur += c;
      }
    } else if (c === '"') {
      inQuote = true;
      has = true;
    } else if (c === ' ' || c === '\t') {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

export interface SavedRule {
  table: string;
  chain: string;
  /** Arguments after `-A CHAIN`. */
  spec: string[];
  packets: number;
}

/** Parses `iptables-save [-c]` output into rules (with counters when present). */
export function parseIptablesSave(text: string): { rules: SavedRule[]; chains: Map<string, string[]> } {
  const rules: SavedRule[] = [];
  const chains = new Map<string, string[]>();
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      table = line.slice(1);
      chains.set(table, []);
      continue;
    }
    if (line.startsWith(':')) {
      chains.get(table)?.push(line.slice(1).split(' ')[0]!);
      continue;
    }
    let packets = 0;
    let rest = line;
    const counter = /^\[(\d+):(\d+)\]\s+/.exec(rest);
    if (counter) {
      packets = Number(counter[1]);
      rest = rest.slice(counter[0].length);
    }
    if (!rest.startsWith('-A ')) continue;
    const args = splitSaveLine(rest);
    rules.push({ table, chain: args[1]!, spec: args.slice(2), packets });
  }
  return { rules, chains };
}

/** The comment tag of a saved rule, if it is one of ours. */
export function ruleTag(spec: readonly string[]): string | undefined {
  for (let i = 0; i + 1 < spec.length; i++) {
    if (spec[i] === '--comment' && spec[i + 1]!.startsWith(COMMENT_PREFIX)) return spec[i + 1];
  }
  return undefined;
}
