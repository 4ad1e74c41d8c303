// Who is behind an address: the seam between the live path and whatever knows the containers.
// `lateral run --containers FILE` fills it from a JSON file (the namespace lab's layout, or a
// plain list); the Docker integration implements the same interface from the Engine API.
//
// Lookups take Packet's 16-byte address form (IPv4 mapped as ::ffff:a.b.c.d). IPv4 keys are
// the 32-bit address as a number, so a lookup builds no string; IPv6 keys are hex (rare).

import * as fs from 'node:fs';
import { LateralError } from '../errors';
import { parseIpAddress } from '../docker/parseIpAddress';
import type { ContainerIdentity } from '../output/eveAlert';

export type { ContainerIdentity };

export interface ContainerIdentityProvider {
  /** The container owning `addr` (16-byte, IPv4-mapped), or undefined. */
  identify(addr: Uint8Array): ContainerIdentity | undefined;
  /**
   * Every known address, for the queue workers (they name flows for metrics on their own
   * thread). A provider whose table changes (Docker events) also implements onChange; `lateral
   * run` then sends the new table to every worker.
   */
  entries(): readonly ContainerAddress[];
  onChange?(listener: () => void): void;
}

/** One address of one container: structured-clone safe, so workers get the same table. */
export interface ContainerAddress {
  address: string;
  identity: ContainerIdentity;
}

function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

function v6Key(a: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += (a[i]! < 16 ? '0' : '') + a[i]!.toString(16);
  return s;
}

/** A fixed address → container table. */
export class StaticContainerIdentities implements ContainerIdentityProvider {
  private readonly v4 = new Map<number, ContainerIdentity>();
  private readonly v6 = new Map<string, ContainerIdentity>();
  private readonly list: readonly ContainerAddress[];

  constructor(entries: readonly ContainerAddress[]) {
    this.list = entries;
    const buf = new Uint8Array(16);
    for (const e of entries) {
      if (!parseIpAddress(e.address, buf)) continue;
      if (isV4Mapped(buf)) this.v4.set(((buf[12]! << 24) | (buf[13]! << 16) | (buf[14]! << 8) | buf[15]!) | 0, e.identity);
      else this.v6.set(v6Key(buf), e.identity);
    }
  }

  entries(): readonly ContainerAddress[] {
    return this.list;
  }

  identify(addr: Uint8Array): ContainerIdentity | undefined {
    if (isV4Mapped(addr)) return this.v4.get(((addr[12]! << 24) | (addr[13]! << 16) | (addr[14]! << 8) | addr[15]!) | 0);
    return this.v6.get(v6Key(addr));
  }
}

function bad(file: string, cause: string): LateralError {
  return new LateralError('LATERAL_ERR_CONFIG', `--containers: ${cause}`, { file, line: 0 });
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function identityOf(name: string, o: Record<string, unknown>): ContainerIdentity {
  const identity: ContainerIdentity = { name };
  const image = str(o['image']);
  const network = str(o['network']);
  if (image !== undefined) identity.image = image;
  if (network !== undefined) identity.network = network;
  return identity;
}

/**
 * Parses a containers file (`lateral run --containers`, `lateral watch --containers`). Shapes:
 *  - the lab layout of `scripts/lab up` ({name, bridge, namespaces: {web: {ip, ip6}, ...}}):
 *    each namespace is a container named after its role, on network = the lab's bridge;
 *  - {containers: [{name, image?, network?, addresses: ["10.0.0.2", "fd00::2"]}]} (or that
 *    array alone; `ips` or a single `ip` may stand for `addresses`);
 *  - flat {"10.0.0.2": "web", "10.0.0.3": {name, image?, network?}} (every key an address).
 */
export function parseContainersJson(text: string, file: string): ContainerAddress[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw bad(file, `not JSON: ${(e as Error).message}`);
  }
  return parseContainersDocument(doc, file);
}

/** The same, from an already parsed JSON document. */
export function parseContainersDocument(doc: unknown, file: string): ContainerAddress[] {
  const out: ContainerAddress[] = [];
  const check = new Uint8Array(16);
  const add = (address: unknown, identity: ContainerIdentity, where: string): void => {
    if (typeof address !== 'string' || !parseIpAddress(address, check)) throw bad(file, `${where}: not an IP address: ${JSON.stringify(address)}`);
    out.push({ address, identity });
  };
  const root = doc as Record<string, unknown> | unknown[] | null;
  if (root !== null && !Array.isArray(root) && typeof root === 'object' && typeof root['namespaces'] === 'object' && root['namespaces'] !== null) {
    const network = str(root['bridge']) ?? str(root['name']);
    for (const [role, v] of Object.entries(root['namespaces'] as Record<string, unknown>)) {
      const ns = v as Record<string, unknown> | null;
      if (ns === null || typeof ns !== 'object') throw bad(file, `namespaces.${role} is not an object`);
      const identity: ContainerIdentity = { name: role };
      if (network !== undefined) identity.network = network;
      if (ns['ip'] === undefined && (ns['ip6'] === undefined || ns['ip6'] === '')) throw bad(file, `namespaces.${role}: no "ip" or "ip6"`);
      if (ns['ip'] !== undefined) add(ns['ip'], identity, `namespaces.${role}.ip`);
      if (ns['ip6'] !== undefined && ns['ip6'] !== '') add(ns['ip6'], identity, `namespaces.${role}.ip6`);
    }
    return out;
  }
  const list = Array.isArray(root) ? root : root !== null && typeof root === 'object' ? (root as Record<string, unknown>)['containers'] : undefined;
  if (Array.isArray(list)) {
    list.forEach((c, i) => {
      const o = c as Record<string, unknown> | null;
      const name = o !== null && typeof o === 'object' ? str(o['name']) : undefined;
      if (name === undefined) throw bad(file, `containers[${i}] has no name`);
      const addrs = o!['addresses'] ?? o!['ips'] ?? (o!['ip'] !== undefined ? [o!['ip']] : undefined);
      if (!Array.isArray(addrs) || addrs.length === 0) throw bad(file, `containers[${i}] (${name}) has no addresses ("addresses", "ips" or "ip")`);
      const identity = identityOf(name, o!);
      for (const a of addrs) add(a, identity, `containers[${i}] (${name})`);
    });
    return out;
  }
  const flat = root !== null && typeof root === 'object' ? Object.entries(root as Record<string, unknown>) : [];
  if (flat.length === 0 || !flat.every(([k]) => parseIpAddress(k, check))) {
    throw bad(file, 'expected a lab layout ({namespaces: ...}), {containers: [{name, addresses}]} or {"IP": "name"}');
  }
  for (const [address, v] of flat) {
    const o = v as Record<string, unknown> | null;
    const name = typeof v === 'string' ? str(v) : o !== null && typeof o === 'object' ? str(o['name']) : undefined;
    if (name === undefined) throw bad(file, `"${address}": expected a name or {"name": ...}`);
    add(address, typeof v === 'string' ? { name } : identityOf(name, o!), `"${address}"`);
  }
  return out;
}

/** Reads and parses a containers file; LATERAL_ERR_CONFIG naming the file on any problem. */
export function loadContainersFile(file: string): ContainerAddress[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new LateralError('LATERAL_ERR_IO', `--containers: cannot read: ${(e as Error).message}`, { file, line: 0 }, { cause: e });
  }
  return parseContainersJson(text, file);
}
