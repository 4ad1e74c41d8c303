// `lateral reload`: asks a running `lateral run` to reload its rule files (SIGHUP to the pid
// in its pid file) and waits for the outcome it writes next to the pid file, so a broken rule
// file is reported here with file:line: cause and a non-zero exit, while run keeps its rules.
import { LateralError } from '../errors';
import { validateInstance } from '../capture/firewallRules';
import { parseFlags, parseUint } from './parseFlags';
import { defaultPidFile, livePidFrom, readReloadStatus } from './runControl';

export const RELOAD_USAGE = `Usage: lateral reload [--instance NAME | --pid-file FILE] [--timeout SEC] [--no-wait]

Makes the running \`lateral run\` of that instance (default main; pid file
/run/lateral/<instance>.pid) re-read its rule files: they are validated aside, and only if
every rule parses does each queue worker compile them and swap them in between two batches
(flows and flowbits kept). A broken file keeps the running rules. Same as SIGHUP.
Waits for the outcome (default up to 300 s): exit 0 reloaded, 1 refused or failed.
`;

export async function reloadCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(RELOAD_USAGE);
    return 0;
  }
  const cmd = 'lateral reload';
  const f = parseFlags(argv, { instance: 'string', 'pid-file': 'string', timeout: 'string', 'no-wait': 'boolean' }, cmd);
  if (f.positionals.length > 0) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: unexpected argument ${JSON.stringify(f.positionals[0])}`);
  const instance = f.strings.get('instance') ?? 'main';
  validateInstance(instance);
  const pidFile = f.strings.get('pid-file') ?? defaultPidFile(instance);
  const timeoutMs = parseUint(cmd, 'timeout', f.strings.get('timeout') ?? '300', 1, 86400) * 1000;
  const pid = livePidFrom(pidFile);
  if (pid === null) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: no running \`lateral run\` found through ${pidFile}`);

  const before = readReloadStatus(pidFile);
  const sentAt = Date.now();
  process.kill(pid, 'SIGHUP');
  if (f.booleans.has('no-wait')) {
    process.stderr.write(`lateral: asked pid ${pid} to reload its rules\n`);
    return 0;
  }
  const deadline = sentAt + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const s = readReloadStatus(pidFile);
    // A reload that began after our signal read the files as they are now.
    if (s !== null && s.pid === pid && s.startedAtMs >= sentAt && (before === null || s.generation > before.generation)) {
      process.stderr.write(`lateral: reload ${s.generation} of pid ${pid}: ${s.message}\n`);
      return s.ok ? 0 : 1;
    }
    if (livePidFrom(pidFile) !== pid) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: pid ${pid} exited before reporting the reload`);
  }
  process.stderr.write(`lateral: pid ${pid} did not report the reload within ${timeoutMs / 1000} s (see its log)\n`);
  return 1;
}
