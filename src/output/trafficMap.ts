// The model behind the live map page (GET / and GET /api/map): containers as nodes,
// container pairs as edges with totals and recent rates, and the latest alerts. Fed on the
// main thread by LateralMetrics (pair deltas, already bounded by its LabelLimiter) and by
// whoever writes alerts (recordAlert). Bounded: edges follow the pair label bound, alerts
// are a ring of the last `maxAlerts`.

import type { AlertRecordInput, ContainerIdentity } from './eveAlert';
import { formatEveIp, formatEveTimestamp, eveProtoName } from './eveFormat';

export interface MapNode {
  id: string;
  image?: string;
  network?: string;
  alerts: number;
}

export interface MapEdge {
  src: string;
  dst: string;
  appProtos: string[];
  packets: number;
  bytes: number;
  blockedPackets: number;
  flows: number;
  alerts: number;
  packetsPerSec: number;
  bytesPerSec: number;
  /** True once the edge carried any blocked packet or blocked alert. */
  blocked: boolean;
}

export interface MapAlert {
  timestamp: string;
  sid: number;
  signature: string;
  action: 'allowed' | 'blocked';
  severity: number;
  srcContainer: string;
  destContainer: string;
  srcIp: string;
  destIp: string;
  destPort: number;
  proto: string;
}

export interface MapSnapshot {
  generatedAt: string;
  nodes: MapNode[];
  edges: MapEdge[];
  alerts: MapAlert[];
}

interface EdgeState {
  src: string;
  dst: string;
  appProtos: Set<string>;
  packets: number;
  bytes: number;
  blockedPackets: number;
  flows: number;
  alerts: number;
  blockedAlerts: number;
  /** Samples (time ms, packets, bytes) over the rate window, oldest first. */
  samples: Array<[number, number, number]>;
}

export interface TrafficMapOptions {
  maxAlerts?: number;
  /** Most edges kept; the least recently active goes first. Default 1000. */
  maxEdges?: number;
  /** Most container identities kept (least recently set goes first). Default 5000. */
  maxContainers?: number;
  /** Rates are averaged over this window. Default 10 s. */
  rateWindowMs?: number;
}

export class TrafficMap {
  private readonly edges = new Map<string, EdgeState>();
  private readonly containers = new Map<string, ContainerIdentity>();
  private readonly nodeAlerts = new Map<string, number>();
  private readonly alerts: MapAlert[] = [];
  private readonly maxAlerts: number;
  private readonly maxEdges: number;
  private readonly maxContainers: number;
  private readonly windowMs: number;

  constructor(options: TrafficMapOptions = {}) {
    this.maxAlerts = options.maxAlerts ?? 50;
    this.maxEdges = options.maxEdges ?? 1000;
    this.maxContainers = options.maxContainers ?? 5000;
    this.windowMs = options.rateWindowMs ?? 10_000;
  }

  /** Image/network for a container name (from the Docker identity map); optional. */
  setContainer(identity: ContainerIdentity): void {
    this.containers.delete(identity.name);
    this.containers.set(identity.name, identity);
    if (this.containers.size > this.maxContainers) this.containers.delete(this.containers.keys().next().value as string);
  }

  /** Traffic of one container pair since the last call (already label-bounded). */
  addTraffic(src: string, dst: string, appProto: string, packets: number, bytes: number, blockedPackets: number, flows: number, alerts: number, nowMs: number): void {
    const e = this.edge(src, dst, nowMs);
    if (appProto !== '') e.appProtos.add(appProto);
    e.packets += packets;
    e.bytes += bytes;
    e.blockedPackets += blockedPackets;
    e.flows += flows;
    e.alerts += alerts;
    this.sample(e, nowMs);
  }

  /** Forget an edge whose labels were retired by the limiter. */
  removeEdge(src: string, dst: string): void {
    this.edges.delete(`${src}\u0000${dst}`);
  }

