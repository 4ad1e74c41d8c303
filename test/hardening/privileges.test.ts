// Least privilege: dropPrivileges() in a child process (in its own network namespace, so the
// iptables probes touch nothing of the host), then the child reports its /proc capability
// sets and tries actions that need capabilities it gave up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { PrivilegeReport } from '../../src/cli/privileges';

const privileges = path.resolve(__dirname, '../../src/cli/privileges.js');

// Runs in the child: a worker thread first (the drop must reach it too), then the drop.
const CHILD = `
const fs = require('fs');
const net = require('net');
const { execFileSync } = require('child_process');
const { Worker } = require('worker_threads');
const { dropPrivileges, readCapabilitySets } = require(${JSON.stringify(privileges)});
const worker = new Worker("const { parentPort } = require('worker_threads'); parentPort.on('message', () => parentPort.postMessage(require('fs').readFileSync('/proc/thread-self/status', 'latin1')));", { eval: true });
const out = {};
const hex = (s) => s.effective.toString(16) + '/' + s.permitted.toString(16) + '/' + s.bounding.toString(16) + '/' + s.inheritable.toString(16) + '/' + s.ambient.toString(16);
setTimeout(() => {
  out.report = dropPrivileges(['CAP_NET_ADMIN']);
  out.main = hex(readCapabilitySets('/proc/self/status'));
  out.noNewPrivs = readCapabilitySets('/proc/self/status').noNewPrivs;
  const f = '/tmp/lateral-h2-chown-' + process.pid;
  fs.writeFileSync(f, 'x');
  try { fs.chownSync(f, 1, 1); out.chown = 'ok'; } catch (e) { out.chown = e.code; }
  fs.unlinkSync(f);
  const run = (cmd, args) => { try { execFileSync(cmd, args, { stdio: 'pipe' }); return 'ok'; } catch (e) { return String(e.stderr).trim().split('\\n')[0] || 'exit ' + e.status; } };
  out.childCaps = run('sh', ['-c', 'grep -E "^Cap(Eff|Bnd)" /proc/self/status | tr "\\n" " " >&2; exit 1']);
  out.iptablesNft = run('iptables-nft', ['-w', '-A', 'INPUT', '-j', 'ACCEPT']);
  out.iptablesLegacy = run('iptables-legacy', ['-w', '-A', 'INPUT', '-j', 'ACCEPT']);
  worker.once('message', (status) => {
    out.worker = /CapEff:\\s*(\\S+)/.exec(status)[1];
    worker.terminate();
    net.createServer().listen(80, '127.0.0.1')
      .on('error', (e) => { out.bind80 = e.code; console.log(JSON.stringify(out)); process.exit(0); })
      .on('listening', () => { out.bind80 = 'ok'; console.log(JSON.stringify(out)); process.exit(0); });
  });
  worker.postMessage('status');
}, 200);
`;

interface ChildResult {
  report: PrivilegeReport;
  main: string;
  noNewPrivs: boolean;
  chown: string;
  childCaps: string;
  iptablesNft: string;
  iptablesLegacy: string;
  worker: string;
  bind80: string;
}

test('dropPrivileges keeps only CAP_NET_ADMIN, in every reachable thread and in children', () => {
  const r = spawnSync('unshare', ['--net', process.execPath, '-e', CHILD], { encoding: 'utf8', timeout: 20000 });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
  console.log(`[privileges] ${JSON.stringify({ ...out, report: { ...out.report, dropped: out.report.dropped.length } })}`);
  const NET_ADMIN = (1 << 12).toString(16);
  // effective / permitted / bounding / inheritable / ambient of the main thread.
  assert.is(out.main, `${NET_ADMIN}/${NET_ADMIN}/${NET_ADMIN}/0/0`);
  assert.ok(out.noNewPrivs);
  assert.equal(out.report.kept, ['CAP_NET_ADMIN']);
  assert.equal(out.report.bounding, ['CAP_NET_ADMIN']);
  assert.ok(out.report.dropped.includes('CAP_SYS_ADMIN') && out.report.dropped.includes('CAP_CHOWN'));
  // The worker thread started before the drop lost its capabilities too.
  assert.is(out.worker, '0000000000001000');
  // At most one thread unreachable (Node's SIGUSR1 watchdog, which blocks all signals).
  assert.ok(out.report.threadsDropped >= out.report.threads - 1, `${out.report.threadsDropped}/${out.report.threads}`);
  assert.ok(out.report.privilegedThreads.length <= 1);
  // Actions needing a dropped capability now fail.
  assert.is(out.chown, 'EPERM', 'chown needs CAP_CHOWN');
  assert.is(out.bind80, 'EACCES', 'port 80 needs CAP_NET_BIND_SERVICE');
  // A root child process gets the bounding set only.
  assert.match(out.childCaps, /CapEff:\s*0000000000001000\s+CapBnd:\s*0000000000001000/);
  // iptables-nft (netlink) works with CAP_NET_ADMIN alone: `run` can still remove its rules.
  assert.is(out.iptablesNft, 'ok');
});

test('dropPrivileges refuses an unknown capability name before dropping anything', () => {
  const r = spawnSync(process.execPath, ['-e', `
    const { dropPrivileges } = require(${JSON.stringify(privileges)});
    try { dropPrivileges(['CAP_NET_ADMIN', 'CAP_BOGUS']); } catch (e) { console.log(e.code + ' ' + e.message); }
    console.log(require('fs').readFileSync('/proc/self/status', 'latin1').match(/CapEff:\\s*(\\S+)/)[1]);
  `], { encoding: 'utf8' });
  const [err, eff] = r.stdout.trim().split('\n');
  assert.match(err!, /^LATERAL_ERR_USAGE unknown capability CAP_BOGUS/);
  assert.is.not(eff, '0000000000001000', 'nothing dropped');
});

test.run();
