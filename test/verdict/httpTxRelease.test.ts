// HTTP/1 transactions that are complete both ways and inspected in both directions are released
// at once, not kept (up to 256 per flow) until the flow ends. A keep-alive connection of 40
// request/response pairs through the real decode → flow → stream → app layer → detection,
// inline and in IDS timing: each transaction still alerts exactly once, and the flow holds at
// most the transaction in progress afterwards.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Packet, LinkType, TcpFlag } from '../../src/decode/packet';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeContext } from '../../src/decode/decodeStats';
import { PacketInspector } from '../../src/verdict/packetInspector';
import { tcp4, tcpHandshake4 } from '../decode/craft';
import { engine } from '../detect/detectFixture';

const CLIENT = '10.0.0.1';
const SERVER = '10.0.0.2';
const PAIRS = 40;
const RULES = [
  'alert http any any -> any any (msg:"uri"; http.uri; content:"/item/"; sid:1;)',
  'alert http any any -> any any (msg:"status"; http.stat_code; content:"200"; sid:2;)',
].join('\n');

/** Handshake, then per pair a request and a response (each ACKing the other side). */
function keepAlive(): Uint8Array[] {
  const c = { sport: 40002, dport: 80 };
  const s = { sport: 80, dport: 40002 };
  let cs = 1000, ss = 5000;
  const frames = tcpHandshake4(CLIENT, SERVER, c.sport, s.sport, cs, ss);
  cs++; ss++;
  for (let i = 0; i < PAIRS; i++) {
    const req = `GET /item/${i} HTTP/1.1\r\nHost: web\r\n\r\n`;
    const res = `HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nok${String(i % 100).padStart(2, '0')}`;
    frames.push(tcp4(CLIENT, SERVER, { ...c, seq: cs, ack: ss, flags: TcpFlag.ACK | TcpFlag.PSH, payload: req }));
    cs += req.length;
    frames.push(tcp4(SERVER, CLIENT, { ...s, seq: ss, ack: cs, flags: TcpFlag.ACK | TcpFlag.PSH, payload: res }));
    ss += res.length;
  }
  frames.push(tcp4(CLIENT, SERVER, { ...c, seq: cs, ack: ss, flags: TcpFlag.ACK }));
  return frames;
}

function run(idsMode: boolean): { alerts: Map<number, number>; maxTransactions: number; lastTransactions: number } {
  const inspector = new PacketInspector(engine(RULES), { midstream: false, maxFlows: 64, idsMode });
  const alerts = new Map<number, number>();
  const p = new Packet();
  const dc = new DecodeContext('none');
  let maxTransactions = 0, lastTransactions = 0;
  for (const f of keepAlive()) {
    decodePacket(p, f, LinkType.ETHERNET, dc);
    inspector.inspect(p);
    const r = inspector.result;
    if (r !== null) for (let k = 0; k < r.alertCount; k++) alerts.set(r.alerts[k]!.sid, (alerts.get(r.alerts[k]!.sid) ?? 0) + 1);
    const fi = inspector.flow?.appState as { app: { http: { transactions: unknown[] } | null } | null } | null;
    lastTransactions = fi?.app?.http?.transactions.length ?? 0;
    maxTransactions = Math.max(maxTransactions, lastTransactions);
  }
  inspector.flush();
  return { alerts, maxTransactions, lastTransactions };
}

for (const idsMode of [false, true]) {
  test(`${idsMode ? 'IDS timing' : 'inline'}: 40 keep-alive transactions alert once each and are released once done`, () => {
    const r = run(idsMode);
    assert.is(r.alerts.get(1), PAIRS, 'http.uri alerts, one per transaction');
    assert.is(r.alerts.get(2), PAIRS, 'http.stat_code alerts, one per transaction');
    assert.ok(r.maxTransactions <= 2, `at most the transaction in progress and the next are held: ${r.maxTransactions}`);
    // IDS timing inspects the last response on a later packet of its own direction (here: the
    // flow-end flush), so that one transaction is still held after the final ACK.
    assert.is(r.lastTransactions, idsMode ? 1 : 0, 'nothing else held after the last response');
  });
}

test.run();
