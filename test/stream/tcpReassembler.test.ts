// Reassembly edge cases with crafted segments through the real decode → flow → stream path:
// sequence wrap, out-of-order, overlaps with different content, retransmissions, a pattern
// split at every byte boundary, gaps, depth, queue bounds and the memcap.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TcpFlag } from '../../src/decode/packet';
import { FlowDirection } from '../../src/flow/flow';
import { SegmentResult, DEFAULT_REASSEMBLY_LIMITS } from '../../src/stream/tcpReassembler';
import { Conn, PA } from './conn';

const CISN = 0xfffffff0; // the client's sequence numbers wrap 15 bytes into the stream
const SISN = 77;
const c0 = (CISN + 1) >>> 0;
const cseq = (off: number) => (c0 + off) >>> 0;

function open(config = {}): Conn {
  const c = new Conn(config);
  c.handshake(CISN, SISN);
  return c;
}
const send = (c: Conn, off: number, payload: string) => c.send(true, { flags: PA, seq: cseq(off), ack: SISN + 1, payload });

test('in-order delivery across the 32-bit sequence wrap', () => {
  const c = open();
  const a = send(c, 0, 'abcdefghij');
  assert.is(a.fresh, 'abcdefghij');
  assert.is(a.streamOffset, 0);
  const b = send(c, 10, 'klmnopqrst'); // seq 0xfffffffb.. wraps past 0
  assert.is(b.fresh, 'klmnopqrst');
  assert.is(b.data, 'abcdefghijklmnopqrst');
  const d = send(c, 20, 'uvwxyz');
  assert.is(cseq(20), 5);
  assert.is(d.fresh, 'uvwxyz');
  assert.is(d.data.slice(-8), 'stuvwxyz');
});

test('out of order: held back, then released in order by the segment filling the hole', () => {
  const c = open();
  const late = send(c, 10, 'KLMNO');
  assert.ok(late.segment & SegmentResult.OUT_OF_ORDER);
  assert.is(late.fresh, '');
  const later = send(c, 15, 'PQRST');
  assert.is(later.fresh, '');
  const fill = send(c, 0, 'abcdefghij');
  assert.ok(fill.segment & SegmentResult.NEW_DATA);
  assert.is(fill.fresh, 'abcdefghijKLMNOPQRST');
  assert.is(c.tracker.stats.outOfOrder, 2);
  assert.is(c.tracker.memory.used > 0, true);
});

test('retransmission of the same bytes is not delivered again', () => {
  const c = open();
  send(c, 0, 'hello world');
  const again = send(c, 0, 'hello world');
  assert.ok(again.segment & SegmentResult.RETRANSMISSION);
  assert.is(again.fresh, '');
  assert.is(again.segment & SegmentResult.OVERLAP_DIFFERENT, 0);
  const partial = send(c, 6, 'world, again');
  assert.is(partial.fresh, ', again');
  assert.is(c.tracker.stats.retransmissions, 1);
});

test('overlap with different content: the first bytes win, the difference is flagged', () => {
  const c = open();
  send(c, 0, 'GET /index.html');
  const evil = send(c, 5, 'evil.html HTTP/1.1');
  assert.ok(evil.segment & SegmentResult.OVERLAP_DIFFERENT);
  // [5,15) was 'index.html' and stays so; only the bytes after 15 are new.
  assert.is(evil.fresh, 'HTTP/1.1');
  assert.is(evil.data, 'GET /index.htmlHTTP/1.1');
  assert.is(c.tracker.stats.overlapDifferent, 1);
});

test('overlapping out-of-order segments: the one queued first wins', () => {
  const c = open();
  send(c, 10, 'AAAAA'); // [10,15)
  const o = send(c, 8, 'bbBBBBBcc'); // [8,17): 10..14 already queued with other bytes
  assert.ok(o.segment & SegmentResult.OVERLAP_DIFFERENT);
  const fill = send(c, 0, '01234567');
  assert.is(fill.fresh, '01234567bbAAAAAcc');
});

test('a pattern split at every byte boundary is found when its last part arrives', () => {
  const pattern = 'EVIL-PATTERN-1234';
  const text = `xx${pattern}yy`;
  for (let cut = 1; cut < text.length; cut++) {
    const c = open();
    const first = send(c, 0, text.slice(0, cut));
    const second = send(c, cut, text.slice(cut));
    const complete = first.data.includes(pattern) ? first : second;
    assert.ok(complete.data.includes(pattern), `cut at ${cut}`);
    // The match must involve the new bytes of the completing packet (inline: before it is accepted).
    const matchEnd = complete.data.indexOf(pattern) + pattern.length;
    assert.ok(matchEnd > complete.data.length - complete.fresh.length, `cut at ${cut}: match in new data`);
  }
  // One byte per segment, delivered in reverse order: nothing until the first byte arrives.
  const c = open();
  for (let i = text.length - 1; i >= 1; i--) assert.is(send(c, i, text[i]!).fresh, '');
  const last = send(c, 0, text[0]!);
  assert.is(last.fresh, text);
  assert.ok(last.data.includes(pattern));
});

test('lookbehind: the window keeps recent bytes before new data, bounded', () => {
  const c = open({ limits: { ...DEFAULT_REASSEMBLY_LIMITS, lookbehind: 8 } });
  send(c, 0, 'a'.repeat(100));
  const r = send(c, 100, 'NEW');
  assert.is(r.data, 'aaaaaaaaNEW');
  assert.is(r.streamOffset, 92);
});

