// EvidenceRecorder: evidence pcaps read back with tcpdump (packet count, timestamps, bytes),
// per-flow ring bounds, the per-flow file window (append, same name), disk caps with oldest
// deleted first (also across restarts), LRU eviction, a full write queue, and a full disk
// (a 64 KiB tmpfs) counted rather than thrown.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { EvidenceRecorder, evidenceFileName } from '../../src/output/evidenceRecorder';
import { LateralError } from '../../src/errors';

const test = suite('evidenceRecorder');
const T0 = 1_795_779_725; // 2026-11-27 UTC

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-obs2-ev-'));
}

/** Ethernet + IPv4 + UDP 10.0.0.1:40000 -> 10.0.0.2:53 (flow n in the last address byte). */
function udpFrame(flow: number, seq: number, payloadLength: number): Buffer {
  const f = Buffer.alloc(14 + 20 + 8 + payloadLength);
  Buffer.from([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa, 8, 0]).copy(f, 0);
  f[14] = 0x45;
  f.writeUInt16BE(20 + 8 + payloadLength, 16);
  f[22] = 64;
  f[23] = 17;
  Buffer.from([10, 0, 0, 1, 10, 0, 0, flow & 255]).copy(f, 26);
  f.writeUInt16BE(40000, 34);
  f.writeUInt16BE(53, 36);
  f.writeUInt16BE(8 + payloadLength, 38);
  for (let i = 0; i < payloadLength; i++) f[42 + i] = (seq * 7 + i) & 255;
  f.write(`seq=${seq}`, 42, 'ascii');
  return f;
}

interface ReadPacket {
  ts: string;
  bytes: Buffer;
}

