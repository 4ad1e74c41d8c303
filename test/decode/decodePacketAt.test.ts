// decodePacketAt: a frame inside a larger buffer (the live batch arena) decodes to the same
// packet as a copy of it on its own, with every offset shifted by the frame's position, and
// the given length bounds it even though the buffer goes on. Every corpus pcap packet is
// checked this way, plus crafted truncation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { corpusPath } from '../support/corpus';
import { openPcap } from '../../src/capture/pcapOpen';
import { decodePacket, decodePacketAt } from '../../src/decode/decodePacket';
import { DecodeAnomaly, DecodeContext } from '../../src/decode/decodeStats';
import { LinkType, Packet } from '../../src/decode/packet';
import { tcp4 } from './craft';

const SHIFTED = ['l2Offset', 'l3Offset', 'l4Offset', 'payloadOffset'] as const;
const SAME = ['ipVersion', 'ipProto', 'ipTotalLength', 'srcPort', 'dstPort', 'tcpSeq', 'tcpFlags', 'payloadLength',
  'ipChecksumValid', 'l4ChecksumValid', 'anomalies', 'icmpType', 'vlanCount', 'etherType', 'capturedLength'] as const;

function compare(a: Packet, b: Packet, shift: number, what: string): void {
  for (const k of SAME) assert.is(b[k], a[k], `${what}: ${k}`);
  for (const k of SHIFTED) {
    // payloadOffset stays 0 (not -1) when nothing was decoded.
    if (k === 'payloadOffset' && a.ipVersion === 0) assert.is(b[k], 0, `${what}: ${k}`);
    else assert.is(b[k], a[k] < 0 ? a[k] : a[k] + shift, `${what}: ${k}`);
  }
  assert.equal(Array.from(b.src), Array.from(a.src), `${what}: src`);
  assert.equal(Array.from(b.dst), Array.from(a.dst), `${what}: dst`);
}

test('every corpus packet decodes the same inside a larger buffer as on its own', () => {
  const dir = corpusPath('pcaps');
  const files = fs.readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f));
  assert.ok(files.length > 10);
  const a = new Packet(), b = new Packet();
  const ca = new DecodeContext('all'), cb = new DecodeContext('all');
  const arena = new Uint8Array(256 * 1024);
  let n = 0;
  for (const f of files) {
    const reader = openPcap(`${dir}/${f}`);
    try {
      for (let rec = reader.next(); rec !== null; rec = reader.next()) {
        const shift = 1 + (n * 37) % 1000;
        // Garbage around the frame: a decoder reading outside [shift, shift + len) would see it.
        arena.fill(0xa5);
        arena.set(rec.data, shift);
        decodePacket(a, rec.data, rec.linkType, ca);
        decodePacketAt(b, arena, shift, rec.data.length, rec.linkType, cb);
        assert.is(b.data, arena);
        compare(a, b, shift, `${f} #${rec.index}`);
        n++;
      }
    } finally {
      reader.close();
    }
  }
  assert.ok(n > 1000, `${n} packets`);
  assert.equal({ ...cb.stats }, { ...ca.stats });
});

test('the length bounds the frame: bytes after it in the buffer are not read', () => {
  const frame = tcp4('10.0.0.1', '10.0.0.2', { sport: 1234, dport: 80, seq: 1, ack: 1, flags: 0x18, payload: 'hello world' });
  const arena = new Uint8Array(frame.length + 100);
  arena.set(frame, 50);
  // The frame continues in the arena, but only part of it was captured.
  arena.set(frame.subarray(frame.length - 30), 50 + frame.length - 30);
  const p = new Packet();
  const ctx = new DecodeContext('all');
  decodePacketAt(p, arena, 50, frame.length - 5, LinkType.ETHERNET, ctx);
  assert.ok((p.anomalies & DecodeAnomaly.CAPTURE_TRUNCATED) !== 0, 'truncated capture flagged');
  assert.is(p.payloadOffset + p.payloadLength, 50 + frame.length - 5, 'payload ends at the captured end');
  assert.is(ctx.stats.bytes, frame.length - 5);
  decodePacketAt(p, arena, 50, 10, LinkType.ETHERNET, ctx);
  assert.is(p.ipVersion, 0);
  assert.ok((p.anomalies & DecodeAnomaly.LINK_TRUNCATED) !== 0, 'short frame: link truncated');
  decodePacketAt(p, arena, 50, frame.length, LinkType.ETHERNET, ctx);
  assert.is(p.l4ChecksumValid, 1);
  assert.is(Buffer.from(p.payload()).toString('latin1'), 'hello world');
});

test.run();
