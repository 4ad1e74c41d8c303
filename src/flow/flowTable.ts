// The flow table: finds (or creates) the Flow of each packet, bounded in size by an LRU, and
// expires idle flows by Suricata's per-state timeouts on packet time (so a pcap replay ages
// flows the way the capture did, not the way the wall clock does).
//
// Keys are the 52-bit symmetric hashes of flowKey.ts, keyed by a per-process random seed; the
// LRU maps a hash to the head of a chain of flows sharing it (a collision is astronomically
// rare but handled exactly). The LRU bound counts chains and each chain holds at most
// `maxChain` flows (the oldest is evicted when a new one would exceed it — counted in
// stats.chainEvicted), so a lookup walks at most maxChain flows and the table holds at most
// maxFlows × maxChain flows even if an attacker learns the seed. When the LRU is full the
// least recently used chain is evicted (counted, reported through onFlowEnd).
import { LRUCache } from 'lru-cache';
import { IpProto, Packet, TcpFlag } from '../decode/packet';
import { Flow, FlowState } from './flow';
import { flowHash, type FlowHashSeed, flowKeyInit, flowKeyMatch, KeyMatch, randomFlowHashSeed } from './flowKey';
import { FlowTimeouts, flowTimeout, SURICATA_FLOW_TIMEOUTS } from './flowTimeouts';

export type FlowEndReason = 'timeout' | 'evicted' | 'reused' | 'shutdown';

export interface FlowTableOptions {
  /** Most flows kept (Suricata sizes by memcap; 65536 flows is its default hash size). */
  maxFlows?: number;
  timeouts?: FlowTimeouts;
  /** Flows sharing one hash kept at most (default 8); the oldest goes first. */
  maxChain?: number;
  /** Hash key; random per table unless given (tests fix it to craft collisions). */
  hashSeed?: FlowHashSeed;
  /** Called once for every flow that leaves the table, whatever the reason. */
  onFlowEnd?: (flow: Flow, reason: FlowEndReason) => void;
}

export class FlowStats {
  created = 0;
  /** Flows in the table now. */
  active = 0;
  timedOut = 0;
  /** Removed because the table was full (LRU) or their hash chain was (chainEvicted). */
  evicted = 0;
  /** Of `evicted`: removed because maxChain flows already shared their hash (hash flooding). */
  chainEvicted = 0;
  /** A TCP SYN reopened a 5-tuple whose previous session was closed. */
  reused = 0;
  /** IP packets that could not belong to a flow (fragment, transport header not decoded). */
  noFlow = 0;
}

/** The reused answer of FlowTable.lookup(); valid until the next lookup. */
export class FlowLookup {
  flow: Flow = new Flow();
  /** The packet goes client → server. */
  toServer = true;
  /** The packet created the flow. */
  created = false;
}

export class FlowTable {
  readonly stats = new FlowStats();
  readonly timeouts: FlowTimeouts;
  private readonly lru: LRUCache<number, Flow>;
  private readonly onFlowEnd: ((flow: Flow, reason: FlowEndReason) => void) | undefined;
  private readonly result = new FlowLookup();
  private readonly scratch: Flow[] = [];
  /**
   * Every flow in the table, in no order: the timeout sweep walks this dense array (a few ns
   * per flow) instead of iterating the LRU (measured 9–27 ms per sweep at 60k flows, a stall
   * of the packet path once a second). Removal swaps the last entry in (Flow.tableSlot).
   */
  private readonly all: Flow[] = [];
  /** Lookups so far: stamps Flow.lastTouch, so expired flows end in LRU order (most recent first). */
  private touches = 0;
  private readonly maxChain: number;
  private readonly seed0: number;
  private readonly seed1: number;

  constructor(options: FlowTableOptions = {}) {
    this.timeouts = options.timeouts ?? SURICATA_FLOW_TIMEOUTS;
    this.maxChain = Math.max(1, options.maxChain ?? 8);
    const seed = options.hashSeed ?? randomFlowHashSeed();
    this.seed0 = seed[0] | 0;
    this.seed1 = seed[1] | 0;
    this.onFlowEnd = options.onFlowEnd;
    this.lru = new LRUCache<number, Flow>({
      max: options.maxFlows ?? 65536,
      // Only capacity evictions end flows here; deletes and replacements are our own moves.
      dispose: (head, _key, reason) => {
        if (reason !== 'evict') return;
        for (let f: Flow | null = head; f !== null; f = f.next) {
          this.untrack(f);
          this.stats.evicted++;
          this.stats.active--;
          this.end(f, 'evicted');
        }
      },
    });
  }

  get size(): number {
    return this.stats.active;
  }

