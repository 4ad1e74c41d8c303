// App-layer buffers that only grow (HTTP bodies as they arrive; header buffers once made) are
// scanned by the prefilter from where the previous packet's scan stopped, and must give
// exactly the candidates and alerts of scanning every buffer whole on every packet. Real
// frames through decode → flow → stream → app layer → detect (PacketInspector), two
// inspectors side by side: one as shipped, one whose context promises nothing about its
// buffers (DetectContext.bufferVersion absent: whole-buffer scans), on random segmentations
// of keep-alive HTTP connections with identity, chunked and gzip bodies and 1xx interim
// responses (whose headers the final response replaces).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as zlib from 'node:zlib';
import { tcp4 } from '../decode/craft';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeContext } from '../../src/decode/decodeStats';
import { LinkType, Packet, TcpFlag } from '../../src/decode/packet';
import { BufferId } from '../../src/detect/buffers';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { loadRuleSources } from '../../src/detect/ruleLoader';
import { DetectEngine } from '../../src/detect/detectEngine';
import { DEFAULT_INSPECTOR_OPTIONS, PacketInspector } from '../../src/verdict/packetInspector';

const SYN = TcpFlag.SYN, ACK = TcpFlag.ACK, PA = TcpFlag.PSH | TcpFlag.ACK;

// Fast patterns that arrive packets before the rest of their rule (relative content, pcre, a
// second buffer), a word split across segments, and status-line rules told apart by the
// interim and the final response.
const RULES = `
alert http any any -> any any (msg:"body marker then tail"; file.data; content:"BODYMARK"; fast_pattern; content:"BODYTAIL"; distance:0; sid:11;)
alert http any any -> any any (msg:"split word in body"; file.data; content:"SPLITBODYWORDXYZ"; sid:12;)
alert http any any -> any any (msg:"pcre over body"; file.data; content:"PCREBEGIN"; pcre:"/PCREBEGIN.{0,4000}PCREEND/s"; sid:13;)
alert http any any -> any any (msg:"request body marker then tail"; http.request_body; content:"REQMARK"; fast_pattern; content:"REQTAIL"; distance:0; sid:14;)
alert http any any -> any any (msg:"request header then body"; http.header; content:"X-Special-Header"; fast_pattern; file.data; content:"FILETAIL"; sid:15;)
alert http any any -> any any (msg:"interim status line"; flow:to_client; http.response_line; content:"Interim-Only"; sid:16;)
alert http any any -> any any (msg:"final status line"; flow:to_client; http.response_line; content:"Final-Only"; sid:17;)
alert http any any -> any any (msg:"common"; file.data; content:"filler"; sid:18;)
alert http any any -> any any (msg:"response body marker then tail"; http.response_body; content:"RESPMARK"; fast_pattern; content:"RESPTAIL"; distance:0; sid:19;)
`;

function compile(): DetectEngine {
  const config = defaultDetectConfig();
  const set = loadRuleSources([{ file: 'test.rules', text: RULES }], config);
  assert.is(set.signatures.length, 9, 'rules loaded');
  return DetectEngine.compile(set, config);
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

const WORDS = ['BODYMARK', 'BODYTAIL', 'SPLITBODYWORDXYZ', 'PCREBEGIN', 'PCREEND', 'REQMARK', 'REQTAIL', 'FILETAIL', 'RESPMARK', 'RESPTAIL', 'filler'];

/** Body text of about `size` bytes with the rules' words spread through filler. */
function bodyText(r: () => number, size: number): string {
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const w = r() % 6 === 0 ? WORDS[r() % WORDS.length]! : 'abcdefghijklmnopqrstuvwxyz0123456789 '.slice(r() % 25);
    parts.push(w);
    n += w.length;
  }
  return parts.join('');
}

/** Body with its framing headers: Content-Length, chunked, or gzip (which promises nothing). */
function framed(r: () => number, body: string): { headers: string; wire: string } {
  const kind = r() % 4;
  if (kind === 0) {
    let wire = '';
    for (let at = 0; at < body.length;) {
      const n = Math.min(body.length - at, 1 + (r() % 3000));
      wire += `${n.toString(16)}\r\n${body.slice(at, at + n)}\r\n`;
      at += n;
    }
    return { headers: 'Transfer-Encoding: chunked\r\n', wire: `${wire}0\r\n\r\n` };
  }
  if (kind === 1) {
    const gz = zlib.gzipSync(Buffer.from(body, 'latin1')).toString('latin1');
    return { headers: `Content-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n`, wire: gz };
  }
  return { headers: `Content-Length: ${body.length}\r\n`, wire: body };
}

