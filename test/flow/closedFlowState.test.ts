// What a closed HTTP flow keeps while it waits for its timeout (60 s for closed TCP flows in
// Suricata's defaults, so thousands of them on a busy host): after both FINs and the last ACK
// its reassembly windows are back in the pool, its HTTP parser holds no buffer and no
// transaction, and the released transactions' body buffers went to the body pool. Crafted
// connections through the real decode → flow → stream → app layer → detection, inline and in
// IDS timing; every transaction still alerts exactly once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Packet, LinkType, TcpFlag } from '../../src/decode/packet';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeContext } from '../../src/decode/decodeStats';
import { FlowState } from '../../src/flow/flow';
import type { AppLayerState } from '../../src/applayer/appLayerState';
import { bodyPoolBytes } from '../../src/applayer/httpBody';
import type { TcpSession } from '../../src/stream/tcpSession';
import { PacketInspector } from '../../src/verdict/packetInspector';
import { tcp4, tcpHandshake4 } from '../decode/craft';
import { engine } from '../detect/detectFixture';

const CLIENT = '10.0.0.1';
const SERVER = '10.0.0.2';
const FLOWS = 30;
const RULES = [
  'alert http any any -> any any (msg:"uri"; http.uri; content:"/item/"; sid:1;)',
  'alert http any any -> any any (msg:"body"; file.data; content:"zzzz"; sid:2;)',
].join('\n');

/** One connection: handshake, a request, a 3000-byte response in three segments, FINs, last ACK. */
function connection(i: number): Uint8Array[] {
  const c = { sport: 41000 + i, dport: 80 };
  const s = { sport: 80, dport: 41000 + i };
  let cs = 1000, ss = 9000;
  const A = TcpFlag.ACK, PA = TcpFlag.PSH | TcpFlag.ACK, FA = TcpFlag.FIN | TcpFlag.ACK;
  const frames = tcpHandshake4(CLIENT, SERVER, c.sport, s.sport, cs, ss);
  cs++; ss++;
  const req = `GET /item/${i} HTTP/1.1\r\nHost: web${i}\r\nUser-Agent: t\r\n\r\n`;
  frames.push(tcp4(CLIENT, SERVER, { ...c, seq: cs, ack: ss, flags: PA, payload: req }));
  cs += req.length;
  const res = `HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n${'y'.repeat(2996)}zzzz`;
  for (let k = 0; k < res.length; k += 1200) {
    const part = res.slice(k, k + 1200);
    frames.push(tcp4(SERVER, CLIENT, { ...s, seq: ss, ack: cs, flags: PA, payload: part }));
    ss += part.length;
  }
  frames.push(tcp4(CLIENT, SERVER, { ...c, seq: cs, ack: ss, flags: A }));
  frames.push(tcp4(CLIENT, SERVER, { ...c, seq: cs, ack: ss, flags: FA }));
  frames.push(tcp4(SERVER, CLIENT, { ...s, seq: ss, ack: cs + 1, flags: FA }));
  frames.push(tcp4(CLIENT, SERVER, { ...c, seq: cs + 1, ack: ss + 1, flags: A }));
  return frames;
}

for (const idsMode of [false, true]) {
  test(`${idsMode ? 'IDS timing' : 'inline'}: closed HTTP flows keep no windows, parse buffers or transactions`, () => {
    const inspector = new PacketInspector(engine(RULES), { midstream: false, maxFlows: 1024, idsMode });
    const alerts = new Map<number, number>();
    const p = new Packet();
    const dc = new DecodeContext('none');
    const pool0 = bodyPoolBytes();
    for (let i = 0; i < FLOWS; i++) {
      for (const f of connection(i)) {
        decodePacket(p, f, LinkType.ETHERNET, dc);
        p.tsSec = 1000; // all within one second: no flow times out before the checks
        inspector.inspect(p);
        const r = inspector.result;
        if (r !== null) for (let k = 0; k < r.alertCount; k++) alerts.set(r.alerts[k]!.sid, (alerts.get(r.alerts[k]!.sid) ?? 0) + 1);
      }
    }
    let closed = 0;
    for (const flow of inspector.flows.flows()) {
      assert.is(flow.state, FlowState.CLOSED);
      closed++;
      const s = flow.streamState as TcpSession;
      assert.is(s.client.rawBuffer.length, 0, 'client window released');
      assert.is(s.server.rawBuffer.length, 0, 'server window released');
      const app = (flow.appState as { app: AppLayerState | null }).app!;
      assert.is(app.http!.scratchBytes(), 0, 'no parse buffer kept');
      // IDS timing inspects the last response with a later packet of its own direction: here
      // the flow-end flush, so that one transaction waits for it.
      assert.ok(app.http!.transactions.length <= (idsMode ? 1 : 0), `transactions kept: ${app.http!.transactions.length}`);
    }
    assert.is(closed, FLOWS);
    // A fresh process: the pool started empty, so the released bodies are what it holds.
    if (!idsMode) assert.ok(bodyPoolBytes() > pool0, 'released bodies went to the body pool');
    inspector.flush();
    assert.is(alerts.get(1), FLOWS, 'http.uri: one alert per transaction');
    assert.is(alerts.get(2), FLOWS, 'file.data: one alert per transaction');
  });
}

test.run();
