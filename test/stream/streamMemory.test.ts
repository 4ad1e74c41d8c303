// Reassembly window buffers: a closed session whose directions have nothing left to give
// returns its windows to the pool at the next pure ACK (not at the flow's timeout), the next
// session reuses them, the pool stays bounded, and a direction still holding data (IDS timing,
// not yet taken) keeps its window. Crafted sessions through decode → FlowTable → StreamTracker.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TcpFlag } from '../../src/decode/packet';
import { FlowState } from '../../src/flow/flow';
import type { TcpSession } from '../../src/stream/tcpSession';
import { POOL_MAX_BYTES, StreamMemory } from '../../src/stream/streamMemory';
import { Conn, PA } from './conn';

const FA = TcpFlag.FIN | TcpFlag.ACK;

/** Handshake, `bytes` of client data and a 3000-byte reply, both FINs; returns the session. */
function session(c: Conn, bytes = 600): TcpSession {
  c.handshake(100, 500);
  c.send(true, { flags: PA, seq: 101, ack: 501, payload: 'q'.repeat(bytes) });
  c.send(false, { flags: PA, seq: 501, ack: 101 + bytes, payload: 'r'.repeat(3000) });
  c.send(true, { flags: FA, seq: 101 + bytes, ack: 3501 });
  c.send(false, { flags: FA, seq: 3501, ack: 102 + bytes });
  return c.lookup!.flow.streamState as TcpSession;
}

test('a closed session releases its windows at the next pure ACK; the next session reuses them', () => {
  const c = new Conn();
  const s = session(c);
  const flow = c.lookup!.flow;
  assert.is(flow.state, FlowState.CLOSED);
  const clientBuf = s.client.rawBuffer, serverBuf = s.server.rawBuffer;
  assert.ok(clientBuf.length >= 2048 && serverBuf.length >= 4096, 'windows held until the close');
  const used = c.tracker.memory.used;
  // The final ACK: nothing is left in either direction.
  c.send(true, { flags: TcpFlag.ACK, seq: 702, ack: 3502 });
  assert.is(c.tracker.stats.releasedAtClose, 2);
  assert.is(s.client.rawBuffer.length, 0);
  assert.is(s.server.rawBuffer.length, 0);
  assert.is(c.tracker.memory.used, used - clientBuf.length - serverBuf.length, 'reservation given back');
  assert.is(c.tracker.memory.pooledBytes, clientBuf.length + serverBuf.length);
  // Stream offsets keep counting: a late retransmission is still recognised as one.
  const late = c.send(false, { flags: PA, seq: 501, ack: 702, payload: 'r'.repeat(100) });
  assert.is(late.fresh, '');

  // A new session on another port takes the pooled buffers instead of new ones.
  const c2 = new Conn({}, '10.0.0.1', '10.0.0.2', 40001, 80);
  Object.assign(c2, { tracker: c.tracker });
  c2.handshake(100, 500);
  c2.send(true, { flags: PA, seq: 101, ack: 501, payload: 'x'.repeat(600) });
  const s2 = c2.lookup!.flow.streamState as TcpSession;
  assert.ok(s2.client.rawBuffer.buffer === clientBuf.buffer || s2.client.rawBuffer.buffer === serverBuf.buffer, 'pooled window reused');
  assert.is([...s2.client.rawBuffer.subarray(0, 600)].every((b) => b === 0x78), true, 'holds the new bytes');
});

test('IDS timing: a direction whose bytes the app layer or raw inspection has not taken keeps its window', () => {
  const c = new Conn({ holdUnacked: true });
  const s = session(c);
  // Nobody consumed anything (no PacketInspector drives the progress here).
  c.send(true, { flags: TcpFlag.ACK, seq: 702, ack: 3502 });
  assert.is(c.tracker.stats.releasedAtClose, 0);
  assert.ok(s.server.rawBuffer.length > 0);
  // Once both progresses reach the end, the next pure ACK releases it.
  for (const r of [s.client, s.server]) r.appProgress = r.rawProgress = r.nextAbs;
  c.send(true, { flags: TcpFlag.ACK, seq: 702, ack: 3502 });
  assert.is(c.tracker.stats.releasedAtClose, 2);
});

test('only whole power-of-two buffers are pooled, up to POOL_MAX_BYTES', () => {
  const m = new StreamMemory();
  m.give(new Uint8Array(3000));
  m.give(new Uint8Array(8192).subarray(0, 4096));
  assert.is(m.pooledBytes, 0, 'odd sizes and views are not pooled');
  const b = new Uint8Array(4096);
  m.give(b);
  assert.is(m.take(4096), b);
  assert.is(m.pooledBytes, 0);
  assert.is.not(m.take(4096), b, 'a taken buffer is not handed out twice');
  for (let i = 0; i < POOL_MAX_BYTES / 65536 + 10; i++) m.give(new Uint8Array(65536));
  assert.is(m.pooledBytes, POOL_MAX_BYTES, 'bounded');
});

test.run();
