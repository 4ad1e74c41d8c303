// Classic pcap reading: the corpus against tcpdump's packet counts (test/stream/tsharkFollow.json),
// byte-order and nanosecond variants written here from a corpus file, and broken files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corpusPath, repoRoot } from '../support/corpus';
import { openPcap } from '../../src/capture/pcapOpen';
import { PcapClassicReader } from '../../src/capture/pcapClassic';
import { CaptureRecord } from '../../src/capture/pcapRecord';
import { LateralError } from '../../src/errors';
import { LinkType } from '../../src/decode/packet';

const expected = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/stream/tsharkFollow.json'), 'utf8')) as Record<string, { packets: number }>;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-pcap-'));

interface Rec {
  data: Buffer;
  linkType: number;
  tsSec: number;
  tsUsec: number;
  wireLength: number;
  index: number;
}

function readAll(file: string): Rec[] {
  const r = openPcap(file);
  const out: Rec[] = [];
  try {
    for (const rec of r) out.push({ ...rec, data: Buffer.from(rec.data) });
  } finally {
    r.close();
  }
  return out;
}

test('every corpus pcap yields as many records as tcpdump reads', () => {
  for (const [rel, e] of Object.entries(expected)) {
    if (!rel.endsWith('.pcap')) continue;
    assert.is(readAll(corpusPath(rel)).length, e.packets, rel);
  }
});

test('link types from the global header; timestamps as tcpdump -tt prints them', () => {
  assert.is(readAll(corpusPath('pcaps/log4shell-cve-2021-44228.pcap'))[0]!.linkType, LinkType.LINUX_SLL);
  assert.is(readAll(corpusPath('pcaps/redis-set.pcap'))[0]!.linkType, LinkType.NULL);
  assert.is(readAll(corpusPath('suricata-verify/tests/bug-5758/input.pcap'))[0]!.linkType, LinkType.RAW);
  const log4 = readAll(corpusPath('pcaps/log4shell-cve-2021-44228.pcap'));
  assert.is(log4[99]!.tsSec, 1639425825);
  assert.is(log4[99]!.tsUsec, 7441);
  assert.is(log4[99]!.index, 100);
  const r = new PcapClassicReader(corpusPath('pcaps/redis-set.pcap'));
  assert.is(r.snaplen, 65535); // tcpdump: "snapshot length 65535"
  assert.not.ok(r.bigEndian);
  r.close();
});

/** Rewrites a little-endian microsecond pcap in another byte order / timestamp resolution. */
function rewrite(src: string, bigEndian: boolean, nano: boolean): string {
  const inp = fs.readFileSync(src);
  const out = Buffer.alloc(inp.length);
  const w32 = (v: number, at: number) => (bigEndian ? out.writeUInt32BE(v, at) : out.writeUInt32LE(v, at));
  const w16 = (v: number, at: number) => (bigEndian ? out.writeUInt16BE(v, at) : out.writeUInt16LE(v, at));
  w32(nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(inp.readUInt16LE(4), 4);
  w16(inp.readUInt16LE(6), 6);
  w32(inp.readUInt32LE(8), 8);
  w32(inp.readUInt32LE(12), 12);
  w32(inp.readUInt32LE(16), 16);
  w32(inp.readUInt32LE(20), 20);
  let at = 24;
  while (at < inp.length) {
    const caplen = inp.readUInt32LE(at + 8);
    w32(inp.readUInt32LE(at), at);
    w32(nano ? inp.readUInt32LE(at + 4) * 1000 + 999 : inp.readUInt32LE(at + 4), at + 4);
    w32(caplen, at + 8);
    w32(inp.readUInt32LE(at + 12), at + 12);
    inp.copy(out, at + 16, at + 16, at + 16 + caplen);
    at += 16 + caplen;
  }
  const name = path.join(tmp, `${bigEndian ? 'be' : 'le'}-${nano ? 'ns' : 'us'}.pcap`);
  fs.writeFileSync(name, out);
  return name;
}

test('big-endian and nanosecond files read the same packets and times', () => {
  const src = corpusPath('pcaps/log4shell-cve-2021-44228.pcap');
  const base = readAll(src);
  for (const [be, ns] of [[true, false], [false, true], [true, true]] as const) {
    const file = rewrite(src, be, ns);
    const r = new PcapClassicReader(file);
    assert.is(r.bigEndian, be);
    assert.is(r.nanosecond, ns);
    r.close();
    const got = readAll(file);
    assert.is(got.length, base.length);
    for (let i = 0; i < base.length; i++) {
      const a = base[i]!;
      const b = got[i]!;
      assert.ok(a.data.equals(b.data), `record ${i} data`);
      assert.is(b.tsSec, a.tsSec);
      assert.is(b.tsUsec, a.tsUsec); // ns*1000+999 truncates back to the same microsecond
      assert.is(b.wireLength, a.wireLength);
      assert.is(b.linkType, LinkType.LINUX_SLL);
    }
  }
});

function expectPcapError(fn: () => unknown, pattern: RegExp): LateralError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, LateralError);
    const e = err as LateralError;
    assert.is(e.code, 'LATERAL_ERR_PCAP');
    assert.match(e.message, pattern);
    return e;
  }
  assert.unreachable('no error thrown');
  throw new Error('unreachable');
}

