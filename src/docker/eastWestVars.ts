// Suricata-style address variables for inspecting traffic between containers.
//
// Suricata's defaults (HOME_NET = RFC 1918, EXTERNAL_NET = !$HOME_NET) assume a perimeter: a
// rule written `$EXTERNAL_NET any -> $HOME_NET any` (most of ET Open) would never fire between
// two containers, since both ends are home. East-west, every container may be the attacker,
// so EXTERNAL_NET is `any`; HOME_NET is the subnets of the protected bridge networks.
import type { ContainerDirectory } from './containerDirectory';

/** Suricata's default HOME_NET (suricata.yaml), used when no bridge network has a subnet. */
export const SURICATA_DEFAULT_HOME_NET = '[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]';

export interface EastWestVarsOptions {
  /** Network names or ids to protect; all bridge networks when omitted. */
  networks?: readonly string[];
}

/**
 * `{ HOME_NET, EXTERNAL_NET }` as Suricata address-group strings, e.g.
 * `{ HOME_NET: '[172.17.0.0/16,172.18.0.0/16]', EXTERNAL_NET: 'any' }`.
 * Recompute on the directory's 'bridges' event.
 */
export function eastWestVars(directory: ContainerDirectory, options: EastWestVarsOptions = {}): Record<'HOME_NET' | 'EXTERNAL_NET', string> {
  const wanted = options.networks;
  const subnets = new Set<string>();
  for (const n of directory.networks()) {
    if (wanted && !wanted.some((w) => w === n.name || w === n.id || (w.length >= 12 && n.id.startsWith(w)))) continue;
    for (const s of n.subnets) subnets.add(s);
  }
  const list = [...subnets].sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')) || (a < b ? -1 : a > b ? 1 : 0));
  return {
    HOME_NET: list.length > 0 ? `[${list.join(',')}]` : SURICATA_DEFAULT_HOME_NET,
    EXTERNAL_NET: 'any',
  };
}
