// pcapng reading: the corpus pcapng against tcpdump, and files written here block by block
// (both byte orders, several interfaces and sections, if_tsresol, SPB, skipped blocks, damage).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corpusPath } from '../support/corpus';
import { openPcap } from '../../src/capture/pcapOpen';
import { PcapngReader } from '../../src/capture/pcapng';
import { LateralError } from '../../src/errors';
import { LinkType } from '../../src/decode/packet';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-pcapng-'));

interface Rec {
  data: Buffer;
  linkType: number;
  tsSec: number;
  tsUsec: number;
  wireLength: number;
}

function readAll(file: string): Rec[] {
  const r = openPcap(file);
  const out: Rec[] = [];
  try {
    for (const rec of r) out.push({ data: Buffer.from(rec.data), linkType: rec.linkType, tsSec: rec.tsSec, tsUsec: rec.tsUsec, wireLength: rec.wireLength });
  } finally {
    r.close();
  }
  return out;
}

test('dvwa-sqli.pcapng: count, link type, first/last time and lengths as tcpdump shows them', () => {
  const recs = readAll(corpusPath('pcaps/dvwa-sqli.pcapng'));
  assert.is(recs.length, 64);
  assert.ok(recs.every((r) => r.linkType === LinkType.ETHERNET));
  // tcpdump -tt: first 1730145002.900383, last 1730145073.257679; tcpdump -e: "length 66".
  assert.is(recs[0]!.tsSec, 1730145002);
  assert.is(recs[0]!.tsUsec, 900383);
  assert.is(recs[63]!.tsSec, 1730145073);
  assert.is(recs[63]!.tsUsec, 257679);
  assert.is(recs[0]!.wireLength, 66);
  assert.is(recs[0]!.data.length, 66);
});

/** A tiny pcapng writer. */
class Writer {
  private parts: Buffer[] = [];
  constructor(private be: boolean) {}
  private u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    this.be ? b.writeUInt16BE(v) : b.writeUInt16LE(v);
    return b;
  }
  private u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    this.be ? b.writeUInt32BE(v >>> 0) : b.writeUInt32LE(v >>> 0);
    return b;
  }
  private pad(b: Buffer): Buffer {
    return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  }
  block(type: number, body: Buffer): this {
    const len = 12 + body.length;
    this.parts.push(this.u32(type), this.u32(len), body, this.u32(len));
    return this;
  }
  shb(): this {
    return this.block(0x0a0d0d0a, Buffer.concat([this.u32(0x1a2b3c4d), this.u16(1), this.u16(0), Buffer.alloc(8, 0xff)]));
  }
  idb(linkType: number, tsresol?: number, tsoffset?: number): this {
    const opts: Buffer[] = [];
    if (tsresol !== undefined) opts.push(this.u16(9), this.u16(1), this.pad(Buffer.from([tsresol])));
    if (tsoffset !== undefined) {
      const v = Buffer.alloc(8);
      this.be ? v.writeBigInt64BE(BigInt(tsoffset)) : v.writeBigInt64LE(BigInt(tsoffset));
      opts.push(this.u16(14), this.u16(8), v);
    }
    if (opts.length) opts.push(this.u16(0), this.u16(0));
    return this.block(1, Buffer.concat([this.u16(linkType), this.u16(0), this.u32(0), ...opts]));
  }
  epb(iface: number, ts: bigint, data: Buffer, wire = data.length): this {
    return this.block(6, Buffer.concat([this.u32(iface), this.u32(Number(ts >> 32n)), this.u32(Number(ts & 0xffffffffn)), this.u32(data.length), this.u32(wire), this.pad(data)]));
  }
  spb(data: Buffer): this {
    return this.block(3, Buffer.concat([this.u32(data.length), this.pad(data)]));
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
  write(name: string): string {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, this.bytes());
    return file;
  }
}

const pkt = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff));

