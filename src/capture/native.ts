// The raw surface of the NFQUEUE addon (native/), typed. Nothing here adds behaviour:
// src/capture/nfqueue.ts is the API the rest of Lateral uses.
import * as path from 'node:path';
import { LateralError } from '../errors';

/** Column indices of one packet's row in the metadata table (native/nfQueue.h MetaField). */
export const MetaField = {
  ID: 0,
  HW_PROTOCOL: 1,
  MARK: 2,
  IN_DEV: 3,
  OUT_DEV: 4,
  PHYS_IN_DEV: 5,
  PHYS_OUT_DEV: 6,
  SKB_INFO: 7,
  CAP_LEN: 8,
  ORIG_LEN: 9,
  OFFSET: 10,
  HOOK: 11,
} as const;
export const META_STRIDE = 12;

/** NFQA_SKB_* flags in MetaField.SKB_INFO (linux/netfilter/nfnetlink_queue.h). */
export const SkbInfo = {
  CSUMNOTREADY: 1 << 0,
  GSO: 1 << 1,
  CSUM_NOTVERIFIED: 1 << 2,
} as const;

/** Netfilter verdicts (linux/netfilter.h). */
export const NfVerdict = {
  DROP: 0,
  ACCEPT: 1,
  REPEAT: 4,
} as const;

export interface NativeNfQueueOptions {
  queue: number;
  copyRange?: number;
  maxLen?: number;
  rcvBuf?: number;
  batchLimit?: number;
  arenaSize?: number;
  gso?: boolean;
  failOpen?: boolean;
  conntrack?: boolean;
  batchVerdicts?: boolean;
}

export interface NativeNfQueueStats {
  queue: number;
  packets: number;
  bytes: number;
  batches: number;
  maxBatch: number;
  enobufs: number;
  recvErrors: number;
  netlinkErrors: number;
  unknownMessages: number;
  verdicts: number;
  verdictMessages: number;
  batchVerdictMessages: number;
  sendErrors: number;
  /** EPOLLERR wake-ups (socket errors such as ENOBUFS); polling is restarted each time. */
  pollErrors: number;
  /** Packets in a datagram beyond the batch rows (never expected; never silent). */
  skipped: number;
  /** Datagrams whose last message was cut short (never expected; never silent). */
  truncated: number;
  lastErrno: number;
}

export interface NativeNfQueue {
  /** Payload bytes of the current batch; reused for every batch. */
  readonly arena: ArrayBuffer;
  /** batchLimit rows of META_STRIDE uint32 (MetaField). */
  readonly meta: Uint32Array;
  readonly metaStride: number;
  readonly batchLimit: number;
  start(onBatch: (count: number) => void): void;
  /** Returns the number of netlink verdict messages sent. */
  verdict(ids: Uint32Array, verdicts: Uint32Array, marks: Uint32Array, count: number): number;
  stats(): NativeNfQueueStats;
  close(): void;
}

/** What native dropCapabilities() did (native/capabilities.cc). */
export interface NativeDropCapabilitiesResult {
  /** Threads of the process asked to drop (this one included). */
  threads: number;
  /** Threads that confirmed the drop; less than threads means some kept their capabilities. */
  threadsDropped: number;
  /** strerror of this thread's failure, or ''. */
  error: string;
}

/** What native spawnCapture() returns (native/spawnCapture.cc). */
export interface NativeSpawnResult {
  /** Exit status, or -1 if it did not exit normally. */
  status: number;
  /** The signal that ended it, or 0. */
  signal: number;
  stdout: string;
  stderr: string;
  /** Non-empty when the command could not be started or timed out (then killed). */
  error: string;
}

/**
 * An Aho-Corasick automaton's tables as src/detect/ahoCorasick.ts builds them, plus the hit
 * buffer native patternScan writes into (native/patternScan.cc explains the layout).
 */
export interface NativePatternTables {
  dense: Int32Array;
  denseCount: number;
  edgeStart: Int32Array;
  edgeCount: Int32Array;
  edgeByte: Uint8Array;
  edgeTarget: Int32Array;
  fail: Int32Array;
  outStart: Int32Array;
  outCount: Int32Array;
  outIds: Int32Array;
  hits: Int32Array;
}

/**
 * Scans with one borrowed automaton: reads state, start and end from hits[0..2], writes the
 * state, the resume position and the hit count to hits[0], hits[1], hits[3] and the hits
 * from hits[4]. RangeError (code LATERAL_ERR_NATIVE) on a bad range or state.
 */
export type NativePatternScan = (buf: Uint8Array) => void;

export interface NativeAddon {
  NfQueue: new (options: NativeNfQueueOptions) => NativeNfQueue;
  META_STRIDE: number;
  verdicts: { DROP: number; ACCEPT: number; REPEAT: number };
  /**
   * Keep only the named capabilities (e.g. 'CAP_NET_ADMIN') in effective and permitted, clear
   * inheritable and ambient, drop the rest from the bounding set and set no_new_privs — in
   * every thread of the process. Throws TypeError on an unknown name.
   */
  dropCapabilities(keep: string[]): NativeDropCapabilitiesResult;
  /** Capability names by number (CAP_CHOWN = 0, ...). */
  CAPABILITY_NAMES: string[];
  /**
   * Runs `file` (PATH search) with `args` via posix_spawn (no fork of this process), stdin
   * /dev/null, and returns its output; killed after timeoutMs.
   */
  spawnCapture(file: string, args: readonly string[], timeoutMs: number): NativeSpawnResult;
  /**
   * Validates the tables, keeps references to them and returns the scan function bound to
   * them; TypeError (code LATERAL_ERR_NATIVE) on an inconsistent table. Absent from addons
   * built before it.
   */
  patternScanner?(tables: NativePatternTables): NativePatternScan;
}

let cached: NativeAddon | undefined;

/** Loads build/Release/lateral_nfq.node (built by scripts/setup via node-gyp). */
export function loadNativeAddon(): NativeAddon {
  if (cached) return cached;
  // dist/src/capture/native.js and src/capture/native.ts are both three levels below the root.
  const file = path.resolve(__dirname, '..', '..', '..', 'build', 'Release', 'lateral_nfq.node');
  const alt = path.resolve(__dirname, '..', '..', 'build', 'Release', 'lateral_nfq.node');
  let addon: NativeAddon | undefined;
  let firstError: unknown;
  for (const f of [file, alt]) {
    try {
      addon = require(f) as NativeAddon;
      break;
    } catch (e) {
      firstError ??= e;
    }
  }
  if (!addon) {
    throw new LateralError(
      'LATERAL_ERR_NATIVE',
      `cannot load the NFQUEUE addon (${file}); run scripts/setup to build it: ${String(firstError)}`,
      undefined,
      { cause: firstError },
    );
  }
  if (addon.META_STRIDE !== META_STRIDE) {
    throw new LateralError('LATERAL_ERR_NATIVE', `addon metadata stride ${addon.META_STRIDE} != ${META_STRIDE}: rebuild it`);
  }
  cached = addon;
  return addon;
}
