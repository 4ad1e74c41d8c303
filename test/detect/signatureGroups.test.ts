// Signature groups (src/detect/signatureGroups.ts): a packet's group must hold every signature
// that can match it. Checked three ways: the group picked for hand-made packets; over ET Open,
// every signature whose protocol, flow keyword and ports allow a (direction, port) is in that
// group, judged by the real keyword code (FlowMatch.match, PortSet.match) rather than the
// grouping's own rules; and random packets through a random rule mix (port lists, ranges,
// negations, `<>`, every flow option, pass rules, no-fast-pattern rules, app-layer buffers,
// stream windows) give the same alerts, in the same order, with the same verdicts, as an engine
// with one group per protocol (DetectConfig.signatureGroups 'protocol'), from fewer evaluated
// candidates.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { corpusPath } from '../support/corpus';
import { BufferId } from '../../src/detect/buffers';
import { defaultDetectConfig, type DetectConfig } from '../../src/detect/detectConfig';
import { FlowState } from '../../src/detect/detectContext';
import { DetectEngine } from '../../src/detect/detectEngine';
import { FlowMatch } from '../../src/detect/keywords/flow';
import { loadRuleFiles, loadRuleSources } from '../../src/detect/ruleLoader';
import type { Signature } from '../../src/detect/signature';
import { groupSignatures, type SignatureGroup } from '../../src/detect/signatureGroups';
import { packet, TestContext } from './detectFixture';

function compile(rules: string, layout?: 'port' | 'protocol', config: DetectConfig = defaultDetectConfig()): DetectEngine {
  const cfg = { ...config, signatureGroups: layout };
  const set = loadRuleSources([{ file: 'test.rules', text: rules }], cfg);
  if (set.errors.length) throw set.errors[0];
  if (set.skipped.length) throw new Error(`skipped: ${set.skipped[0]!.reason}`);
  return DetectEngine.compile(set, cfg);
}

function sidsOf(e: DetectEngine, g: SignatureGroup): number[] {
  return [...groupSignatures(g)].map((n) => e.signatures[n]!.sid).sort((a, b) => a - b);
}

function ctxOf(e: DetectEngine, spec: Parameters<typeof packet>[0], flowState: number, toServer: boolean): TestContext {
  const c = new TestContext(packet(spec));
  c.flowState = flowState;
  c.toServer = toServer;
  c.flowDetect = flowState === FlowState.NONE ? null : e.newFlowState();
  return c;
}

const EST = FlowState.ESTABLISHED, NONE = FlowState.NONE;

