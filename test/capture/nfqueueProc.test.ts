import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LateralError } from '../../src/errors';
import { parseNfqueueProc, uninspectedPackets } from '../../src/capture/nfqueueProc';

// Lines as the kernel prints them (seq_show in net/netfilter/nfnetlink_queue.c).
const SAMPLE = [
  '    0  11654     3 2 65531     7     2     4711  1',
  '47311 -4026 0 2 65531 0 0 0 1',
  '',
].join('\n');

test('parses every column of each queue line', () => {
  const e = parseNfqueueProc(SAMPLE.replace('-4026', '4026'));
  assert.equal(e.length, 2);
  assert.equal(e[0], {
    queue: 0,
    peerPortId: 11654,
    queueTotal: 3,
    copyMode: 2,
    copyRange: 65531,
    queueDropped: 7,
    userDropped: 2,
    idSequence: 4711,
  });
  assert.is(e[1]!.queue, 47311);
});

test('an empty file (no queue bound) gives no entries', () => {
  assert.equal(parseNfqueueProc(''), []);
});

test('a malformed line is an error naming file and line', () => {
  try {
    parseNfqueueProc('0 1 2 3 4 5 6 7 1\nbogus line\n', '/proc/x');
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, LateralError);
    assert.is((e as LateralError).code, 'LATERAL_ERR_KERNEL');
    assert.equal((e as LateralError).location, { file: '/proc/x', line: 2 });
    assert.match((e as Error).message, 'bogus line');
  }
});

test('uninspected = rule hits - seen - dropped - still queued, never negative', () => {
  const e = parseNfqueueProc('0 1 3 2 65531 7 2 99 1\n1 1 0 2 65531 1 0 99 1\n');
  // 100 hits, 80 seen, 7+1 queue_dropped, 2 user_dropped, 3 in flight -> 7 passed silently.
  assert.is(uninspectedPackets(100, 80, e), 7);
  assert.is(uninspectedPackets(10, 80, e), 0);
  assert.is(uninspectedPackets(50, 50, []), 0);
});

test.run();
