// Shared machinery of the hardening tests: fixed-seed randomness, run counts that scale with
// LATERAL_FUZZ_RUNS (a multiplier, default 1, so CI stays within its time budget and a local
// run can go much further), per-input timing with the worst case reported, and the pipeline
// driver that pushes one captured frame through decode → flow → stream → app layer exactly
// the way the replay/live loop does.
import * as assert from 'uvu/assert';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { AppLayerState, DEFAULT_APP_LAYER_CONFIG } from '../../src/applayer/appLayerState';
import { decodePacket } from '../../src/decode/decodePacket';
import { ChecksumMode, DecodeContext } from '../../src/decode/decodeStats';
import { IpProto, Packet, TcpFlag } from '../../src/decode/packet';
import { Flow } from '../../src/flow/flow';
import { FlowTable } from '../../src/flow/flowTable';
import { StreamConfig, StreamTracker } from '../../src/stream/streamTracker';

/** Multiplier for every run count (LATERAL_FUZZ_RUNS=50 for a long local run). */
export const FUZZ_SCALE = Math.max(1, Number(process.env.LATERAL_FUZZ_RUNS ?? '1') || 1);
/** Base seed; change it (LATERAL_FUZZ_SEED) to explore, keep it to reproduce. */
export const FUZZ_SEED = Number(process.env.LATERAL_FUZZ_SEED ?? '0x1a7e7a1') | 0;

export function runs(base: number): number {
  return Math.round(base * FUZZ_SCALE);
}

/**
 * fast-check parameters: a fixed seed and `runs(base)` runs (or exactly `exact`). With
 * LATERAL_FUZZ_NO_SHRINK=1 a failure is reported as found, without shrinking (faster when
 * hunting with large LATERAL_FUZZ_RUNS; the seed and path in the report still replay it).
 */
export function fcOptions(seed: number, base: number, exact?: number): { seed: number; numRuns: number; endOnFailure: boolean } {
  return { seed, numRuns: exact ?? runs(base), endOnFailure: process.env.LATERAL_FUZZ_NO_SHRINK === '1' };
}

/** No single input may take this long: far above the worst seen, far below a hang. */
export const MAX_MS_PER_INPUT = Number(process.env.LATERAL_FUZZ_MAX_MS ?? '2000');

// xorshift32: deterministic, so any failure reproduces from its seed.
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

