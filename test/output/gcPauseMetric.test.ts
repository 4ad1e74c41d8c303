// lateral_worker_gc_pause_seconds: a real worker thread allocates (scavenges) and forces a full
// GC; observeGcPauses counts its pauses, the delta crosses to this thread, and /metrics shows
// them by kind with the sum of their durations.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { LateralMetrics } from '../../src/output/metrics';
import { isMetricsDelta, WorkerCounters, GC_PAUSE_BUCKETS } from '../../src/output/workerCounters';
import { parsePromText, sum } from './fixtures/promText';

const kinds = { anomalyKinds: ['a'], streamEventKinds: ['b'] };

test('GC pauses of a worker thread reach /metrics by kind', async () => {
  const counters = path.resolve(__dirname, '../../src/output/workerCounters.js');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { WorkerCounters, observeGcPauses } = require(workerData.counters);
    const c = new WorkerCounters(workerData.kinds);
    const obs = observeGcPauses(c);
    let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ i }); if (keep.length > 5000) keep = []; }
    // A full GC on demand (workers take no V8 flags in execArgv).
    require('node:v8').setFlagsFromString('--expose-gc');
    require('node:vm').runInNewContext('gc')();
    // perf_hooks delivers gc entries asynchronously.
    setTimeout(() => { obs.disconnect(); parentPort.postMessage(c.takeDelta()); }, 50);
  `;
  const delta = await new Promise<unknown>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { counters, kinds } });
    w.once('message', resolve);
    w.once('error', reject);
  });
  assert.ok(isMetricsDelta(delta));
  const m = new LateralMetrics({ ...kinds, defaultMetrics: false });
  m.applyDelta(0, delta);
  const s = parsePromText(await m.metricsText());
  const minor = sum(s, 'lateral_worker_gc_pause_seconds_count', { kind: 'minor' });
  const major = sum(s, 'lateral_worker_gc_pause_seconds_count', { kind: 'major' });
  assert.ok(minor >= 1, `scavenges counted: ${minor}`);
  assert.ok(major >= 1, `the forced full GC counted: ${major}`);
  assert.is(sum(s, 'lateral_worker_gc_pause_seconds_bucket', { kind: 'minor', le: '+Inf' }), minor);
  assert.ok(sum(s, 'lateral_worker_gc_pause_seconds_sum', { kind: 'major' }) > 0);
  assert.is(sum(s, 'lateral_worker_gc_pause_seconds_count', { kind: 'weakcb' }), sum(s, 'lateral_worker_gc_pause_seconds_bucket', { kind: 'weakcb', le: '+Inf' }));
});

test('bucketing: a pause lands in the first bucket at or above it, per kind', async () => {
  const c = new WorkerCounters(kinds);
  c.gc(0, 0.003); // minor, 3 ms: bucket 0.005
  c.gc(1, 0.2); // major, 200 ms: bucket 0.25
  c.gc(-1, 1); // unknown kind: ignored
  const m = new LateralMetrics({ ...kinds, defaultMetrics: false });
  m.applyDelta(0, c.takeDelta());
  const s = parsePromText(await m.metricsText());
  assert.is(sum(s, 'lateral_worker_gc_pause_seconds_bucket', { kind: 'minor', le: '0.0025' }), 0);
  assert.is(sum(s, 'lateral_worker_gc_pause_seconds_bucket', { kind: 'minor', le: '0.005' }), 1);
  assert.is(sum(s, 'lateral_worker_gc_pause_seconds_bucket', { kind: 'major', le: '0.1' }), 0);
  assert.is(sum(s, 'lateral_worker_gc_pause_seconds_bucket', { kind: 'major', le: '0.25' }), 1);
  assert.is(sum(s, 'lateral_worker_gc_pause_seconds_count'), 2);
  assert.ok(GC_PAUSE_BUCKETS.includes(0.005) && GC_PAUSE_BUCKETS.includes(0.25));
});

test.run();
