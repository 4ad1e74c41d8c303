// Bad input at the command line: the real CLI (dist/src/cli/main.js) as a child process, fed
// broken rules, pcaps, YAML and flags. Each must end in ONE error line on stderr naming the
// file (and line, or byte offset) and the cause — never a stack trace — with exit code 2 for
// usage errors and 1 for other failures.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corpusPath } from '../support/corpus';

const MAIN = path.resolve(__dirname, '../../src/cli/main.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-h2-cli-'));
const f = (name: string, content: string | Uint8Array): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
};
const OK_RULES = f('ok.rules', 'alert tcp any any -> any any (msg:"ok"; content:"GET"; sid:1;)\n');
const BAD_RULES = f('bad.rules', '# a comment\nalert tcp any any -> any any (msg:"ok"; content:"GET"; sid:1;)\n\nalert tcp any any -> any 80 (msg:"broken"; content:"a" sid:2;)\n');
const BAD_YAML = f('bad.yaml', 'vars:\n  address-groups:\n    HOME_NET: [unclosed\n    EXTERNAL_NET: "!$HOME_NET"\n');
const PCAP = fs.readFileSync(corpusPath('pcaps', 'dns-null-record.pcap'));
const TRUNCATED = f('truncated.pcap', PCAP.subarray(0, PCAP.length - 7));
const WRONG_MAGIC = f('magic.pcap', Buffer.concat([Buffer.from('GIF89a..'), PCAP.subarray(8)]));
const GOOD_PCAP = corpusPath('pcaps', 'dns-null-record.pcap');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function lateral(...args: string[]): Run {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30000, cwd: dir });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One `lateral: ...` line on stderr (a usage text may follow a usage error), no stack. */
function oneErrorLine(r: Run, code: number, pattern: RegExp): void {
  const where = `exit ${r.status}; stderr: ${r.stderr}`;
  assert.is(r.status, code, where);
  assert.not.match(r.stderr, /^\s+at /m, `stack trace: ${where}`);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('lateral'));
  assert.is(lines.length, 1, where);
  assert.match(lines[0]!, pattern);
  if (code === 1) assert.is(r.stderr.trimEnd().split('\n').length, 1, `exactly one line: ${where}`);
}

test('rules check: a syntax error names file:line and cause, exit 1', () => {
  const r = lateral('rules', 'check', BAD_RULES);
  assert.is(r.status, 1);
  assert.match(r.stdout, /^1 loaded, 0 skipped, 1 errors/);
  assert.match(r.stdout, /^error: .*bad\.rules:4: content must be quoted/m);
  assert.is.not(r.stdout.indexOf('bad.rules:4'), -1);
  assert.not.match(r.stdout + r.stderr, /^\s+at /m);
});

test('rules check --json into a pipe: the whole document arrives (more than a pipe buffer)', () => {
  const many = f('many.rules', Array.from({ length: 3000 }, (_, i) => `alert tcp any any -> any any (msg:"skipped ${i}"; flowint:x,notset; sid:${9000000 + i};)\n`).join(''));
  // The reader starts late, so the pipe fills and lateral must wait for it before exiting.
  const r = spawnSync('sh', ['-c', `"${process.execPath}" "${MAIN}" rules check "${many}" --json | (sleep 1; cat)`], { encoding: 'utf8', maxBuffer: 16 << 20 });
  assert.ok(r.stdout.length > 65536, `only ${r.stdout.length} bytes`);
  const doc = JSON.parse(r.stdout) as { loaded: number; skipped: number };
  assert.is(doc.skipped, 3000);
  assert.is(doc.loaded, 0);
});

test('replay: a pcre cut to its cost window is named once and counted', () => {
  const costly = f('costly.rules', 'alert tcp any any -> any any (msg:"costly"; pcre:"/a.*b.*c.*d.*e.*f.*g/s"; sid:7;)\n');
  const r = lateral('replay', '--rules', costly, '--eve', '/dev/null', corpusPath('pcaps', 'heartbleed-success.pcap'));
  assert.is(r.status, 0, r.stderr);
  const named = r.stderr.split('\n').filter((l) => /pcre of sid 7 saw only \d+ of \d+ bytes/.test(l));
  assert.is(named.length, 1, r.stderr);
  assert.match(r.stderr, /lateral replay: [1-9]\d* pcre executions were cut to their cost window/);
});

