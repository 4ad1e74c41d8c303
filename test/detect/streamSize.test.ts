// stream_size (Suricata detect-stream_size.c) through the real PacketInspector: crafted frames
// of one TCP session whose client sends 33 bytes and server 41; the size of a side is
// next_seq − isn, so its SYN counts one. Also out-of-order data (next_seq moves only when the
// hole is filled), UDP (never matches) and the parse errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Packet, LinkType, TcpFlag } from '../../src/decode/packet';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeContext } from '../../src/decode/decodeStats';
import { PacketInspector } from '../../src/verdict/packetInspector';
import { tcp4, udpDatagram, ip4, ipv4, ethernet } from '../decode/craft';
import { engine, load } from './detectFixture';

const C = '10.1.0.1';
const S = '10.1.0.2';
const REQ = 'GET / HTTP/1.1\r\nHost: a\r\n\r\nabcdef'; // 33 bytes
const RSP = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nxx'; // 41 bytes

function frames(): Uint8Array[] {
  const c = { sport: 41000, dport: 8080 };
  const s = { sport: 8080, dport: 41000 };
  return [
    tcp4(C, S, { ...c, seq: 10, flags: TcpFlag.SYN }), // 0
    tcp4(S, C, { ...s, seq: 70, ack: 11, flags: TcpFlag.SYN | TcpFlag.ACK }), // 1
    tcp4(C, S, { ...c, seq: 11, ack: 71, flags: TcpFlag.ACK }), // 2
    tcp4(C, S, { ...c, seq: 11, ack: 71, flags: TcpFlag.ACK | TcpFlag.PSH, payload: REQ }), // 3
    tcp4(S, C, { ...s, seq: 71, ack: 11 + REQ.length, flags: TcpFlag.ACK | TcpFlag.PSH, payload: RSP }), // 4
    tcp4(C, S, { ...c, seq: 11 + REQ.length, ack: 71 + RSP.length, flags: TcpFlag.ACK }), // 5
  ];
}

/** Frames (indexes) on which each sid alerted. */
function alertFrames(rules: string, input: Uint8Array[], idsMode = false): Record<number, number[]> {
  const inspector = new PacketInspector(engine(rules), { midstream: false, maxFlows: 64, idsMode });
  const p = new Packet();
  const dc = new DecodeContext('none');
  const out: Record<number, number[]> = {};
  input.forEach((f, i) => {
    decodePacket(p, f, LinkType.ETHERNET, dc);
    inspector.inspect(p);
    const r = inspector.result;
    if (r !== null) for (let k = 0; k < r.alertCount; k++) (out[r.alerts[k]!.sid] ??= []).push(i);
  });
  return out;
}

test('client / server sizes count the SYN and the packet\'s own data, every operator', () => {
  const rules = [
    `alert tcp any any -> any any (stream_size:client,=,${REQ.length + 1}; sid:1;)`,
    'alert tcp any any -> any any (stream_size:server,<,5; sid:2;)',
    `alert tcp any any -> any any (stream_size:server,>=,${RSP.length + 1}; sid:3;)`,
    'alert tcp any any -> any any (stream_size:both,>,1; sid:4;)',
    'alert tcp any any -> any any (stream_size:either,<=,1; sid:5;)',
    `alert tcp any any -> any any (stream_size: client,!=,${REQ.length + 1}; sid:6;)`,
  ].join('\n');
  for (const idsMode of [false, true]) {
    assert.equal(alertFrames(rules, frames(), idsMode), {
      1: [3, 4, 5],
      // The server side has not started on the SYN (size 0), is 1 after its SYN/ACK.
      2: [0, 1, 2, 3],
      3: [4, 5],
      // both: the server is still 1 on the request (frame 3).
      4: [4, 5],
      5: [0, 1, 2, 3],
      6: [0, 1, 2],
    }, `idsMode ${idsMode}`);
  }
});

test('out of order: the size moves when the hole is filled, not before', () => {
  const c = { sport: 41001, dport: 8080 };
  const s = { sport: 8080, dport: 41001 };
  const input = [
    tcp4(C, S, { ...c, seq: 10, flags: TcpFlag.SYN }),
    tcp4(S, C, { ...s, seq: 70, ack: 11, flags: TcpFlag.SYN | TcpFlag.ACK }),
    tcp4(C, S, { ...c, seq: 11, ack: 71, flags: TcpFlag.ACK }),
    tcp4(C, S, { ...c, seq: 21, ack: 71, flags: TcpFlag.ACK, payload: 'bbbbbbbbbb' }), // 3: beyond a hole
    tcp4(C, S, { ...c, seq: 11, ack: 71, flags: TcpFlag.ACK, payload: 'aaaaaaaaaa' }), // 4: fills it
  ];
  const rules = 'alert tcp any any -> any any (stream_size:client,=,1; sid:1;)\nalert tcp any any -> any any (stream_size:client,=,21; sid:2;)';
  assert.equal(alertFrames(rules, input), { 1: [0, 1, 2, 3], 2: [4] });
});

test('no TCP session: UDP never matches', () => {
  const udp = Uint8Array.from(ethernet(0x0800, ipv4(C, S, { proto: 17 }, udpDatagram(ip4(C), ip4(S), 5000, 53, 'abc'))));
  assert.equal(alertFrames('alert ip any any -> any any (stream_size:either,<,100; sid:1;)', [udp]), {});
});

test('bad stream_size values are rule errors naming the cause', () => {
  for (const [value, cause] of [
    ['sever,<,5', /unknown side "sever"/],
    ['client,=>,5', /unknown operator "=>"/],
    ['client,<', /expected/],
    ['client,<,99999999999', /out of range/],
  ] as const) {
    const set = load(`alert tcp any any -> any any (stream_size:${value}; sid:1;)`);
    assert.is(set.signatures.length, 0, value);
    assert.match(set.errors[0]?.message ?? '', cause);
  }
});

test.run();
