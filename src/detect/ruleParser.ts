// Parses one Suricata rule into a Signature:
//   action proto src_addr src_port (->|<>) dst_addr dst_port (name:value; name; ...)
// Options are split at unescaped `;` (`\;` `\"` `\\` stay escaped for the keyword to read),
// then handed to the keyword table in order. Syntax errors throw LateralError naming
// file:line and the cause; keywords Lateral cannot evaluate exactly throw SkipRule so the
// rule is reported and left out whole, never half-loaded.

import { LateralError, type SourceLocation } from '../errors';
import { BufferId } from './buffers';
import type { DetectConfig } from './detectConfig';
import { parseAddressSet, type AddressSet } from './addressSet';
import { parsePortSet, type PortSet } from './portSet';
import { Action, RejectKind, type BufferMatch, type Signature } from './signature';
import { FlowbitTable, RuleBuilder, SkipRule } from './ruleBuilder';
import { KEYWORDS } from './keywords/registry';
import { ContentMatch } from './keywords/content';
import { BsizeMatch } from './keywords/bsize';
import { UintMode } from './ruleBuilder';
import { selectFastPattern } from './fastPatternSelect';

const ACTIONS: Record<string, [number, number]> = {
  alert: [Action.ALERT, RejectKind.NONE],
  drop: [Action.DROP, RejectKind.NONE],
  pass: [Action.PASS, RejectKind.NONE],
  reject: [Action.REJECT, RejectKind.SRC],
  rejectsrc: [Action.REJECT, RejectKind.SRC],
  rejectdst: [Action.REJECT, RejectKind.DST],
  rejectboth: [Action.REJECT, RejectKind.BOTH],
};

/** App-layer protocols Suricata 7 knows in a rule header, with the transports they run on. */
const APP_PROTOS: Record<string, number[]> = {
  http: [6], http1: [6], http2: [6], ftp: [6], 'ftp-data': [6], smtp: [6], imap: [6], pop3: [6], tls: [6],
  ssh: [6], dns: [6, 17], smb: [6], dcerpc: [6, 17], dhcp: [17], nfs: [6, 17], ntp: [17], tftp: [17],
  ikev2: [17], ike: [17], krb5: [6, 17], snmp: [17], sip: [17], rfb: [6], mqtt: [6], rdp: [6],
  modbus: [6], dnp3: [6], enip: [6, 17], pgsql: [6], telnet: [6], quic: [17], 'bittorrent-dht': [17],
  http2c: [6], ldap: [6, 17], template: [6],
};

const L4_PROTOS: Record<string, number[]> = {
  ip: [], tcp: [6], udp: [17], icmp: [1, 58], icmpv4: [1], icmpv6: [58], sctp: [132],
  'tcp-pkt': [6], 'tcp-stream': [6], pkthdr: [],
};

/** Parsed header sets by text, per config: rule sets repeat the same few ($HOME_NET...). */
const headerCache = new WeakMap<DetectConfig, { addr: Map<string, AddressSet>; port: Map<string, PortSet> }>();