test('rules check: missing file, bad YAML (with its line), bad flags', () => {
  oneErrorLine(lateral('rules', 'check', 'missing.rules'), 1, /missing\.rules: cannot read rule file: ENOENT.*\[LATERAL_ERR_IO\]$/);
  oneErrorLine(lateral('rules', 'check', OK_RULES, '--config', BAD_YAML), 1, /bad\.yaml:\d+: cannot read YAML: .*\[LATERAL_ERR_CONFIG\]$/);
  oneErrorLine(lateral('rules', 'check', OK_RULES, '--config', 'nope.yaml'), 1, /nope\.yaml/);
  oneErrorLine(lateral('rules', 'check', OK_RULES, '--bogus'), 2, /unknown option --bogus/);
  oneErrorLine(lateral('rules', 'check'), 2, /no rule file given/);
  oneErrorLine(lateral('rules', 'lint'), 2, /unknown subcommand "lint"/);
});

test('replay: broken pcaps name the file and byte offset, exit 1', () => {
  oneErrorLine(lateral('replay', '--rules', OK_RULES, TRUNCATED), 1, /truncated\.pcap: truncated record: \d+ of \d+ bytes at byte \d+, after record \d+ \[LATERAL_ERR_PCAP\]$/);
  oneErrorLine(lateral('replay', '--rules', OK_RULES, WRONG_MAGIC), 1, /magic\.pcap: not a pcap or pcapng file \(magic 0x[0-9a-f]+\) at byte 0 \[LATERAL_ERR_PCAP\]$/);
  oneErrorLine(lateral('replay', '--rules', OK_RULES, 'missing.pcap'), 1, /missing\.pcap: cannot open capture: ENOENT/);
  const empty = f('empty.pcap', new Uint8Array(0));
  oneErrorLine(lateral('replay', '--rules', OK_RULES, empty), 1, /empty\.pcap: .*\[LATERAL_ERR_PCAP\]$/);
});

test('replay: broken rules and YAML name file:line, exit 1; bad flags exit 2', () => {
  // Like Suricata, a broken rule is reported (file:line, cause) and left out; --strict-rules makes it fatal.
  const lenient = lateral('replay', '--rules', BAD_RULES, GOOD_PCAP);
  assert.is(lenient.status, 0, lenient.stderr);
  assert.match(lenient.stderr, /bad\.rules:4: content must be quoted/);
  assert.not.match(lenient.stderr, /\n\s+at /, 'no stack trace');
  oneErrorLine(lateral('replay', '--strict-rules', '--rules', BAD_RULES, GOOD_PCAP), 1, /bad\.rules:4: content must be quoted.*\[LATERAL_ERR_RULE_PARSE\]$/);
  oneErrorLine(lateral('replay', '--rules', OK_RULES, '--config', BAD_YAML, GOOD_PCAP), 1, /bad\.yaml:\d+: cannot read YAML: .*\[LATERAL_ERR_CONFIG\]$/);
  oneErrorLine(lateral('replay', '--rules', 'missing.rules', GOOD_PCAP), 1, /missing\.rules/);
  oneErrorLine(lateral('replay', '--bogus'), 2, /unknown flag --bogus/);
  oneErrorLine(lateral('replay', GOOD_PCAP), 2, /no rules given/);
  oneErrorLine(lateral('replay', '--rules', OK_RULES, '-k', 'sometimes', GOOD_PCAP), 2, /-k|checksum/);
});

test('run: bad flags exit 2 with one line, before touching the kernel', () => {
  oneErrorLine(lateral('run', '--bogus'), 2, /unknown flag --bogus/);
  oneErrorLine(lateral('run'), 2, /--bridge/);
  oneErrorLine(lateral('run', '--bridge', 'h2nosuchbr0', '--queues', 'abc'), 2, /--queues/);
  oneErrorLine(lateral('nosuchcommand'), 2, /unknown command "nosuchcommand"/);
});

test('cleanup', () => {
  fs.rmSync(dir, { recursive: true, force: true });
});

test.run();
