// Hostile packets take a defined path, and it is counted: for truncated, oversized (64 KiB
// GSO/TSO), zero-length, wrong-checksum and fragmented packets, exactly which decode, flow,
// stream and app-layer counters move (every other counter must stay put), plus what the
// stream hands on. Packets are crafted byte by byte (test/decode/craft.ts) and go through
// the same Pipeline as the fuzzers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DecodeAnomaly } from '../../src/decode/decodeStats';
import { LinkType, TcpFlag } from '../../src/decode/packet';
import { ethernet, icmpEcho, ip4, ip6, ipv4, ipv6, tcp4, tcpSegment, udpDatagram, u16 } from '../decode/craft';
import { Pipeline } from './fuzz';
import type { AppLayerState } from '../../src/applayer/appLayerState';

const C = '10.1.0.1';
const S = '10.1.0.2';
const PA = TcpFlag.PSH | TcpFlag.ACK;

type Counters = Record<string, number>;

function snapshot(pipe: Pipeline): Counters {
  const out: Counters = {};
  const add = (prefix: string, o: object): void => {
    for (const [k, v] of Object.entries(o)) if (typeof v === 'number') out[`${prefix}.${k}`] = v;
  };
  add('decode', pipe.ctx.stats);
  add('flow', pipe.table.stats);
  add('stream', pipe.tracker.stats);
  add('app', pipe.app);
  out['stream.memoryRefused'] = pipe.tracker.memory.refused;
  out['pipe.appStates'] = pipe.appStates;
  return out;
}

/** Pushes one frame and returns the counters that changed, by how much. */
function moved(pipe: Pipeline, frame: Uint8Array, verify = true, linkType: number = LinkType.ETHERNET): Counters {
  const before = snapshot(pipe);
  pipe.push(frame, linkType, 1000, verify);
  const after = snapshot(pipe);
  const d: Counters = {};
  for (const k of Object.keys(after)) if (after[k] !== before[k]) d[k] = after[k]! - before[k]!;
  return d;
}

/** A pipeline with an established session C:40000 → S:80 (client ISN 100, server ISN 5000). */
function established(mode: 'all' | 'none' = 'all', depth = 1024 * 1024): Pipeline {
  const pipe = new Pipeline(mode, { midstream: false, limits: { depth, lookbehind: 4096, maxQueuedBytes: 256 * 1024, maxQueuedSegments: 1024 } });
  pipe.push(tcp4(C, S, { sport: 40000, dport: 80, seq: 100, flags: TcpFlag.SYN }), LinkType.ETHERNET, 1000);
  pipe.push(tcp4(S, C, { sport: 80, dport: 40000, seq: 5000, ack: 101, flags: TcpFlag.SYN | TcpFlag.ACK }), LinkType.ETHERNET, 1000);
  pipe.push(tcp4(C, S, { sport: 40000, dport: 80, seq: 101, ack: 5001, flags: TcpFlag.ACK }), LinkType.ETHERNET, 1000);
  return pipe;
}

function request(n: number): string {
  const head = `POST /u HTTP/1.1\r\nHost: s\r\nContent-Length: ${n}\r\n\r\n`;
  return head + 'x'.repeat(Math.max(0, n - head.length));
}

const base = (bytes: number, extra: Counters = {}): Counters => ({ 'decode.packets': 1, ...(bytes ? { 'decode.bytes': bytes } : {}), 'decode.ethernet': 1, ...extra });

// ------------------------------------------------------------------------------ truncated

test('truncated: a zero-length frame is link-truncated', () => {
  const pipe = new Pipeline('all');
  assert.equal(moved(pipe, new Uint8Array(0)), base(0, { 'decode.truncated': 1, 'decode.anomalous': 1 }));
  assert.ok(pipe.p.anomalies & DecodeAnomaly.LINK_TRUNCATED);
});

test('truncated: an IPv4 header cut short is counted as truncated, no flow', () => {
  const pipe = new Pipeline('all');
  const f = tcp4(C, S, { flags: TcpFlag.SYN }).subarray(0, 14 + 12);
  assert.equal(moved(pipe, f), base(26, { 'decode.ipv4': 1, 'decode.truncated': 1, 'decode.anomalous': 1 }));
  assert.ok(pipe.p.anomalies & DecodeAnomaly.IPV4_TRUNCATED);
});

