// Shared helpers for the live tests: a private namespace lab per test file (unique
// prefix, torn down in after hooks), async commands inside namespaces with bounded
// timeouts, and `lateral run` as a child process. Async on purpose: a test that queues
// packets to its own process must keep its event loop free.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from '../support/corpus';

export interface LabLayout {
  name: string;
  bridge: string;
  subnet: string;
  namespaces: Record<'web' | 'db' | 'attacker', { netns: string; ip: string; ip6: string; hostVeth: string; mac: string }>;
  services: { http: string; redis: string };
}

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function sh(cmd: string, args: readonly string[], timeoutMs = 20000): Promise<CmdResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 124) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export function inNs(netns: string, cmd: string, args: readonly string[], timeoutMs = 10000): Promise<CmdResult> {
  return sh('ip', ['netns', 'exec', netns, cmd, ...args], timeoutMs);
}

/** 1-8 chars of a-z0-9, unique enough for parallel runs on one machine. */
export function uniquePrefix(tag: string): string {
  return (tag + (process.pid % 1000).toString(36) + Math.floor(Math.random() * 1296).toString(36)).slice(0, 8);
}

export async function labUp(name: string): Promise<LabLayout> {
  const r = await sh(path.join(repoRoot, 'scripts', 'lab'), ['up', '--name', name], 60000);
  if (r.code !== 0) throw new Error(`lab up failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as LabLayout;
}

export async function labDown(name: string): Promise<void> {
  await sh(path.join(repoRoot, 'scripts', 'lab'), ['down', '--name', name], 60000);
}

export async function curl(lab: LabLayout, timeoutSec = 3): Promise<CmdResult> {
  return inNs(lab.namespaces.attacker.netns, 'curl', ['-s', '--max-time', String(timeoutSec), `http://${lab.services.http}/`], (timeoutSec + 5) * 1000);
}

export async function curl6(lab: LabLayout, timeoutSec = 3): Promise<CmdResult> {
  return inNs(lab.namespaces.attacker.netns, 'curl', ['-s', '--max-time', String(timeoutSec), `http://[${lab.namespaces.web.ip6}]/`], (timeoutSec + 5) * 1000);
}

export async function redis(lab: LabLayout, ...args: string[]): Promise<CmdResult> {
  const [host, port] = lab.services.redis.split(':') as [string, string];
  // redis-cli has no connect timeout of its own that covers a black-holed SYN: bound it.
  return inNs(lab.namespaces.attacker.netns, 'timeout', ['5', 'redis-cli', '-h', host, '-p', port, ...args], 10000);
}

export class LateralProcess {
  readonly child: ChildProcess;
  stderr = '';
  private exited: Promise<number | null>;

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.child.stdout!.resume();
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Resolves when lateral says it is running; rejects on exit or timeout. */
  async ready(timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stderr.includes('lateral: running on')) {
      if (this.child.exitCode !== null) throw new Error(`lateral exited ${this.child.exitCode}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`lateral not ready after ${timeoutMs} ms: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends a signal and waits (bounded) for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 10000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const t = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs));
    const r = await Promise.race([this.exited, t]);
    if (r === 'timeout') {
      this.child.kill('SIGKILL');
      throw new Error(`lateral did not exit on ${signal}: ${this.stderr}`);
    }
    return r;
  }

  /** The value of `key=` in the last summary line. */
  counter(key: string): number {
    const lines = this.stderr.split('\n').filter((l) => l.includes(' packets='));
    const m = new RegExp(`\\b${key}=(\\d+)`).exec(lines[lines.length - 1] ?? '');
    return m ? Number(m[1]) : NaN;
  }
}

export const lateralCli = (args: readonly string[], timeoutMs = 30000): Promise<CmdResult> =>
  sh(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'), ...args], timeoutMs);

/** A queue number unlikely to collide with other tests or helpers on the machine. */
export function uniqueQueue(): number {
  return 20000 + ((process.pid * 7 + Math.floor(Math.random() * 5000)) % 40000);
}