test('group selection: direction, server-side port, `<>`, negations, no flow, no ports', () => {
  const e = compile([
    'alert tcp any any -> any any (content:"a"; sid:1;)',
    'alert tcp any any -> any 445 (flow:to_server; content:"b"; sid:2;)',
    'alert tcp any 80 -> any any (flow:to_client; content:"c"; sid:3;)',
    'alert tcp any any -> any !80 (content:"d"; sid:4;)',
    'alert tcp any any <> any 8080 (content:"e"; sid:5;)',
    'alert tcp any any -> any [1000:2000,!1500] (flags:S; sid:6;)',
    'alert tcp any any -> any any (flow:established; content:"f"; sid:7;)',
    'alert tcp any any -> any any (flow:stateless; content:"g"; sid:8;)',
    'alert ip any any -> any any (content:"h"; sid:9;)',
    'alert udp any any -> any 53 (content:"i"; sid:10;)',
    'alert tcp any 1024: -> any any (content:"j"; sid:11;)',
  ].join('\n'));
  const at = (dport: number, sport: number, flow: number, toServer: boolean, proto = 6): number[] =>
    sidsOf(e, e.groupFor(ctxOf(e, { proto, sport, dport }, flow, toServer)));
  // to_server: the destination port; `-> any !80` and `<> 8080` by destination (or, for `<>`, either side).
  // (`any any <> any 8080` is in every group: its reverse has `any` on the server side.)
  assert.equal(at(445, 40000, EST, true), [1, 2, 4, 5, 7, 8, 9, 11], 'to_server 445');
  assert.equal(at(80, 40000, EST, true), [1, 5, 7, 8, 9, 11], 'to_server 80');
  assert.equal(at(8080, 40000, EST, true), [1, 4, 5, 7, 8, 9, 11]);
  assert.equal(at(1499, 40000, EST, true), [1, 4, 5, 6, 7, 8, 9, 11]);
  assert.equal(at(1500, 40000, EST, true), [1, 4, 5, 7, 8, 9, 11], 'negated inside a range');
  // to_client: the source port (the server's); rules with `any` source port are in every group.
  assert.equal(at(40000, 80, EST, false), [1, 3, 4, 5, 6, 7, 8, 9], 'to_client from 80');
  assert.equal(at(40000, 445, EST, false), [1, 4, 5, 6, 7, 8, 9]);
  assert.equal(at(40000, 1024, EST, false), [1, 4, 5, 6, 7, 8, 9, 11], 'sport 1024:');
  assert.equal(at(40000, 1023, EST, false), [1, 4, 5, 6, 7, 8, 9], 'sport 1024: not at 1023');
  // No flow: flow:to_* and flow:established cannot match; a lone stateless can.
  assert.equal(at(445, 40000, NONE, true), [1, 4, 5, 8, 9, 11]);
  assert.equal(at(445, 40000, NONE, false), [1, 4, 5, 8, 9, 11], 'no flow: toServer is ignored');
  assert.equal(at(80, 40000, NONE, true), [1, 5, 8, 9, 11]);
  // UDP and other protocols.
  assert.equal(at(53, 40000, EST, true, 17), [9, 10]);
  assert.equal(at(54, 40000, EST, true, 17), [9]);
  assert.equal(at(0, 0, EST, true, 1), [9]);
  // A TCP packet whose header was not decoded: only rules with `any` ports.
  const c = ctxOf(e, { sport: 40000, dport: 445 }, EST, true);
  c.packet.l4Offset = -1;
  assert.equal(sidsOf(e, e.groupFor(c)), [1, 7, 8, 9]);
  // Groups: one per distinct set of rules, automata shared within a class.
  assert.ok(e.stats.groups > 10 && e.stats.automata < e.stats.prefilterMaps, JSON.stringify(e.stats));
  const p = compile('alert tcp any any -> any 445 (flow:to_server; content:"b"; sid:2;)\nalert udp any any -> any any (content:"b"; sid:3;)', 'protocol');
  assert.is(p.stats.groups, 5, 'protocol layout: one group per protocol class');
  assert.equal(sidsOf(p, p.groupFor(ctxOf(p, { sport: 80, dport: 40000 }, EST, false))), [2]);
});

test('group signatures keep the global order (always list and each pattern)', () => {
  const rules: string[] = [];
  for (let i = 0; i < 40; i++) {
    const ports = i % 3 === 0 ? 'any' : i % 3 === 1 ? '80' : '[80,443]';
    rules.push(i % 4 === 0
      ? `alert tcp any any -> any ${ports} (flags:S; priority:${1 + (i % 5)}; sid:${i + 1};)`
      : `${i % 7 === 0 ? 'pass' : 'alert'} tcp any any -> any ${ports} (content:"same"; priority:${1 + (i % 5)}; sid:${i + 1};)`);
  }
  const e = compile(rules.join('\n'));
  const g = e.groupFor(ctxOf(e, { sport: 40000, dport: 80 }, EST, true));
  const asc = (a: ArrayLike<number>): boolean => Array.from(a).every((v, i, x) => i === 0 || x[i - 1]! < v);
  assert.ok(g.always.length === 10 && asc(g.always));
  const pf = g.payloadPrefilter!;
  assert.is(pf.sigIds.length, 30);
  assert.ok(asc(pf.sigIds));
});

