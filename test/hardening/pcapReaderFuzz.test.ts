// The pcap and pcapng readers against truncated and corrupted files: every file either reads
// to its end or fails with exactly one LateralError('LATERAL_ERR_PCAP') that names the file
// and a byte offset, after returning every complete record before the damage; never another
// exception type, never a hang (zero, tiny and huge block/record lengths included).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LateralError } from '../../src/errors';
import { openPcap } from '../../src/capture/pcapOpen';
import { corpusPath } from '../support/corpus';
import { FUZZ_SEED, FuzzTimer, MAX_MS_PER_INPUT, randInt, rng, runs } from './fuzz';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-hardening-pcap-'));
let fileNo = 0;

interface Outcome {
  records: number;
  /** Sum of captured bytes, to compare record contents cheaply. */
  bytes: number;
  error: LateralError | null;
  offset: number;
}

/** Writes bytes to a temp file and reads it to the end with the real reader. */
function readAll(bytes: Uint8Array): Outcome & { file: string } {
  const file = path.join(dir, `f${fileNo++ % 64}.cap`);
  fs.writeFileSync(file, bytes);
  const out: Outcome & { file: string } = { records: 0, bytes: 0, error: null, offset: -1, file };
  let reader;
  try {
    reader = openPcap(file);
  } catch (e) {
    return classify(out, e, file);
  }
  try {
    for (const r of reader) {
      out.records++;
      out.bytes += r.data.length;
      if (out.records > 1e6) throw new Error('runaway reader');
    }
  } catch (e) {
    classify(out, e, file);
  } finally {
    reader.close();
  }
  return out;
}

function classify(out: Outcome & { file: string }, e: unknown, file: string): Outcome & { file: string } {
  if (!(e instanceof LateralError) || e.code !== 'LATERAL_ERR_PCAP') {
    throw new Error(`not a LATERAL_ERR_PCAP: ${String(e)} (${(e as Error)?.stack ?? ''})`);
  }
  if (e.location?.file !== file || !e.message.includes(file)) throw new Error(`error does not name the file: ${e.message}`);
  const m = /at byte (\d+)/.exec(e.message) ?? /\((\d+) bytes\)/.exec(e.message);
  if (m === null) throw new Error(`error names no offset: ${e.message}`);
  out.error = e;
  out.offset = Number(m[1]);
  return out;
}

// ---------------------------------------------------------------- record boundaries, independently

/** Start offsets of every record (classic) or block (pcapng), and the file length they end at. */
function boundaries(b: Buffer): { starts: number[]; packetBlocks: boolean[]; caplens: number[] } {
  const starts: number[] = [];
  const packetBlocks: boolean[] = [];
  const caplens: number[] = [];
  if (b.readUInt32BE(0) === 0x0a0d0d0a) {
    let off = 0;
    let le = true;
    while (off + 12 <= b.length) {
      if (b.readUInt32BE(off) === 0x0a0d0d0a) le = b.readUInt32LE(off + 8) === 0x1a2b3c4d;
      const type = le ? b.readUInt32LE(off) : b.readUInt32BE(off);
      const len = le ? b.readUInt32LE(off + 4) : b.readUInt32BE(off + 4);
      starts.push(off);
      packetBlocks.push(type === 6 || type === 3 || type === 2);
      caplens.push(type === 6 ? (le ? b.readUInt32LE(off + 20) : b.readUInt32BE(off + 20)) : 0);
      off += len;
    }
    return { starts, packetBlocks, caplens };
  }
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
  let off = 24;
  while (off + 16 <= b.length) {
    const cap = le ? b.readUInt32LE(off + 8) : b.readUInt32BE(off + 8);
    starts.push(off);
    packetBlocks.push(true);
    caplens.push(cap);
    off += 16 + cap;
  }
  return { starts, packetBlocks, caplens };
}

// ---------------------------------------------------------------- pcapng files built here

function pcapngBlock(type: number, body: Uint8Array, be: boolean): Buffer {
  const pad = (4 - (body.length % 4)) % 4;
  const len = 12 + body.length + pad;
  const b = Buffer.alloc(len);
  const w = (v: number, at: number): void => void (be ? b.writeUInt32BE(v >>> 0, at) : b.writeUInt32LE(v >>> 0, at));
  w(type, 0);
  w(len, 4);
  b.set(body, 8);
  w(len, len - 4);
  return b;
}

