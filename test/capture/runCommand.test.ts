// runCommand: the firewall's command runner, through the addon's posix_spawn (no fork of this
// process). Real commands: output, exit status, stderr, a missing binary, a timeout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CommandError, runCommand, runCommandUsesSpawn } from '../../src/capture/runCommand';

test('the addon is loaded, so commands start without forking this process', () => {
  assert.ok(runCommandUsesSpawn());
});

test('stdout is returned whole, also when larger than a pipe buffer', () => {
  assert.is(runCommand('echo', ['hello', 'world'], 5000), 'hello world\n');
  const big = runCommand('sh', ['-c', 'head -c 300000 /dev/zero | tr "\\0" a'], 5000);
  assert.is(big.length, 300000);
  assert.ok(/^a+$/.test(big));
});

test('a non-zero exit throws with its status and stderr; stdin is empty', () => {
  try {
    runCommand('sh', ['-c', 'cat; echo oops >&2; exit 3'], 5000);
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, CommandError);
    const err = e as CommandError;
    assert.is(err.status, 3);
    assert.is(err.stderr, 'oops\n');
    assert.match(err.message, /exit status 3/);
  }
});

test('the command starts with default signal dispositions and nothing blocked (Node ignores SIGPIPE)', () => {
  const status = runCommand('cat', ['/proc/self/status'], 5000);
  const mask = (name: string): bigint => BigInt(`0x${new RegExp(`^${name}:\\s+([0-9a-f]+)$`, 'm').exec(status)![1]}`);
  // Bit n-1 is signal n. glibc keeps its two internal real-time signals (32, 33) ignored in
  // posix_spawn children; every standard signal (1-31, SIGPIPE = 13 among them) is default.
  assert.is(mask('SigIgn') & 0x7fffffffn, 0n, 'no standard signal ignored');
  assert.is(mask('SigBlk'), 0n, 'nothing blocked');
});

test('a missing command and a timeout are errors, not hangs', () => {
  assert.throws(() => runCommand('lateral-no-such-command', [], 5000), (e: unknown) => e instanceof CommandError && /cannot start lateral-no-such-command/.test((e as Error).message));
  const t0 = Date.now();
  assert.throws(() => runCommand('sleep', ['10'], 300), (e: unknown) => e instanceof CommandError && /timed out after 300 ms/.test((e as Error).message));
  assert.ok(Date.now() - t0 < 5000, 'killed at the timeout');
});

test.run();
