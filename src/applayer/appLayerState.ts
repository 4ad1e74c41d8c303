// Per-flow app-layer state: detects the protocol from content, then hands each direction's
// in-order bytes to that protocol's parser.
//
// Until the protocol is known, the first bytes of each direction are kept (at most
// `detectLimit` per direction) and re-offered to detectAppProtocol as more arrive. A
// direction that has shown `detectLimit` bytes without a match counts as unknown; when both
// directions are unknown the flow is FAILED (Suricata's app_proto "failed") and later bytes
// are ignored. Once detected, buffered client bytes are replayed before server bytes, so
// HTTP requests are seen before their responses.
import { AppLayerCounters } from './appLayerCounters';
import { AppProto } from './appProto';
import { DETECT_NEED_MORE, detectAppProtocol } from './detectAppProtocol';
import { DnsMessage, DnsTcpFramer, parseDns } from './dnsParser';
import { DEFAULT_HTTP_LIMITS, HttpLimits, HttpParser } from './httpParser';
import { HttpProgress } from './httpTransaction';
import { DEFAULT_HTTP2_LIMITS, Http2Parser } from './http2Parser';
import { latin1Text } from './latin1Text';
import { SshParser } from './sshParser';
import { TlsParser } from './tlsParser';

export interface AppLayerConfig {
  /** Bytes per direction offered to detection before giving up on that direction. */
  detectLimit: number;
  /** DNS messages kept per flow (oldest dropped). */
  maxDnsMessages: number;
  http: HttpLimits;
}

export const DEFAULT_APP_LAYER_CONFIG: AppLayerConfig = {
  detectLimit: 4096,
  maxDnsMessages: 64,
  http: DEFAULT_HTTP_LIMITS,
};

export interface DnsRecord {
  toServer: boolean;
  message: DnsMessage;
}

// Per-direction detection verdicts.
const D_PENDING = 0;
const D_UNKNOWN = 1;

const NO_BYTES = new Uint8Array(0);

class DetectBuffer {
  buf = NO_BYTES;
  len = 0;
  verdict = D_PENDING;
}

export class AppLayerState {
  /** AppProtoId: UNKNOWN while detecting, FAILED when nothing matched. */
  proto: number = AppProto.UNKNOWN;
  /** Direction whose bytes identified the protocol (true = to server). */
  detectedToServer = false;
  http: HttpParser | null = null;
  /** HTTP/2 (prior knowledge, or after an h2c upgrade: then `http` keeps the HTTP/1.1 part). */
  http2: Http2Parser | null = null;
  tls: TlsParser | null = null;
  ssh: SshParser | null = null;
  /** DNS messages in arrival order (bounded). */
  readonly dns: DnsRecord[] = [];
  /** DNS messages parsed on this flow, and how many of them fell out of `dns` (oldest first). */
  dnsTotal = 0;
  dnsDropped = 0;
  private dnsFramerTs: DnsTcpFramer | null = null;
  private dnsFramerTc: DnsTcpFramer | null = null;
  private readonly detTs = new DetectBuffer();
  private readonly detTc = new DetectBuffer();
  // Bound once per DNS-over-TCP flow (in setProto) so framing creates no closure per packet;
  // other flows make none.
  private onDnsToServer: ((d: Uint8Array, s: number, e: number) => void) | null = null;
  private onDnsToClient: ((d: Uint8Array, s: number, e: number) => void) | null = null;

  constructor(
    readonly isTcp: boolean,
    readonly counters: AppLayerCounters = new AppLayerCounters(),
    private readonly config: AppLayerConfig = DEFAULT_APP_LAYER_CONFIG,
  ) {}

  /**
   * In-order bytes of one direction: reassembled TCP stream data, or one UDP payload
   * (for UDP each call is one datagram).
   */
  feed(toServer: boolean, data: Uint8Array, start = 0, end = data.length): void {
    if (end <= start || this.proto === AppProto.FAILED) return;
    if (this.proto !== AppProto.UNKNOWN) {
      this.parse(toServer, data, start, end);
      return;
    }
    if (!this.isTcp) {
      const p = detectAppProtocol(data, start, end, toServer, false);
      if (p > 0) {
        this.setProto(p, toServer);
        this.parse(toServer, data, start, end);
      } else {
        // A UDP flow keeps trying on later datagrams until each side has failed once.
        (toServer ? this.detTs : this.detTc).verdict = D_UNKNOWN;
        this.maybeFail();
      }
      return;
    }
    const det = toServer ? this.detTs : this.detTc;
    if (det.verdict === D_UNKNOWN) return;
    const take = Math.min(end - start, this.config.detectLimit - det.len);
    const first = det.len === 0;
    // Nothing kept yet (the usual first chunk): detect on the stream bytes themselves and keep
    // a copy only when detection needs more (one buffer less per flow).
    let p = first ? detectAppProtocol(data, start, start + take, toServer, true) : 0;
    if (first) {
      if (p > 0) {
        this.setProto(p, toServer);
        // Client bytes first, as below.
        if (toServer) {
          this.parse(true, data, start, start + take);
          this.replay(false);
        } else {
          this.replay(true);
          this.parse(false, data, start, start + take);
        }
        if (take < end - start) this.parse(toServer, data, start + take, end);
        return;
      }
    }
    if (det.len + take > det.buf.length) {
      const nb = new Uint8Array(Math.min(this.config.detectLimit, Math.max(det.len + take, det.buf.length * 2, 512)));
      nb.set(det.buf.subarray(0, det.len));
      det.buf = nb;
    }
    det.buf.set(data.subarray(start, start + take), det.len);
    det.len += take;
    // The first chunk's verdict is already known (same bytes).
    if (!first) p = detectAppProtocol(det.buf, 0, det.len, toServer, true);
    if (p > 0) {
      this.setProto(p, toServer);
      // Replay what both sides sent so far, client first.
      this.replay(true);
      this.replay(false);
      if (take < end - start) this.parse(toServer, data, start + take, end);
      return;
    }
    // Bytes beyond the detection window are lost only when detection did not succeed (on
    // success they were parsed above), so only then are they counted as dropped.
    if (take < end - start) this.counters.detectBufferOverflow += end - start - take;
    if (p !== DETECT_NEED_MORE || det.len >= this.config.detectLimit) {
      det.verdict = D_UNKNOWN;
      this.maybeFail();
    }
  }