  /** Keeps the alert for the page's "latest alerts" list. */
  recordAlert(a: AlertRecordInput, nowMs: number = Date.now()): void {
    const src = a.srcContainer?.name ?? 'unknown';
    const dst = a.destContainer?.name ?? 'unknown';
    if (a.srcContainer) this.setContainer({ ...this.containers.get(src), ...a.srcContainer });
    if (a.destContainer) this.setContainer({ ...this.containers.get(dst), ...a.destContainer });
    this.nodeAlerts.set(dst, (this.nodeAlerts.get(dst) ?? 0) + 1);
    const e = this.edge(src, dst, nowMs);
    if (a.blocked) e.blockedAlerts++;
    this.alerts.push({
      timestamp: formatEveTimestamp(a.tsSec, a.tsUsec),
      sid: a.sid,
      signature: a.signature,
      action: a.blocked ? 'blocked' : 'allowed',
      severity: a.severity,
      srcContainer: src,
      destContainer: dst,
      srcIp: formatEveIp(a.src, a.ipVersion),
      destIp: formatEveIp(a.dst, a.ipVersion),
      destPort: a.dstPort,
      proto: eveProtoName(a.ipProto),
    });
    if (this.alerts.length > this.maxAlerts) this.alerts.splice(0, this.alerts.length - this.maxAlerts);
  }

  snapshot(nowMs: number): MapSnapshot {
    const nodeIds = new Set<string>();
    const edges: MapEdge[] = [];
    for (const e of this.edges.values()) {
      this.sample(e, nowMs);
      nodeIds.add(e.src);
      nodeIds.add(e.dst);
      const first = e.samples[0]!;
      const dt = (nowMs - first[0]) / 1000;
      edges.push({
        src: e.src,
        dst: e.dst,
        appProtos: [...e.appProtos].sort(),
        packets: e.packets,
        bytes: e.bytes,
        blockedPackets: e.blockedPackets,
        flows: e.flows,
        alerts: e.alerts,
        packetsPerSec: dt > 0 ? (e.packets - first[1]) / dt : 0,
        bytesPerSec: dt > 0 ? (e.bytes - first[2]) / dt : 0,
        blocked: e.blockedPackets > 0 || e.blockedAlerts > 0,
      });
    }
    const nodes: MapNode[] = [...nodeIds].sort().map((id) => {
      const c = this.containers.get(id);
      const n: MapNode = { id, alerts: this.nodeAlerts.get(id) ?? 0 };
      if (c?.image !== undefined) n.image = c.image;
      if (c?.network !== undefined) n.network = c.network;
      return n;
    });
    return { generatedAt: new Date(nowMs).toISOString(), nodes, edges, alerts: this.alerts.slice().reverse() };
  }

  private edge(src: string, dst: string, nowMs: number): EdgeState {
    const key = `${src}\u0000${dst}`;
    let e = this.edges.get(key);
    if (e) {
      // Keep the map ordered by last activity, so the bound evicts the stalest edge.
      this.edges.delete(key);
      this.edges.set(key, e);
    } else {
      if (this.edges.size >= this.maxEdges) this.edges.delete(this.edges.keys().next().value as string);
      // Workers report about once a second, so a new edge's first traffic is taken as one
      // second's worth: seed a zero sample a second back, so its rate shows at once.
      e = { src, dst, appProtos: new Set(), packets: 0, bytes: 0, blockedPackets: 0, flows: 0, alerts: 0, blockedAlerts: 0, samples: [[nowMs - 1000, 0, 0]] };
      this.edges.set(key, e);
    }
    return e;
  }

  /** One sample per second at most; drop samples older than the window (keep one). */
  private sample(e: EdgeState, nowMs: number): void {
    const last = e.samples[e.samples.length - 1];
    if (!last || nowMs - last[0] >= 1000) e.samples.push([nowMs, e.packets, e.bytes]);
    while (e.samples.length > 1 && nowMs - e.samples[1]![0] >= this.windowMs) e.samples.shift();
  }
}