test('a file cut inside a record: earlier records first, then an error with byte offset and index', () => {
  const src = fs.readFileSync(corpusPath('pcaps/redis-set.pcap'));
  // Record 4 starts after the global header and three records; cut 10 bytes into its data.
  let at = 24;
  for (let i = 0; i < 3; i++) at += 16 + src.readUInt32LE(at + 8);
  const cutData = path.join(tmp, 'cut-data.pcap');
  fs.writeFileSync(cutData, src.subarray(0, at + 16 + 10));
  const r = openPcap(cutData);
  const got: CaptureRecord[] = [];
  const e = expectPcapError(() => {
    for (const rec of r) got.push(rec);
  }, new RegExp(`truncated record: 10 of \\d+ bytes at byte ${at}, after record 3`));
  assert.is(got.length, 3);
  assert.is(e.location?.file, cutData);
  r.close();

  const cutHeader = path.join(tmp, 'cut-header.pcap');
  fs.writeFileSync(cutHeader, src.subarray(0, at + 5));
  const r2 = openPcap(cutHeader);
  let n = 0;
  expectPcapError(() => {
    for (const _ of r2) n++;
  }, /truncated record header \(5 of 16 bytes\)/);
  assert.is(n, 3);
  r2.close();
});

test('not a capture, empty, short global header, absurd record length, missing file', () => {
  const text = path.join(tmp, 'notes.txt');
  fs.writeFileSync(text, 'hello, this is not a pcap file at all');
  expectPcapError(() => openPcap(text), /not a pcap or pcapng file \(magic 0x68656c6c\)/);
  const empty = path.join(tmp, 'empty.pcap');
  fs.writeFileSync(empty, '');
  expectPcapError(() => openPcap(empty), /too short/);
  const short = path.join(tmp, 'short.pcap');
  fs.writeFileSync(short, Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]));
  expectPcapError(() => openPcap(short), /too short for a pcap global header/);
  const absurd = Buffer.from(fs.readFileSync(corpusPath('pcaps/redis-set.pcap')));
  absurd.writeUInt32LE(0x7fffffff, 24 + 8);
  const absurdFile = path.join(tmp, 'absurd.pcap');
  fs.writeFileSync(absurdFile, absurd);
  const r = openPcap(absurdFile);
  expectPcapError(() => r.next(), /implausible/);
  r.close();
  expectPcapError(() => openPcap(path.join(tmp, 'missing.pcap')), /cannot open capture/);
});

test('records larger than the read chunk are delivered whole', () => {
  const big = 3 * 1024 * 1024;
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(big, 16);
  hdr.writeUInt32LE(1, 20);
  const rec = Buffer.alloc(16 + big, 0x5a);
  rec.writeUInt32LE(1, 0);
  rec.writeUInt32LE(2, 4);
  rec.writeUInt32LE(big, 8);
  rec.writeUInt32LE(big, 12);
  const file = path.join(tmp, 'big.pcap');
  fs.writeFileSync(file, Buffer.concat([hdr, rec, rec]));
  const got = readAll(file);
  assert.is(got.length, 2);
  assert.is(got[1]!.data.length, big);
  assert.is(got[1]!.data[big - 1], 0x5a);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
