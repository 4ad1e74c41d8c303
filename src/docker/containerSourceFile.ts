// Containers from a `--containers FILE` table, in the shape the container address resolver
// reads from Docker (ContainerSource): so `lateral replay` (and `lateral run` without Docker)
// can resolve `@container:web`, `@label:tier=db`, `@network:lab`, `@image:redis` offline.
//
// The file is the one `lateral run --containers` already reads (src/cli/containerIdentity.ts:
// lab layout, {containers: [...]}, or a flat map); list entries may add `labels`
// ({"tier": "db"}), the only field the identity table has no use for. Cold path.
import * as fs from 'node:fs';
import { LateralError } from '../errors';
import { parseContainersDocument, type ContainerAddress } from '../cli/containerIdentity';
import { ContainerMode, type BridgeNetwork, type ContainerInfo, type ContainerNetworkAttachment } from './containerDirectory';
import type { ContainerSource } from './resolveContainerAddressVariable';

export class StaticContainerSource implements ContainerSource {
  private readonly list: ContainerInfo[];

  /** labels: by container name. */
  constructor(entries: readonly ContainerAddress[], labels: ReadonlyMap<string, Record<string, string>> = new Map()) {
    const byName = new Map<string, { info: ContainerInfo; networks: ContainerNetworkAttachment[] }>();
    for (const e of entries) {
      const name = e.identity.name;
      let c = byName.get(name);
      if (c === undefined) {
        const networks: ContainerNetworkAttachment[] = [];
        c = {
          networks,
          info: { id: '', name, image: e.identity.image ?? '', labels: labels.get(name) ?? {}, networks, mac: '', mode: ContainerMode.DEFAULT },
        };
        byName.set(name, c);
      }
      const v6 = e.address.includes(':');
      c.networks.push({
        networkId: '',
        networkName: e.identity.network ?? '',
        bridge: '',
        ipv4: v6 ? '' : e.address,
        ipv6: v6 ? e.address : '',
        mac: '',
        hostIfindex: 0,
      });
    }
    this.list = [...byName.values()].map((c) => c.info);
  }

  containers(): ContainerInfo[] {
    return this.list;
  }

  /** A table has no network subnets: @network resolves to its containers' addresses. */
  network(_idOrName: string): BridgeNetwork | undefined {
    return undefined;
  }
}

function bad(file: string, cause: string): LateralError {
  return new LateralError('LATERAL_ERR_CONFIG', `--containers: ${cause}`, { file, line: 0 });
}

/** Reads a containers file; LATERAL_ERR_IO / LATERAL_ERR_CONFIG name the file and the entry. */
export function loadContainerSourceFile(file: string): StaticContainerSource {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    if (e instanceof SyntaxError) throw bad(file, `not JSON: ${e.message}`);
    throw new LateralError('LATERAL_ERR_IO', `--containers: cannot read: ${(e as Error).message}`, { file, line: 0 }, { cause: e });
  }
  const entries = parseContainersDocument(doc, file);
  const labels = new Map<string, Record<string, string>>();
  const list = Array.isArray(doc) ? doc : (doc as Record<string, unknown> | null)?.['containers'];
  if (Array.isArray(list)) {
    list.forEach((c, i) => {
      const o = c as Record<string, unknown>;
      if (o['labels'] === undefined) return;
      const l = o['labels'] as Record<string, unknown> | null;
      if (l === null || typeof l !== 'object' || Array.isArray(l) || !Object.values(l).every((v) => typeof v === 'string')) {
        throw bad(file, `containers[${i}] (${String(o['name'])}): "labels" must map names to strings`);
      }
      labels.set(String(o['name']), l as Record<string, string>);
    });
  }
  return new StaticContainerSource(entries, labels);
}
