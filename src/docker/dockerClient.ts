// A read-only Docker Engine API client: HTTP/1.1 over the daemon's unix socket with node:http,
// no dependency. Only what the container directory needs: version, containers, networks and
// the /events stream (newline-separated JSON objects, one per event).
//
// Cold path: runs at start and on each Docker event, never per packet.
import * as http from 'node:http';
import { LateralError } from '../errors';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** The subset of GET /version that Lateral reads. */
export interface DockerVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
}

export interface DockerEndpointSettings {
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  MacAddress: string;
  Aliases?: string[] | null;
}

/** An entry of GET /containers/json. */
export interface DockerContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  Labels: Record<string, string> | null;
  State: string;
  NetworkSettings?: { Networks?: Record<string, DockerEndpointSettings> | null };
}

/** The subset of GET /containers/{id}/json that Lateral reads. */
export interface DockerContainerDetail {
  Id: string;
  Name: string;
  Config: { Image: string; Labels: Record<string, string> | null; Hostname?: string };
  State: { Running: boolean; Pid: number; Status: string };
  NetworkSettings: { Networks: Record<string, DockerEndpointSettings> | null };
}

export interface DockerIpamConfig {
  Subnet?: string;
  Gateway?: string;
}

/** An entry of GET /networks, or GET /networks/{id}. */
export interface DockerNetwork {
  Name: string;
  Id: string;
  Driver: string;
  Scope?: string;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Options: Record<string, string> | null;
  Labels: Record<string, string> | null;
  IPAM: { Driver?: string; Config: DockerIpamConfig[] | null };
}

/** One object of the GET /events stream (API ≥ 1.22 field names). */
export interface DockerEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> | null };
  time: number;
  timeNano?: number;
}

export interface DockerEventStream {
  /** Ends the stream; onEnd is not called for a close asked for here. */
  close(): void;
}

export interface DockerClientOptions {
  socketPath?: string;
  /** Per-request timeout for the non-streaming calls, in milliseconds. */
  timeoutMs?: number;
}

/** Raised for a status the API documents as "no such object" so callers can tell it apart. */
export function isNotFound(err: unknown): boolean {
  return err instanceof DockerApiError && err.status === 404;
}

export class DockerApiError extends LateralError {
  readonly status: number;
  constructor(status: number, message: string) {
    super('LATERAL_ERR_DOCKER', message);
    this.status = status;
  }
}

export class DockerClient {
  readonly socketPath: string;
  private readonly timeoutMs: number;
  /** One keep-alive agent so that a burst of inspects reuses a few connections. */
  private readonly agent: http.Agent;

  constructor(options: DockerClientOptions = {}) {
    this.socketPath = options.socketPath ?? DEFAULT_DOCKER_SOCKET;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  version(): Promise<DockerVersion> {
    return this.getJson<DockerVersion>('/version');
  }

  /** GET /info: the daemon's configuration (Docker ≥ 28 adds FirewallBackend). */
  info(): Promise<Record<string, unknown>> {
    return this.getJson<Record<string, unknown>>('/info');
  }

  /** Running containers only (Docker's default), which are the ones with addresses. */
  listContainers(): Promise<DockerContainerSummary[]> {
    return this.getJson<DockerContainerSummary[]>('/containers/json');
  }

  inspectContainer(id: string): Promise<DockerContainerDetail> {
    return this.getJson<DockerContainerDetail>(`/containers/${encodeURIComponent(id)}/json`);
  }

  listNetworks(): Promise<DockerNetwork[]> {
    return this.getJson<DockerNetwork[]>('/networks');
  }

  inspectNetwork(id: string): Promise<DockerNetwork> {
    return this.getJson<DockerNetwork>(`/networks/${encodeURIComponent(id)}`);
  }

  /**
   * Streams /events filtered by type. onEvent runs once per event; onEnd runs once when the
   * stream stops for any reason other than close() (daemon restart, socket error).
   * onOpen runs when the daemon has answered 200, i.e. events from then on are delivered —
   * callers list state only after that, so nothing falls between the list and the stream.
   */
  streamEvents(
    types: readonly string[],
    onEvent: (event: DockerEvent) => void,
    onEnd: (err: Error) => void,
    onOpen?: () => void,
  ): DockerEventStream {
    const filters = encodeURIComponent(JSON.stringify({ type: types }));
    let closed = false;
    let ended = false;
    const end = (err: Error): void => {
      if (closed || ended) return;
      ended = true;
      onEnd(err);
    };
    const req = http.request({ socketPath: this.socketPath, path: `/events?filters=${filters}`, method: 'GET' }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        end(new DockerApiError(res.statusCode ?? 0, `GET /events: HTTP ${res.statusCode}`));
        return;
      }
      onOpen?.();
      res.setEncoding('utf8');
      let pending = '';
      res.on('data', (chunk: string) => {
        pending += chunk;
        let nl = pending.indexOf('\n');
        while (nl >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line !== '') {
            let event: DockerEvent | undefined;
            try {
              event = JSON.parse(line) as DockerEvent;
            } catch {
              // A line that is not JSON means the stream is out of step: start over.
              req.destroy();
              end(new LateralError('LATERAL_ERR_DOCKER', `GET /events: unparsable line: ${line.slice(0, 120)}`));
              return;
            }
            if (event && typeof event.Type === 'string' && event.Actor) onEvent(event);
          }
          nl = pending.indexOf('\n');
        }
      });
      res.on('end', () => end(new LateralError('LATERAL_ERR_DOCKER', 'GET /events: stream ended by the daemon')));
      res.on('error', (err) => end(err));
      res.on('close', () => end(new LateralError('LATERAL_ERR_DOCKER', 'GET /events: connection closed')));
    });
    req.on('error', (err) => end(new LateralError('LATERAL_ERR_DOCKER', `GET /events: ${err.message}`, undefined, { cause: err })));
    req.end();
    return {
      close(): void {
        closed = true;
        req.destroy();
      },
    };
  }

  /** Closes idle keep-alive connections so the process can exit. */
  close(): void {
    this.agent.destroy();
  }

  private getJson<T>(path: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const req = http.request(
        { socketPath: this.socketPath, path, method: 'GET', agent: this.agent, timeout: this.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(err));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) {
              let message = body.trim();
              try {
                message = (JSON.parse(body) as { message?: string }).message ?? message;
              } catch {
                // not JSON: keep the raw text
              }
              reject(new DockerApiError(status, `GET ${path}: HTTP ${status}: ${message}`));
              return;
            }
            try {
              resolve(JSON.parse(body) as T);
            } catch (err) {
              reject(new LateralError('LATERAL_ERR_DOCKER', `GET ${path}: invalid JSON`, undefined, { cause: err }));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
      req.on('error', (err) =>
        reject(new LateralError('LATERAL_ERR_DOCKER', `GET ${path} on ${this.socketPath}: ${err.message}`, undefined, { cause: err })),
      );
      req.end();
    });
  }
}
