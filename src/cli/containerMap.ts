// Container names for `lateral watch`: the same containers file and table as `lateral run`
// (containerIdentity.ts), with the lookups the watch pipeline makes — once per flow and once
// per alert, never per packet.

import type { ContainerIdentity } from '../output/eveAlert';
import { loadContainersFile, parseContainersDocument, StaticContainerIdentities, type ContainerAddress } from './containerIdentity';

/** The name used for addresses no container owns (as the Docker directory does). */
export const UNKNOWN_NAME = 'unknown';

export class ContainerMap {
  private readonly table: StaticContainerIdentities;
  private readonly all: ContainerIdentity[] = [];
  private readonly mapped = new Uint8Array(16);

  constructor(entries: readonly ContainerAddress[] = []) {
    this.table = new StaticContainerIdentities(entries);
    for (const e of entries) if (!this.all.includes(e.identity)) this.all.push(e.identity);
    this.size = entries.length;
    this.mapped[10] = this.mapped[11] = 0xff;
  }

  /** Addresses known. */
  readonly size: number;

  /** Who owns `addr` (16-byte Packet form, IPv4 mapped; or 4 bytes), or null. */
  lookup(addr: Uint8Array): ContainerIdentity | null {
    if (addr.length === 4) {
      this.mapped.set(addr, 12);
      addr = this.mapped;
    }
    return this.table.identify(addr) ?? null;
  }

  /** The owner's name, or "unknown". */
  nameOf(addr: Uint8Array): string {
    return this.lookup(addr)?.name ?? UNKNOWN_NAME;
  }

  /** Every identity once, in the order the file names them. */
  identities(): readonly ContainerIdentity[] {
    return this.all;
  }
}

/** Builds the map from a parsed JSON document; errors name `file` and the bad entry. */
export function containerMapFromJson(doc: unknown, file: string): ContainerMap {
  return new ContainerMap(parseContainersDocument(doc, file));
}

/** Reads and parses a containers file; LATERAL_ERR_IO / LATERAL_ERR_CONFIG name the file. */
export function loadContainerMap(file: string): ContainerMap {
  return new ContainerMap(loadContainersFile(file));
}
