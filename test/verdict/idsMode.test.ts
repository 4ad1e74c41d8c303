// IDS-mode timing of the PacketInspector (Suricata without stream.inline): crafted Ethernet/IPv4/
// TCP frames through the real decode → flow → stream → app layer → detection, once inline and
// once in IDS mode, asserting on which frame each signature alerts. Suricata's rules followed:
// the app layer gets a direction's bytes when the other side ACKs them; the raw stream is
// inspected up to the ACKed bytes on a packet of its own direction; a payload rule that needs
// the packet (depth) still matches the data packet itself, so it alerts twice (packet, then
// stream) as in `suricata -r`; what is never ACKed is judged at the flow's end on a pseudo packet.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Packet, LinkType, TcpFlag } from '../../src/decode/packet';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeContext } from '../../src/decode/decodeStats';
import { PacketInspector } from '../../src/verdict/packetInspector';
import { tcp4 } from '../decode/craft';
import { engine } from '../detect/detectFixture';

const CLIENT = '10.0.0.1';
const SERVER = '10.0.0.2';
const REQUEST = 'GET /evil HTTP/1.1\r\nHost: web\r\n\r\n';
const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** Frames 0 SYN, 1 SYN/ACK, 2 ACK, 3 request, 4 response (ACKs the request), 5 client FIN,
 *  6 server FIN, 7 last ACK. */
function session(request = REQUEST, response = RESPONSE): Uint8Array[] {
  const c = { sport: 40001, dport: 80 };
  const s = { sport: 80, dport: 40001 };
  const cs = 1000;
  const ss = 5000;
  const rq = request.length;
  const rs = response.length;
  return [
    tcp4(CLIENT, SERVER, { ...c, seq: cs, flags: TcpFlag.SYN }),
    tcp4(SERVER, CLIENT, { ...s, seq: ss, ack: cs + 1, flags: TcpFlag.SYN | TcpFlag.ACK }),
    tcp4(CLIENT, SERVER, { ...c, seq: cs + 1, ack: ss + 1, flags: TcpFlag.ACK }),
    tcp4(CLIENT, SERVER, { ...c, seq: cs + 1, ack: ss + 1, flags: TcpFlag.ACK | TcpFlag.PSH, payload: request }),
    tcp4(SERVER, CLIENT, { ...s, seq: ss + 1, ack: cs + 1 + rq, flags: TcpFlag.ACK | TcpFlag.PSH, payload: response }),
    tcp4(CLIENT, SERVER, { ...c, seq: cs + 1 + rq, ack: ss + 1 + rs, flags: TcpFlag.ACK | TcpFlag.FIN }),
    tcp4(SERVER, CLIENT, { ...s, seq: ss + 1 + rs, ack: cs + 2 + rq, flags: TcpFlag.ACK | TcpFlag.FIN }),
    tcp4(CLIENT, SERVER, { ...c, seq: cs + 2 + rq, ack: ss + 2 + rs, flags: TcpFlag.ACK }),
  ];
}

const RULES = [
  'alert http any any -> any any (msg:"uri"; http.uri; content:"/evil"; sid:1;)',
  'alert tcp any any -> any any (msg:"raw"; flow:to_server; content:"GET /evil"; sid:2;)',
  'alert tcp any any -> any any (msg:"packet"; content:"GET /evil"; depth:9; sid:3;)',
  'alert http any any -> any any (msg:"proto"; flow:to_server; sid:4;)',
  'alert tcp any any -> any any (msg:"response raw"; flow:to_client; content:"200 OK"; sid:5;)',
].join('\n');

interface Run {
  /** "frame:sid" in order; pseudo packets as "end>:sid" / "end<:sid" (to server / to client). */
  alerts: string[];
  inspector: PacketInspector;
  /** Most reassembly memory in use after any frame. */
  peakMemory: number;
}

function run(frames: Uint8Array[], idsMode: boolean, rules = RULES): Run {
  const inspector = new PacketInspector(engine(rules), { midstream: false, maxFlows: 1024, idsMode });
  const alerts: string[] = [];
  inspector.onPseudoPacket = (insp) => {
    const r = insp.result!;
    for (let i = 0; i < r.alertCount; i++) alerts.push(`end${insp.toServer ? '>' : '<'}:${r.alerts[i]!.sid}`);
  };
  const p = new Packet();
  const dc = new DecodeContext('none');
  let peakMemory = 0;
  frames.forEach((f, i) => {
    decodePacket(p, f, LinkType.ETHERNET, dc);
    inspector.inspect(p);
    peakMemory = Math.max(peakMemory, inspector.streams.memory.used);
    const r = inspector.result;
    if (r !== null) for (let k = 0; k < r.alertCount; k++) alerts.push(`${i}:${r.alerts[k]!.sid}`);
  });
  inspector.flush();
  return { alerts, inspector, peakMemory };
}

