// Signature group heads: at compile time, which signatures a packet can possibly match, by IP
// protocol, flow direction and service port, each group with its own always-evaluated list and
// prefilters (Suricata detect-engine-build.c, "rule group building": SigGroupHeads per
// protocol, to_server / to_client and port ranges, each with its own MPM contexts).
//
// A packet's group must hold every signature that can match it, so the classes follow exactly
// what the engine tests (DetectEngine.matchHeader, the flow keyword), not rule-writing habits:
// - protocol: the rule's ipProtos ('ip' rules are in every protocol class);
// - direction: packets of a flow going to the server, to the client, and packets without a
//   flow. flow:to_server rules are only in the first, flow:to_client only in the second
//   (FlowMatch fails otherwise); a flow keyword other than a lone `stateless` keeps a rule out
//   of the no-flow class. App-layer buffers imply no direction here: Lateral keeps request
//   buffers readable on response packets, so a rule without flow:to_* can match either way.
// - port (TCP, UDP): the server-side port as the packet carries it, Suricata's choice: the
//   destination port of to_server packets (and of packets without a flow), the source port of
//   to_client ones. A rule is in a port's group when its port set on that side (dport for
//   to_server, sport for to_client; either for `<>` rules) holds the port. Ports are cut into
//   the elementary ranges the rules' port sets bound; ranges with the same rules share a group
//   (Suricata DetectPortInsert + SigGroupHead dedup). Suricata also merges its least used
//   ranges into one "other" group (toserver-groups: 25) to bound its MPM contexts; here the
//   automata do not multiply with the ports (below), so every range keeps its exact group.
//   Packets whose L4 header was not decoded use the group of the rules with `any` ports.
//
// Automata: one per (protocol, direction, buffer), over the fast patterns of the whole class;
// the port groups of a class share it and differ only in the pattern → signature map (a
// pattern whose signatures cannot match that port maps to none). Packets without a flow use
// the to_server automata (their rules are a subset). An automaton with the same pattern set,
// or with at most NEAR_COPY_EXTRA more, serves other classes too. So ports cost maps (a few
// Int32Arrays), never near-copies of the multi-MiB automata. Inside a group, signature numbers
// stay in the global order.

import { AhoCorasick } from './ahoCorasick';
import { BufferId } from './buffers';
import { FlowMatch } from './keywords/flow';
import { portRangesUnion } from './portSet';
import type { Signature } from './signature';

/** One prefilter: an automaton over fast patterns, each pattern mapped to a group's signatures. */
export interface Prefilter {
  bufferId: number;
  ac: AhoCorasick;
  /** Pattern id → its signature nums: sigIds[sigStart[id], sigStart[id + 1]) (empty: none in this group). */
  sigStart: Int32Array;
  sigIds: Int32Array;
  /**
   * Per pattern: the inspect() stamp that last expanded it (a pattern's signatures once per
   * packet). Shared by the maps of one automaton and list: a packet uses one group, so one of them.
   */
  patternStamp: Uint32Array;
}

export interface SignatureGroup {
  /** Signature nums evaluated on every packet of the group (no fast pattern), ascending. */
  always: Int32Array;
  /** App-layer buffer prefilters (not the payload). */
  prefilters: Prefilter[];
  payloadPrefilter: Prefilter | null;
  /**
   * The payload fast patterns of the signatures that inspect the packet itself (inspectsPacket):
   * all a payload that went into the stream can make candidates of (DetectEngine.inspect).
   */
  packetPrefilter: Prefilter | null;
}

/** How a protocol × direction class picks its group from the packet's port. */
export interface GroupSelector {
  /** port → index into portGroups; null when the class has no port dimension. */
  portTable: Uint16Array | null;
  portGroups: SignatureGroup[];
  /** Packets of the class without a decoded L4 header, or the class's only group. */
  portless: SignatureGroup;
}

/**
 * 'port' (default): protocol × direction × service port, as above. 'protocol': one group per
 * IP protocol (the layout before session 4), kept so tests can check the grouped engine
 * against it.
 */
export type GroupLayout = 'port' | 'protocol';

export const PROTO_CLASS_COUNT = 5;
/** Protocol classes: TCP, UDP, ICMP, ICMPv6, anything else (only 'ip' rules). */
const PROTO_CLASSES = [6, 17, 1, 58, -1];
export function protoClassOf(ipProto: number): number {
  return ipProto === 6 ? 0 : ipProto === 17 ? 1 : ipProto === 1 ? 2 : ipProto === 58 ? 3 : 4;
}

/** Direction classes; selectors are indexed protoClass * DIR_CLASS_COUNT + direction class. */
export const DirClass = { TO_SERVER: 0, TO_CLIENT: 1, NO_FLOW: 2 } as const;
export const DIR_CLASS_COUNT = 3;

