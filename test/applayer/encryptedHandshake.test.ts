// The "handshake over, the rest is ciphertext" flags the bypass decision reads:
// TlsParser.handshakeDone (Suricata 7 app-layer-ssl.c: first application-data record, but
// not 0-RTT early data before the ServerHello) and SshParser.encrypted (both sides sent
// SSH_MSG_NEWKEYS, RFC 4253 §7.3), on crafted bytes split at every position.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { TlsParser } from '../../src/applayer/tlsParser';
import { SshParser } from '../../src/applayer/sshParser';

const u16 = (n: number): number[] => [n >> 8, n & 255];
const record = (type: number, body: number[]): number[] => [type, 3, 3, ...u16(body.length), ...body];
const hs = (type: number, body: number[]): number[] => record(22, [type, 0, body.length >> 8, body.length & 255, ...body]);
function clientHello(extensions: number[]): number[] {
  return hs(1, [3, 3, ...new Array<number>(32).fill(7), 0, ...u16(2), 0x13, 0x01, 1, 0, ...u16(extensions.length), ...extensions]);
}
const SERVER_HELLO = hs(2, [3, 3, ...new Array<number>(32).fill(9), 0, 0x13, 0x01, 0, ...u16(0)]);
const APP_DATA = record(23, [1, 2, 3, 4, 5]);
const EARLY_DATA_EXT = [...u16(42), ...u16(0)];

/** Feeds `bytes` in two pieces split at `at`. */
function feedSplit(feed: (b: Uint8Array) => void, bytes: number[], at: number): void {
  const b = Uint8Array.from(bytes);
  feed(b.subarray(0, at));
  feed(b.subarray(at));
}

test('TLS: the first application-data record ends the handshake, in either direction', () => {
  const msgs = [...clientHello([]), ...APP_DATA];
  for (let at = 0; at <= msgs.length; at++) {
    const t = new TlsParser(new AppLayerCounters());
    feedSplit((b) => t.feed(true, b), msgs, at);
    assert.ok(t.handshakeDone, `split at ${at}`);
  }
  const t = new TlsParser(new AppLayerCounters());
  t.feed(true, Uint8Array.from(clientHello([])));
  t.feed(false, Uint8Array.from(SERVER_HELLO));
  assert.not.ok(t.handshakeDone, 'handshake records alone do not end it');
  t.feed(false, Uint8Array.from(APP_DATA));
  assert.ok(t.handshakeDone);
});

test('TLS 1.3 0-RTT: early data before the ServerHello does not end the handshake (RFC 8446 §2.3)', () => {
  const t = new TlsParser(new AppLayerCounters());
  t.feed(true, Uint8Array.from([...clientHello(EARLY_DATA_EXT), ...APP_DATA]));
  assert.ok(t.earlyData);
  assert.not.ok(t.handshakeDone);
  t.feed(false, Uint8Array.from([...SERVER_HELLO, ...APP_DATA]));
  assert.ok(t.handshakeDone);
});

// SSH binary packets before NEWKEYS (RFC 4253 §6): length, padding length, payload, padding.
function sshPacket(code: number, payloadRest: number[] = []): number[] {
  const payload = [code, ...payloadRest];
  const pad = 8 - ((5 + payload.length) % 8) + 4;
  const len = 1 + payload.length + pad;
  return [len >>> 24, (len >> 16) & 255, (len >> 8) & 255, len & 255, pad, ...payload, ...new Array<number>(pad).fill(0)];
}
const banner = (s: string): number[] => [...Buffer.from(s + '\r\n', 'latin1')];
const KEXINIT = sshPacket(20, new Array<number>(60).fill(1));
const NEWKEYS = sshPacket(21);

test('SSH: encrypted once both sides sent NEWKEYS, whatever the segmentation', () => {
  const client = [...banner('SSH-2.0-OpenSSH_9.2'), ...KEXINIT, ...NEWKEYS, 0xde, 0xad];
  const server = [...banner('SSH-2.0-OpenSSH_8.4'), ...KEXINIT, ...NEWKEYS];
  for (let at = 0; at <= client.length; at += 3) {
    const c = new AppLayerCounters();
    const s = new SshParser(c);
    feedSplit((b) => s.feed(false, b), server, Math.min(at, server.length));
    assert.ok(s.newKeys(false), `server NEWKEYS, split at ${at}`);
    assert.not.ok(s.encrypted);
    feedSplit((b) => s.feed(true, b), client, at);
    assert.ok(s.encrypted, `split at ${at}`);
    assert.is(s.banner(true)!.software.toString(), [...Buffer.from('OpenSSH_9.2')].toString());
    assert.is(c.sshMalformed, 0);
  }
});

test('SSH: a direction that never sends NEWKEYS, or breaks the framing, never counts as encrypted', () => {
  const c = new AppLayerCounters();
  const s = new SshParser(c);
  s.feed(false, Uint8Array.from([...banner('SSH-2.0-srv'), ...KEXINIT, ...NEWKEYS]));
  // packet_length 0x7fffffff: not SSH framing (OpenSSH's limit is 256 KiB).
  s.feed(true, Uint8Array.from([...banner('SSH-2.0-cli'), 0x7f, 0xff, 0xff, 0xff, 4, 21, 0, 0]));
  s.feed(true, Uint8Array.from(NEWKEYS));
  assert.not.ok(s.encrypted);
  assert.is(c.sshMalformed, 1);
});

test.run();
