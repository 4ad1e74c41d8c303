// EveWriter: appends lines, never blocks, counts drops on a full backlog and on real I/O
// errors (/dev/full gives ENOSPC), reopens on SIGUSR1 after a logrotate-style rename, and
// flushes on close. Also the periodic stats record.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EveWriter } from '../../src/output/eveWriter';
import { formatEveStats, startEveStats, StatsSnapshot } from '../../src/output/eveStats';
import { LateralMetrics } from '../../src/output/metrics';
import { Verdict, WorkerCounters } from '../../src/output/workerCounters';
import { LateralError } from '../../src/errors';
import { spawnSync } from 'node:child_process';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-obs-eve-'));
}

test('appends lines to an existing file and flushes on close', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'eve.json');
  fs.writeFileSync(file, '{"old":1}\n');
  const w = new EveWriter(file);
  for (let i = 0; i < 1000; i++) assert.ok(w.write({ event_type: 'alert', n: i }));
  await w.close();
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.is(lines.length, 1001);
  assert.is(lines[0], '{"old":1}');
  assert.equal(JSON.parse(lines[1000]!), { event_type: 'alert', n: 999 });
  assert.is(w.stats().written, 1000);
  assert.not.ok(w.write('{"late":1}'));
  assert.is(w.stats().droppedIoError, 1);
  fs.rmSync(dir, { recursive: true });
});

test('a full backlog drops and counts records instead of blocking', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'eve.json');
  const w = new EveWriter(file, { maxBacklogBytes: 10_000, maxChunkBytes: 1000 });
  const line = 'x'.repeat(99);
  const t0 = process.hrtime.bigint();
  let accepted = 0;
  for (let i = 0; i < 10_000; i++) if (w.write(line)) accepted++;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const s = w.stats();
  // Everything written synchronously in one tick: only what fits in the backlog is kept.
  assert.is(accepted, 100);
  assert.is(s.droppedBacklog, 9_900);
  assert.ok(ms < 500, `write() took ${ms} ms for 10k records`);
  await w.close();
  assert.is(fs.readFileSync(file, 'utf8').split('\n').length - 1, 100);
  fs.rmSync(dir, { recursive: true });
});

test('disk errors (ENOSPC on /dev/full) count dropped records and report once', async () => {
  const errors: Error[] = [];
  const w = new EveWriter('/dev/full', { onError: (e) => errors.push(e), maxChunkBytes: 50 });
  for (let i = 0; i < 20; i++) w.write({ i });
  await w.flush();
  const s = w.stats();
  assert.is(s.written, 0);
  assert.is(s.droppedIoError, 20);
  assert.ok(s.ioErrors >= 1);
  assert.is(errors.length, 1);
  assert.instance(errors[0], LateralError);
  assert.match(errors[0]!.message, /\/dev\/full.*ENOSPC/);
  await w.close();
});

test('an unopenable path is a clear LATERAL_ERR_IO naming the file', () => {
  try {
    new EveWriter('/nonexistent-dir-lateral/eve.json');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LateralError);
    assert.is((e as LateralError).code, 'LATERAL_ERR_IO');
    assert.match((e as Error).message, /nonexistent-dir-lateral\/eve\.json/);
  }
});

test('SIGUSR1 reopens the path after logrotate renamed the file', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'eve.json');
  const w = new EveWriter(file);
  w.reopenOnSigusr1();
  w.write({ before: 1 });
  await w.flush();
  fs.renameSync(file, `${file}.1`);
  w.write({ between: 1 }); // still goes to the renamed file, as with Suricata
  await w.flush();
  process.kill(process.pid, 'SIGUSR1');
  await new Promise((r) => setTimeout(r, 50));
  w.write({ after: 1 });
  await w.close();
  assert.is(fs.readFileSync(`${file}.1`, 'utf8'), '{"before":1}\n{"between":1}\n');
  assert.is(fs.readFileSync(file, 'utf8'), '{"after":1}\n');
  assert.is(w.stats().reopens, 1);
  fs.rmSync(dir, { recursive: true });
});