export function randInt(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

/** Counts inputs and keeps the worst time per input of one fuzz target. */
export class FuzzTimer {
  inputs = 0;
  worstMs = 0;
  totalMs = 0;

  constructor(readonly target: string) {}

  /** Runs one input, timing it; rethrows whatever it throws. */
  time<T>(f: () => T): T {
    const t0 = process.hrtime.bigint();
    try {
      return f();
    } finally {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      this.inputs++;
      this.totalMs += ms;
      if (ms > this.worstMs) this.worstMs = ms;
    }
  }

  /** One line for the log (the report quotes these) and the hang bound. */
  report(): string {
    const line = `[fuzz] ${this.target}: ${this.inputs} inputs, worst ${this.worstMs.toFixed(2)} ms/input, total ${(this.totalMs / 1000).toFixed(2)} s`;
    console.log(line);
    return line;
  }
  /** Reports, then asserts the hang bound: no input took MAX_MS_PER_INPUT or more. */
  finish(): void {
    this.report();
    assert.ok(this.worstMs < MAX_MS_PER_INPUT, `${this.target}: worst ${this.worstMs} ms per input`);
  }
}

/**
 * Feeds `data` to the app layer in pieces whose sizes cycle through `splits` from index `k`
 * (the whole of it at once when there are none); returns the next index.
 */
export function feedInSplits(st: AppLayerState, toServer: boolean, data: Uint8Array, splits: readonly number[], k: number): number {
  let p = 0;
  while (p < data.length) {
    const n = Math.max(1, splits.length ? splits[k++ % splits.length]! : data.length);
    st.feed(toServer, data, p, Math.min(data.length, p + n));
    p += n;
  }
  return k;
}

/**
 * One capture source as the replay loop wires it: a DecodeContext, a FlowTable whose
 * flow-end hook frees stream memory and closes the app layer, a StreamTracker, and one
 * AppLayerState per flow fed with the new in-order bytes (TCP) or the datagram (UDP).
 */
export class Pipeline {
  readonly ctx: DecodeContext;
  readonly tracker: StreamTracker;
  readonly table: FlowTable;
  readonly app = new AppLayerCounters();
  readonly p = new Packet();
  /** Flows that ended (any reason) and app states created, for the release checks. */
  ended = 0;
  appStates = 0;
  /** Largest per-flow app-layer footprint seen (see appFootprint). */
  worstApp = { transactions: 0, dns: 0, bodyBytes: 0 };

  constructor(mode: ChecksumMode, stream: Partial<StreamConfig> = {}, maxFlows = 1024) {
    this.ctx = new DecodeContext(mode);
    this.tracker = new StreamTracker({ midstream: true, ...stream });
    this.table = new FlowTable({
      maxFlows,
      onFlowEnd: (f) => {
        this.ended++;
        const st = f.appState as AppLayerState | null;
        if (st !== null) {
          this.noteApp(st);
          st.close(true);
          st.close(false);
        }
        f.appState = null;
        this.tracker.release(f);
      },
    });
  }

  /** One frame: returns true when it reached a flow. Never expected to throw. */
  push(data: Uint8Array, linkType: number, tsSec: number, verifyChecksums = true): boolean {
    const p = this.p;
    p.tsSec = tsSec;
    p.tsUsec = 0;
    decodePacket(p, data, linkType, this.ctx, verifyChecksums);
    const l = this.table.lookup(p);
    if (l === null) return false;
    const flow = l.flow;
    if (p.isTcp) {
      const r = this.tracker.handle(p, flow, l.toServer);
      if (r.ignored || !r.session) return true;
      // App-layer state is made on the first stream data (or gap) of a flow, not on handshakes.
      const st = r.newLength > 0 || r.gap ? this.appState(flow, true) : (flow.appState as AppLayerState | null);
      if (st === null) return true;
      if (r.gap) st.gap(r.toServer);
      if (r.newLength > 0) st.feed(r.toServer, r.buffer, r.end - r.newLength, r.end);
      if (r.closed || (p.tcpFlags & TcpFlag.FIN) !== 0) st.close(r.toServer);
    } else if (p.ipProto === IpProto.UDP && p.payloadLength > 0) {
      this.appState(flow, false).feed(l.toServer, p.data, p.payloadOffset, p.payloadOffset + p.payloadLength);
    }
    return true;
  }

  /** End every flow (end of capture). */
  flush(): void {
    this.table.flush();
  }

  private appState(flow: Flow, tcp: boolean): AppLayerState {
    let st = flow.appState as AppLayerState | null;
    if (st === null) {
      st = new AppLayerState(tcp, this.app);
      flow.appState = st;
      this.appStates++;
    }
    return st;
  }

  private noteApp(st: AppLayerState): void {
    const f = appFootprint(st);
    const w = this.worstApp;
    if (f.transactions > w.transactions) w.transactions = f.transactions;
    if (f.dns > w.dns) w.dns = f.dns;
    if (f.bodyBytes > w.bodyBytes) w.bodyBytes = f.bodyBytes;
  }
}

/** What an AppLayerState retains, by its public bounds: transactions, DNS records, the largest body. */
export function appFootprint(st: AppLayerState): { transactions: number; dns: number; bodyBytes: number } {
  let bodyBytes = 0;
  const txs = st.http?.transactions ?? [];
  for (const t of txs) {
    for (const b of [t.requestBody, t.responseBody]) if (b !== null) bodyBytes = Math.max(bodyBytes, b.bytes().length);
  }
  return { transactions: txs.length, dns: st.dns.length, bodyBytes };
}

/** The app-layer caps appFootprint is checked against (the defaults Pipeline uses). */
export const APP_CAPS = {
  transactions: DEFAULT_APP_LAYER_CONFIG.http.maxTransactions,
  dns: DEFAULT_APP_LAYER_CONFIG.maxDnsMessages,
  bodyBytes: Math.max(DEFAULT_APP_LAYER_CONFIG.http.requestBodyLimit, DEFAULT_APP_LAYER_CONFIG.http.responseBodyLimit),
};
