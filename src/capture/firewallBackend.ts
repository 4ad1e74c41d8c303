// Which iptables backend to drive: legacy (x_tables) and nft are separate kernel tables,
// and our rules only matter in the one dockerd uses (DESIGN.md "Backends").
import { execFileSync } from 'node:child_process';
import { LateralError } from '../errors';

export interface IptablesBackend {
  name: 'legacy' | 'nft';
  iptables: string;
  ip6tables: string;
  iptablesSave: string;
  ip6tablesSave: string;
  /** Why this one was chosen (printed at start). */
  reason: string;
}

export function backendByName(name: 'legacy' | 'nft', reason: string): IptablesBackend {
  return {
    name,
    iptables: `iptables-${name}`,
    ip6tables: `ip6tables-${name}`,
    iptablesSave: `iptables-${name}-save`,
    ip6tablesSave: `ip6tables-${name}-save`,
    reason,
  };
}

function tryRun(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15000 });
  } catch {
    return undefined;
  }
}

function hasDockerChains(saveOutput: string | undefined): boolean {
  return saveOutput !== undefined && /^:DOCKER(-USER)? /m.test(saveOutput);
}

/**
 * The backend whose filter table holds Docker's chains; without Docker, the one the
 * `iptables` alternative points to (`iptables -V` prints "(nf_tables)" or "(legacy)").
 */
export function detectIptablesBackend(): IptablesBackend {
  const nft = tryRun('iptables-nft-save', ['-t', 'filter']);
  const legacy = tryRun('iptables-legacy-save', ['-t', 'filter']);
  if (nft === undefined && legacy === undefined) {
    throw new LateralError('LATERAL_ERR_FIREWALL', 'neither iptables-nft nor iptables-legacy works; install the iptables package (scripts/setup)');
  }
  if (hasDockerChains(nft)) return backendByName('nft', "Docker's chains are in the nft tables");
  if (hasDockerChains(legacy)) return backendByName('legacy', "Docker's chains are in the legacy tables");
  const v = tryRun('iptables', ['-V']) ?? '';
  if (/legacy/.test(v) && legacy !== undefined) return backendByName('legacy', 'no Docker chains; `iptables` is iptables-legacy');
  if (nft !== undefined) return backendByName('nft', 'no Docker chains; `iptables` is iptables-nft');
  return backendByName('legacy', 'no Docker chains; only iptables-legacy works');
}
