// Runs a short command (iptables, iptables-save, ...) synchronously and returns its stdout.
//
// Through the addon's posix_spawn (native/spawnCapture.cc) when it is loaded, not
// child_process: Node forks the whole process to start a child, and a fork of `lateral run`
// with its rules loaded stalls the packet workers for milliseconds (measured in
// docs/performance.md "Added latency"); the periodic iptables counter reads did that every
// 5 s. Without the addon (tests on machines without it, `lateral rules check`) it falls back
// to execFileSync, which behaves the same.
import { execFileSync } from 'node:child_process';
import { loadNativeAddon, type NativeAddon } from './native';

/** A command that failed: its exit status (or -1) and its stderr, as execFileSync's error has. */
export class CommandError extends Error {
  constructor(message: string, readonly status: number, readonly stderr: string) {
    super(message);
  }
}

let addon: NativeAddon | null | undefined;

function spawner(): NativeAddon | null {
  if (addon === undefined) {
    try {
      addon = typeof loadNativeAddon().spawnCapture === 'function' ? loadNativeAddon() : null;
    } catch {
      addon = null;
    }
  }
  return addon;
}

/** stdout of `cmd args`; throws CommandError when it cannot start, times out or exits non-zero. */
export function runCommand(cmd: string, args: readonly string[], timeoutMs: number): string {
  const native = spawner();
  if (native === null) {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    } catch (e) {
      const err = e as { status?: number | null; stderr?: string | Buffer; message?: string };
      throw new CommandError(err.message ?? String(e), err.status ?? -1, (err.stderr ?? '').toString());
    }
  }
  const r = native.spawnCapture(cmd, args, timeoutMs);
  if (r.error !== '') throw new CommandError(r.error, r.status, r.stderr);
  if (r.status !== 0) {
    const how = r.signal !== 0 ? `killed by signal ${r.signal}` : `exit status ${r.status}`;
    throw new CommandError(`${cmd} ${args.join(' ')}: ${how}`, r.status, r.stderr);
  }
  return r.stdout;
}

/** Whether runCommand avoids fork (the addon is loaded). */
export function runCommandUsesSpawn(): boolean {
  return spawner() !== null;
}