  /**
   * The flow of a decoded packet, created on first sight, with counters and timestamps
   * updated. Null for non-IP packets and for TCP/UDP/ICMP packets whose transport header
   * was not decoded (fragments, truncation) — they cannot be keyed; counted in stats.noFlow.
   */
  lookup(p: Packet): FlowLookup | null {
    if (p.ipVersion === 0) return null;
    const proto = p.ipProto;
    if ((proto === IpProto.TCP || proto === IpProto.UDP || proto === IpProto.ICMP || proto === IpProto.ICMPV6) && p.l4Offset < 0) {
      this.stats.noFlow++;
      return null;
    }
    const hash = flowHash(p, this.seed0, this.seed1);
    const head = this.lru.get(hash);
    let flow: Flow | null = null;
    let match: number = KeyMatch.NONE;
    let chainLength = 0;
    let last: Flow | null = null;
    for (let f = head ?? null; f !== null; f = f.next) {
      chainLength++;
      last = f;
      match = flowKeyMatch(f, p);
      if (match !== KeyMatch.NONE) {
        flow = f;
        break;
      }
    }
    const r = this.result;
    r.created = false;
    if (flow !== null && proto === IpProto.TCP && flow.state === FlowState.CLOSED && (p.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN) {
      // A fresh SYN on a closed session starts a new flow (Suricata's TCP session reuse).
      this.remove(flow);
      this.stats.reused++;
      this.end(flow, 'reused');
      flow = null;
      chainLength = 0; // the chain just lost a flow: room for the new one

    }
    if (flow === null) {
      if (chainLength >= this.maxChain && last !== null) {
        // Only colliding keys get here: evict the chain's oldest flow (new flows go first).
        this.remove(last);
        this.stats.evicted++;
        this.stats.chainEvicted++;
        this.end(last, 'evicted');
      }
      flow = new Flow();
      flowKeyInit(flow, p, hash);
      flow.id = flowId(hash, p.tsSec, p.tsUsec);
      flow.startSec = p.tsSec;
      flow.startUsec = p.tsUsec;
      const chain = this.lru.get(hash);
      flow.next = chain ?? null;
      this.lru.set(hash, flow);
      this.track(flow);
      this.stats.created++;
      this.stats.active++;
      r.created = true;
      match = KeyMatch.TO_SERVER;
    }
    const len = p.capturedLength;
    if (match === KeyMatch.TO_SERVER) {
      flow.pktsToServer++;
      flow.bytesToServer += len;
    } else {
      flow.pktsToClient++;
      flow.bytesToClient += len;
      // Suricata: a non-TCP flow is established once both sides have spoken.
      if (proto !== IpProto.TCP && flow.state === FlowState.NEW) flow.state = FlowState.ESTABLISHED;
    }
    flow.lastSec = p.tsSec;
    flow.lastUsec = p.tsUsec;
    flow.lastTouch = ++this.touches;
    r.flow = flow;
    r.toServer = match === KeyMatch.TO_SERVER;
    return r;
  }

  /** End every flow idle for at least its timeout at time nowSec (packet time). Returns how many. */
  expire(nowSec: number): number {
    const list = this.scratch;
    list.length = 0;
    const all = this.all;
    for (let i = 0; i < all.length; i++) {
      const f = all[i]!;
      if (nowSec - f.lastTime >= flowTimeout(this.timeouts, f)) list.push(f);
    }
    // The order flows end in is visible (pseudo-packet alerts, thresholds): most recent first,
    // as a walk of the LRU gave it.
    if (list.length > 1) list.sort(byRecencyDescending);
    for (const f of list) {
      this.remove(f);
      this.stats.timedOut++;
      this.end(f, 'timeout');
    }
    const n = list.length;
    list.length = 0;
    return n;
  }

  /** End all flows (end of a pcap, shutdown). */
  flush(): number {
    const list = this.scratch;
    list.length = 0;
    for (const head of this.lru.values()) for (let f: Flow | null = head; f !== null; f = f.next) list.push(f);
    for (const f of list) {
      this.remove(f);
      this.end(f, 'shutdown');
    }
    const n = list.length;
    list.length = 0;
    return n;
  }

  /** All flows, most recently used first (cold path: tests, dumps). */
  *flows(): IterableIterator<Flow> {
    for (const head of this.lru.values()) for (let f: Flow | null = head; f !== null; f = f.next) yield f;
  }

  private remove(flow: Flow): void {
    const head = this.lru.peek(flow.hash);
    if (head === undefined) return;
    if (head === flow) {
      if (flow.next === null) this.lru.delete(flow.hash);
      else this.lru.set(flow.hash, flow.next, { noDisposeOnSet: true });
    } else {
      let prev = head;
      while (prev.next !== null && prev.next !== flow) prev = prev.next;
      if (prev.next === flow) prev.next = flow.next;
    }
    flow.next = null;
    this.untrack(flow);
    this.stats.active--;
  }

  private track(flow: Flow): void {
    flow.tableSlot = this.all.length;
    this.all.push(flow);
  }

  private untrack(flow: Flow): void {
    const i = flow.tableSlot;
    if (i < 0) return;
    const last = this.all.pop()!;
    if (last !== flow) {
      this.all[i] = last;
      last.tableSlot = i;
    }
    flow.tableSlot = -1;
  }

  private end(flow: Flow, reason: FlowEndReason): void {
    if (this.onFlowEnd !== undefined) this.onFlowEnd(flow, reason);
  }
}

function byRecencyDescending(a: Flow, b: Flow): number {
  return b.lastTouch - a.lastTouch;
}

/**
 * A stable id below 2^51 (JSON-safe), in the spirit of Suricata's FlowGetId: hash bits above
 * the start time's low bits, so one 5-tuple reused later gets a different id.
 */
function flowId(hash: number, tsSec: number, tsUsec: number): number {
  const hi = Math.floor(hash / 0x2000000) % 0x80000; // 19 bits of the hash
  const lo = (((tsSec & 0xffff) << 16) | (tsUsec & 0xffff)) >>> 0;
  const id = hi * 0x100000000 + lo;
  return id === 0 ? 1 : id;
}
