// JA3 / JA3S (github.com/salesforce/ja3) of the TLS parser: every hello in the corpus pcaps that
// have one, compared with tshark's own ja3 fields (test/fixtures/tsharkJa3.json, made by
// tsharkJa3.py — an independent implementation); a crafted ClientHello carrying GREASE values
// (RFC 8701) in every list, which JA3 leaves out; and the ja3/ja3s rule buffers through replay.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { TlsParser } from '../../src/applayer/tlsParser';
import { replayCapture } from '../../src/cli/replay';
import { corpusPath, repoRoot } from '../support/corpus';
import { readCapture } from './pcapStreams';
import { BufferId } from '../../src/detect/buffers';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { DetectEngine } from '../../src/detect/detectEngine';
import { loadRuleSources } from '../../src/detect/ruleLoader';
import { TestContext, packet, sids } from '../detect/detectFixture';

interface Ja3Row { srcPort: number; dstPort: number; hello: 'client' | 'server'; ja3: string; hash: string }
const fixture = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'tsharkJa3.json'), 'utf8')) as {
  pcaps: Record<string, Ja3Row[]>;
};
const text = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('latin1'));

test('JA3 and JA3S of every corpus TLS hello equal tshark\'s', () => {
  let compared = 0;
  for (const [pcap, rows] of Object.entries(fixture.pcaps)) {
    const cap = readCapture(path.join(corpusPath(), pcap));
    for (const row of rows) {
      const conn = cap.connections.find((c) => row.hello === 'client'
        ? c.clientPort === row.srcPort && c.serverPort === row.dstPort
        : c.serverPort === row.srcPort && c.clientPort === row.dstPort);
      assert.ok(conn, `${pcap}: connection of ${row.srcPort} -> ${row.dstPort}`);
      const t = new TlsParser(new AppLayerCounters());
      // bug-2769 tunnels TLS through an HTTP CONNECT: each direction's TLS starts at its
      // first handshake record.
      const started = [false, false];
      for (const ch of conn.chunks) {
        const d = ch.toServer ? 0 : 1;
        if (!started[d] && ch.data[0] !== 22) continue;
        started[d] = true;
        t.feed(ch.toServer, ch.data);
      }
      if (row.hello === 'client') {
        assert.is(text(t.ja3String), row.ja3, `${pcap} ClientHello`);
        assert.is(text(t.ja3Hash), row.hash);
      } else {
        assert.is(text(t.ja3sString), row.ja3, `${pcap} ServerHello`);
        assert.is(text(t.ja3sHash), row.hash);
      }
      compared++;
    }
  }
  assert.is(compared, 10);
});

function u16(n: number): Buffer {
  return Buffer.from([n >> 8, n & 255]);
}
function u24(n: number): Buffer {
  return Buffer.from([n >> 16, (n >> 8) & 255, n & 255]);
}
function ext(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), u16(body.length), body]);
}
function handshakeRecord(type: number, body: Buffer): Buffer {
  const hs = Buffer.concat([Buffer.from([type]), u24(body.length), body]);
  return Buffer.concat([Buffer.from([22, 3, 1]), u16(hs.length), hs]);
}

// Ciphers 0x0a0a (GREASE), 0x1301, 0xc02f; extensions: GREASE 0x1a1a, server_name, supported_groups
// (GREASE 0x2a2a, x25519 29, secp256r1 23), ec_point_formats (0), GREASE 0xfafa, supported_versions.
function greaseClientHello(): Buffer {
  const name = Buffer.from('api.internal');
  const sni = Buffer.concat([u16(name.length + 3), Buffer.from([0]), u16(name.length), name]);
  const groups = Buffer.concat([u16(6), u16(0x2a2a), u16(29), u16(23)]);
  const exts = Buffer.concat([
    ext(0x1a1a, Buffer.alloc(0)), ext(0, sni), ext(10, groups), ext(11, Buffer.from([1, 0])),
    ext(0xfafa, Buffer.from([0])), ext(43, Buffer.from([4, 0x03, 0x04, 0x03, 0x03])),
  ]);
  const body = Buffer.concat([
    Buffer.from([3, 3]), Buffer.alloc(32, 1), Buffer.from([0]),
    u16(6), u16(0x0a0a), u16(0x1301), u16(0xc02f), Buffer.from([1, 0]), u16(exts.length), exts,
  ]);
  return handshakeRecord(1, body);
}

