// Names the containers behind a packet's addresses for EVE alerts (`src_container`,
// `dest_container`), from the live ContainerDirectory.
//
// Called once per alert on the main thread (cold-ish path): the answer is a ContainerIdentity
// object built when the directory changed, never per call, so an alert costs two Map reads.
// An address no container owns (a veth whose container Docker has not reported yet, traffic
// NATed through the bridge) falls back to the bridge port NFQUEUE reported (physin/physout):
// the directory maps the host-side veth ifindex to its container.
import type { ContainerIdentity } from '../output/eveAlert';
import type { ContainerDirectory, ContainerInfo } from './containerDirectory';
import { parseIpv4 } from './parseIpAddress';

export class DockerIdentityProvider {
  /** IPv4 (signed 32-bit) → identity naming the network that address belongs to. */
  private byIpv4 = new Map<number, ContainerIdentity>();
  /** Container → identity of its first network, for IPv6 and bridge-port answers. */
  private byContainer = new Map<ContainerInfo, ContainerIdentity>();
  private readonly rebuildOnChange = (): void => this.rebuild();

  constructor(private readonly directory: ContainerDirectory) {
    directory.on('change', this.rebuildOnChange);
    this.rebuild();
  }

  /** Stops following the directory. */
  close(): void {
    this.directory.off('change', this.rebuildOnChange);
  }

  /**
   * Who owns the 16-byte address at addr16[offset] (IPv4-mapped for v4, as in Packet.src);
   * when nobody does and a bridge port is given (NFQUEUE physin/physout ifindex, 0 = none),
   * the container behind that port.
   */
  identify(addr16: Uint8Array, offset = 0, bridgePort = 0): ContainerIdentity | undefined {
    const c = this.directory.lookup(addr16, offset);
    if (c !== undefined) {
      if (isMapped(addr16, offset)) {
        const v4 = (addr16[offset + 12]! << 24) | (addr16[offset + 13]! << 16) | (addr16[offset + 14]! << 8) | addr16[offset + 15]!;
        const id = this.byIpv4.get(v4);
        if (id !== undefined) return id;
      }
      return this.identityOf(c);
    }
    if (bridgePort > 0) {
      const p = this.directory.byBridgePort(bridgePort);
      if (p !== undefined) return this.identityOf(p);
    }
    return undefined;
  }

  /** Every container address with its identity (for the queue workers' own tables). */
  entries(): Array<{ address: string; identity: ContainerIdentity }> {
    const out: Array<{ address: string; identity: ContainerIdentity }> = [];
    for (const c of this.directory.containers()) {
      for (const a of c.networks) {
        const identity = toIdentity(c, a.networkName);
        if (a.ipv4) out.push({ address: a.ipv4, identity });
        if (a.ipv6) out.push({ address: a.ipv6, identity });
      }
    }
    return out;
  }

  /** Called after each directory change, once this provider has rebuilt its tables. */
  onChange(listener: () => void): void {
    this.directory.on('change', listener);
  }

  private identityOf(c: ContainerInfo): ContainerIdentity {
    let id = this.byContainer.get(c);
    if (id === undefined) {
      id = toIdentity(c, c.networks[0]?.networkName);
      this.byContainer.set(c, id);
    }
    return id;
  }

  private rebuild(): void {
    const v4 = new Map<number, ContainerIdentity>();
    const byContainer = new Map<ContainerInfo, ContainerIdentity>();
    for (const c of this.directory.containers()) {
      byContainer.set(c, toIdentity(c, c.networks[0]?.networkName));
      for (const a of c.networks) {
        const n = a.ipv4 ? parseIpv4(a.ipv4) : -1;
        if (n >= 0) v4.set(n | 0, toIdentity(c, a.networkName));
      }
    }
    this.byIpv4 = v4;
    this.byContainer = byContainer;
  }
}

function toIdentity(c: ContainerInfo, network: string | undefined): ContainerIdentity {
  const id: ContainerIdentity = { name: c.name };
  if (c.image) id.image = c.image;
  if (network) id.network = network;
  return id;
}

function isMapped(a: Uint8Array, o: number): boolean {
  return (
    a[o + 10] === 0xff &&
    a[o + 11] === 0xff &&
    (a[o]! | a[o + 1]! | a[o + 2]! | a[o + 3]! | a[o + 4]! | a[o + 5]! | a[o + 6]! | a[o + 7]! | a[o + 8]! | a[o + 9]!) === 0
  );
}