test('stats record carries Suricata counter names and Lateral additions', () => {
  const snap: StatsSnapshot = {
    uptimeSeconds: 12.7, kernelPackets: 100, kernelDrops: 2, userDrops: 1, enobufs: 0, uninspected: 5,
    decoderPackets: 98, decoderBytes: 9800, decoderEvents: { ipv4_trunc: 1 }, verdicts: { accept: 90, drop: 8, bypass: 0 },
    drops: { rule: 8 }, flowsActive: 3, flowsCreated: 10, flowsEvicted: 7, flowsBypassed: 1, streamEvents: { reassembly_overlap: 2 },
    streamMemoryBytes: 4096, alerts: 4, rulesLoaded: 100, rulesSkipped: 3, eveWritten: 4, eveDropped: 0,
  };
  const r = JSON.parse(formatEveStats(1639149630, 0, snap)) as { timestamp: string; event_type: string; stats: Record<string, Record<string, unknown>> };
  assert.is(r.event_type, 'stats');
  assert.is(r.timestamp, '2021-12-10T15:20:30.000000+0000');
  assert.is(r.stats.uptime as unknown as number, 12);
  assert.equal(r.stats.capture, { kernel_packets: 100, kernel_drops: 2 });
  assert.equal(r.stats.decoder, { pkts: 98, bytes: 9800, event: { ipv4_trunc: 1 } });
  assert.equal(r.stats.detect, { alert: 4 });
  assert.equal((r.stats.lateral as Record<string, unknown>).verdict, { accept: 90, drop: 8, bypass: 0 });
});


test('startEveStats writes periodic stats records from LateralMetrics, and a final one', async () => {
  const kinds = { anomalyKinds: ['ipv4_trunc'], streamEventKinds: [] };
  const dir = tmpDir();
  const file = path.join(dir, 'eve.json');
  const w = new EveWriter(file);
  const m = new LateralMetrics({ ...kinds, defaultMetrics: false });
  m.attachEveWriter(w);
  const wc = new WorkerCounters(kinds);
  wc.packet(Verdict.ACCEPT, 100);
  wc.anomalies(1);
  m.applyDelta(0, wc.takeDelta());
  const stop = startEveStats(w, m, 30);
  await new Promise((r) => setTimeout(r, 100));
  wc.packet(Verdict.DROP, 50);
  m.applyDelta(0, wc.takeDelta());
  stop();
  await w.close();
  const recs = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { event_type: string; stats: { decoder: { pkts: number; bytes: number; event: Record<string, number> }; lateral: { verdict: Record<string, number> } } });
  assert.ok(recs.length >= 3, `${recs.length} records`);
  assert.ok(recs.every((r) => r.event_type === 'stats'));
  assert.is(recs[0]!.stats.decoder.pkts, 1);
  assert.is(recs[0]!.stats.decoder.event.ipv4_trunc, 1);
  const last = recs[recs.length - 1]!;
  assert.is(last.stats.decoder.pkts, 2);
  assert.is(last.stats.decoder.bytes, 150);
  assert.equal(last.stats.lateral.verdict, { accept: 1, drop: 1, bypass: 0 });
  fs.rmSync(dir, { recursive: true });
});

test('"-" writes to stdout; a reader that goes away costs records, not the process', () => {
  const script = path.join(__dirname, 'fixtures', 'eveToStdout.js');
  const ok = spawnSync(process.execPath, [script, '50'], { encoding: 'utf8' });
  assert.is(ok.status, 0, ok.stderr);
  const lines = ok.stdout.trimEnd().split('\n');
  assert.is(lines.length, 50);
  assert.is((JSON.parse(lines[49]!) as { i: number }).i, 49);
  // `head -c 1000` closes the pipe early: the writer sees EPIPE, counts, and exits cleanly.
  const cut = spawnSync('bash', ['-c', `"${process.execPath}" "${script}" 20000 | head -c 1000 >/dev/null; echo "status=\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
  assert.match(cut.stdout, /status=0/, cut.stderr);
  const stats = JSON.parse(cut.stderr.trim().split('\n').pop()!) as { written: number; droppedIoError: number };
  assert.ok(stats.droppedIoError > 0, cut.stderr);
  assert.is(stats.written + stats.droppedIoError, 20000);
});

test.run();
