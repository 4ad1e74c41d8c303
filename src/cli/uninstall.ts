// `lateral uninstall`: removes every rule Lateral ever installed, found by its comment tag
// in both iptables backends, so it works after a crash or with a changed config.
import { backendByName } from '../capture/firewallBackend';
import { listFirewallLeftovers, removeFirewallRules } from '../capture/firewall';
import { validateInstance } from '../capture/firewallRules';
import { LateralError } from '../errors';
import { parseFlags } from './parseFlags';

export const UNINSTALL_USAGE = `Usage: lateral uninstall [--instance NAME]

Removes Lateral's iptables rules and chains (tagged "lateral:<instance>") from the legacy
and nft backends, IPv4 and IPv6. Without --instance, removes those of every instance.
`;

export function uninstallCommand(argv: readonly string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(UNINSTALL_USAGE);
    return 0;
  }
  const f = parseFlags(argv, { instance: 'string' }, 'lateral uninstall');
  if (f.positionals.length > 0) {
    throw new LateralError('LATERAL_ERR_USAGE', `lateral uninstall: unexpected argument ${JSON.stringify(f.positionals[0])}`);
  }
  const instance = f.strings.get('instance');
  if (instance !== undefined) validateInstance(instance);
  let removed = 0;
  const left: string[] = [];
  for (const name of ['nft', 'legacy'] as const) {
    const backend = backendByName(name, 'uninstall');
    try {
      removed += removeFirewallRules(backend, instance);
    } catch (e) {
      // One backend may be missing entirely; anything it still holds shows up below.
      if (!String((e as Error).message).includes('ENOENT')) process.stderr.write(`lateral: ${name}: ${(e as Error).message}\n`);
    }
    left.push(...listFirewallLeftovers(backend, instance));
  }
  process.stderr.write(`lateral: removed ${removed} rule(s)${instance ? ` of instance ${instance}` : ''}\n`);
  if (left.length > 0) {
    process.stderr.write(`lateral: still present:\n  ${left.join('\n  ')}\n`);
    return 1;
  }
  return 0;
}