export interface SignatureGroups {
  selectors: GroupSelector[];
  /** Every distinct group. */
  groups: SignatureGroup[];
  /** Every distinct prefilter (shared between groups where their maps are equal). */
  prefilters: Prefilter[];
  automata: number;
  /** Patterns over all distinct automata. */
  patterns: number;
  /** Automaton states over all distinct automata. */
  states: number;
  /** Most app-layer prefilters in one group (slots for per-flow progressive scan state). */
  maxAppPrefilters: number;
}

/** Whether a rule has a flow condition that cannot hold without a flow (FlowMatch.match). */
function needsFlow(s: Signature): boolean {
  return s.packetMatches.some((m) => m instanceof FlowMatch && !(m.stateless && m.dir === 0 && m.state === 0));
}

/** The prefilter key of a fast pattern: the automaton matches case-insensitively. */
function patternKey(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1').toLowerCase();
}

interface Automaton {
  id: number;
  ac: AhoCorasick;
  idOf: Map<string, number>;
}

/** A class's automata: per buffer, plus the payload patterns of packet-inspecting rules. */
interface ClassAutomata {
  id: number;
  byBuffer: Map<number, Automaton>;
  packet: Automaton | null;
}

/** How many more patterns (share of its own) an automaton may have to serve another pattern set. */
const NEAR_COPY_EXTRA = 0.1;

class GroupBuilder {
  readonly groups: SignatureGroup[] = [];
  readonly prefilters: Prefilter[] = [];
  private readonly automata = new Map<string, Automaton>();
  private readonly maps = new Map<string, Prefilter>();
  private readonly stamps = new Map<string, Uint32Array>();
  private readonly fpKey: string[];
  private classCount = 0;
  patterns = 0;
  states = 0;
  maxAppPrefilters = 0;

  constructor(ordered: Signature[]) {
    this.fpKey = ordered.map((s) => (s.fastPattern ? patternKey(s.fastPattern.bytes) : ''));
  }

  get automatonCount(): number {
    return this.automata.size;
  }

  /**
   * An automaton that finds every pattern of `patterns`: an existing one with the same set, or
   * with a few more (at most NEAR_COPY_EXTRA of its patterns: a class whose set differs from
   * another's by a couple of direction-specific rules scans with that one, its maps ignore the
   * extra patterns), else a new one.
   */
  private automaton(patterns: Map<string, Uint8Array>): Automaton {
    const keys = [...patterns.keys()].sort();
    // Pattern keys are latin1 strings: U+0100 cannot occur in one.
    const key = keys.join('\u0100');
    let a = this.automata.get(key);
    if (a) return a;
    for (const b of this.automata.values()) {
      const n = b.ac.patternCount;
      if (n >= keys.length && n - keys.length <= n * NEAR_COPY_EXTRA && keys.every((k) => b.idOf.has(k))) return b;
    }
    const ac = new AhoCorasick(keys.map((k) => patterns.get(k)!));
    a = { id: this.automata.size, ac, idOf: new Map(keys.map((k, i) => [k, i])) };
    this.automata.set(key, a);
    this.patterns += ac.patternCount;
    this.states += ac.stateCount;
    return a;
  }

  /** The same automata for another class (its own maps). */
  sameAutomata(ca: ClassAutomata): ClassAutomata {
    return { ...ca, id: this.classCount++ };
  }

  /** The automata over the fast patterns of `members` (pattern ids in signature order). */
  classAutomata(members: Signature[]): ClassAutomata {
    const byBuffer = new Map<number, Map<string, Uint8Array>>();
    const packet = new Map<string, Uint8Array>();
    for (const s of members) {
      const fp = s.fastPattern;
      if (!fp) continue;
      const key = this.fpKey[s.num]!;
      let m = byBuffer.get(fp.bufferId);
      if (!m) { m = new Map(); byBuffer.set(fp.bufferId, m); }
      if (!m.has(key)) m.set(key, fp.bytes);
      if (fp.bufferId === BufferId.PAYLOAD && s.inspectsPacket && !packet.has(key)) packet.set(key, fp.bytes);
    }
    const out = new Map<number, Automaton>();
    for (const [bufferId, m] of byBuffer) out.set(bufferId, this.automaton(m));
    return { id: this.classCount++, byBuffer: out, packet: packet.size > 0 ? this.automaton(packet) : null };
  }

