// The HTTP listener behind --metrics-listen HOST:PORT (loopback by default): /metrics for
// Prometheus, / for the live map page, /api/map for the page's JSON. Read-only, GET/HEAD only.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LateralError } from '../errors';
import { mapPageHtml } from './mapPage';
import type { LateralMetrics } from './metrics';
import type { TrafficMap } from './trafficMap';

export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9640';

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Parses `HOST:PORT`, `[v6]:PORT` or `:PORT` (loopback). Port 0 picks a free port.
 * Throws LATERAL_ERR_USAGE naming the flag on anything else.
 */
export function parseListenAddress(value: string, flag = '--metrics-listen'): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new LateralError('LATERAL_ERR_USAGE', `${flag}: expected HOST:PORT (e.g. ${DEFAULT_METRICS_LISTEN}), got "${value}"`);
  }
  const host = m[1] ?? (m[2] === '' || m[2] === undefined ? '127.0.0.1' : m[2]);
  return { host, port };
}

export interface MetricsServerOptions {
  metrics: LateralMetrics;
  map?: TrafficMap;
  listen?: string;
  /** Clock for the map's rates; default Date.now. */
  now?: () => number;
}

export class MetricsServer {
  private readonly server: http.Server;
  private readonly address: ListenAddress;

  constructor(private readonly options: MetricsServerOptions) {
    this.address = parseListenAddress(options.listen ?? DEFAULT_METRICS_LISTEN);
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // Scrapers and the page poll: don't let idle keep-alive sockets hold the process.
    this.server.keepAliveTimeout = 5000;
  }

  /** Starts listening; resolves with the bound address (useful with port 0). */
  start(): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new LateralError('LATERAL_ERR_USAGE', `--metrics-listen ${this.address.host}:${this.address.port}: ${err.message}`, undefined, { cause: err }));
      };
      this.server.once('error', onError);
      this.server.listen(this.address.port, this.address.host, () => {
        this.server.off('error', onError);
        const a = this.server.address() as AddressInfo;
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        const body = await this.options.metrics.metricsText();
        res.writeHead(200, { 'content-type': this.options.metrics.contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      } else if (path === '/api/map') {
        const snap = this.options.map ? this.options.map.snapshot((this.options.now ?? Date.now)()) : { generatedAt: new Date().toISOString(), nodes: [], edges: [], alerts: [] };
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : JSON.stringify(snap));
      } else if (path === '/' || path === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'" });
        res.end(req.method === 'HEAD' ? undefined : mapPageHtml);
      } else if (path === '/favicon.ico') {
        // Browsers ask for it; answer without an error in their console.
        res.writeHead(204).end();
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`error: ${(err as Error).message}\n`);
    }
  }
}
