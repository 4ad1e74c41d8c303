import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeAnomaly, DecodeContext } from '../../src/decode/decodeStats';
import { IpProto, LinkType, Packet, TcpFlag } from '../../src/decode/packet';
import { ip4, ipv4, tcpSegment, TcpOpts } from './craft';

function decode(o: TcpOpts, mutate?: (seg: number[]) => void): { p: Packet; ctx: DecodeContext } {
  const seg = tcpSegment(ip4('1.1.1.1'), ip4('2.2.2.2'), o);
  if (mutate) mutate(seg);
  const p = new Packet();
  const ctx = new DecodeContext('all');
  decodePacket(p, Uint8Array.from(ipv4('1.1.1.1', '2.2.2.2', { proto: IpProto.TCP }, seg)), LinkType.RAW, ctx);
  return { p, ctx };
}

test('header fields and payload', () => {
  const { p } = decode({ sport: 33000, dport: 8080, seq: 0xfffffff0, ack: 0x80000001, flags: TcpFlag.PSH | TcpFlag.ACK, window: 502, payload: 'GET /' });
  assert.is(p.srcPort, 33000);
  assert.is(p.dstPort, 8080);
  assert.is(p.tcpSeq, 0xfffffff0);
  assert.is(p.tcpAck, 0x80000001);
  assert.is(p.tcpFlags, 0x18);
  assert.is(p.tcpWindow, 502);
  assert.is(p.tcpHeaderLength, 20);
  assert.is(Buffer.from(p.payload()).toString(), 'GET /');
  assert.is(p.l4ChecksumValid, 1);
  assert.ok(p.isTcp);
});

test('SYN options: MSS, SACK-permitted, timestamps, NOP, window scale, TFO cookie', () => {
  const options = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8];
  const { p } = decode({ flags: TcpFlag.SYN, options, payload: 'data on SYN' });
  assert.is(p.tcpMss, 1460);
  assert.ok(p.tcpSackPermitted);
  assert.is(p.tcpTsVal, 1);
  assert.is(p.tcpTsEcr, 2);
  assert.is(p.tcpWindowScale, 7);
  assert.ok(p.tcpFastOpen);
  assert.is(p.payloadLength, 11);
  assert.is(p.anomalies, 0);
});

test('the experimental TFO option (kind 254, ExID 0xF989) counts as TFO; other experiments do not', () => {
  assert.ok(decode({ flags: TcpFlag.SYN, options: [254, 12, 0xf9, 0x89, 1, 2, 3, 4, 5, 6, 7, 8] }).p.tcpFastOpen);
  assert.not.ok(decode({ flags: TcpFlag.SYN, options: [254, 4, 0x12, 0x34] }).p.tcpFastOpen);
});

test('window scale above 14 is used as 14 (RFC 7323)', () => {
  assert.is(decode({ flags: TcpFlag.SYN, options: [3, 3, 20, 0] }).p.tcpWindowScale, 14);
});

test('malformed options are flagged; what parsed before stays', () => {
  const { p } = decode({ flags: TcpFlag.SYN, options: [2, 4, 0x05, 0xb4, 8, 30, 0, 0] });
  assert.is(p.tcpMss, 1460);
  assert.ok(p.anomalies & DecodeAnomaly.TCP_BAD_OPTIONS);
  assert.ok(decode({ flags: TcpFlag.SYN, options: [2, 3, 0, 0] }).p.anomalies & DecodeAnomaly.TCP_BAD_OPTIONS);
});

test('bad checksum flagged and counted', () => {
  const { p, ctx } = decode({ payload: 'x', badChecksum: true });
  assert.is(p.l4ChecksumValid, 0);
  assert.ok(p.anomalies & DecodeAnomaly.TCP_BAD_CHECKSUM);
  assert.is(ctx.stats.tcpBadChecksum, 1);
});

test('data offset below 5, above the segment, and a segment shorter than 20 bytes', () => {
  assert.ok(decode({}, (s) => (s[12] = 0x40)).p.anomalies & DecodeAnomaly.TCP_BAD_HEADER_LENGTH);
  const long = decode({}, (s) => (s[12] = 0xf0));
  assert.ok(long.p.anomalies & DecodeAnomaly.TCP_TRUNCATED);
  assert.is(long.p.l4Offset, -1);
  const seg = tcpSegment(ip4('1.1.1.1'), ip4('2.2.2.2'), {}).slice(0, 12);
  const p = new Packet();
  decodePacket(p, Uint8Array.from(ipv4('1.1.1.1', '2.2.2.2', { proto: IpProto.TCP }, seg)), LinkType.RAW, new DecodeContext('all'));
  assert.ok(p.anomalies & DecodeAnomaly.TCP_TRUNCATED);
  assert.not.ok(p.isTcp);
});

test.run();
