// Container-aware rule addresses: `@container:web`, `@label:tier=db`, `@network:backend`,
// `@image:redis` resolve to the CIDRs of the matching containers (or networks) and follow them
// as they start, stop and move. See docs/docker.md.
//
// Why `@kind:value`: no Suricata address starts with `@` (addresses are IPs, CIDRs, `any`,
// `$VAR`, `!` and `[...]` groups), so no valid Suricata rule changes meaning, and no bracket
// is added inside address groups (`[@label:tier=db,10.0.0.0/8]`, `!@container:web` work with
// the usual group parser). They may also stand as the value of a YAML address-group
// (`DB_SERVERS: "@label:tier=db"`), so rules themselves stay plain Suricata (`$DB_SERVERS`).
//
// Cold path: runs when rules load and when the directory changes.
import { LateralError, SourceLocation } from '../errors';
import type { BridgeNetwork, ContainerDirectory, ContainerInfo } from './containerDirectory';
import { formatIpAddress, parseIpAddress } from './parseIpAddress';

/**
 * What an expression is resolved against: the live ContainerDirectory, or a fixed table
 * (containerSourceFile.ts, from `--containers FILE`).
 */
export interface ContainerSource {
  containers(): ContainerInfo[];
  network(idOrName: string): BridgeNetwork | undefined;
}

export type ContainerAddressKind = 'container' | 'label' | 'network' | 'image';

export interface ContainerAddressVariable {
  kind: ContainerAddressKind;
  /** Container name or id prefix; label key; network name or id prefix; image reference. */
  key: string;
  /** For `@label:key=value`: the value; undefined matches any container that has the key. */
  value: string | undefined;
}

const KINDS: ReadonlySet<string> = new Set(['container', 'label', 'network', 'image']);
// Names, label keys/values and image references; no separators of the address syntax.
const VALUE = /^[A-Za-z0-9_.\-/:=+@]+$/;

/** True when the text is a container address expression (starts with '@'). */
export function isContainerAddressVariable(expr: string): boolean {
  return expr.trim().startsWith('@');
}

/** Parses `@kind:value`; throws LATERAL_ERR_CONFIG naming the problem. */
export function parseContainerAddressVariable(expr: string, location?: SourceLocation): ContainerAddressVariable {
  const text = expr.trim();
  const m = /^@([a-z]+):(.+)$/.exec(text);
  if (!m || !KINDS.has(m[1])) {
    throw new LateralError(
      'LATERAL_ERR_CONFIG',
      `container address ${JSON.stringify(expr)}: expected @container:NAME, @label:KEY[=VALUE], @network:NAME or @image:REF`,
      location,
    );
  }
  const kind = m[1] as ContainerAddressKind;
  const rest = m[2];
  if (!VALUE.test(rest)) {
    throw new LateralError(
      'LATERAL_ERR_CONFIG',
      `container address ${JSON.stringify(expr)}: ${JSON.stringify(rest)} has characters outside [A-Za-z0-9_.-/:=+@]`,
      location,
    );
  }
  if (kind === 'label') {
    const eq = rest.indexOf('=');
    if (eq === 0) throw new LateralError('LATERAL_ERR_CONFIG', `container address ${JSON.stringify(expr)}: empty label key`, location);
    return eq < 0 ? { kind, key: rest, value: undefined } : { kind, key: rest.slice(0, eq), value: rest.slice(eq + 1) };
  }
  return { kind, key: rest, value: undefined };
}

/**
 * The CIDR list an expression stands for right now: each matching running container's
 * addresses (/32, /128), or a network's subnets for @network (so containers joining later
 * are covered before Docker even reports them). Empty when nothing matches: the engine must
 * treat an empty group as matching no address (Suricata would refuse it at load).
 */
