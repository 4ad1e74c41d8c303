// The control surface of `lateral run` (src/cli/runControl.ts, reload.ts, privileges.ts
// runCapabilities): flag parsing, and that a stale or foreign pid file never gets a process
// signalled. No kernel needed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LateralError } from '../../src/errors';
import { runCapabilities } from '../../src/cli/privileges';
import { livePidFrom, parseRunControlFlags, readReloadStatus, removePidFile, statusFileOf, writePidFile, writeReloadStatus } from '../../src/cli/runControl';
import { lateralCli } from '../live/labHarness';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-runcontrol-'));

test('parseRunControlFlags takes its flags out and leaves the rest in order', () => {
  const r = parseRunControlFlags(['--bridge', 'br0', '--pid-file', '/tmp/x.pid', '--instance', 'lab1', '--keep-caps=cap_net_admin,CAP_NET_RAW', '--max-flows', '4096', '--queues', '0-1']);
  assert.equal(r.rest, ['--bridge', 'br0', '--instance', 'lab1', '--queues', '0-1']);
  assert.equal(r.control, { pidFile: '/tmp/x.pid', keepCaps: ['CAP_NET_ADMIN', 'CAP_NET_RAW'], maxFlows: 4096 });
  assert.equal(parseRunControlFlags(['--instance=lab2']).control, { pidFile: '/run/lateral/lab2.pid', keepCaps: undefined, maxFlows: 65536 });
  assert.is(parseRunControlFlags(['--pid-file', 'none', '--keep-caps', 'all']).control.pidFile, undefined);
  assert.is(parseRunControlFlags(['--keep-caps', 'all']).control.keepCaps, null);
  const usage = (argv: string[], re: RegExp): void =>
    assert.throws(() => parseRunControlFlags(argv), (e: LateralError) => e.code === 'LATERAL_ERR_USAGE' && re.test(e.message));
  usage(['--keep-caps', 'NET_ADMIN;rm'], /not a capability name/);
  usage(['--pid-file'], /--pid-file needs a value/);
  usage(['--max-flows', '0'], /max-flows/);
  usage(['--instance', '../etc'], /instance/);
});

test('runCapabilities: the kept set per backend and mode', () => {
  assert.equal(runCapabilities({ backend: 'nft', docker: false, canary: false }), ['CAP_NET_ADMIN']);
  assert.equal(runCapabilities({ backend: 'legacy', docker: false, canary: false }), ['CAP_NET_ADMIN', 'CAP_NET_RAW']);
  assert.equal(runCapabilities({ backend: 'nft', docker: true, canary: true }), ['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_SYS_PTRACE', 'CAP_SYS_ADMIN']);
  assert.equal(runCapabilities({ backend: 'nft', docker: true, canary: false }), ['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_SYS_PTRACE']);
});

test('a pid file naming a process that is not `lateral run` is ignored, and `lateral reload` refuses', async () => {
  // A live process that is not lateral: `sleep`.
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const f = path.join(dir, 'foreign.pid');
    fs.writeFileSync(f, `${sleeper.pid}\n`);
    assert.is(livePidFrom(f), null);
    fs.writeFileSync(path.join(dir, 'garbage.pid'), '12 34\n');
    assert.is(livePidFrom(path.join(dir, 'garbage.pid')), null);
    assert.is(livePidFrom(path.join(dir, 'missing.pid')), null);
    const r = await lateralCli(['reload', '--pid-file', f, '--no-wait']);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, 'no running `lateral run` found');
    assert.is(sleeper.exitCode, null, 'the foreign process was not signalled');
    assert.is(sleeper.signalCode, null);
    // A stale pid file (foreign pid) is taken over by a new run.
    writePidFile(f);
    assert.is(fs.readFileSync(f, 'utf8').trim(), String(process.pid));
    writeReloadStatus(f, { pid: process.pid, generation: 3, startedAtMs: 1, ok: true, message: 'm', loaded: 1, skipped: 0 });
    assert.is(readReloadStatus(f)?.generation, 3);
    removePidFile(f);
    assert.not.ok(fs.existsSync(f));
    assert.not.ok(fs.existsSync(statusFileOf(f)));
  } finally {
    sleeper.kill('SIGKILL');
  }
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test.run();