/** Two sections (little- then big-endian), IDBs with options, EPB, SPB, PB and a skipped custom block. */
function buildPcapng(packets: Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const be of [false, true]) {
    const u16 = (v: number): Buffer => { const x = Buffer.alloc(2); if (be) x.writeUInt16BE(v); else x.writeUInt16LE(v); return x; };
    const u32 = (v: number): Buffer => { const x = Buffer.alloc(4); if (be) x.writeUInt32BE(v >>> 0); else x.writeUInt32LE(v >>> 0); return x; };
    parts.push(pcapngBlock(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)]), be));
    // IDB: link type 1, snaplen 0, if_tsresol = 9 (ns), end of options.
    parts.push(pcapngBlock(1, Buffer.concat([u16(1), u16(0), u32(0), u16(9), u16(1), Buffer.from([9, 0, 0, 0]), u16(0), u16(0)]), be));
    packets.forEach((p, i) => {
      const pad = Buffer.alloc((4 - (p.length % 4)) % 4);
      if (i % 5 === 3) parts.push(pcapngBlock(3, Buffer.concat([u32(p.length), p, pad]), be)); // SPB
      else if (i % 5 === 4) parts.push(pcapngBlock(2, Buffer.concat([u16(0), u16(0), u32(1), u32(i * 1000), u32(p.length), u32(p.length), p, pad]), be)); // PB
      else parts.push(pcapngBlock(6, Buffer.concat([u32(0), u32(1), u32(i * 1000), u32(p.length), u32(p.length), p, pad]), be)); // EPB
      if (i % 7 === 0) parts.push(pcapngBlock(0x0bad, Buffer.from('custom'), be)); // unknown: skipped
    });
  }
  return Buffer.concat(parts);
}

const classicFiles = [
  'pcaps/redis-auth.pcap', 'pcaps/log4shell-cve-2021-44228.pcap', 'pcaps/heartbleed-success.pcap', 'pcaps/dns-null-record.pcap',
  'suricata-verify/tests/bug-5758/input.pcap', 'pcaps/etc-passwd-traversal-tfo.pcap',
].map((f) => fs.readFileSync(corpusPath(f)));

function packetsOf(file: Buffer): Uint8Array[] {
  const { starts, caplens } = boundaries(file);
  return starts.map((s, i) => file.subarray(s + 16, s + 16 + caplens[i]!));
}

/** A classic pcap in the other byte order, nanosecond magic: same records. */
function swapClassic(b: Buffer): Buffer {
  const out = Buffer.from(b);
  const le = b.readUInt32LE(0) === 0xa1b2c3d4;
  const rd = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const wr = (v: number, o: number): void => void (le ? out.writeUInt32BE(v, o) : out.writeUInt32LE(v, o));
  wr(0xa1b23c4d, 0);
  out.writeUInt16BE(le ? b.readUInt16LE(4) : b.readUInt16BE(4), 4);
  out.writeUInt16BE(le ? b.readUInt16LE(6) : b.readUInt16BE(6), 6);
  for (const o of [8, 12, 16, 20]) wr(rd(o), o);
  for (const s of boundaries(b).starts) for (const o of [0, 4, 8, 12]) wr(rd(s + o), s + o);
  return out;
}

const originals: Buffer[] = [
  ...classicFiles,
  swapClassic(classicFiles[0]!),
  fs.readFileSync(corpusPath('pcaps/dvwa-sqli.pcapng')),
  buildPcapng(packetsOf(classicFiles[0]!)),
  buildPcapng(packetsOf(classicFiles[3]!)),
];

test('the originals read cleanly (the baseline the damaged copies are compared to)', () => {
  for (const o of originals) {
    const r = readAll(o);
    assert.is(r.error, null, r.error?.message);
    assert.is(r.records, boundaries(o).packetBlocks.filter(Boolean).length);
  }
});