test('a long stream in uneven segments: every window is exactly the stream bytes it claims', () => {
  const lookbehind = 64;
  const c = open({ limits: { ...DEFAULT_REASSEMBLY_LIMITS, lookbehind } });
  const stream = Array.from({ length: 60000 }, (_, i) => String.fromCharCode(33 + ((i * 7919) % 90))).join('');
  let at = 0;
  let n = 0;
  while (at < stream.length) {
    const len = 1 + ((n++ * 37) % 1400);
    const r = send(c, at, stream.slice(at, at + len));
    const end = Math.min(stream.length, at + len);
    assert.is(r.fresh, stream.slice(at, end));
    assert.is(r.data, stream.slice(r.streamOffset, end));
    assert.is(r.streamOffset, Math.max(0, at - lookbehind));
    at = end;
  }
  assert.ok(c.tracker.memory.used <= 8 * 1024, `window memory ${c.tracker.memory.used}`);
});

test('a gap (receiver ACKs bytes never seen) skips ahead, flags the next data', () => {
  const c = open();
  send(c, 0, 'start');
  // The server acknowledges 25 bytes: [5, 25) was lost by the capture.
  c.send(false, { flags: TcpFlag.ACK, seq: SISN + 1, ack: cseq(25) });
  assert.is(c.tracker.stats.gaps, 1);
  const after = send(c, 25, 'after the gap');
  assert.ok(after.gap);
  assert.is(after.fresh, 'after the gap');
  assert.is(after.data, 'after the gap'); // nothing before a gap is presented as contiguous
  assert.is(after.streamOffset, 25);
});

test('a gap releases out-of-order data queued after it', () => {
  const c = open();
  send(c, 0, 'aaaa');
  send(c, 10, 'queued');
  c.send(false, { flags: TcpFlag.ACK, seq: SISN + 1, ack: cseq(16) });
  const next = send(c, 16, '!');
  assert.ok(next.gap);
  assert.is(next.data, 'queued!');
});

test('inspection depth: data beyond it is not delivered; the flow is marked past depth', () => {
  const c = open({ limits: { ...DEFAULT_REASSEMBLY_LIMITS, depth: 10 } });
  assert.is(send(c, 0, '0123456').fresh, '0123456');
  const cross = send(c, 7, '789abc');
  assert.is(cross.fresh, '789');
  assert.ok(cross.pastDepth);
  assert.ok(c.lookup!.flow.pastDepth & FlowDirection.TO_SERVER);
  const beyond = send(c, 13, 'more');
  assert.ok(beyond.segment & SegmentResult.PAST_DEPTH);
  assert.is(beyond.fresh, '');
  assert.is(c.tracker.stats.pastDepth, 1);
});

test('per-flow out-of-order bound: excess segments are dropped and counted', () => {
  const c = open({ limits: { ...DEFAULT_REASSEMBLY_LIMITS, maxQueuedSegments: 2 } });
  send(c, 10, 'a');
  send(c, 20, 'b');
  const third = send(c, 30, 'c');
  assert.ok(third.segment & SegmentResult.DROPPED);
  assert.is(c.tracker.stats.segmentsDropped, 1);
  const bytes = open({ limits: { ...DEFAULT_REASSEMBLY_LIMITS, maxQueuedBytes: 8 } });
  send(bytes, 10, '12345');
  assert.ok(send(bytes, 20, '67890').segment & SegmentResult.DROPPED);
});

test('global memcap: refused reservations drop data, are counted, and memory is returned', () => {
  const c = open({ memcap: 3000, limits: { ...DEFAULT_REASSEMBLY_LIMITS, lookbehind: 256 } });
  const first = send(c, 0, 'x'.repeat(1000));
  assert.is(first.fresh.length, 1000);
  const queued = send(c, 2000, 'y'.repeat(1500));
  assert.ok(queued.segment & SegmentResult.DROPPED);
  assert.ok(c.tracker.memory.refused >= 1);
  assert.ok(c.tracker.memory.used <= 3000);
  c.tracker.release(c.lookup!.flow);
  assert.is(c.tracker.memory.used, 0);
});

test('a segment absurdly far ahead is ignored as out of window', () => {
  const c = open();
  const r = send(c, 0x50000000, 'far');
  assert.ok(r.segment & SegmentResult.OUT_OF_WINDOW);
  assert.is(c.tracker.stats.outOfWindow, 1);
  assert.is(send(c, 0, 'ok').fresh, 'ok');
});

test('TFO: data on the SYN is delivered at once; the client retransmitting it after a refused cookie is not re-delivered', () => {
  const c = new Conn();
  const syn = c.send(true, { flags: TcpFlag.SYN, seq: 5000, options: [34, 10, 1, 2, 3, 4, 5, 6, 7, 8], payload: 'GET / HTTP/1.1\r\n' });
  assert.is(syn.fresh, 'GET / HTTP/1.1\r\n');
  // The server ignores the data (acks only the SYN); the client sends it again.
  c.send(false, { flags: TcpFlag.SYN | TcpFlag.ACK, seq: 1, ack: 5001 });
  c.send(true, { flags: TcpFlag.ACK, seq: 5001, ack: 2 });
  const again = c.send(true, { flags: PA, seq: 5001, ack: 2, payload: 'GET / HTTP/1.1\r\n' });
  assert.ok(again.segment & SegmentResult.RETRANSMISSION);
  assert.is(again.fresh, '');
  assert.is(c.send(true, { flags: PA, seq: 5017, ack: 2, payload: 'Host: x\r\n' }).fresh, 'Host: x\r\n');
});

test('both directions are reassembled independently', () => {
  const c = open();
  send(c, 0, 'request');
  const resp = c.send(false, { flags: PA, seq: SISN + 1, ack: cseq(7), payload: 'response' });
  assert.not.ok(resp.toServer);
  assert.is(resp.data, 'response');
  assert.is(send(c, 7, '-2').data, 'request-2');
});

test.run();