export function resolveContainerAddressVariable(expr: string | ContainerAddressVariable, directory: ContainerSource): string[] {
  const v = typeof expr === 'string' ? parseContainerAddressVariable(expr) : expr;
  const out = new Set<string>();
  if (v.kind === 'network') {
    const n = directory.network(v.key);
    for (const s of n?.subnets ?? []) out.add(normalizeCidr(s));
    // A table without subnets (--containers FILE): the addresses of its containers on it.
    if (n !== undefined || out.size > 0) return [...out].sort(compareCidr);
  }
  for (const c of directory.containers()) {
    if (!matches(v, c)) continue;
    for (const a of c.networks) {
      if (v.kind === 'network' && a.networkName !== v.key && !(v.key.length >= 12 && a.networkId.startsWith(v.key))) continue;
      if (a.ipv4) out.add(`${a.ipv4}/32`);
      if (a.ipv6) out.add(`${normalizeAddress(a.ipv6)}/128`);
    }
  }
  return [...out].sort(compareCidr);
}

function matches(v: ContainerAddressVariable, c: ContainerInfo): boolean {
  switch (v.kind) {
    case 'container':
      return c.name === v.key || (v.key.length >= 12 && c.id.startsWith(v.key));
    case 'label':
      return Object.prototype.hasOwnProperty.call(c.labels, v.key) && (v.value === undefined || c.labels[v.key] === v.value);
    case 'network':
      return c.networks.some((a) => a.networkName === v.key || (v.key.length >= 12 && a.networkId.startsWith(v.key)));
    case 'image':
      // `redis` matches `redis` and `redis:7`; an explicit tag must match exactly.
      return c.image === v.key || (!v.key.includes(':') && c.image.startsWith(`${v.key}:`));
    default:
      return false;
  }
}

export interface ContainerAddressWatch {
  /** Current CIDRs of each expression. */
  readonly current: ReadonlyMap<string, readonly string[]>;
  close(): void;
}

/**
 * Re-resolves the expressions on every directory change and calls onChange only for those
 * whose CIDR list changed, so the engine recompiles only the affected address groups.
 * Expressions are parsed up front: a bad one throws here, at load.
 */
export function watchContainerAddressVariables(
  exprs: readonly string[],
  directory: ContainerDirectory,
  onChange: (expr: string, cidrs: readonly string[]) => void,
): ContainerAddressWatch {
  const parsed = new Map<string, ContainerAddressVariable>();
  for (const e of exprs) parsed.set(e, parseContainerAddressVariable(e));
  const current = new Map<string, readonly string[]>();
  for (const [e, v] of parsed) current.set(e, resolveContainerAddressVariable(v, directory));
  const listener = (): void => {
    for (const [e, v] of parsed) {
      const next = resolveContainerAddressVariable(v, directory);
      const prev = current.get(e) ?? [];
      if (prev.length === next.length && prev.every((x, i) => x === next[i])) continue;
      current.set(e, next);
      onChange(e, next);
    }
  };
  directory.on('change', listener);
  return {
    current,
    close(): void {
      directory.off('change', listener);
    },
  };
}

const scratch = new Uint8Array(16);

function normalizeAddress(a: string): string {
  return parseIpAddress(a, scratch) ? formatIpAddress(scratch) : a;
}

function normalizeCidr(c: string): string {
  const slash = c.indexOf('/');
  return slash < 0 ? normalizeAddress(c) : `${normalizeAddress(c.slice(0, slash))}${c.slice(slash)}`;
}

/** IPv4 before IPv6, then by address bytes: a stable order so lists compare by value. */
function compareCidr(a: string, b: string): number {
  const va = a.includes(':') ? 1 : 0;
  const vb = b.includes(':') ? 1 : 0;
  if (va !== vb) return va - vb;
  const ba = new Uint8Array(16);
  const bb = new Uint8Array(16);
  parseIpAddress(a.split('/')[0], ba);
  parseIpAddress(b.split('/')[0], bb);
  for (let i = 0; i < 16; i++) if (ba[i] !== bb[i]) return ba[i] - bb[i];
  return a < b ? -1 : a > b ? 1 : 0;
}