test('truncated at every kind of offset: the complete records, then one error at the cut record', () => {
  const timer = new FuzzTimer('pcap readers: truncations');
  const rand = rng(FUZZ_SEED);
  for (const o of originals) {
    const { starts, packetBlocks } = boundaries(o);
    // Cuts: every record boundary ±1 and random points, capped per file.
    const cuts = new Set<number>([0, 1, 3, 4, 11, 12, 23, 24, 25]);
    for (const s of starts.slice(0, 40)) for (const d of [-1, 0, 1, 8, 15, 16, 17]) cuts.add(s + d);
    for (let i = 0; i < runs(150); i++) cuts.add(randInt(rand, o.length));
    for (const cut of cuts) {
      if (cut < 0 || cut > o.length) continue;
      const r = timer.time(() => readAll(o.subarray(0, cut)));
      // Complete records are those whose block ends by the cut.
      let complete = 0;
      let firstBroken = -1;
      for (let i = 0; i < starts.length; i++) {
        const end = i + 1 < starts.length ? starts[i + 1]! : o.length;
        if (end <= cut) {
          if (packetBlocks[i]) complete++;
        } else {
          if (starts[i]! < cut) firstBroken = starts[i]!;
          break;
        }
      }
      if (cut < 24 || (o.readUInt32BE(0) === 0x0a0d0d0a && cut < 28)) {
        assert.ok(r.error !== null, `a ${cut}-byte file is not a capture`);
        continue;
      }
      assert.is(r.records, complete, `records before the cut at ${cut}`);
      if (firstBroken >= 0) {
        assert.ok(r.error !== null, `cut at ${cut} inside the record at ${firstBroken} must fail`);
        assert.is(r.offset, firstBroken, `error names the broken record's offset (cut ${cut}): ${r.error!.message}`);
      } else {
        assert.is(r.error, null, `cut at a record boundary (${cut}) is a clean end`);
      }
    }
  }
  timer.finish();
});

test('corrupted files (random bytes, zero/tiny/huge lengths): LATERAL_ERR_PCAP or a clean read, never a hang', () => {
  const timer = new FuzzTimer('pcap readers: corruptions');
  const rand = rng(FUZZ_SEED ^ 0xc0ffee);
  const LENGTHS = [0, 1, 4, 8, 11, 12, 13, 16, 28, 32, 0x7fffffff, 0xffffffff, 0xfffffff0, 16 * 1024 * 1024, 16 * 1024 * 1024 + 4, 0x10000];
  let errors = 0;
  let clean = 0;
  for (const o of originals) {
    const { starts } = boundaries(o);
    const ng = o.readUInt32BE(0) === 0x0a0d0d0a;
    for (let round = 0; round < runs(400); round++) {
      const b = Buffer.from(o.subarray(0, Math.min(o.length, 200_000)));
      const kind = round % 4;
      if (kind === 0) {
        // Random bytes anywhere (headers included).
        const n = 1 + randInt(rand, 8);
        for (let i = 0; i < n; i++) b[randInt(rand, b.length)] = randInt(rand, 256);
      } else {
        // A length field of a record/block set to an edge value.
        const s = starts[randInt(rand, starts.length)]!;
        const v = LENGTHS[randInt(rand, LENGTHS.length)]!;
        const le = ng ? b.readUInt32LE(8) === 0x1a2b3c4d || s > 0 : b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
        const field = ng ? (kind === 1 ? s + 4 : kind === 2 ? s + 20 : s + 4) : kind === 3 ? s + 12 : s + 8;
        if (field + 4 <= b.length) {
          if (le) b.writeUInt32LE(v >>> 0, field);
          else b.writeUInt32BE(v >>> 0, field);
          // Half the time keep the pcapng trailer consistent so the body parser is reached.
          if (ng && kind === 1 && (round & 4) && v >= 12 && s + v <= b.length) {
            if (le) b.writeUInt32LE(v, s + v - 4);
            else b.writeUInt32BE(v, s + v - 4);
          }
        }
      }
      const r = timer.time(() => readAll(b));
      if (r.error) errors++;
      else clean++;
    }
  }
  // Special files: empty, only a magic, a header claiming a huge first record.
  const huge = Buffer.from(classicFiles[0]!.subarray(0, 40));
  huge.writeUInt32LE(0xffffffff, 24 + 8);
  for (const b of [Buffer.alloc(0), Buffer.from([0xd4, 0xc3, 0xb2, 0xa1]), Buffer.from([0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a]), huge, Buffer.alloc(4096)]) {
    const r = timer.time(() => readAll(b));
    assert.ok(r.error !== null, 'broken from the start');
    errors++;
  }
  timer.report();
  console.log(`[fuzz]   ${errors} files failed with LATERAL_ERR_PCAP, ${clean} read to the end`);
  assert.ok(errors > 100 && clean > 10);
  assert.ok(timer.worstMs < MAX_MS_PER_INPUT);
});

test('reading a directory or a missing file is LATERAL_ERR_PCAP too', () => {
  for (const p of [dir, path.join(dir, 'missing.pcap')]) {
    try {
      const r = openPcap(p);
      for (const _ of r) void _;
      r.close();
      assert.unreachable('should fail');
    } catch (e) {
      assert.instance(e, LateralError);
      assert.is((e as LateralError).code, 'LATERAL_ERR_PCAP');
      assert.ok((e as LateralError).message.includes(p));
    }
  }
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test.run();