test('inline: everything is judged on the packet that brings it', () => {
  assert.equal(run(session(), false).alerts, ['3:1', '3:2', '3:3', '3:4', '4:5', '5:4', '7:4']);
});

test('IDS mode: app layer and raw stream wait for the ACK; a depth rule alerts on the packet and again on the stream', () => {
  // Frame 3: only the packet-payload rule (the stream is not acknowledged yet). Frame 4 (the
  // response) ACKs the request, so the parser gets it; the client's next packet (5) sees the
  // transaction, the protocol and the acknowledged raw stream. The response is ACKed by 5 and
  // judged on the server's next packet (6).
  assert.equal(run(session(), true).alerts, ['3:3', '5:1', '5:2', '5:3', '5:4', '6:5', '7:4']);
});

test('IDS mode: data never acknowledged is judged at the flow end, on a pseudo packet of its direction', () => {
  const frames = session().slice(0, 4); // the capture stops after the request
  assert.equal(run(frames, false).alerts, ['3:1', '3:2', '3:3', '3:4']);
  assert.equal(run(frames, true).alerts, ['3:3', 'end>:1', 'end>:2', 'end>:3', 'end>:4']);
});

test('IDS mode: a request split over two segments is inspected whole once acknowledged', () => {
  const c = { sport: 40002, dport: 80 };
  const s = { sport: 80, dport: 40002 };
  const a = 'GET /ev';
  const b = 'il HTTP/1.1\r\nHost: web\r\n\r\n';
  const frames = [
    tcp4(CLIENT, SERVER, { ...c, seq: 100, flags: TcpFlag.SYN }),
    tcp4(SERVER, CLIENT, { ...s, seq: 900, ack: 101, flags: TcpFlag.SYN | TcpFlag.ACK }),
    tcp4(CLIENT, SERVER, { ...c, seq: 101, ack: 901, flags: TcpFlag.ACK }),
    tcp4(CLIENT, SERVER, { ...c, seq: 101, ack: 901, flags: TcpFlag.ACK, payload: a }),
    tcp4(SERVER, CLIENT, { ...s, seq: 901, ack: 101 + a.length, flags: TcpFlag.ACK }),
    tcp4(CLIENT, SERVER, { ...c, seq: 101 + a.length, ack: 901, flags: TcpFlag.ACK | TcpFlag.PSH, payload: b }),
    tcp4(SERVER, CLIENT, { ...s, seq: 901, ack: 101 + a.length + b.length, flags: TcpFlag.ACK }),
    tcp4(CLIENT, SERVER, { ...c, seq: 101 + a.length + b.length, ack: 901, flags: TcpFlag.ACK }),
  ];
  // Inline: found on the segment that completes it (5). IDS: frame 4 ACKs the first half and
  // the parser takes it, so the raw stream is due on frame 5 — up to the ACKed bytes only,
  // where "GET /evil" is not complete; frame 6 ACKs the rest and frame 7 finds it.
  assert.equal(run(frames, false).alerts.filter((x) => x.endsWith(':2')), ['5:2']);
  assert.equal(run(frames, true).alerts.filter((x) => x.endsWith(':2')), ['7:2']);
});

test('IDS mode: a one-sided stream (no ACKs seen) is bounded: held bytes are inspected unacknowledged and counted', () => {
  const c = { sport: 40003, dport: 6379 };
  const frames = [tcp4(CLIENT, SERVER, { ...c, seq: 7, flags: TcpFlag.SYN })];
  const chunk = 'x'.repeat(1400);
  let seq = 8;
  for (let i = 0; i < 400; i++) {
    frames.push(tcp4(CLIENT, SERVER, { ...c, seq, ack: 1, flags: TcpFlag.ACK, payload: i === 300 ? 'CONFIG SET dir /tmp' + chunk.slice(19) : chunk }));
    seq += 1400;
  }
  const rules = 'alert tcp any any -> any any (msg:"cfg"; content:"CONFIG SET dir"; sid:9;)';
  const { alerts, inspector, peakMemory } = run(frames, true, `${rules}\n`);
  // Midstream is off and the handshake never completes, but the SYN started a session whose
  // client stream is tracked; with nobody acknowledging, the hold limit moves it on.
  assert.ok(inspector.streams.stats.idsForcedProgress > 0);
  // 560 KB were sent; the hold limit is 256 KiB (plus the buffer's doubling).
  assert.ok(peakMemory > 0 && peakMemory <= 512 * 1024, `peak memory ${peakMemory}`);
  assert.is(alerts.filter((x) => x.endsWith(':9')).length, 1, alerts.join(' '));
});

test.run();
