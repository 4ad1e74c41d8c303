// Request/response latency for bench/ips: N small HTTP/1.0 GETs, one after the other, each
// on a new TCP connection (connect, request, read to close), so every request also pays
// flow setup in the inline path, the way short east-west RPCs do. Prints one JSON line
// {requests, errors, p50Ms, p90Ms, p99Ms, maxMs}. Run inside the client namespace:
//   node dist/bench/httpLatency.js HOST PORT REQUESTS [PATH]
// LATERAL_BENCH_HTTP_TRACE=FILE also writes every request as [start (ms since the epoch,
// performance.timeOrigin + now()), duration ms or -1], to line slow requests up with what
// Lateral did at the time (docs/performance.md "Added latency").
import * as fs from 'node:fs';
import * as net from 'node:net';

const [host, portArg, countArg, path = '/'] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
if (!host || !Number.isInteger(port) || !Number.isInteger(count) || count < 1) {
  process.stderr.write('usage: httpLatency HOST PORT REQUESTS [PATH]\n');
  process.exit(2);
}
const request = Buffer.from(`GET ${path} HTTP/1.0\r\nHost: ${host}\r\nUser-Agent: lateral-bench\r\n\r\n`);

/** One request; resolves with its duration in ms, or -1 on error/timeout/no 200. */
function once(): Promise<number> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    let head = '';
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve(ok ? Number(process.hrtime.bigint() - start) / 1e6 : -1);
    };
    const sock = net.connect({ host, port, noDelay: true }, () => sock.write(request));
    sock.setTimeout(5000, () => finish(false));
    sock.on('data', (d: Buffer) => { if (head.length < 16) head += d.toString('latin1', 0, 16); });
    sock.on('end', () => finish(head.startsWith('HTTP/1.') && head.slice(9, 12) === '200'));
    sock.on('error', () => finish(false));
  });
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function main(): Promise<void> {
  const times: number[] = [];
  const log: Array<[number, number]> = [];
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const at = performance.timeOrigin + performance.now();
    const t = await once();
    log.push([at, t]);
    if (t < 0) errors++;
    else times.push(t);
  }
  const traceFile = process.env.LATERAL_BENCH_HTTP_TRACE;
  if (traceFile) fs.writeFileSync(traceFile, JSON.stringify(log));
  times.sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  process.stdout.write(JSON.stringify({
    requests: count, errors,
    p50Ms: r(quantile(times, 0.5)), p90Ms: r(quantile(times, 0.9)), p99Ms: r(quantile(times, 0.99)),
    maxMs: r(times.length ? times[times.length - 1]! : NaN),
  }) + '\n');
}

void main();
