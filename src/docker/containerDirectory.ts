// Which container owns an address or a bridge port, kept current from the Docker event stream.
//
// Order matters (DESIGN "Containers"): subscribe to /events first, list containers and
// networks only once the daemon has accepted the subscription, and apply queued events after
// the list — so a container started during the list is never missed. On a lost connection
// the directory reconnects with backoff and rebuilds everything (a resync), since events may
// have been missed meanwhile.
//
// Hot path: lookup(), lookupIpv4() and byBridgePort() are called per packet. They read Maps
// keyed by numbers, build no strings and allocate nothing. Every change rebuilds the indexes
// on the side and swaps them in, so a lookup never sees a half-updated state.
//
// Bridge port → container: NFQUEUE reports the host-side veth as physin/physout ifindex. The
// container end of a veth pair lives in the container's netns; its sysfs (the container's own
// /sys, reached as /proc/<pid>/root/sys) lists each interface's MAC and `iflink`, the ifindex
// of the peer — the host-side veth. The MAC ties the interface to the Docker endpoint, and the
// host veth must be enslaved to that network's bridge, or the port stays unknown (0).
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LateralError } from '../errors';
import {
  DockerClient,
  DockerContainerDetail,
  DockerEvent,
  DockerEventStream,
  DockerNetwork,
  isNotFound,
} from './dockerClient';
import { isIpv4Mapped, parseIpAddress, parseIpv4 } from './parseIpAddress';

/** Per-container inspection mode from the label `lateral.mode`. */
export const ContainerMode = {
  /** No label: the global mode applies. */
  DEFAULT: 0,
  /** `lateral.mode=monitor`: alert, never drop. */
  MONITOR: 1,
  /** `lateral.mode=protect`: drop rules drop. */
  PROTECT: 2,
} as const;
export type ContainerModeValue = (typeof ContainerMode)[keyof typeof ContainerMode];
export const MODE_LABEL = 'lateral.mode';

/** Name given to addresses and ports no container owns. */
export const UNKNOWN_CONTAINER = 'unknown';

export interface ContainerNetworkAttachment {
  networkId: string;
  networkName: string;
  /** Host bridge of the network, '' for non-bridge drivers. */
  bridge: string;
  ipv4: string;
  ipv6: string;
  mac: string;
  /** Host-side veth ifindex (the bridge port); 0 when not found. */
  hostIfindex: number;
}

export interface ContainerInfo {
  id: string;
  /** Without Docker's leading '/'. */
  name: string;
  image: string;
  labels: Readonly<Record<string, string>>;
  networks: readonly ContainerNetworkAttachment[];
  /** MAC of the first network attachment ('' if none). */
  mac: string;
  mode: ContainerModeValue;
}

export interface BridgeNetwork {
  id: string;
  name: string;
  driver: string;
  /** Host bridge interface: the com.docker.network.bridge.name option, else br-<12 hex of id>. */
  bridge: string;
  /** IPAM subnets as CIDR text (IPv4 and IPv6). */
  subnets: string[];
  labels: Readonly<Record<string, string>>;
}

export interface BridgeSetChange {
  added: BridgeNetwork[];
  removed: BridgeNetwork[];
}

export interface ContainerDirectoryOptions {
  client?: DockerClient;
  socketPath?: string;
  /** First and largest delay between reconnection attempts, in milliseconds. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Where /proc and /sys are (tests, or a container with the host's mounted elsewhere). */
  procRoot?: string;
  sysRoot?: string;
}

/**
 * Events:
 * - 'change' (): anything changed (after the first sync, each event, each resync)
 * - 'bridges' (BridgeSetChange): bridge networks appeared or disappeared — protect them live
 * - 'container' ('added'|'removed'|'updated', ContainerInfo)
 * - 'connection' ('up'|'down', Error?): the event stream state
 * - 'warning' (LateralError): a bad label or a failed inspect; the directory keeps going
 */
export class ContainerDirectory extends EventEmitter {
  private readonly client: DockerClient;
  private readonly ownsClient: boolean;
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private readonly procRoot: string;
  private readonly sysRoot: string;