/** Whether `sig`'s flow keyword lets it match some packet of a direction class (FlowMatch itself decides). */
function flowAllows(sig: Signature, dir: 'ts' | 'tc' | 'none'): boolean {
  return [EST, FlowState.NEW].some((state) => {
    const c = new TestContext(packet({}));
    c.flowState = dir === 'none' ? NONE : state;
    c.toServer = dir !== 'tc';
    return sig.packetMatches.every((m) => !(m instanceof FlowMatch) || m.match(c));
  });
}

/** Whether `sig`'s ports let it match a packet whose server-side port is `port` (-1: no ports). */
function portsAllow(sig: Signature, dir: 'ts' | 'tc' | 'none', port: number): boolean {
  if (port < 0) return sig.sport.any && sig.dport.any;
  // The server-side port is the destination of to_server / no-flow packets, the source of to_client ones.
  const [near, far] = dir === 'tc' ? [sig.sport, sig.dport] : [sig.dport, sig.sport];
  return near.match(port) || (sig.bidirectional && far.match(port));
}

test('ET Open: every signature that can match a direction and port is in its group', () => {
  const cfg = defaultDetectConfig();
  cfg.addressVars.set('HOME_NET', 'any');
  cfg.addressVars.set('EXTERNAL_NET', 'any');
  const e = DetectEngine.compile(loadRuleFiles([corpusPath('et-open', 'et-open.rules')], cfg), cfg);
  // Every bound of every rule's port ranges, its neighbours, and some others.
  const ports = new Set<number>([0, 1, 80, 443, 445, 6379, 40000, 65535]);
  for (const s of e.signatures) {
    for (const ps of [s.sport, s.dport]) {
      for (const v of ps.ranges) for (const d of [-1, 0, 1]) if (v + d >= 0 && v + d <= 65535) ports.add(v + d);
    }
  }
  const sets = new Map<SignatureGroup, Set<number>>();
  const setOf = (g: SignatureGroup): Set<number> => {
    let s = sets.get(g);
    if (!s) { s = groupSignatures(g); sets.set(g, s); }
    return s;
  };
  let checked = 0;
  for (const proto of [6, 17]) {
    const inProto = e.signatures.filter((s) => s.ipProtos.length === 0 || s.ipProtos.includes(proto));
    for (const dir of ['ts', 'tc', 'none'] as const) {
      const candidates = inProto.filter((s) => flowAllows(s, dir));
      for (const port of [...ports, -1]) {
        const portless = port < 0;
        const c = new TestContext(packet({ proto, sport: dir === 'tc' ? port : 40000, dport: dir === 'tc' ? 40000 : port }));
        c.flowState = dir === 'none' ? NONE : EST;
        c.toServer = dir !== 'tc';
        if (portless) c.packet.l4Offset = -1;
        const members = setOf(e.groupFor(c));
        for (const s of candidates) {
          if (portsAllow(s, dir, port) && !members.has(s.num)) {
            assert.unreachable(`sid ${s.sid} (${s.text.slice(0, 80)}) missing from ${proto}/${dir}/port ${port}`);
          }
        }
        checked++;
      }
    }
  }
  // And the groups are tighter than the protocol: to_server port 80 leaves out to_client rules
  // and rules for other ports only.
  const c80 = new TestContext(packet({ sport: 40000, dport: 80 }));
  const g80 = setOf(e.groupFor(c80));
  const tcp = e.signatures.filter((s) => s.ipProtos.length === 0 || s.ipProtos.includes(6));
  const toClient = tcp.filter((s) => s.flowDirection === 2).length;
  const only445 = tcp.filter((s) => !s.bidirectional && s.dport.ranges.length === 2 && s.dport.ranges[0] === 445 && s.dport.ranges[1] === 445).length;
  assert.ok(toClient > 1000 && only445 > 100);
  assert.ok(g80.size <= tcp.length - toClient - only445, `${g80.size} of ${tcp.length}`);
  process.stdout.write(`\n  ET Open: ${e.stats.groups} groups, ${e.stats.automata} automata, ${e.stats.prefilterMaps} maps; ` +
    `${checked} (protocol, direction, port) groups checked; TCP to_server port 80 holds ${g80.size} of ${tcp.length} TCP signatures\n`);
});