test('truncated: a TCP header cut short is truncated and cannot be keyed (flow.noFlow)', () => {
  const pipe = new Pipeline('all');
  const f = tcp4(C, S, { flags: TcpFlag.SYN }).subarray(0, 14 + 20 + 10);
  assert.equal(moved(pipe, f), base(44, { 'decode.ipv4': 1, 'decode.tcp': 1, 'decode.truncated': 1, 'decode.anomalous': 1, 'flow.noFlow': 1 }));
  assert.ok(pipe.p.anomalies & DecodeAnomaly.TCP_TRUNCATED);
  assert.ok(pipe.p.anomalies & DecodeAnomaly.CAPTURE_TRUNCATED);
});

test('truncated by the snaplen inside the payload: decoded, checksum not judged, the captured bytes reassembled', () => {
  const pipe = established();
  const full = tcp4(C, S, { sport: 40000, dport: 80, seq: 101, ack: 5001, flags: PA, payload: request(1000) });
  const cut = full.subarray(0, 14 + 20 + 20 + 300);
  assert.equal(moved(pipe, cut), base(cut.length, { 'decode.ipv4': 1, 'decode.tcp': 1, 'decode.anomalous': 1, 'pipe.appStates': 1, 'app.httpTransactions': 1 }));
  assert.is(pipe.p.anomalies, DecodeAnomaly.CAPTURE_TRUNCATED);
  assert.is(pipe.p.l4ChecksumValid, -1, 'a partial segment cannot be verified');
  const st = pipe.p.payloadLength;
  assert.is(st, 300);
});

// ------------------------------------------------------------------------------ oversized

