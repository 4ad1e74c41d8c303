// The worker → main-thread alert bound, across two real threads: a worker that posts faster
// than the main thread releases is held at the bound and must count the rest as lost.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AlertHandoff } from '../../src/cli/alertHandoff';

test('reserve up to the bound, release frees room', () => {
  const h = new AlertHandoff(AlertHandoff.sharedBuffer(), 10);
  assert.ok(h.reserve(6));
  assert.not.ok(h.reserve(5), 'would exceed the bound');
  assert.ok(h.reserve(4));
  assert.is(h.pending, 10);
  h.release(6);
  assert.ok(h.reserve(5));
  assert.is(h.pending, 9);
});

test('a worker posting to a stalled main thread stays bounded and counts its losses', async () => {
  const shared = AlertHandoff.sharedBuffer();
  const main = new AlertHandoff(shared, 100);
  const modulePath = path.join(__dirname, '..', '..', 'src', 'cli', 'alertHandoff.js');
  // The worker offers 50 batches of 7 alerts, then raises `finished`; this thread is blocked
  // in Atomics.wait meanwhile, as a stalled main thread would be, so it releases nothing.
  const finished = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const { AlertHandoff } = require(workerData.modulePath);
     const h = new AlertHandoff(workerData.shared, 100);
     let posted = 0, lost = 0;
     for (let i = 0; i < 50; i++) {
       if (h.reserve(7)) { parentPort.postMessage({ n: 7 }); posted += 7; } else lost += 7;
     }
     parentPort.postMessage({ done: true, posted, lost });
     Atomics.store(workerData.finished, 0, 1);
     Atomics.notify(workerData.finished, 0);`,
    { eval: true, workerData: { shared, modulePath, finished } },
  );
  await new Promise<void>((resolve) => worker.once('online', () => resolve()));
  assert.is.not(Atomics.wait(finished, 0, 0, 10_000), 'timed-out');
  let received = 0;
  const done = await new Promise<{ posted: number; lost: number }>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (m: { n?: number; done?: boolean; posted: number; lost: number }) => {
      if (m.done) resolve(m);
      else {
        received += m.n!;
        main.release(m.n!);
      }
    });
  });
  await worker.terminate();
  // 14 batches (98 alerts) fit under the bound of 100; the other 36 batches were lost.
  assert.is(done.posted, 98);
  assert.is(done.lost, 252);
  assert.is(received, done.posted);
  assert.is(main.pending, 0);
});

test.run();