  private containersById = new Map<string, ContainerInfo>();
  private networksById = new Map<string, BridgeNetwork>();
  // Hot-path indexes, swapped whole on change.
  private byIpv4 = new Map<number, ContainerInfo>();
  private byIpv6 = new Map<number, Ipv6Entry[]>();
  private byPort = new Map<number, ContainerInfo>();

  private stream: DockerEventStream | null = null;
  private work: Promise<void> = Promise.resolve();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private closed = false;
  private generation = 0;
  /** True while the event stream is open and the state is synced. */
  connected = false;
  /** Number of full rebuilds (first sync plus resyncs). */
  syncCount = 0;

  constructor(options: ContainerDirectoryOptions = {}) {
    super();
    this.ownsClient = !options.client;
    this.client = options.client ?? new DockerClient({ socketPath: options.socketPath });
    this.reconnectMinMs = options.reconnectMinMs ?? 100;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 5000;
    this.backoffMs = this.reconnectMinMs;
    this.procRoot = options.procRoot ?? '/proc';
    this.sysRoot = options.sysRoot ?? '/sys';
  }

  /**
   * Subscribes, syncs, and resolves once the directory is complete. Rejects (and stops) when
   * the first connection fails; after that, failures are retried forever.
   */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.connect(resolve, (err) => {
        this.close();
        reject(
          new LateralError(
            'LATERAL_ERR_DOCKER',
            `cannot read containers from Docker at ${this.client.socketPath}: ${err.message}`,
            undefined,
            { cause: err },
          ),
        );
      });
    });
  }

  /** Stops the event stream and any reconnection; lookups keep answering from the last state. */
  close(): void {
    this.closed = true;
    this.connected = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.stream?.close();
    this.stream = null;
    if (this.ownsClient) this.client.close();
  }

  /** Drops the event connection as a failure would; the directory reconnects and resyncs. */
  dropConnection(): void {
    if (!this.stream || this.closed) return;
    this.stream.close();
    this.stream = null;
    this.lost(new LateralError('LATERAL_ERR_DOCKER', 'connection dropped on request'));
  }

  // ---- hot path -------------------------------------------------------------------------

  /** The container owning the 16-byte address at data[offset] (IPv4-mapped for v4). */
  lookup(addr: Uint8Array, offset = 0): ContainerInfo | undefined {
    if (
      addr[offset + 10] === 0xff &&
      addr[offset + 11] === 0xff &&
      (addr[offset] | addr[offset + 1] | addr[offset + 2] | addr[offset + 3] | addr[offset + 4]) === 0 &&
      (addr[offset + 5] | addr[offset + 6] | addr[offset + 7] | addr[offset + 8] | addr[offset + 9]) === 0
    ) {
      // Signed 32-bit keys stay small integers in V8: no heap number per lookup.
      return this.byIpv4.get(
        (addr[offset + 12] << 24) | (addr[offset + 13] << 16) | (addr[offset + 14] << 8) | addr[offset + 15],
      );
    }
    const bucket = this.byIpv6.get(hash16(addr, offset));
    if (bucket === undefined) return undefined;
    for (let i = 0; i < bucket.length; i++) {
      const e = bucket[i];
      if (equal16(e.addr, addr, offset)) return e.container;
    }
    return undefined;
  }

  /** IPv4 as a 32-bit number, signed or unsigned (10.0.0.1 = 0x0a000001). */
  lookupIpv4(v4: number): ContainerInfo | undefined {
    return this.byIpv4.get(v4 | 0);
  }

  /** The container behind a bridge port (host-side veth ifindex, NFQUEUE physin/physout). */
  byBridgePort(ifindex: number): ContainerInfo | undefined {
    return this.byPort.get(ifindex);
  }

  /** The container's name, or 'unknown'. */
  nameOf(addr: Uint8Array, offset = 0): string {
    const c = this.lookup(addr, offset);
    return c === undefined ? UNKNOWN_CONTAINER : c.name;
  }

  // ---- cold path ------------------------------------------------------------------------

  containers(): ContainerInfo[] {
    return [...this.containersById.values()];
  }

  /** By full id, id prefix (≥ 12 hex) or name. */
  container(idOrName: string): ContainerInfo | undefined {
    const byId = this.containersById.get(idOrName);
    if (byId) return byId;
    for (const c of this.containersById.values()) {
      if (c.name === idOrName || (idOrName.length >= 12 && c.id.startsWith(idOrName))) return c;
    }
    return undefined;
  }

  /** Bridge-driver networks (docker0 and user-defined bridges). */
  networks(): BridgeNetwork[] {
    return [...this.networksById.values()];
  }

  network(idOrName: string): BridgeNetwork | undefined {
    const byId = this.networksById.get(idOrName);
    if (byId) return byId;
    for (const n of this.networksById.values()) if (n.name === idOrName || n.id.startsWith(idOrName)) return n;
    return undefined;
  }

  bridgeNames(): string[] {
    return [...this.networksById.values()].map((n) => n.bridge).sort();
  }

  // ---- connection -----------------------------------------------------------------------

  private connect(onSynced?: () => void, onFailed?: (err: Error) => void): void {
    const generation = ++this.generation;
    let opened = false;
    this.stream = this.client.streamEvents(
      ['container', 'network'],
      (event) => {
        if (generation === this.generation) this.enqueue(() => this.applyEvent(event));
      },
      (err) => {
        if (generation !== this.generation || this.closed) return;
        this.stream = null;
        if (!opened && onFailed) onFailed(err);
        else this.lost(err);
      },
      () => {
        opened = true;
        // Listed only now: every change from here on also arrives as an event.
        this.enqueue(async () => {
          if (generation !== this.generation) return;
          try {
            await this.resync();
          } catch (err) {
            if (generation !== this.generation || this.closed) return;
            this.stream?.close();
            this.stream = null;
            const e = err instanceof Error ? err : new Error(String(err));
            if (onFailed && this.syncCount === 0) onFailed(e);
            else this.lost(e);
            return;
          }
          this.connected = true;
          this.backoffMs = this.reconnectMinMs;
          this.emit('connection', 'up');
          onSynced?.();
        });
      },
    );
  }

  private lost(err: Error): void {
    if (this.closed) return;
    this.generation++; // late callbacks of the old stream are ignored
    this.connected = false;
    this.emit('connection', 'down', err);
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.reconnectMaxMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed) this.connect();
    }, delay);
    this.reconnectTimer.unref?.();
  }

  /** Event handling is serial: each step reads the daemon's current state. */
  private enqueue(task: () => Promise<void>): void {
    this.work = this.work.then(() => (this.closed ? undefined : task())).catch((err: unknown) => {
      if (!this.closed) this.emit('warning', toLateral(err, 'applying a Docker event'));
    });
  }

  private async resync(): Promise<void> {
    const networks = await this.client.listNetworks();
    const nextNetworks = new Map<string, BridgeNetwork>();
    for (const n of networks) {
      const b = toBridgeNetwork(n);
      if (b) nextNetworks.set(b.id, b);
    }
    const summaries = await this.client.listContainers();
    const nextContainers = new Map<string, ContainerInfo>();
    for (const s of summaries) {
      let detail: DockerContainerDetail;
      try {
        detail = await this.client.inspectContainer(s.Id);
      } catch (err) {
        if (isNotFound(err)) continue; // gone between list and inspect; its event follows
        throw err;
      }
      const info = this.toContainerInfo(detail, nextNetworks);
      if (info) nextContainers.set(info.id, info);
    }
    const bridgeChange = diffNetworks(this.networksById, nextNetworks);
    const before = this.containersById;
    this.networksById = nextNetworks;
    this.containersById = nextContainers;
    this.rebuildIndexes();
    this.syncCount++;
    for (const [id, c] of before) if (!nextContainers.has(id)) this.emit('container', 'removed', c);
    for (const [id, c] of nextContainers) this.emit('container', before.has(id) ? 'updated' : 'added', c);
    if (bridgeChange.added.length + bridgeChange.removed.length > 0) this.emit('bridges', bridgeChange);
    this.emit('change');
  }

  private async applyEvent(event: DockerEvent): Promise<void> {
    if (event.Type === 'network') {
      const attrs = event.Actor.Attributes ?? {};
      if (event.Action === 'create' || event.Action === 'destroy' || event.Action === 'remove' || event.Action === 'update') {
        await this.refreshNetwork(event.Actor.ID);
      }
      if ((event.Action === 'connect' || event.Action === 'disconnect') && attrs.container) {
        await this.refreshContainer(attrs.container);
      }
      return;
    }
    if (event.Type === 'container') {
      // Docker ≥ 1.22 reports e.g. "exec_start: sh" for exec; only the verb matters.
      const action = event.Action.split(':')[0];
      if (CONTAINER_ACTIONS.has(action)) await this.refreshContainer(event.Actor.ID);
    }
  }

  private async refreshNetwork(id: string): Promise<void> {
    let next: BridgeNetwork | null = null;
    try {
      next = toBridgeNetwork(await this.client.inspectNetwork(id));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const prev = this.networksById.get(id) ?? null;
    const networks = new Map(this.networksById);
    if (next) networks.set(id, next);
    else networks.delete(id);
    const change = diffNetworks(this.networksById, networks);
    this.networksById = networks;
    if (prev === null && next === null) return;
    this.rebuildIndexes();
    if (change.added.length + change.removed.length > 0) this.emit('bridges', change);
    this.emit('change');
  }

  private async refreshContainer(id: string): Promise<void> {
    let detail: DockerContainerDetail | null = null;
    try {
      detail = await this.client.inspectContainer(id);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const info = detail ? this.toContainerInfo(detail, this.networksById) : null;
    const prev = this.containersById.get(id) ?? (info ? this.containersById.get(info.id) : undefined);
    if (!info && !prev) return;
    const containers = new Map(this.containersById);
    if (prev) containers.delete(prev.id);
    if (info) containers.set(info.id, info);
    this.containersById = containers;
    this.rebuildIndexes();
    if (info) this.emit('container', prev ? 'updated' : 'added', info);
    else if (prev) this.emit('container', 'removed', prev);
    this.emit('change');
  }

  /** Null for a container that is not running (it has no addresses). */
  private toContainerInfo(d: DockerContainerDetail, networks: Map<string, BridgeNetwork>): ContainerInfo | null {
    if (!d.State?.Running) return null;
    const labels = { ...(d.Config?.Labels ?? {}) };
    const name = d.Name.replace(/^\//, '');
    const ports = this.readContainerPorts(d.State.Pid);
    const attachments: ContainerNetworkAttachment[] = [];
    for (const [netName, ep] of Object.entries(d.NetworkSettings?.Networks ?? {})) {
      const bridge = networks.get(ep.NetworkID)?.bridge ?? '';
      const mac = (ep.MacAddress ?? '').toLowerCase();
      let hostIfindex = 0;
      const peer = mac ? ports.get(mac) : undefined;
      if (peer !== undefined && bridge !== '' && this.hostPortMaster(peer) === bridge) hostIfindex = peer;
      attachments.push({
        networkId: ep.NetworkID,
        networkName: netName,
        bridge,
        ipv4: ep.IPAddress ?? '',
        ipv6: ep.GlobalIPv6Address ?? '',
        mac,
        hostIfindex,
      });
    }
    let mode: ContainerModeValue = ContainerMode.DEFAULT;
    const modeLabel = labels[MODE_LABEL];
    if (modeLabel === 'monitor') mode = ContainerMode.MONITOR;
    else if (modeLabel === 'protect') mode = ContainerMode.PROTECT;
    else if (modeLabel !== undefined) {
      this.emit(
        'warning',
        new LateralError(
          'LATERAL_ERR_DOCKER',
          `container ${name}: label ${MODE_LABEL}=${JSON.stringify(modeLabel)} is neither monitor nor protect; the global mode applies`,
        ),
      );
    }
    return {
      id: d.Id,
      name,
      image: d.Config?.Image ?? '',
      labels,
      networks: attachments,
      mac: attachments[0]?.mac ?? '',
      mode,
    };
  }

  /** MAC → iflink (host-side peer ifindex) of each interface in the container's netns. */
  private readContainerPorts(pid: number): Map<string, number> {
    const out = new Map<string, number>();
    if (!(pid > 0)) return out;
    const dir = path.join(this.procRoot, String(pid), 'root', 'sys', 'class', 'net');
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return out; // exited already, or no sysfs in the container: port stays unknown
    }
    for (const n of names) {
      try {
        const mac = fs.readFileSync(path.join(dir, n, 'address'), 'utf8').trim().toLowerCase();
        const iflink = Number(fs.readFileSync(path.join(dir, n, 'iflink'), 'utf8').trim());
        if (mac && Number.isInteger(iflink) && iflink > 0) out.set(mac, iflink);
      } catch {
        // an interface that vanished while reading
      }
    }
    return out;
  }

  /** Name of the bridge the host interface with this ifindex is enslaved to, or ''. */
  private hostPortMaster(ifindex: number): string {
    const root = path.join(this.sysRoot, 'class', 'net');
    let names: string[];
    try {
      names = fs.readdirSync(root);
    } catch {
      return '';
    }
    for (const n of names) {
      try {
        if (Number(fs.readFileSync(path.join(root, n, 'ifindex'), 'utf8').trim()) !== ifindex) continue;
        return path.basename(fs.readlinkSync(path.join(root, n, 'master')));
      } catch {
        return '';
      }
    }
    return '';
  }

  private rebuildIndexes(): void {
    const v4 = new Map<number, ContainerInfo>();
    const v6 = new Map<number, Ipv6Entry[]>();
    const ports = new Map<number, ContainerInfo>();
    const buf = new Uint8Array(16);
    for (const c of this.containersById.values()) {
      for (const a of c.networks) {
        if (a.ipv4) {
          const n = parseIpv4(a.ipv4);
          if (n >= 0) v4.set(n | 0, c);
        }
        if (a.ipv6 && parseIpAddress(a.ipv6, buf)) {
          if (isIpv4Mapped(buf)) {
            v4.set((buf[12] << 24) | (buf[13] << 16) | (buf[14] << 8) | buf[15], c);
          } else {
            const key = hash16(buf, 0);
            const bucket = v6.get(key) ?? [];
            bucket.push({ addr: buf.slice(), container: c });
            v6.set(key, bucket);
          }
        }
        if (a.hostIfindex > 0) ports.set(a.hostIfindex, c);
      }
    }
    this.byIpv4 = v4;
    this.byIpv6 = v6;
    this.byPort = ports;
  }
}

interface Ipv6Entry {
  addr: Uint8Array;
  container: ContainerInfo;
}

const CONTAINER_ACTIONS = new Set([
  'start',
  'restart',
  'unpause',
  'pause',
  'die',
  'stop',
  'kill',
  'destroy',
  'rename',
  'update',
  'oom',
]);

/**
 * IPv6 index key: the four 32-bit words XORed, as a signed int (a small integer in V8, so no
 * allocation). Docker hands out addresses sequentially within a /64, so the low word alone
 * already separates them; collisions only cost a byte compare in the bucket.
 */
function hash16(a: Uint8Array, o: number): number {
  return (
    ((a[o] << 24) | (a[o + 1] << 16) | (a[o + 2] << 8) | a[o + 3]) ^
    ((a[o + 4] << 24) | (a[o + 5] << 16) | (a[o + 6] << 8) | a[o + 7]) ^
    ((a[o + 8] << 24) | (a[o + 9] << 16) | (a[o + 10] << 8) | a[o + 11]) ^
    ((a[o + 12] << 24) | (a[o + 13] << 16) | (a[o + 14] << 8) | a[o + 15])
  );
}

function equal16(a: Uint8Array, b: Uint8Array, o: number): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[o + i]) return false;
  return true;
}

/** Bridge name as libnetwork picks it (drivers/bridge: "br-" + first 12 of the network id). */
export function bridgeNameOf(network: Pick<DockerNetwork, 'Id' | 'Options'>): string {
  return network.Options?.['com.docker.network.bridge.name'] || `br-${network.Id.slice(0, 12)}`;
}

function toBridgeNetwork(n: DockerNetwork): BridgeNetwork | null {
  if (n.Driver !== 'bridge') return null;
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    bridge: bridgeNameOf(n),
    subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? '').filter((s) => s !== ''),
    labels: { ...(n.Labels ?? {}) },
  };
}

function diffNetworks(before: Map<string, BridgeNetwork>, after: Map<string, BridgeNetwork>): BridgeSetChange {
  const added = [...after.values()].filter((n) => !before.has(n.id));
  const removed = [...before.values()].filter((n) => !after.has(n.id));
  return { added, removed };
}

function toLateral(err: unknown, doing: string): LateralError {
  if (err instanceof LateralError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new LateralError('LATERAL_ERR_DOCKER', `${doing}: ${message}`, undefined, { cause: err });
}