  /** The connection closed in a direction (FIN/RST). */
  close(toServer: boolean): void {
    this.http?.close(toServer);
  }

  /** Reassembly lost bytes in a direction. */
  gap(toServer: boolean): void {
    this.counters.gaps++;
    if (this.proto === AppProto.UNKNOWN) {
      (toServer ? this.detTs : this.detTc).verdict = D_UNKNOWN;
      this.maybeFail();
      return;
    }
    this.http?.gap(toServer);
    this.http2?.gap(toServer);
  }

  private maybeFail(): void {
    if (this.detTs.verdict === D_UNKNOWN && this.detTc.verdict === D_UNKNOWN) {
      this.proto = AppProto.FAILED;
      this.counters.detectFailed++;
      this.detTs.buf = this.detTc.buf = NO_BYTES;
      this.detTs.len = this.detTc.len = 0;
    }
  }

  private replay(toServer: boolean): void {
    const det = toServer ? this.detTs : this.detTc;
    if (det.len > 0) this.parse(toServer, det.buf, 0, det.len);
    det.buf = NO_BYTES;
    det.len = 0;
  }

  private setProto(p: number, toServer: boolean): void {
    this.proto = p;
    this.detectedToServer = toServer;
    this.counters.detected[p]!++;
    if (p === AppProto.HTTP) this.http = new HttpParser(this.counters, this.config.http);
    else if (p === AppProto.HTTP2) this.http2 = new Http2Parser(this.counters, DEFAULT_HTTP2_LIMITS);
    else if (p === AppProto.TLS) this.tls = new TlsParser(this.counters);
    else if (p === AppProto.SSH) this.ssh = new SshParser(this.counters);
    else if (p === AppProto.DNS && this.isTcp) {
      this.dnsFramerTs = new DnsTcpFramer();
      this.dnsFramerTc = new DnsTcpFramer();
      this.onDnsToServer = (d, s, e): void => this.dnsMessage(true, d, s, e);
      this.onDnsToClient = (d, s, e): void => this.dnsMessage(false, d, s, e);
    }
  }

  private parse(toServer: boolean, data: Uint8Array, start: number, end: number): void {
    switch (this.proto) {
      case AppProto.HTTP: {
        const http = this.http!;
        const stop = http.feed(toServer, data, start, end);
        if (http.tunnel && !toServer) this.maybeUpgradeH2c(data, stop, end);
        return;
      }
      case AppProto.HTTP2:
        this.http2!.feed(toServer, data, start, end);
        return;
      case AppProto.TLS:
        this.tls!.feed(toServer, data, start, end);
        return;
      case AppProto.SSH:
        this.ssh!.feed(toServer, data, start, end);
        return;
      case AppProto.DNS:
        if (this.isTcp) {
          if (toServer) this.dnsFramerTs!.feed(data, start, end, this.onDnsToServer!);
          else this.dnsFramerTc!.feed(data, start, end, this.onDnsToClient!);
        } else {
          this.dnsMessage(toServer, data, start, end);
        }
        return;
      default:
        // pgsql, mysql, redis, mongodb, ftp, smtp: detection only for now.
        return;
    }
  }

  /**
   * After a 101 response with `Upgrade: h2c` (RFC 7540 §3.2), the connection speaks HTTP/2: the
   * flow becomes http2, the upgraded request becomes stream 1, and what the server sent after
   * the 101 is its first HTTP/2 bytes (app-layer-htp.c's protocol change to ALPROTO_HTTP2).
   * Any other upgrade or a CONNECT tunnel stays an HTTP tunnel, not parsed.
   */
  private maybeUpgradeH2c(data: Uint8Array, stop: number, end: number): void {
    const http = this.http!;
    const txs = http.transactions;
    let tx = null;
    for (let i = txs.length - 1; i >= 0; i--) {
      if (txs[i]!.status === 101 && txs[i]!.responseProgress === HttpProgress.COMPLETE) { tx = txs[i]!; break; }
    }
    if (tx === null) return;
    const up = tx.responseHeader('upgrade');
    if (up === null || latin1Text(up).trim().toLowerCase() !== 'h2c') return;
    const next = txs.length > 0 ? txs[txs.length - 1]!.id + 1 : 0;
    this.http2 = new Http2Parser(this.counters, DEFAULT_HTTP2_LIMITS, true, next);
    this.http2.mimicUpgrade(tx);
    this.proto = AppProto.HTTP2;
    this.counters.detected[AppProto.HTTP2]!++;
    if (stop < end) this.http2.feed(false, data, stop, end);
  }

  private dnsMessage(toServer: boolean, d: Uint8Array, s: number, e: number): void {
    const m = parseDns(d, s, e);
    if (!m) {
      this.counters.dnsMalformed++;
      return;
    }
    this.counters.dnsMessages++;
    this.dns.push({ toServer, message: m });
    this.dnsTotal++;
    if (this.dns.length > this.config.maxDnsMessages) {
      this.dns.shift();
      this.dnsDropped++;
    }
  }
}
