// The queue's copy range as `lateral run` sets it: the whole packet when rules inspect
// payloads, headers only without an engine, and what the user asks for otherwise. Read back
// through the real option parser (src/cli/runOptions.ts), which is where the default applies.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRunOptions } from '../../src/cli/runOptions';
import { copyRangeFor, FULL_COPY_RANGE, HEADER_COPY_RANGE } from '../../src/capture/copyRange';

test('with rules the whole packet is copied (64 KiB GSO payloads are inspected)', () => {
  assert.is(parseRunOptions(['--bridge', 'x']).copyRange, 65535);
  assert.is(parseRunOptions(['--bridge', 'x', '--rules', 'a.rules']).copyRange, 65535);
  assert.is(copyRangeFor(true), FULL_COPY_RANGE);
});

test('--no-rules copies headers only: enough for IPv6 + extension headers + TCP options', () => {
  const o = parseRunOptions(['--bridge', 'x', '--no-rules']);
  assert.is(o.copyRange, HEADER_COPY_RANGE);
  assert.ok(HEADER_COPY_RANGE >= 40 + 8 * 8 + 60, 'IPv6, a few 8-byte extension headers, the longest TCP header');
});

test('an explicit --copy-range wins, and stays bounded', () => {
  assert.is(parseRunOptions(['--bridge', 'x', '--no-rules', '--copy-range', '1500']).copyRange, 1500);
  assert.is(parseRunOptions(['--bridge', 'x', '--copy-range', '128']).copyRange, 128);
  assert.throws(() => parseRunOptions(['--bridge', 'x', '--copy-range', '70000']), /copy-range/);
});

test.run();