// ---- random packets through a random rule mix, grouped vs one group per protocol ----

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
const PORT_SPECS = ['any', 'any', 'any', '80', '443', '445', '[80,443]', '1024:65535', '1024:', ':1023', '!80', '![80,443]',
  '[1000:2000,!1500]', '$HTTP_PORTS', '$SHELLCODE_PORTS', '[21,22,23]', '0', '65535', '[!445,any]'];
const FLOWS = ['', '', 'flow:to_server;', 'flow:to_client;', 'flow:established;', 'flow:established,to_server;',
  'flow:established,to_client;', 'flow:stateless;', 'flow:not_established;'];
/** TCP payload rules also get the stream options. */
const TCP_FLOWS = [...FLOWS, 'flow:to_server,no_stream;', 'flow:only_stream;', 'flow:established,to_client,only_stream;'];
const PORT_POOL = [0, 1, 21, 22, 23, 80, 443, 445, 999, 1000, 1023, 1024, 1499, 1500, 1501, 2000, 2001, 8080, 40000, 65535];

function ruleMix(r: () => number, n: number): string {
  const pick = <T>(a: readonly T[]): T => a[r() % a.length]!;
  const out: string[] = [];
  for (let sid = 1; sid <= n; sid++) {
    const kind = r() % 10;
    const action = r() % 12 === 0 ? 'pass' : 'alert';
    const dir = r() % 8 === 0 ? '<>' : '->';
    const flow = pick(FLOWS);
    const word = pick(WORDS);
    if (kind === 0) {
      out.push(`${action} tcp any ${pick(PORT_SPECS)} ${dir} any ${pick(PORT_SPECS)} (${flow}flags:S; sid:${sid};)`);
    } else if (kind === 1) {
      out.push(`${action} ${pick(['tcp', 'udp', 'ip'])} any ${pick(PORT_SPECS)} ${dir} any ${pick(PORT_SPECS)} (${flow}dsize:>${r() % 20}; sid:${sid};)`);
    } else if (kind === 2) {
      out.push(`${action} http any any -> any any (${r() % 2 ? 'flow:to_server;' : ''}http.uri; content:"${word}"; sid:${sid};)`);
    } else if (kind === 3) {
      out.push(`${action} http any any -> any any (${pick(['', 'flow:to_client;', 'flow:established;'])}file.data; content:"${word}"; sid:${sid};)`);
    } else if (kind === 4) {
      out.push(`${action} icmp any any -> any any (content:"${word}"; sid:${sid};)`);
    } else {
      const proto = pick(['tcp', 'tcp', 'udp', 'ip']);
      const f = proto === 'tcp' ? pick(TCP_FLOWS) : flow;
      const depth = r() % 5 === 0 ? ' depth:20;' : '';
      out.push(`${action} ${proto} any ${pick(PORT_SPECS)} ${dir} any ${pick(PORT_SPECS)} (${f}content:"${word}";${depth} sid:${sid};)`);
    }
  }
  return out.join('\n');
}

function text(r: () => number, words: number): string {
  let s = '';
  for (let i = 0; i < words; i++) s += r() % 3 === 0 ? WORDS[r() % WORDS.length]! : 'xyz0123'.slice(r() % 5);
  return s;
}

/** One random packet and its context, the same for both engines (each with its own flow state). */
class Ctx extends TestContext {
  streamAdded = false;
}