  /**
   * The prefilter of `sigs` (ascending, all with a fast pattern in `a`) for one list over
   * automaton `a`; `key` names the signature set within the class (equal keys: the same map;
   * two buffers can have the same automaton, so the list is part of the map's key).
   */
  private prefilter(bufferId: number, list: ListId, a: Automaton, sigs: Signature[], key: string): Prefilter {
    const mapKey = `${a.id}|${list}|${key}`;
    const known = this.maps.get(mapKey);
    if (known) return known;
    const n = a.ac.patternCount;
    const ids = new Int32Array(sigs.length);
    const sigStart = new Int32Array(n + 1);
    for (let i = 0; i < sigs.length; i++) {
      ids[i] = a.idOf.get(this.fpKey[sigs[i]!.num]!)!;
      sigStart[ids[i]! + 1]!++;
    }
    for (let id = 0; id < n; id++) sigStart[id + 1]! += sigStart[id]!;
    const fill = sigStart.slice(0, n);
    const sigIds = new Int32Array(sigs.length);
    // Signatures in ascending order: each pattern's list stays in signature order.
    for (let i = 0; i < sigs.length; i++) sigIds[fill[ids[i]!]!++] = sigs[i]!.num;
    const stampKey = `${a.id}|${list}`;
    let patternStamp = this.stamps.get(stampKey);
    if (!patternStamp) { patternStamp = new Uint32Array(n); this.stamps.set(stampKey, patternStamp); }
    const pf: Prefilter = { bufferId, ac: a.ac, sigStart, sigIds, patternStamp };
    this.maps.set(mapKey, pf);
    this.prefilters.push(pf);
    return pf;
  }

  /**
   * A group over the class automata `ca`. `parts`: its signatures split by where they are
   * evaluated; `keyOf(list)` names a prefilter's signature set within the class (lists whose
   * keys are equal share one map).
   */
  private group(parts: Parts, keyOf: (list: ListId) => string, ca: ClassAutomata): SignatureGroup {
    const prefilters: Prefilter[] = [];
    let payloadPrefilter: Prefilter | null = null;
    for (const [bufferId, sigs] of parts.byBuffer) {
      if (sigs.length === 0) continue;
      const pf = this.prefilter(bufferId, bufferId, ca.byBuffer.get(bufferId)!, sigs, keyOf(bufferId));
      if (bufferId === BufferId.PAYLOAD) payloadPrefilter = pf;
      else prefilters.push(pf);
    }
    const packetPrefilter = parts.packet.length > 0 ? this.prefilter(BufferId.PAYLOAD, PACKET_LIST, ca.packet!, parts.packet, keyOf(PACKET_LIST)) : null;
    const g: SignatureGroup = { always: Int32Array.from(parts.always, (s) => s.num), prefilters, payloadPrefilter, packetPrefilter };
    this.groups.push(g);
    this.maxAppPrefilters = Math.max(this.maxAppPrefilters, prefilters.length);
    return g;
  }

  /** One group for the whole class. */
  single(members: Signature[], ca: ClassAutomata): GroupSelector {
    return { portTable: null, portGroups: [], portless: this.group(partsOf(members), () => `${ca.id}`, ca) };
  }

  /**
   * Port groups of a TCP/UDP class. `serverIsDst`: the service port is the packet's destination
   * (to_server, no flow) or its source (to_client).
   */
  byPort(members: Signature[], ca: ClassAutomata, serverIsDst: boolean): GroupSelector {
    // Per rule: the ports on the server side it can match there (both sides for `<>`).
    const specific: Array<{ s: Signature; ranges: Uint16Array }> = [];
    const common: Signature[] = [];
    for (const s of members) {
      const ranges = s.bidirectional ? portRangesUnion([s.dport, s.sport]) : serverIsDst ? s.dport.ranges : s.sport.ranges;
      if (ranges.length === 2 && ranges[0] === 0 && ranges[1] === 65535) common.push(s);
      else specific.push({ s, ranges });
    }
    // Elementary ranges: cut at every bound of a port-specific rule; each range gets the
    // port-specific rules that cover it (in signature order).
    const cuts = new Set<number>([0]);
    for (const { ranges } of specific) {
      for (let i = 0; i < ranges.length; i += 2) {
        cuts.add(ranges[i]!);
        if (ranges[i + 1]! < 65535) cuts.add(ranges[i + 1]! + 1);
      }
    }
    const starts = [...cuts].sort((a, b) => a - b);
    const indexOf = new Map(starts.map((v, i) => [v, i]));
    const covering: Signature[][] = starts.map(() => []);
    for (const { s, ranges } of specific) {
      for (let k = 0; k < ranges.length; k += 2) {
        const last = ranges[k + 1]! < 65535 ? indexOf.get(ranges[k + 1]! + 1)! : starts.length;
        for (let i = indexOf.get(ranges[k]!)!; i < last; i++) covering[i]!.push(s);
      }
    }
    const base = partsOf(common);
    const portTable = new Uint16Array(65536);
    const portGroups: SignatureGroup[] = [];
    const byKey = new Map<string, number>();
    for (let i = 0; i < starts.length; i++) {
      const here = covering[i]!;
      const key = here.map((s) => s.num).join(',');
      let gi = byKey.get(key);
      if (gi === undefined) {
        gi = portGroups.length;
        byKey.set(key, gi);
        // Groups of this class differ only in their port-specific rules: those name the maps.
        const own = partsOf(here);
        const keyOf = (list: ListId): string => `${ca.id}:${(list === PACKET_LIST ? own.packet : own.byBuffer.get(list) ?? []).map((s) => s.num).join(',')}`;
        portGroups.push(this.group(mergeParts(base, own), keyOf, ca));
      }
      portTable.fill(gi, starts[i]!, i + 1 < starts.length ? starts[i + 1]! : 65536);
    }
    // Without ports only rules with `any` on both sides can match (DetectEngine.matchHeader).
    const portless = this.group(partsOf(members.filter((s) => s.sport.any && s.dport.any)), () => `${ca.id}:portless`, ca);
    return { portTable, portGroups, portless };
  }
}