/** Splits the header at whitespace outside brackets. */
function headerTokens(h: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = '';
  for (const c of h) {
    if (c === '[') depth++;
    if (c === ']') depth--;
    if ((c === ' ' || c === '\t') && depth === 0) { if (cur) out.push(cur); cur = ''; } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/** Splits `name:value; name; ...` at unescaped semicolons. */
export function splitOptions(body: string, where: SourceLocation): Array<[string, string | null]> {
  const out: Array<[string, string | null]> = [];
  let i = 0;
  const n = body.length;
  while (i < n) {
    while (i < n && /\s/.test(body[i]!)) i++;
    if (i >= n) break;
    let j = i;
    let cur = '';
    let closed = false;
    for (; j < n; j++) {
      const c = body[j]!;
      if (c === '\\' && j + 1 < n) { cur += c + body[j + 1]; j++; continue; }
      if (c === ';') { closed = true; break; }
      cur += c;
    }
    if (!closed) throw new LateralError('LATERAL_ERR_RULE_PARSE', `option "${cur.trim()}" not terminated by ";"`, where);
    const colon = cur.indexOf(':');
    const name = (colon < 0 ? cur : cur.slice(0, colon)).trim();
    const value = colon < 0 ? null : cur.slice(colon + 1).trim();
    if (!name) throw new LateralError('LATERAL_ERR_RULE_PARSE', 'empty option', where);
    out.push([name, value]);
    i = j + 1;
  }
  return out;
}

function blankSignature(where: SourceLocation, text: string): Signature {
  return {
    num: 0, sid: 0, gid: 1, rev: 0, msg: '', classtype: '', category: '', priority: 3, references: [], metadata: [],
    target: '', noalert: false, action: Action.ALERT, actionName: 'alert', rejectKind: 0, ipProtos: [], alproto: '',
    src: undefined as never, dst: undefined as never, sport: undefined as never, dport: undefined as never,
    bidirectional: false, onlyStream: false, noStream: false, flowDirection: 0, packetMatches: [], buffers: [],
    postMatches: [], threshold: null, detectionFilter: null, fastPattern: null, flowbitsOrder: 1, flowbitNames: [],
    byteVarCount: 0, appTx: false, actsOnFlow: false, inspectsPacket: false, location: where, text,
  };
}

/**
 * Parses one rule (already joined from continuation lines, comments removed).
 * Throws LateralError on syntax errors and SkipRule when a part cannot be evaluated.
 */
export function parseRule(text: string, where: SourceLocation, config: DetectConfig, flowbits: FlowbitTable): Signature {
  const err = (msg: string): LateralError => new LateralError('LATERAL_ERR_RULE_PARSE', msg, where);
  const open = text.indexOf('(');
  if (open < 0) throw err('rule has no option list "( ... )"');
  // Suricata 7 accepts a rule whose final ")" is missing; so do we.
  const trimmed = text.trimEnd();
  const close = trimmed.endsWith(')') ? trimmed.length - 1 : trimmed.length;
  const tokens = headerTokens(text.slice(0, open).trim());
  if (tokens.length !== 7) throw err(`rule header needs 7 fields (action proto src sport dir dst dport), got ${tokens.length}`);
  const [action, proto, src, sport, dir, dst, dport] = tokens as [string, string, string, string, string, string, string];
  const sig = blankSignature(where, text);

  const a = ACTIONS[action.toLowerCase()];
  if (!a) throw err(`unknown action "${action}"`);
  sig.action = a[0]; sig.rejectKind = a[1]; sig.actionName = action.toLowerCase();

  const p = proto.toLowerCase();
  if (L4_PROTOS[p]) {
    sig.ipProtos = [...L4_PROTOS[p]!];
    if (p === 'tcp-pkt') sig.noStream = true;
    if (p === 'tcp-stream') sig.onlyStream = true;
    if (p === 'sctp' || p === 'pkthdr') throw new SkipRule(`unsupported protocol: ${p}`);
  } else if (APP_PROTOS[p]) {
    // `http1` stays apart from `http` (HTTP/1.x or HTTP/2): see appProtoEquals.
    if (!config.appLayerProtocols.has(p)) throw new SkipRule(`unsupported app-layer protocol: ${p}`);
    sig.alproto = p;
    sig.ipProtos = [...APP_PROTOS[p]!];
  } else throw err(`unknown protocol "${proto}"`);

  if (dir !== '->' && dir !== '<>') throw err(`bad direction "${dir}" (expected -> or <>)`);
  sig.bidirectional = dir === '<>';
  const av = (n: string): string | undefined => config.addressVars.get(n);
  const pv = (n: string): string | undefined => config.portVars.get(n);
  let cache = headerCache.get(config);
  if (!cache) { cache = { addr: new Map(), port: new Map() }; headerCache.set(config, cache); }
  const c = cache;
  const addr = (t: string): AddressSet => {
    let x = c.addr.get(t);
    if (!x) { x = parseAddressSet(t, where, av); c.addr.set(t, x); }
    return x;
  };
  const port = (t: string): PortSet => {
    let x = c.port.get(t);
    if (!x) { x = parsePortSet(t, where, pv); c.port.set(t, x); }
    return x;
  };
  sig.src = addr(src);
  sig.dst = addr(dst);
  sig.sport = port(sport);
  sig.dport = port(dport);

  const b = new RuleBuilder(sig, config, flowbits, where);
  const opts = splitOptions(text.slice(open + 1, close), where);
  // Report unsupported keywords before running setups, so the reason is the keyword itself.
  for (const [name] of opts) {
    if (!KEYWORDS.has(name)) throw new SkipRule(`unsupported keyword: ${name}`);
  }
  for (const [name, value] of opts) KEYWORDS.get(name)!.setup(b, value);

  if (!b.seen.has('sid')) throw err('rule has no sid');
  if (b.current && b.current.items.length === 0) throw err('sticky buffer set up but no match added to it');
  sig.buffers = sig.buffers.filter((l) => l.items.length > 0);
  if (sig.onlyStream || sig.noStream) {
    if (sig.ipProtos.length > 0 && !sig.ipProtos.includes(6) && sig.onlyStream) throw err('flow:only_stream on a non-TCP rule');
  }
  for (const l of sig.buffers) {
    if (l.bufferId === BufferId.JA3_HASH || l.bufferId === BufferId.JA3S_HASH) validateJa3Hash(l.items, err);
    let exact = -1;
    for (const m of l.items) if (m instanceof BsizeMatch && m.cond.mode === UintMode.EQ) exact = m.cond.a;
    for (const m of l.items) {
      if (!(m instanceof ContentMatch)) continue;
      if (m.fastPatternOnly && m.relative) throw err('fast_pattern:only on a relative content');
      // Suricata: "content length exceeds bsize value" wherever bsize stands in the rule.
      if (exact >= 0 && !m.negated && m.pattern.length > exact) throw err(`bsize ${exact} is shorter than content length ${m.pattern.length}: the rule cannot match`);
    }
  }
  if (sig.buffers.some((l) => l.bufferId !== BufferId.PAYLOAD) && sig.alproto === '') throw err('app-layer buffer without app-layer protocol');
  if (sig.buffers.some((l) => l.bufferId !== BufferId.PAYLOAD)) sig.appTx = true;
  sig.fastPattern = selectFastPattern(sig);
  return sig;
}

/**
 * ja3.hash / ja3s.hash (Suricata DetectTlsJa3HashValidateCallback / SetupCallback): the first
 * content must be an MD5 in hex (32 characters) or the rule is refused; contents are compared
 * lowercased, as the buffer is lowercase hex (Suricata lowercases them).
 */
function validateJa3Hash(items: readonly BufferMatch[], err: (msg: string) => LateralError): void {
  const first = items.find((m): m is ContentMatch => m instanceof ContentMatch);
  if (first !== undefined && first.pattern.length !== 32) {
    throw err(`invalid length of the JA3 hash (${first.pattern.length}, should be 32 characters): the rule could never match`);
  }
  for (const m of items) if (m instanceof ContentMatch) m.nocase = true;
}