for (const be of [false, true]) {
  test(`${be ? 'big' : 'little'}-endian: interfaces with their own link type and resolution, SPB, skipped blocks`, () => {
    const w = new Writer(be)
      .shb()
      .idb(LinkType.ETHERNET) // default microseconds
      .idb(LinkType.RAW, 9) // nanoseconds
      .idb(LinkType.LINUX_SLL, 0x80 | 10, 100) // 2^-10 s, +100 s offset
      .block(4, Buffer.alloc(8)) // name resolution: skipped
      .epb(0, 1_700_000_000_123_456n, pkt(60))
      .epb(1, 1_700_000_001_987_654_321n, pkt(41), 1500)
      .epb(2, 1024n * 5n + 512n, pkt(33))
      .block(5, Buffer.alloc(16)) // interface statistics: skipped
      .block(0x40000bad, Buffer.alloc(4)) // custom block: skipped
      .spb(pkt(17));
    const file = w.write(`multi-${be}.pcapng`);
    const recs = readAll(file);
    assert.is(recs.length, 4);
    assert.equal(recs.map((r) => r.linkType), [LinkType.ETHERNET, LinkType.RAW, LinkType.LINUX_SLL, LinkType.ETHERNET]);
    assert.equal([recs[0]!.tsSec, recs[0]!.tsUsec], [1_700_000_000, 123_456]);
    assert.equal([recs[1]!.tsSec, recs[1]!.tsUsec], [1_700_000_001, 987_654]);
    assert.equal([recs[2]!.tsSec, recs[2]!.tsUsec], [105, 500_000]);
    assert.is(recs[1]!.wireLength, 1500);
    assert.ok(recs[1]!.data.equals(pkt(41)));
    assert.ok(recs[3]!.data.equals(pkt(17)));
    assert.is(recs[3]!.tsSec, 0); // SPB has no time
  });
}

test('a second section may switch byte order and starts a new interface list', () => {
  const file = path.join(tmp, 'two-sections.pcapng');
  const a = new Writer(false).shb().idb(LinkType.ETHERNET).epb(0, 1_000_000n, pkt(20)).bytes();
  const b = new Writer(true).shb().idb(LinkType.RAW).epb(0, 2_000_000n, pkt(24)).bytes();
  fs.writeFileSync(file, Buffer.concat([a, b]));
  const recs = readAll(file);
  assert.equal(recs.map((r) => [r.linkType, r.tsSec, r.data.length]), [[LinkType.ETHERNET, 1, 20], [LinkType.RAW, 2, 24]]);
  const r = new PcapngReader(file);
  r.next();
  r.next();
  assert.equal(r.interfaceLinkTypes, [LinkType.RAW]);
  r.close();
});

function errorOf(file: string): { err: LateralError; delivered: number } {
  const r = openPcap(file);
  let delivered = 0;
  try {
    for (const _ of r) delivered++;
  } catch (err) {
    assert.instance(err, LateralError);
    assert.is((err as LateralError).code, 'LATERAL_ERR_PCAP');
    return { err: err as LateralError, delivered };
  } finally {
    r.close();
  }
  throw new Error(`no error from ${file}`);
}

test('damage: truncated block, bad length, trailer mismatch, unknown interface, bad magic', () => {
  const good = new Writer(false).shb().idb(LinkType.ETHERNET).epb(0, 1n, pkt(30)).epb(0, 2n, pkt(30)).bytes();
  const cut = path.join(tmp, 'cut.pcapng');
  fs.writeFileSync(cut, good.subarray(0, good.length - 7));
  const t = errorOf(cut);
  assert.is(t.delivered, 1);
  assert.match(t.err.message, /truncated block: \d+ of 64 bytes \(block type 6\) at byte \d+, after record 1/);
  assert.is(t.err.location?.file, cut);

  const badLen = new Writer(false).shb().idb(1).raw(Buffer.from([6, 0, 0, 0, 13, 0, 0, 0])).write('badlen.pcapng');
  assert.match(errorOf(badLen).err.message, /bad block length 13/);

  const mismatch = Buffer.from(good);
  mismatch.writeUInt32LE(999, mismatch.length - 4);
  const mm = path.join(tmp, 'mismatch.pcapng');
  fs.writeFileSync(mm, mismatch);
  const m = errorOf(mm);
  assert.is(m.delivered, 1);
  assert.match(m.err.message, /does not match its trailer/);

  const noIface = new Writer(false).shb().idb(1).epb(3, 1n, pkt(10)).write('noiface.pcapng');
  assert.match(errorOf(noIface).err.message, /refers to interface 3, but the section has 1/);

  const magic = new Writer(false).shb().bytes();
  magic.writeUInt32LE(0x12345678, 8);
  const mg = path.join(tmp, 'magic.pcapng');
  fs.writeFileSync(mg, magic);
  assert.match(errorOf(mg).err.message, /bad byte-order magic/);
});

test('the corpus pcapng cut in half delivers what came before the cut', () => {
  const src = fs.readFileSync(corpusPath('pcaps/dvwa-sqli.pcapng'));
  const file = path.join(tmp, 'half.pcapng');
  fs.writeFileSync(file, src.subarray(0, Math.floor(src.length / 2)));
  const { err, delivered } = errorOf(file);
  assert.ok(delivered > 10 && delivered < 64, `delivered ${delivered}`);
  assert.match(err.message, new RegExp(`after record ${delivered}$`));
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
