// The payload prefilter scans each reassembled stream byte once per direction (the scan
// resumes where the previous packet's stopped and earlier hits still inside the window are
// handed out again) and must give exactly the alerts of scanning every packet's whole window.
// Real frames through decode → flow → stream → detect (PacketInspector), two inspectors side
// by side: one as shipped, one whose context hides the stream offset (whole-window scans).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tcp4 } from '../decode/craft';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeContext } from '../../src/decode/decodeStats';
import { LinkType, Packet, TcpFlag } from '../../src/decode/packet';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleSources } from '../../src/detect/ruleLoader';
import { DetectEngine } from '../../src/detect/detectEngine';
import { DEFAULT_INSPECTOR_OPTIONS, PacketInspector } from '../../src/verdict/packetInspector';

const SYN = TcpFlag.SYN, ACK = TcpFlag.ACK, PA = TcpFlag.PSH | TcpFlag.ACK;

// Fast patterns that arrive long before the rest of their rule (relative content, pcre), a
// rule on a pattern split across segments, and an only_stream rule.
const RULES = `
alert tcp any any -> any any (msg:"marker then payload"; content:"EVILMARKER"; fast_pattern; content:"PAYLOAD"; distance:0; sid:1;)
alert tcp any any -> any any (msg:"split word"; content:"SPLITWORDXYZ"; sid:2;)
alert tcp any any -> any any (msg:"marker then pcre"; content:"BEGINBLOCK"; pcre:"/BEGINBLOCK.{0,3000}ENDBLOCK/s"; sid:3;)
alert tcp any any -> any any (msg:"stream only"; flow:only_stream; content:"STREAMONLY"; sid:4;)
alert tcp any any -> any any (msg:"common"; content:"filler"; sid:5;)
`;

function compile(): DetectEngine {
  const config = defaultDetectConfig();
  const set = loadRuleSources([{ file: 'test.rules', text: RULES }], config);
  assert.is(set.signatures.length, 5, 'rules loaded');
  return DetectEngine.compile(set, config);
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

/** A client stream with the rules' pieces spread over ~24 KiB of filler. */
function streamText(r: () => number): string {
  const parts: string[] = [];
  const words = ['EVILMARKER', 'PAYLOAD', 'SPLITWORDXYZ', 'BEGINBLOCK', 'ENDBLOCK', 'STREAMONLY', 'filler'];
  let n = 0;
  while (n < 24 * 1024) {
    const w = r() % 5 === 0 ? words[r() % words.length]! : 'abcdefghijklmnopqrstuvwxyz0123456789 '.slice(r() % 20);
    parts.push(w);
    n += w.length;
  }
  return parts.join('');
}

interface Seg { offset: number; data: string }

/** Cut into segments of 1..600 bytes; some swapped (out of order), some sent twice. */
function plan(text: string, r: () => number): Seg[] {
  const segs: Seg[] = [];
  for (let at = 0; at < text.length;) {
    const len = Math.min(text.length - at, 1 + (r() % 600));
    segs.push({ offset: at, data: text.slice(at, at + len) });
    at += len;
  }
  for (let i = 0; i + 1 < segs.length; i++) if (r() % 7 === 0) { const t = segs[i]!; segs[i] = segs[i + 1]!; segs[i + 1] = t; i++; }
  const out: Seg[] = [];
  for (const s of segs) { out.push(s); if (r() % 11 === 0) out.push(s); }
  return out;
}

/** Per data segment, the sids alerted; and the engine's prefilter byte count. */
function run(engine: DetectEngine, segs: Seg[], wholeWindow: boolean, idsMode = false): { alerts: string[]; scanned: number; packetScanned: number } {
  const inspector = new PacketInspector(engine, { ...DEFAULT_INSPECTOR_OPTIONS, idsMode });
  if (wholeWindow) Object.defineProperty(inspector, 'streamOffset', { get: () => -1, set: () => undefined });
  const ctx = new DecodeContext('all');
  const p = new Packet();
  const cisn = 1000, sisn = 5000;
  let t = 100;
  const push = (fromClient: boolean, seq: number, ack: number, flags: number, payload = ''): void => {
    const bytes = fromClient
      ? tcp4('10.1.0.2', '10.1.0.3', { sport: 40001, dport: 7000, seq, ack, flags, payload })
      : tcp4('10.1.0.3', '10.1.0.2', { sport: 7000, dport: 40001, seq, ack, flags, payload });
    decodePacket(p, bytes, LinkType.ETHERNET, ctx);
    p.tsSec = t++;
    inspector.inspect(p);
  };
  push(true, cisn, 0, SYN);
  push(false, sisn, cisn + 1, SYN | ACK);
  push(true, cisn + 1, sisn + 1, ACK);
  const before = engine.prefilterBytes;
  const packetBefore = engine.packetPrefilterBytes;
  const alerts: string[] = [];
  let acked = 0;
  const collect = (i: number): void => {
    const r = inspector.result!;
    for (let k = 0; k < r.alertCount; k++) alerts.push(`${i}:${r.alerts[k]!.sid}`);
  };
  segs.forEach((s, i) => {
    push(true, cisn + 1 + s.offset, sisn + 1, PA, s.data);
    collect(i);
    // IDS timing inspects the raw stream when the server acknowledges it.
    acked = Math.max(acked, s.offset + s.data.length);
    if (idsMode) { push(false, sisn + 1, cisn + 1 + acked, ACK); collect(i); }
  });
  return { alerts, scanned: engine.prefilterBytes - before, packetScanned: engine.packetPrefilterBytes - packetBefore };
}

test('same alerts as whole-window scans, on random segmentations with reordering and retransmits', () => {
  const engine = compile();
  let totalAlerts = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const r = rng(seed * 7919);
    const text = streamText(r);
    const segs = plan(text, r);
    const inc = run(engine, segs, false);
    const whole = run(engine, segs, true);
    assert.equal(inc.alerts, whole.alerts, `seed ${seed}`);
    totalAlerts += inc.alerts.length;
    const sids = new Set(inc.alerts.map((a) => a.split(':')[1]));
    for (const sid of ['1', '2', '3', '5']) assert.ok(sids.has(sid), `seed ${seed}: sid ${sid} alerted`);
  }
  assert.ok(totalAlerts > 50, `alerts ${totalAlerts}`);
});