/** Per transaction: the request's and the response's segments. */
interface Conn { txs: Array<{ req: string[]; res: string[] }> }

/** A keep-alive connection of 1..4 transactions, each message cut into 1..1400-byte pieces. */
function connection(r: () => number): Conn {
  const cut = (s: string): string[] => {
    const out: string[] = [];
    for (let at = 0; at < s.length;) {
      const n = Math.min(s.length - at, 1 + (r() % 1400));
      out.push(s.slice(at, at + n));
      at += n;
    }
    return out;
  };
  const conn: Conn = { txs: [] };
  const txs = 1 + (r() % 4);
  for (let t = 0; t < txs; t++) {
    const special = r() % 2 === 0 ? 'X-Special-Header: on\r\n' : '';
    let request: string;
    if (r() % 2 === 0) {
      const b = framed(r, bodyText(r, 200 + (r() % 6000)));
      request = `POST /upload/${t} HTTP/1.1\r\nHost: example.test\r\nUser-Agent: appPrefilterTest/1.0\r\n${special}${b.headers}\r\n${b.wire}`;
    } else {
      request = `GET /page/${t}?q=${r() % 1000} HTTP/1.1\r\nHost: example.test\r\nUser-Agent: appPrefilterTest/1.0\r\n${special}\r\n`;
    }
    const b = framed(r, bodyText(r, 100 + (r() % 12000)));
    // An interim response's status line (longer than the 64 bytes below which buffers are
    // scanned whole, and shorter or longer than the final one) is replaced by the final one's.
    const interim = r() % 3 === 0 ? `HTTP/1.1 100 Continue Interim-Only ${'p'.repeat(50 + (r() % 100))}\r\nX-Pad: 1\r\n\r\n` : '';
    const response = `${interim}HTTP/1.1 200 OK Final-Only ${'q'.repeat(50 + (r() % 100))}\r\nServer: test\r\n${b.headers}\r\n${b.wire}`;
    // The interim response's headers end on a later segment than its status line, so that
    // the line is inspected (a 1xx whose headers end at once is never visible to detection).
    const split = interim === '' ? 0 : interim.length - 2;
    conn.txs.push({ req: cut(request), res: [...cut(response.slice(0, split)), ...cut(response.slice(split))] });
  }
  return conn;
}

interface Result { alerts: string[]; candidates: number[]; fileData: number }

/**
 * Plays the connection: each transaction's request segments then its response segments (a
 * few swapped or sent twice), each acknowledged by the other side (IDS timing inspects on
 * the acknowledgement). Per packet: the sids alerted and the prefilter's candidate count.
 */
function run(engine: DetectEngine, conn: Conn, r: () => number, whole: boolean, idsMode: boolean): Result {
  const inspector = new PacketInspector(engine, { ...DEFAULT_INSPECTOR_OPTIONS, idsMode });
  // Whole-buffer scans: a context that promises nothing about how its buffers change.
  if (whole) Object.defineProperty(inspector, 'bufferVersion', { value: undefined });
  const ctx = new DecodeContext('all');
  const p = new Packet();
  const cisn = 1000, sisn = 5000;
  let t = 100;
  const res: Result = { alerts: [], candidates: [], fileData: 0 };
  const push = (fromClient: boolean, seq: number, ack: number, flags: number, payload = ''): void => {
    const bytes = fromClient
      ? tcp4('10.1.0.2', '10.1.0.3', { sport: 40001, dport: 80, seq, ack, flags, payload })
      : tcp4('10.1.0.3', '10.1.0.2', { sport: 80, dport: 40001, seq, ack, flags, payload });
    decodePacket(p, bytes, LinkType.ETHERNET, ctx);
    p.tsSec = t++;
    const before = engine.prefilterCandidates;
    inspector.inspect(p);
    res.candidates.push(engine.prefilterCandidates - before);
    const result = inspector.result!;
    for (let k = 0; k < result.alertCount; k++) res.alerts.push(`${res.candidates.length}:${result.alerts[k]!.sid}`);
  };
  push(true, cisn, 0, SYN);
  push(false, sisn, cisn + 1, SYN | ACK);
  push(true, cisn + 1, sisn + 1, ACK);
  const fileBefore = engine.appPrefilterBytes[BufferId.FILE_DATA]!;
  let cOff = 0, sOff = 0;
  // Send order: a request, then its response; the next request may start during the
  // response (pipelining). Then consecutive same-side segments may be swapped or repeated.
  const segs: Array<{ client: boolean; offset: number; data: string }> = [];
  const sent = new Array<number>(conn.txs.length).fill(0);
  const send = (client: boolean, data: string): void => {
    segs.push({ client, offset: client ? cOff : sOff, data });
    if (client) cOff += data.length;
    else sOff += data.length;
  };
  conn.txs.forEach((tx, i) => {
    for (; sent[i]! < tx.req.length; sent[i]!++) send(true, tx.req[sent[i]!]!);
    const next = conn.txs[i + 1];
    for (const seg of tx.res) {
      send(false, seg);
      if (next !== undefined && sent[i + 1]! < next.req.length && r() % 4 === 0) send(true, next.req[sent[i + 1]!++]!);
    }
  });
  cOff = sOff = 0;
  for (let i = 0; i + 1 < segs.length; i++) {
    if (segs[i]!.client === segs[i + 1]!.client && r() % 6 === 0) { const x = segs[i]!; segs[i] = segs[i + 1]!; segs[i + 1] = x; i++; }
  }
  for (const s of segs) {
    const times = r() % 10 === 0 ? 2 : 1;
    for (let k = 0; k < times; k++) {
      if (s.client) {
        push(true, cisn + 1 + s.offset, sisn + 1 + sOff, PA, s.data);
        cOff = Math.max(cOff, s.offset + s.data.length);
        push(false, sisn + 1 + sOff, cisn + 1 + cOff, ACK);
      } else {
        push(false, sisn + 1 + s.offset, cisn + 1 + cOff, PA, s.data);
        sOff = Math.max(sOff, s.offset + s.data.length);
        push(true, cisn + 1 + cOff, sisn + 1 + sOff, ACK);
      }
    }
  }
  res.fileData = engine.appPrefilterBytes[BufferId.FILE_DATA]! - fileBefore;
  return res;
}