test('crafted ClientHello: GREASE values are left out of every JA3 list, at any split', () => {
  const want = '771,4865-49199,0-10-11-43,29-23,0';
  const ch = greaseClientHello();
  for (let i = 0; i <= ch.length; i++) {
    const c = new AppLayerCounters();
    const t = new TlsParser(c);
    t.feed(true, ch.subarray(0, i));
    t.feed(true, ch.subarray(i));
    assert.is(text(t.ja3String), want, `split at ${i}`);
    assert.is(text(t.ja3Hash), createHash('md5').update(want).digest('hex'));
    assert.is(c.tlsMalformed, 0);
  }
});

test('ja3.hash / ja3_hash / ja3.string / ja3s.hash / ja3s.string rules on the Heartbleed session', async () => {
  const rows = fixture.pcaps['pcaps/heartbleed-success.pcap']!;
  const client = rows.find((r) => r.hello === 'client')!;
  const server = rows.find((r) => r.hello === 'server')!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-ja3-'));
  try {
    const rules = path.join(dir, 'ja3.rules');
    fs.writeFileSync(rules, [
      `alert tls any any -> any any (msg:"ja3.hash"; flow:established,to_server; ja3.hash; content:"${client.hash}"; sid:1;)`,
      `alert tls any any -> any any (msg:"ja3_hash"; ja3_hash; content:"${client.hash}"; sid:2;)`,
      `alert tls any any -> any any (msg:"ja3.string"; ja3.string; content:"771,4-5-10-13"; startswith; sid:3;)`,
      `alert tls any any -> any any (msg:"ja3s.hash"; flow:to_client; ja3s.hash; content:"${server.hash}"; sid:4;)`,
      `alert tls any any -> any any (msg:"ja3s.string"; ja3s.string; content:"${server.ja3}"; bsize:${server.ja3.length}; sid:5;)`,
      // Another client's fingerprint must not match.
      `alert tls any any -> any any (msg:"other"; ja3.hash; content:"${createHash('md5').update('x').digest('hex')}"; sid:6;)`,
      '',
    ].join('\n'));
    for (const simulateIps of [false, true]) {
      const r = await replayCapture({
        pcapPaths: [corpusPath('pcaps', 'heartbleed-success.pcap')], ruleFiles: [rules],
        checksumMode: 'none', simulateIps, settings: {},
      });
      const counts: Record<number, number> = {};
      for (const a of r.alerts) counts[a.sid] = (counts[a.sid] ?? 0) + 1;
      assert.equal(counts, { 1: 1, 2: 1, 3: 1, 4: 1, 5: 1 }, `simulateIps ${simulateIps}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ja3.hash / ja3s.hash need a 32-character MD5 (Suricata refuses the rule otherwise); case is ignored', () => {
  const config = defaultDetectConfig();
  const load = (opt: string) => loadRuleSources([{ file: 't.rules', text: `alert tls any any -> any any (${opt} sid:1;)` }], config);
  assert.match(load('ja3_hash; content:"e330bca99c8a5256ae126a55c4ce126a55c4c725c5";').errors[0]?.message ?? '', /should be 32 characters/);
  assert.match(load('ja3s.hash; content:"abc";').errors[0]?.message ?? '', /should be 32 characters/);
  const upper = load('ja3.hash; content:"0FBFF214B79F536D55D3D39FB31F4D8D";');
  assert.is(upper.signatures.length, 1);
  const e = DetectEngine.compile(upper, config);
  const ctx = new TestContext(packet({ dport: 443, payload: 'x' }));
  ctx.flowDetect = e.newFlowState();
  ctx.appProto = 'tls';
  ctx.txId = 0;
  ctx.buffers.set(BufferId.JA3_HASH, [Buffer.from('0fbff214b79f536d55d3d39fb31f4d8d')]);
  assert.equal(sids(e, ctx), [1]);
});

test.run();
