// A real Prometheus for the tests that check the dashboard's queries: started on a free
// loopback port with its own config and data directory, scraping one target every second,
// stopped by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const PROMETHEUS = process.env.LATERAL_PROMETHEUS ?? '/usr/bin/prometheus';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export class PrometheusServer {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    /** http://127.0.0.1:PORT of its API. */
    readonly base: string,
  ) {
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  /** Starts Prometheus in `dir` (created if missing), scraping 127.0.0.1:targetPort. */
  static async start(dir: string, targetPort: number): Promise<PrometheusServer> {
    fs.mkdirSync(dir, { recursive: true });
    const port = await freeLoopbackPort();
    const config = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: lateral\n    static_configs:\n      - targets: ['127.0.0.1:${targetPort}']\n`,
    );
    const child = spawn(PROMETHEUS, [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new PrometheusServer(child, `http://127.0.0.1:${port}`);
  }

  /** What Prometheus printed so far (for failure messages). */
  get log(): string {
    return this.output;
  }

  /** An instant query; a scalar comes back as one sample without labels. */
  async query(expr: string): Promise<PromSample[]> {
    const r = await fetch(`${this.base}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await r.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    if (body.data!.resultType === 'scalar') return [{ metric: {}, value: body.data!.result as [number, string] }];
    return body.data!.result as PromSample[];
  }

  /** SIGTERM, then SIGKILL after 5 s. */
  async stop(): Promise<void> {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