for (const idsMode of [false, true]) {
  test(`${idsMode ? 'IDS timing' : 'inline'}: same candidates and alerts as whole-buffer scans on random HTTP segmentations`, () => {
    const engine = compile();
    const sids = new Set<string>();
    let packets = 0, alerts = 0, progressive = 0, whole = 0;
    for (let seed = 1; seed <= 16; seed++) {
      const conn = connection(rng(seed * 7919));
      const inc = run(engine, conn, rng(seed), false, idsMode);
      const all = run(engine, conn, rng(seed), true, idsMode);
      assert.equal(inc.candidates, all.candidates, `seed ${seed}: candidates per packet`);
      assert.equal(inc.alerts, all.alerts, `seed ${seed}: alerts per packet`);
      for (const a of inc.alerts) sids.add(a.split(':')[1]!);
      packets += inc.candidates.length;
      alerts += inc.alerts.length;
      progressive += inc.fileData;
      whole += all.fileData;
    }
    for (const sid of ['11', '12', '13', '14', '15', '16', '17', '18', '19']) assert.ok(sids.has(sid), `sid ${sid} alerted`);
    assert.ok(alerts > 40, `alerts ${alerts} over ${packets} packets`);
    assert.ok(whole > 2 * progressive, `file.data bytes scanned: ${progressive} progressive, ${whole} whole`);
  });
}

/** One request and a Content-Length response whose body comes in 700-byte segments. */
function oneResponse(request: string, body: string): Conn {
  const res = [`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`];
  for (let at = 0; at < body.length; at += 700) res.push(body.slice(at, at + 700));
  return { txs: [{ req: [request], res }] };
}

test('an identity body is scanned once: file.data bytes scanned equal the body bytes', () => {
  const engine = compile();
  const body = bodyText(rng(5), 20000);
  const conn = oneResponse('GET /big HTTP/1.1\r\nHost: example.test\r\n\r\n', body);
  // No pipelining, swaps or repeats: draw numbers that never hit them.
  const noShuffle = (): number => 1;
  const inc = run(engine, conn, noShuffle, false, false);
  const all = run(engine, conn, noShuffle, true, false);
  assert.equal(inc.alerts, all.alerts);
  assert.equal(inc.candidates, all.candidates);
  // On the response packets and again on the client's ACKs (to-server packets read the request
  // side, which has no body): the response body once per to-client packet direction.
  assert.is(inc.fileData, body.length, 'each body byte once');
  assert.ok(all.fileData > 10 * body.length, `whole-buffer scans read ${all.fileData} bytes`);
});

test('a marker early in a body still makes its rule a candidate when the tail arrives 20 packets later', () => {
  const engine = compile();
  const body = `xx BODYMARK ${'z'.repeat(14000)} BODYTAIL`;
  const conn = oneResponse('GET /late HTTP/1.1\r\nHost: example.test\r\n\r\n', body);
  const inc = run(engine, conn, () => 1, false, false);
  assert.equal(inc.alerts.map((a) => a.split(':')[1]), ['11']);
});

test.run();
