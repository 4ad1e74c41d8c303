// Container names for `lateral watch --containers FILE` when Docker is not the source: a JSON
// file mapping addresses to names. Accepted shapes (the first is what `scripts/lab up`
// prints, so a lab needs no extra file):
//   lab layout   {"bridge":"lab-br","namespaces":{"web":{"ip":"10.213.5.2","ip6":"fd0d::2"},...}}
//   list         {"containers":[{"name":"web","ips":["10.0.0.2"],"image":"nginx","network":"app"}]}
//   flat         {"10.0.0.2":"web","10.0.0.3":{"name":"db","image":"redis"}}
// Lookups run once per flow and once per alert, never per packet: IPv4 is keyed by its 32-bit
// value (no string), IPv6 by its text (built once per flow).

import * as fs from 'node:fs';
import { LateralError } from '../errors';
import type { ContainerIdentity } from '../output/eveAlert';
import { formatIpAddress, isIpv4Mapped, parseIpAddress } from '../docker/parseIpAddress';

/** The name used for addresses no container owns (as the Docker directory does). */
export const UNKNOWN_NAME = 'unknown';

export class ContainerMap {
  private readonly v4 = new Map<number, ContainerIdentity>();
  private readonly v6 = new Map<string, ContainerIdentity>();
  private readonly all: ContainerIdentity[] = [];

  /** Adds `ip` (text) for `identity`; false when ip is not an address. */
  add(ip: string, identity: ContainerIdentity): boolean {
    const addr = new Uint8Array(16);
    if (!parseIpAddress(ip, addr)) return false;
    if (!this.all.includes(identity)) this.all.push(identity);
    if (isIpv4Mapped(addr)) this.v4.set(ipv4Key(addr, 12), identity);
    else this.v6.set(formatIpAddress(addr), identity);
    return true;
  }

  /** Who owns `addr` (16-byte Packet form, IPv4 mapped; or 4 bytes), or null. */
  lookup(addr: Uint8Array): ContainerIdentity | null {
    if (addr.length === 4) return this.v4.get(ipv4Key(addr, 0)) ?? null;
    if (isIpv4Mapped(addr)) return this.v4.get(ipv4Key(addr, 12)) ?? null;
    return this.v6.size === 0 ? null : (this.v6.get(formatIpAddress(addr)) ?? null);
  }

  /** The owner's name, or "unknown". */
  nameOf(addr: Uint8Array): string {
    return this.lookup(addr)?.name ?? UNKNOWN_NAME;
  }

  /** Every identity once, in the order added. */
  identities(): readonly ContainerIdentity[] {
    return this.all;
  }

  /** Addresses known. */
  get size(): number {
    return this.v4.size + this.v6.size;
  }
}

function ipv4Key(a: Uint8Array, o: number): number {
  return ((a[o]! << 24) | (a[o + 1]! << 16) | (a[o + 2]! << 8) | a[o + 3]!) >>> 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Builds the map from a parsed JSON document; errors name `file` and the bad entry. */
export function containerMapFromJson(doc: unknown, file: string): ContainerMap {
  const where = { file, line: 0 };
  const bad = (msg: string): LateralError => new LateralError('LATERAL_ERR_CONFIG', `containers file: ${msg}`, where);
  const map = new ContainerMap();
  const addIp = (ip: unknown, id: ContainerIdentity, what: string): void => {
    if (typeof ip !== 'string' || !map.add(ip, id)) throw bad(`${what}: not an IP address: ${JSON.stringify(ip)}`);
  };
  if (!isRecord(doc)) throw bad('expected a JSON object (the `scripts/lab up` layout, {"containers":[...]} or {"IP":"name"})');

  if (isRecord(doc['namespaces'])) {
    // The lab layout: one "container" per namespace role, on the lab's bridge.
    const network = optionalString(doc['bridge']);
    for (const [role, v] of Object.entries(doc['namespaces'])) {
      if (!isRecord(v)) throw bad(`namespaces.${role}: expected an object`);
      const id: ContainerIdentity = { name: role };
      if (network !== undefined) id.network = network;
      if (v['ip'] === undefined && v['ip6'] === undefined) throw bad(`namespaces.${role}: no "ip" or "ip6"`);
      if (v['ip'] !== undefined) addIp(v['ip'], id, `namespaces.${role}.ip`);
      if (v['ip6'] !== undefined && v['ip6'] !== '') addIp(v['ip6'], id, `namespaces.${role}.ip6`);
    }
    return map;
  }

  if (Array.isArray(doc['containers'])) {
    doc['containers'].forEach((c, i) => {
      if (!isRecord(c) || typeof c['name'] !== 'string' || c['name'] === '') throw bad(`containers[${i}]: expected {"name": ..., "ips": [...]}`);
      const id: ContainerIdentity = { name: c['name'] };
      const image = optionalString(c['image']);
      const network = optionalString(c['network']);
      if (image !== undefined) id.image = image;
      if (network !== undefined) id.network = network;
      const ips = Array.isArray(c['ips']) ? c['ips'] : c['ip'] !== undefined ? [c['ip']] : [];
      if (ips.length === 0) throw bad(`containers[${i}] (${c['name']}): no "ips"`);
      for (const ip of ips) addIp(ip, id, `containers[${i}] (${c['name']})`);
    });
    return map;
  }

  for (const [ip, v] of Object.entries(doc)) {
    let id: ContainerIdentity;
    if (typeof v === 'string' && v !== '') id = { name: v };
    else if (isRecord(v) && typeof v['name'] === 'string' && v['name'] !== '') {
      id = { name: v['name'] };
      const image = optionalString(v['image']);
      const network = optionalString(v['network']);
      if (image !== undefined) id.image = image;
      if (network !== undefined) id.network = network;
    } else throw bad(`"${ip}": expected a name or {"name": ...}`);
    addIp(ip, id, `"${ip}"`);
  }
  return map;
}

/** Reads and parses a containers file; LATERAL_ERR_IO / LATERAL_ERR_CONFIG name the file. */
export function loadContainerMap(file: string): ContainerMap {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new LateralError('LATERAL_ERR_IO', `cannot read containers file: ${(err as Error).message}`, { file, line: 0 }, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LateralError('LATERAL_ERR_CONFIG', `containers file is not JSON: ${(err as Error).message}`, { file, line: 0 }, { cause: err });
  }
  return containerMapFromJson(doc, file);
}
