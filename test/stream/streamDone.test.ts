// StreamResult.done: the signal that a closed session can receive no more stream data, on
// which per-flow inspection state is released (FlowDetectState.releaseScanState). It must be
// set only once both directions are finished — never while a byte is missing before a FIN,
// queued out of order, or (IDS timing) not yet taken by the app layer or raw inspection.
// Crafted sessions through decode → FlowTable → StreamTracker.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TcpFlag } from '../../src/decode/packet';
import { FlowDetectState } from '../../src/detect/flowDetectState';
import { AppScanState } from '../../src/detect/appScanState';
import { StreamScanState } from '../../src/detect/streamScanState';
import type { TcpSession } from '../../src/stream/tcpSession';
import { Conn, PA } from './conn';

const FA = TcpFlag.FIN | TcpFlag.ACK;
const ACK = TcpFlag.ACK;

test('done only after both FINs and the pure ACK that follows, and on every later packet', () => {
  const c = new Conn();
  c.handshake(100, 500);
  assert.is(c.send(true, { flags: PA, seq: 101, ack: 501, payload: 'GET / HTTP/1.0\r\n\r\n' }).done, false);
  assert.is(c.send(false, { flags: PA, seq: 501, ack: 119, payload: 'HTTP/1.0 200 OK\r\n\r\nhi' }).done, false);
  assert.is(c.send(true, { flags: FA, seq: 119, ack: 522 }).done, false, 'one FIN: the server may still send');
  const fin2 = c.send(false, { flags: FA, seq: 522, ack: 120 });
  assert.ok(fin2.closed);
  assert.is(fin2.done, false, 'the closing packet itself is judged with its state');
  assert.is(c.send(true, { flags: ACK, seq: 120, ack: 523 }).done, true);
  assert.is(c.send(false, { flags: ACK, seq: 523, ack: 120 }).done, true);
});

test('not done while bytes before a FIN are missing or queued out of order', () => {
  const c = new Conn();
  c.handshake(100, 500);
  // Client bytes 101..110 never arrive; 111..120 are queued; then the FIN.
  c.send(true, { flags: PA, seq: 111, ack: 501, payload: 'x'.repeat(10) });
  c.send(true, { flags: FA, seq: 121, ack: 501 });
  c.send(false, { flags: FA, seq: 501, ack: 101 });
  const s = c.lookup!.flow.streamState as TcpSession;
  assert.ok(s.client.queued > 0);
  assert.is(c.send(true, { flags: ACK, seq: 122, ack: 502 }).done, false);
  // The hole is filled: everything up to the FIN is in.
  c.send(true, { flags: PA, seq: 101, ack: 502, payload: 'y'.repeat(10) });
  assert.is(c.send(true, { flags: ACK, seq: 122, ack: 502 }).done, true);
});

test('IDS timing: not done until the app layer and raw inspection took every byte', () => {
  const c = new Conn({ holdUnacked: true });
  c.handshake(100, 500);
  c.send(true, { flags: PA, seq: 101, ack: 501, payload: 'abc' });
  c.send(true, { flags: FA, seq: 104, ack: 501 });
  c.send(false, { flags: FA, seq: 501, ack: 105 });
  const s = c.lookup!.flow.streamState as TcpSession;
  assert.is(c.send(true, { flags: ACK, seq: 105, ack: 502 }).done, false, 'nothing taken yet');
  s.client.appProgress = s.client.nextAbs;
  assert.is(c.send(true, { flags: ACK, seq: 105, ack: 502 }).done, false, 'raw inspection has not taken them');
  s.client.rawProgress = s.client.nextAbs;
  assert.is(c.send(true, { flags: ACK, seq: 105, ack: 502 }).done, true);
});

test('FlowDetectState.releaseScanState drops the resume points and keeps flowbits and alert marks', () => {
  const names = ['a', 'b'];
  const fd = new FlowDetectState(names);
  fd.setFlowbit(1, 1);
  fd.txMatched = new Map([[7, 0]]);
  fd.scanToServer = new StreamScanState();
  fd.scanToClient = new StreamScanState();
  fd.appScans = [new AppScanState(), null];
  fd.releaseScanState();
  assert.is(fd.scanToServer, null);
  assert.is(fd.scanToClient, null);
  assert.is(fd.appScans, null);
  assert.is(fd.flowbits[1], 1);
  assert.is(fd.txMatched!.get(7), 0);
});

test('an AppScanState makes its id list on its first hit only', () => {
  const a = new AppScanState();
  assert.is(a.ids.length, 0, 'no array before a hit');
  const b = new AppScanState();
  assert.is(a.ids, b.ids, 'the empty list is shared');
  for (let i = 0; i < 20; i++) assert.ok(a.push(i));
  assert.is(a.count, 20);
  assert.equal(Array.from(a.ids.subarray(0, 20)), Array.from({ length: 20 }, (_, i) => i));
  assert.is(b.ids.length, 0, 'the shared empty list was not written');
});

test.run();