/** Reads a pcap with tcpdump -tt -xx: timestamp and hex bytes of each packet. */
function tcpdumpRead(file: string): ReadPacket[] {
  const r = spawnSync('tcpdump', ['-r', file, '-n', '-tt', '-xx'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const out: ReadPacket[] = [];
  let hex = '';
  let ts = '';
  const end = (): void => {
    if (ts) out.push({ ts, bytes: Buffer.from(hex, 'hex') });
  };
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue;
    if (/^\s/.test(line)) {
      hex += line.replace(/^\s*0x[0-9a-f]+:\s*/, '').replace(/\s+/g, '');
    } else {
      end();
      ts = line.split(' ')[0]!;
      hex = '';
    }
  }
  end();
  return out;
}

test('an alert writes the flow ring as a pcap that tcpdump reads back byte for byte', async () => {
  const dir = tmpDir();
  const ev = new EvidenceRecorder({ dir, linkType: 1, maxPacketsPerFlow: 5 });
  const frames: Buffer[] = [];
  // A reused capture buffer, like the batch arena: the recorder must copy.
  const arena = Buffer.alloc(4096);
  for (let i = 0; i < 8; i++) {
    const f = udpFrame(2, i, 100 + i * 10);
    frames.push(f);
    f.copy(arena, 100);
    ev.record(42, arena, 100, f.length, f.length, T0 + i, i * 1000 + 7);
    arena.fill(0xee);
    // Another flow interleaved: must not appear in flow 42's evidence.
    const o = udpFrame(3, i, 50);
    ev.record(43, o, 0, o.length, o.length, T0 + i, 0);
  }
  const name = ev.alert(42, 2100498, T0 + 7, 7007);
  assert.is(name, 'flow-42_20261127T114212.007007Z_sid-2100498.pcap');
  assert.is(name, evidenceFileName(42, T0 + 7, 7007, 2100498));
  await ev.flush();
  const got = tcpdumpRead(path.join(dir, name!));
  assert.is(got.length, 5, 'the ring keeps the last 5 packets');
  for (let k = 0; k < 5; k++) {
    const i = k + 3;
    assert.is(got[k]!.ts, `${T0 + i}.${String(i * 1000 + 7).padStart(6, '0')}`);
    assert.ok(got[k]!.bytes.equals(frames[i]!), `packet ${i} bytes differ`);
  }
  const s = ev.stats();
  assert.is(s.filesCreated, 1);
  assert.is(s.packetsRecorded, 16);
  assert.is(s.flowsTracked, 2);
  assert.is(s.filesOnDisk, 1);
  assert.is(s.bytesOnDisk, fs.statSync(path.join(dir, name!)).size);
  assert.is(s.queueBytes, 0);
  fs.rmSync(dir, { recursive: true });
});

test('per-flow byte bound and per-packet snap: oldest go first, cut packets keep their wire length', async () => {
  const dir = tmpDir();
  const ev = new EvidenceRecorder({ dir, linkType: 1, maxPacketsPerFlow: 100, maxBytesPerFlow: 1000, maxPacketBytes: 300 });
  const frames: Buffer[] = [];
  for (let i = 0; i < 10; i++) {
    const f = udpFrame(2, i, i === 9 ? 1200 : 158); // 200-byte frames, the last one 1242
    frames.push(f);
    ev.record(7, f, 0, f.length, f.length, T0, i);
  }
  const name = ev.alert(7, 1, T0, 9)!;
  await ev.flush();
  const file = path.join(dir, name);
  const got = tcpdumpRead(file);
  // The last packet is cut to 300 bytes; 300 + 3 * 200 <= 1000 < 300 + 4 * 200.
  assert.is(got.length, 4);
  assert.ok(got[0]!.bytes.equals(frames[6]!));
  assert.ok(got[2]!.bytes.equals(frames[8]!));
  assert.ok(got[3]!.bytes.equals(frames[9]!.subarray(0, 300)));
  // Record header of the cut packet: incl_len 300, orig_len 1242.
  const raw = fs.readFileSync(file);
  const last = 24 + 3 * (16 + 200);
  assert.is(raw.readUInt32LE(last + 8), 300);
  assert.is(raw.readUInt32LE(last + 12), 1242);
  assert.is(raw.readUInt32LE(20), 1, 'link type Ethernet');
  fs.rmSync(dir, { recursive: true });
});

test('later alerts of a flow within the window append to the same file; after it, a new file', async () => {
  const dir = tmpDir();
  const ev = new EvidenceRecorder({ dir, linkType: 1, maxPacketsPerFlow: 4, flowFileWindowSec: 60 });
  const rec = (i: number, sec: number): void => {
    const f = udpFrame(2, i, 60);
    ev.record(9, f, 0, f.length, f.length, sec, i);
  };
  for (let i = 0; i < 3; i++) rec(i, T0);
  const a = ev.alert(9, 100, T0, 2)!;
  // Same packet, a second rule: same file, nothing new written.
  assert.is(ev.alert(9, 101, T0, 2), a);
  for (let i = 3; i < 9; i++) rec(i, T0 + 10);
  const b = ev.alert(9, 102, T0 + 10, 8);
  assert.is(b, a, 'inside the window: same file');
  await ev.flush();
  const got = tcpdumpRead(path.join(dir, a));
  // 3 from the first alert, then the ring's last 4 (5..8) appended; 3 and 4 fell out of it.
  assert.equal(got.map((p) => p.bytes.toString('ascii', 42, 47)), ['seq=0', 'seq=1', 'seq=2', 'seq=5', 'seq=6', 'seq=7', 'seq=8']);
  rec(9, T0 + 61);
  const c = ev.alert(9, 100, T0 + 61, 9)!;
  assert.is.not(c, a);
  await ev.flush();
  assert.is(tcpdumpRead(path.join(dir, c)).length, 4, 'a new file holds the whole ring');
  const s = ev.stats();
  assert.is(s.filesCreated, 2);
  assert.is(s.appends, 1);
  assert.is(s.referenced, 1);
  fs.rmSync(dir, { recursive: true });
});

test('max files and max bytes: oldest deleted first, also files of an earlier run; too big is skipped', async () => {
  const dir = tmpDir();
  const f = udpFrame(2, 0, 958); // 1000 bytes: files of 24 + 16 + 1000 = 1040 bytes
  let ev = new EvidenceRecorder({ dir, linkType: 1, maxFiles: 3 });
  const names: string[] = [];
  for (let flow = 1; flow <= 5; flow++) {
    ev.record(flow, f, 0, f.length, f.length, T0 + flow, 0);
    names.push(ev.alert(flow, 5, T0 + flow, 0)!);
  }
  await ev.flush();
  assert.equal(fs.readdirSync(dir).sort(), names.slice(2).sort());
  assert.is(ev.stats().deleted, 2);

  // A restart: the three files are taken into account.
  ev = new EvidenceRecorder({ dir, linkType: 1, maxFiles: 10, maxTotalBytes: 3 * 1040 + 500 });
  assert.is(ev.stats().filesOnDisk, 3);
  assert.is(ev.stats().bytesOnDisk, 3 * 1040);
  ev.record(6, f, 0, f.length, f.length, T0 + 6, 0);
  const sixth = ev.alert(6, 5, T0 + 6, 0)!;
  await ev.flush();
  assert.equal(fs.readdirSync(dir).sort(), [names[3]!, names[4]!, sixth].sort());
  assert.is(ev.stats().deleted, 1);
  assert.ok(ev.stats().bytesOnDisk <= 3 * 1040 + 500);

  // Evidence larger than the whole budget is skipped, and nothing is deleted for it.
  const big = udpFrame(2, 0, 5000);
  ev.record(7, big, 0, big.length, big.length, T0 + 7, 0);
  assert.is(ev.alert(7, 5, T0 + 7, 0), null);
  await ev.flush();
  assert.is(ev.stats().skippedCap, 1);
  assert.is(fs.readdirSync(dir).length, 3);
  fs.rmSync(dir, { recursive: true });
});

test('flows are an LRU: evictions counted, an evicted flow has no evidence', async () => {
  const dir = tmpDir();
  const ev = new EvidenceRecorder({ dir, linkType: 1, maxFlows: 2 });
  const f = udpFrame(2, 0, 20);
  for (const flow of [1, 2, 1, 3]) ev.record(flow, f, 0, f.length, f.length, T0, 0);
  const s = ev.stats();
  assert.is(s.flowsTracked, 2);
  assert.is(s.flowsEvicted, 1);
  assert.is(ev.alert(2, 1, T0, 0), null, 'flow 2 was least recently used');
  assert.ok(ev.alert(1, 1, T0, 0));
  ev.forget(3);
  assert.is(ev.stats().flowsEvicted, 1, 'forget is not an eviction');
  assert.is(ev.alert(3, 1, T0, 0), null);
  assert.is(ev.stats().skippedNoPackets, 2);
  await ev.flush();
  fs.rmSync(dir, { recursive: true });
});

test('a full write queue drops evidence (counted) instead of blocking the caller', async () => {
  const dir = tmpDir();
  const ev = new EvidenceRecorder({ dir, linkType: 1, maxQueueBytes: 10_000 });
  const f = udpFrame(2, 0, 958);
  let named = 0;
  const t0 = process.hrtime.bigint();
  for (let flow = 1; flow <= 100; flow++) {
    ev.record(flow, f, 0, f.length, f.length, T0, 0);
    if (ev.alert(flow, 1, T0, 0) !== null) named++;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.ok(ms < 200, `100 alerts took ${ms} ms`);
  const s = ev.stats();
  assert.is(named, 9, '10,000 bytes of queue hold nine 1040-byte files');
  assert.is(s.droppedQueue, 91);
  await ev.flush();
  assert.is(fs.readdirSync(dir).length, 9);
  fs.rmSync(dir, { recursive: true });
});

test('a full disk (64 KiB tmpfs) is counted, the partial file removed, nothing thrown', async () => {
  const dir = tmpDir();
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'lateral-obs2-test', dir]);
  assert.is(m.status, 0, String(m.stderr));
  try {
    const errors: Error[] = [];
    const ev = new EvidenceRecorder({ dir, linkType: 1, onError: (e) => errors.push(e) });
    const f = udpFrame(2, 0, 20_000);
    for (let flow = 1; flow <= 6; flow++) {
      ev.record(flow, f, 0, f.length, f.length, T0, 0);
      assert.ok(ev.alert(flow, 1, T0, 0), 'accepted: the disk is only found full when writing');
    }
    await ev.flush();
    const s = ev.stats();
    const onDisk = fs.readdirSync(dir);
    assert.ok(s.writeErrors >= 1, `writeErrors ${s.writeErrors}`);
    assert.is(onDisk.length, 6 - s.writeErrors);
    assert.is(s.filesOnDisk, onDisk.length);
    for (const name of onDisk) assert.is(tcpdumpRead(path.join(dir, name)).length, 1);
    assert.is(errors.length, 1, 'reported once');
    assert.instance(errors[0], LateralError);
    assert.is((errors[0] as LateralError).code, 'LATERAL_ERR_IO');
    assert.match(errors[0]!.message, 'ENOSPC');
  } finally {
    spawnSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true });
  }
});

test('an unusable directory or a bad option is a clear error at start', () => {
  try {
    new EvidenceRecorder({ dir: '/dev/null/evidence', linkType: 1 });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, LateralError);
    assert.is((err as LateralError).code, 'LATERAL_ERR_IO');
    assert.match((err as Error).message, '/dev/null/evidence');
  }
  try {
    new EvidenceRecorder({ dir: tmpDir(), linkType: 1, maxFiles: 0 });
    assert.unreachable();
  } catch (err) {
    assert.is((err as LateralError).code, 'LATERAL_ERR_CONFIG');
    assert.match((err as Error).message, 'maxFiles');
  }
});

test.run();