function gsoFrame(payloadLength: number, totalLengthField: number | null, badChecksum: boolean): Uint8Array {
  const payload = request(payloadLength);
  const seg = tcpSegment(ip4(C), ip4(S), { sport: 40000, dport: 80, seq: 101, ack: 5001, flags: PA, payload, badChecksum });
  const frame = Uint8Array.from(ethernet(0x0800, ipv4(C, S, { proto: 6 }, seg)));
  if (totalLengthField !== null) {
    // The field as the kernel leaves it on a GSO/TSO super-packet; header checksum refreshed.
    frame[16] = totalLengthField >>> 8;
    frame[17] = totalLengthField & 0xff;
    frame[24] = frame[25] = 0;
    let s = 0;
    for (let i = 14; i < 34; i += 2) s += (frame[i]! << 8) | frame[i + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    frame[24] = (~s >>> 8) & 0xff;
    frame[25] = ~s & 0xff;
  }
  return frame;
}

test('oversized: a 64 KiB GSO packet (checksum not ready) is decoded whole, not judged, reassembled and fed to the app layer', () => {
  const pipe = established();
  const n = 65535 - 40;
  const f = gsoFrame(n, null, true);
  // verifyChecksums = false: the live path passes that for NFQA_SKB_CSUMNOTREADY / GSO packets.
  assert.equal(moved(pipe, f, false), base(f.length, { 'decode.ipv4': 1, 'decode.tcp': 1, 'pipe.appStates': 1, 'app.httpTransactions': 1 }));
  assert.is(pipe.p.payloadLength, n);
  assert.is(pipe.p.l4ChecksumValid, -1);
  const st = pipe.table.flows().next().value!.appState as AppLayerState;
  assert.is(st.http!.transactions[0]!.requestBody!.received, n - (request(n).indexOf('\r\n\r\n') + 4), 'the whole body reached the parser');
});

test('oversized: a TSO packet above 64 KiB with IPv4 total length 0 is decoded by its captured length', () => {
  const pipe = established();
  const n = 90_000;
  const f = gsoFrame(n, 0, false);
  assert.equal(moved(pipe, f, false), base(f.length, { 'decode.ipv4': 1, 'decode.tcp': 1, 'pipe.appStates': 1, 'app.httpTransactions': 1 }));
  assert.is(pipe.p.payloadLength, n);
  assert.is(pipe.p.anomalies, 0);
});

test('oversized: the same GSO packet with checksums verified is a counted bad checksum, not stream data', () => {
  const pipe = established();
  const f = gsoFrame(65535 - 40, null, true);
  assert.equal(moved(pipe, f, true), base(f.length, { 'decode.ipv4': 1, 'decode.tcp': 1, 'decode.tcpBadChecksum': 1, 'decode.anomalous': 1, 'stream.invalidChecksum': 1 }));
});

test('oversized: a GSO packet crossing the inspection depth is cut there and counted once (stream.pastDepth)', () => {
  const pipe = established('all', 32 * 1024);
  const f = gsoFrame(65535 - 40, null, false);
  assert.equal(moved(pipe, f, false), base(f.length, { 'decode.ipv4': 1, 'decode.tcp': 1, 'stream.pastDepth': 1, 'pipe.appStates': 1, 'app.httpTransactions': 1 }));
  const flow = pipe.table.flows().next().value!;
  assert.is(flow.pastDepth, 1, 'to-server direction marked past depth');
  const st = flow.appState as AppLayerState;
  assert.is(st.http!.transactions[0]!.requestBody!.received, 32 * 1024 - (request(65495).indexOf('\r\n\r\n') + 4), 'only bytes up to the depth reach the parser');
});

// ---------------------------------------------------------------------------- zero-length

test('zero-length: a pure ACK moves no stream or app-layer counter', () => {
  const pipe = established();
  const f = tcp4(C, S, { sport: 40000, dport: 80, seq: 101, ack: 5001, flags: TcpFlag.ACK });
  assert.equal(moved(pipe, f), base(f.length, { 'decode.ipv4': 1, 'decode.tcp': 1 }));
});

test('zero-length: an empty UDP datagram makes a flow but is not offered to the app layer', () => {
  const pipe = new Pipeline('all');
  const f = Uint8Array.from(ethernet(0x0800, ipv4(C, S, { proto: 17 }, udpDatagram(ip4(C), ip4(S), 5353, 53, []))));
  assert.equal(moved(pipe, f), base(f.length, { 'decode.ipv4': 1, 'decode.udp': 1, 'flow.created': 1, 'flow.active': 1 }));
  assert.is(pipe.p.payloadLength, 0);
});

// -------------------------------------------------------------------------- wrong checksum

test('wrong checksum: TCP is counted by the decoder and skipped by the stream (Suricata)', () => {
  const pipe = established();
  const f = tcp4(C, S, { sport: 40000, dport: 80, seq: 101, ack: 5001, flags: PA, payload: 'GET / HTTP/1.1\r\n\r\n', badChecksum: true });
  assert.equal(moved(pipe, f), base(f.length, { 'decode.ipv4': 1, 'decode.tcp': 1, 'decode.tcpBadChecksum': 1, 'decode.anomalous': 1, 'stream.invalidChecksum': 1 }));
  // The same bytes with a good checksum are then new data (nothing was taken from the bad one).
  const good = tcp4(C, S, { sport: 40000, dport: 80, seq: 101, ack: 5001, flags: PA, payload: 'GET / HTTP/1.1\r\n\r\n' });
  assert.equal(moved(pipe, good), base(good.length, { 'decode.ipv4': 1, 'decode.tcp': 1, 'pipe.appStates': 1, 'app.httpTransactions': 1 }));
});

test('wrong checksum: IPv4 header, UDP and ICMP each move their own counter; the packets still make flows', () => {
  const pipe = new Pipeline('all');
  const udp = udpDatagram(ip4(C), ip4(S), 5353, 9999, 'x');
  const badIp = Uint8Array.from(ethernet(0x0800, ipv4(C, S, { proto: 17, badChecksum: true }, udp)));
  assert.equal(moved(pipe, badIp), base(badIp.length, { 'decode.ipv4': 1, 'decode.udp': 1, 'decode.ipv4BadChecksum': 1, 'decode.anomalous': 1, 'flow.created': 1, 'flow.active': 1, 'pipe.appStates': 1 }));
  const badUdp = Uint8Array.from(ethernet(0x0800, ipv4(C, S, { proto: 17 }, udpDatagram(ip4(C), ip4(S), 5353, 9999, 'x', true))));
  assert.equal(moved(pipe, badUdp), base(badUdp.length, { 'decode.ipv4': 1, 'decode.udp': 1, 'decode.udpBadChecksum': 1, 'decode.anomalous': 1 }));
  const icmp = icmpEcho(8, 1, 1, [1, 2, 3, 4]);
  icmp[2] ^= 0xff;
  const badIcmp = Uint8Array.from(ethernet(0x0800, ipv4(C, S, { proto: 1 }, icmp)));
  assert.equal(moved(pipe, badIcmp), base(badIcmp.length, { 'decode.ipv4': 1, 'decode.icmpv4': 1, 'decode.icmpBadChecksum': 1, 'decode.anomalous': 1, 'flow.created': 1, 'flow.active': 1 }));
});

test('wrong checksum: with checksums off (mode none, or per packet) nothing is judged and the data is used', () => {
  for (const [mode, verify] of [['none', true], ['all', false]] as const) {
    const pipe = established(mode);
    const f = tcp4(C, S, { sport: 40000, dport: 80, seq: 101, ack: 5001, flags: PA, payload: 'GET / HTTP/1.1\r\n\r\n', badChecksum: true });
    assert.equal(moved(pipe, f, verify), base(f.length, { 'decode.ipv4': 1, 'decode.tcp': 1, 'pipe.appStates': 1, 'app.httpTransactions': 1 }), `${mode}/${verify}`);
  }
});

// ------------------------------------------------------------------------------- fragments

test('fragments: IPv4 first and later fragments are counted and kept out of flows (not reassembled)', () => {
  const pipe = new Pipeline('all');
  const seg = tcpSegment(ip4(C), ip4(S), { sport: 40000, dport: 80, flags: TcpFlag.SYN });
  const first = Uint8Array.from(ethernet(0x0800, ipv4(C, S, { proto: 6, flagsFrag: 0x2000 }, seg)));
  assert.equal(moved(pipe, first), base(first.length, { 'decode.ipv4': 1, 'decode.fragments': 1, 'decode.anomalous': 1, 'flow.noFlow': 1 }));
  const later = Uint8Array.from(ethernet(0x0800, ipv4(C, S, { proto: 17, flagsFrag: 185 }, [1, 2, 3, 4, 5, 6, 7, 8])));
  assert.equal(moved(pipe, later), base(later.length, { 'decode.ipv4': 1, 'decode.fragments': 1, 'decode.anomalous': 1, 'flow.noFlow': 1 }));
  assert.ok(pipe.p.anomalies & DecodeAnomaly.FRAGMENT);
});

test('fragments: an IPv6 fragment header is counted the same way; an atomic fragment is a whole packet', () => {
  const pipe = new Pipeline('all');
  const a = ip6('fd00::1');
  const b = ip6('fd00::2');
  const udp = [...u16(5353), ...u16(9999), ...u16(9), 0, 0, 0x41];
  const frag = Uint8Array.from(ethernet(0x86dd, ipv6('fd00::1', 'fd00::2', 44, [17, 0, 0, 1, 0, 0, 0, 7, ...udp])));
  assert.equal(moved(pipe, frag), base(frag.length, { 'decode.ipv6': 1, 'decode.fragments': 1, 'decode.anomalous': 1, 'flow.noFlow': 1 }));
  // RFC 6946: offset 0 and M = 0 is not a fragment; with a valid checksum it is plain UDP.
  const good = udpDatagram(a, b, 5353, 9999, 'A');
  const atomic = Uint8Array.from(ethernet(0x86dd, ipv6('fd00::1', 'fd00::2', 44, [17, 0, 0, 0, 0, 0, 0, 7, ...good])));
  assert.equal(moved(pipe, atomic), base(atomic.length, { 'decode.ipv6': 1, 'decode.udp': 1, 'flow.created': 1, 'flow.active': 1, 'pipe.appStates': 1 }));
});

test.run();