function randomContext(r: () => number, e: DetectEngine): Ctx {
  const proto = [6, 6, 6, 17, 17, 1][r() % 6]!;
  const sport = r() % 4 === 0 ? r() % 65536 : PORT_POOL[r() % PORT_POOL.length]!;
  const dport = r() % 4 === 0 ? r() % 65536 : PORT_POOL[r() % PORT_POOL.length]!;
  const c = new Ctx(packet({ proto, sport, dport, payload: text(r, r() % 8), flags: r() % 4 === 0 ? 0x02 : 0x18 }));
  if (r() % 20 === 0) c.packet.l4Offset = -1;
  c.flowState = [NONE, FlowState.NEW, EST, EST, FlowState.CLOSED][r() % 5]!;
  c.toServer = r() % 2 === 0;
  c.flowDetect = c.flowState === NONE ? null : e.newFlowState();
  if (proto === 6 && c.flowState !== NONE && r() % 3 === 0) {
    c.stream = Buffer.from(text(r, 1 + (r() % 8)), 'latin1');
    c.streamAdded = r() % 2 === 0;
  }
  if (proto === 6 && c.flowState !== NONE && r() % 3 === 0) {
    c.appProto = 'http';
    c.txId = 0;
    c.buffers.set(BufferId.HTTP_URI, [Buffer.from(`/${text(r, 2)}`, 'latin1')]);
    if (r() % 2 === 0) c.buffers.set(BufferId.FILE_DATA, [Buffer.from(text(r, 4), 'latin1')]);
  }
  return c;
}

/** The same packet and context for another engine (its own flow state). */
function copyFor(c: Ctx, e: DetectEngine): Ctx {
  const d = new Ctx(c.packet);
  Object.assign(d, c);
  d.flowDetect = c.flowDetect === null ? null : e.newFlowState();
  return d;
}

test('random rules and packets: the same alerts and verdicts as one group per protocol, fewer candidates', () => {
  let alerts = 0, passes = 0, packets = 0;
  const alerted = new Set<number>();
  let groupedWork = 0, protocolWork = 0;
  for (let round = 0; round < 6; round++) {
    const r = rng(0x5eed + round * 7919);
    const rules = ruleMix(r, 160);
    const grouped = compile(rules, 'port');
    const single = compile(rules, 'protocol');
    assert.ok(grouped.stats.groups > single.stats.groups);
    for (let i = 0; i < 1500; i++) {
      const c1 = randomContext(r, grouped);
      const c2 = copyFor(c1, single);
      const a = grouped.inspect(c1);
      const got = a.alerts.slice(0, a.alertCount).map((x) => x.sid).join(',') + ` v${a.verdict} s${a.suppressed}`;
      const b = single.inspect(c2);
      const want = b.alerts.slice(0, b.alertCount).map((x) => x.sid).join(',') + ` v${b.verdict} s${b.suppressed}`;
      if (got !== want) {
        const p = c1.packet;
        assert.unreachable(`round ${round} packet ${i} (proto ${p.ipProto} ${p.srcPort}->${p.dstPort} flow ${c1.flowState} toServer ${c1.toServer} ` +
          `l4 ${p.l4Offset}): grouped [${got}] vs per protocol [${want}]`);
      }
      alerts += a.alertCount;
      for (let k = 0; k < a.alertCount; k++) alerted.add(round * 1000 + a.alerts[k]!.sid);
      if (a.verdict === 3 || (c1.flowDetect?.passed ?? false)) passes++;
      packets++;
    }
    groupedWork += grouped.prefilterCandidates + grouped.alwaysEvaluated;
    protocolWork += single.prefilterCandidates + single.alwaysEvaluated;
  }
  // The comparison means something only if plenty alerted, of many different rules.
  assert.ok(alerts > 3000, `${alerts} alerts`);
  assert.ok(alerted.size > 6 * 160 * 0.5, `${alerted.size} of ${6 * 160} rules alerted`);
  assert.ok(passes > 50, `${passes} passes`);
  assert.ok(groupedWork < protocolWork * 0.8, `evaluated ${groupedWork} grouped vs ${protocolWork}`);
  process.stdout.write(`\n  ${packets} packets, ${alerts} alerts from ${alerted.size} rules; signatures evaluated: ` +
    `${groupedWork} grouped vs ${protocolWork} per protocol\n`);
});

test.run();