test('each stream byte is scanned once, not once per window holding it', () => {
  const engine = compile();
  const r = rng(42);
  const text = streamText(r);
  // In order, 100-byte segments: a whole-window scan re-reads up to 4 KiB of lookbehind each time.
  const segs: Seg[] = [];
  for (let at = 0; at < text.length; at += 100) segs.push({ offset: at, data: text.slice(at, at + 100) });
  const inc = run(engine, segs, false);
  const whole = run(engine, segs, true);
  assert.equal(inc.alerts, whole.alerts);
  assert.is(inc.scanned, text.length, 'incremental: every stream byte once');
  assert.ok(whole.scanned > 20 * text.length, `whole-window scanned ${whole.scanned} for ${text.length} stream bytes`);
});

test('IDS timing: windows that move by acknowledgement resume the scan too (same alerts, each byte once)', () => {
  const engine = compile();
  const r = rng(7);
  const text = streamText(r);
  const segs: Seg[] = [];
  for (let at = 0; at < text.length; at += 100) segs.push({ offset: at, data: text.slice(at, at + 100) });
  const inc = run(engine, segs, false, true);
  const whole = run(engine, segs, true, true);
  assert.equal(inc.alerts, whole.alerts);
  assert.ok(inc.alerts.length > 10, `alerts ${inc.alerts.length}`);
  // IDS timing does not fold a packet's payload into its stream window, but none of these
  // rules inspects the packet itself (depth, offset, dsize, no_stream), so payloads that went
  // into the stream are not scanned as packets at all; the stream's tail below one 2,560-byte
  // raw chunk waits for more (no flow end here).
  assert.is(inc.packetScanned, 0, 'payloads that went into the stream: no packet-level scan');
  const streamScanned = inc.scanned - inc.packetScanned;
  assert.ok(streamScanned <= text.length && streamScanned > text.length - 2560, `stream bytes scanned ${streamScanned} of ${text.length}`);
  assert.ok(whole.scanned - whole.packetScanned > 1.5 * text.length, `whole-window scanned ${whole.scanned} for ${text.length} stream bytes`);
});

test('a fast pattern seen packets earlier still makes its rule a candidate when the rest arrives', () => {
  const engine = compile();
  const text = 'xx EVILMARKER yy ' + 'z'.repeat(1500) + ' PAYLOAD';
  const segs: Seg[] = [];
  for (let at = 0; at < text.length; at += 200) segs.push({ offset: at, data: text.slice(at, at + 200) });
  const inc = run(engine, segs, false);
  assert.equal(inc.alerts, [`${segs.length - 1}:1`]);
});

test('IDS timing: a payload that went into the stream is still scanned for the rules that inspect the packet', () => {
  const config = defaultDetectConfig();
  const set = loadRuleSources([{ file: 'test.rules', text: `
alert tcp any any -> any any (msg:"packet start"; content:"HEADWORD"; depth:8; sid:21;)
alert tcp any any -> any any (msg:"anywhere"; content:"filler"; sid:22;)
` }], config);
  const engine = DetectEngine.compile(set, config);
  const segs: Seg[] = [];
  for (let i = 0; i < 40; i++) segs.push({ offset: i * 100, data: `HEADWORD${'x'.repeat(81)} filler ${String(i).padStart(3, '0')}` });
  const inc = run(engine, segs, false, true);
  // sid 21 needs the packet (depth): it alerts on each data packet itself; sid 22 through the
  // acknowledged stream.
  const onData = inc.alerts.filter((a) => a.endsWith(':21'));
  assert.is(onData.length, 40, `depth rule on every data packet: ${inc.alerts.join(' ')}`);
  assert.ok(inc.alerts.some((a) => a.endsWith(':22')), 'stream rule alerted');
  assert.is(inc.packetScanned, 4000, 'every payload scanned for the packet rule');
});

test.run();