/** A prefilter list: a BufferId, or the packet-inspecting payload patterns. */
type ListId = number;
const PACKET_LIST = -1;

/** Signatures split by where a group evaluates them; every list ascending. */
interface Parts {
  always: Signature[];
  byBuffer: Map<number, Signature[]>;
  packet: Signature[];
}

function partsOf(sigs: Signature[]): Parts {
  const parts: Parts = { always: [], byBuffer: new Map(), packet: [] };
  for (const s of sigs) {
    const fp = s.fastPattern;
    if (!fp) { parts.always.push(s); continue; }
    let l = parts.byBuffer.get(fp.bufferId);
    if (!l) { l = []; parts.byBuffer.set(fp.bufferId, l); }
    l.push(s);
    if (fp.bufferId === BufferId.PAYLOAD && s.inspectsPacket) parts.packet.push(s);
  }
  return parts;
}

/** Two ascending lists of distinct signatures, merged in signature order. */
function merge(a: Signature[], b: Signature[]): Signature[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: Signature[] = [];
  let i = 0, j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.num < b[j]!.num)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}

function mergeParts(a: Parts, b: Parts): Parts {
  const byBuffer = new Map(a.byBuffer);
  for (const [id, l] of b.byBuffer) byBuffer.set(id, merge(byBuffer.get(id) ?? [], l));
  return { always: merge(a.always, b.always), byBuffer, packet: merge(a.packet, b.packet) };
}

/** Builds the groups of `ordered` (signatures numbered in engine order: s.num = index). */
export function buildSignatureGroups(ordered: Signature[], layout: GroupLayout): SignatureGroups {
  const b = new GroupBuilder(ordered);
  const selectors: GroupSelector[] = [];
  for (const proto of PROTO_CLASSES) {
    const inProto = ordered.filter((s) => s.ipProtos.length === 0 || s.ipProtos.includes(proto));
    if (layout === 'protocol') {
      const sel = b.single(inProto, b.classAutomata(inProto));
      selectors.push(sel, sel, sel);
      continue;
    }
    const toServer = inProto.filter((s) => s.flowDirection !== 2);
    const toClient = inProto.filter((s) => s.flowDirection !== 1);
    const noFlow = inProto.filter((s) => s.flowDirection === 0 && !needsFlow(s));
    const tsAutomata = b.classAutomata(toServer);
    const tcAutomata = b.classAutomata(toClient);
    // No-flow rules are to_server rules too: they use the to_server automata, with their own maps.
    const nfAutomata = b.sameAutomata(tsAutomata);
    if (proto === 6 || proto === 17) {
      selectors.push(b.byPort(toServer, tsAutomata, true), b.byPort(toClient, tcAutomata, false), b.byPort(noFlow, nfAutomata, true));
    } else {
      selectors.push(b.single(toServer, tsAutomata), b.single(toClient, tcAutomata), b.single(noFlow, nfAutomata));
    }
  }
  return {
    selectors,
    groups: b.groups,
    prefilters: b.prefilters,
    automata: b.automatonCount,
    patterns: b.patterns,
    states: b.states,
    maxAppPrefilters: b.maxAppPrefilters,
  };
}

/** Every signature num a group can evaluate (its always list and every prefilter's). Cold: tests, tools. */
export function groupSignatures(g: SignatureGroup): Set<number> {
  const out = new Set<number>(g.always);
  for (const pf of [...g.prefilters, g.payloadPrefilter, g.packetPrefilter]) if (pf) for (const n of pf.sigIds) out.add(n);
  return out;
}
