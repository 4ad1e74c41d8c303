// How a running `lateral run` is found and told to reload: its pid file, and a small status
// file it rewrites after every rule reload so `lateral reload` can report the outcome. Also the
// run flags that belong to this control surface (--pid-file, --keep-caps), taken out of argv
// before the data-path flags are parsed (src/cli/runOptions.ts), and the per-worker flow bound
// (--max-flows) the flood tests and small hosts need. Cold path.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LateralError } from '../errors';
import { validateInstance } from '../capture/firewallRules';
import { parseUint } from './parseFlags';

export const RUN_CONTROL_USAGE = `
Control and privileges:
  --pid-file FILE         where run writes its pid (default /run/lateral/<instance>.pid);
                          \`lateral reload\` finds it there. "none": no pid file
  --keep-caps LIST|all    capabilities kept after the queues are bound and the rules are
                          in (comma-separated, e.g. CAP_NET_ADMIN,CAP_NET_RAW). Default:
                          CAP_NET_ADMIN (+CAP_NET_RAW with iptables-legacy; Docker mode also
                          CAP_SYS_PTRACE and, unless --no-canary, CAP_SYS_ADMIN). "all": no drop
  --max-flows N           flows tracked per queue worker (default 65536); beyond it the
                          least recently used flow is evicted and counted
  SIGHUP                  reload the rule files (all or nothing; see docs/run.md)
`;

export interface RunControlOptions {
  /** Undefined: no pid file. */
  pidFile: string | undefined;
  /** Undefined: the default set for this run; null: keep everything (--keep-caps all). */
  keepCaps: string[] | null | undefined;
  /** Flow table bound per worker. */
  maxFlows: number;
}

export const PID_DIR = '/run/lateral';

export function defaultPidFile(instance: string): string {
  return path.join(PID_DIR, `${instance}.pid`);
}

/** The instance name as `run` will see it (needed for the default pid file). */
function instanceOf(argv: readonly string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--instance' && argv[i + 1] !== undefined) return argv[i + 1]!;
    if (a.startsWith('--instance=')) return a.slice('--instance='.length);
  }
  return 'main';
}

/** Takes --pid-file and --keep-caps out of argv; the rest goes to parseRunOptions. */
export function parseRunControlFlags(argv: readonly string[]): { control: RunControlOptions; rest: string[] } {
  const rest: string[] = [];
  let pidFile: string | undefined;
  let keep: string | undefined;
  let maxFlows = 65536;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--(pid-file|keep-caps|max-flows)(?:=(.*))?$/.exec(a);
    if (m === null) {
      rest.push(a);
      continue;
    }
    let v = m[2];
    if (v === undefined) {
      v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new LateralError('LATERAL_ERR_USAGE', `lateral run: --${m[1]} needs a value`);
    }
    if (m[1] === 'pid-file') pidFile = v;
    else if (m[1] === 'max-flows') maxFlows = parseUint('lateral run', 'max-flows', v, 16, 1 << 24);
    else keep = v;
  }
  const instance = instanceOf(rest);
  validateInstance(instance);
  let keepCaps: string[] | null | undefined;
  if (keep === 'all') keepCaps = null;
  else if (keep !== undefined) {
    keepCaps = keep.split(',').map((c) => c.trim().toUpperCase()).filter((c) => c !== '');
    for (const c of keepCaps) {
      if (!/^CAP_[A-Z_]+$/.test(c)) throw new LateralError('LATERAL_ERR_USAGE', `lateral run: --keep-caps: ${JSON.stringify(c)} is not a capability name (CAP_NET_ADMIN, ...)`);
    }
  }
  return {
    control: { pidFile: pidFile === 'none' ? undefined : (pidFile ?? defaultPidFile(instance)), keepCaps, maxFlows },
    rest,
  };
}

/** Writes our pid; refuses when the file names another live `lateral run`. */
export function writePidFile(file: string): void {
  const other = livePidFrom(file);
  if (other !== null && other !== process.pid) {
    throw new LateralError('LATERAL_ERR_USAGE', `lateral run: ${file} names a running lateral (pid ${other}); use another --instance or --pid-file`);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  // Atomically: a kill -9 mid-write must not leave an empty pid file behind.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${process.pid}\n`, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

/** Removes the pid file and its status file, if they are still ours. */
export function removePidFile(file: string): void {
  try {
    if (Number(fs.readFileSync(file, 'utf8').trim()) !== process.pid) return;
    fs.unlinkSync(file);
    fs.rmSync(statusFileOf(file), { force: true });
  } catch {
    // already gone
  }
}

/**
 * The pid in `file` when it belongs to a live `lateral run` (its command line says so), else
 * null: a stale pid file must not make us signal an unrelated process.
 */
export function livePidFrom(file: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
  if (!/^\d{1,10}$/.test(text)) return null;
  const pid = Number(text);
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
    const cli = argv.findIndex((a) => /(?:^|\/)(?:main\.js|lateral)$/.test(a));
    return cli >= 0 && argv[cli + 1] === 'run' ? pid : null;
  } catch {
    return null;
  }
}

/** The outcome of the last rule reload, as `run` writes it next to its pid file. */
export interface ReloadStatus {
  pid: number;
  generation: number;
  /** When this reload began reading the files (ms since the epoch). */
  startedAtMs: number;
  ok: boolean;
  message: string;
  loaded: number;
  skipped: number;
}

export function statusFileOf(pidFile: string): string {
  return pidFile.replace(/\.pid$/, '') + '.reload.json';
}

export function writeReloadStatus(pidFile: string, s: ReloadStatus): void {
  const file = statusFileOf(pidFile);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(s) + '\n');
  fs.renameSync(tmp, file);
}

export function readReloadStatus(pidFile: string): ReloadStatus | null {
  try {
    return JSON.parse(fs.readFileSync(statusFileOf(pidFile), 'utf8')) as ReloadStatus;
  } catch {
    return null;
  }
}
