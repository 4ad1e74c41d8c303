// Passive capture for `lateral watch`: libpcap (through the `cap` binding) on a bridge,
// frames delivered in batches shaped like the NFQUEUE path's (CaptureBatch), nothing judged.
//
// Why these choices:
// - Promiscuous mode is ON. On a Linux bridge the bridge device only sees forwarded
//   (container-to-container) unicast when it is promiscuous (br_handle_frame_finish passes
//   frames up only then); measured here: `tcpdump -p` on the lab bridge saw 0 of 6 ICMP
//   echo frames between two ports, without -p all 6. `cap` 0.2.1 always sets it anyway.
// - Batching: `cap` emits one 'packet' event per frame from one uv poll callback. Frames are
//   copied into the batch arena and the batch is handed over once per loop turn
//   (setImmediate runs after the poll phase), or earlier when the arena or table is full.
// - `cap` gives no pcap timestamps and no wire length: frames are stamped on arrival in JS
//   (wall clock, microseconds), and wireLength equals the captured length. A frame that fills
//   the whole snaplen (GSO super-packets can be longer than 65535) is counted as truncated.
// - Kernel drops: `cap` has no pcap_stats() and the socket's sk_drops stays 0 on ring
//   overflow, so without a BPF filter drops are estimated from the interface's own frame
//   counters (interfaceFrameCount); with a filter they are unknown (null).
// - Main thread only: `cap` registers its poll handle on uv_default_loop(), which in a worker
//   thread is the main thread's loop; its callbacks would enter the worker's isolate from the
//   wrong thread. Post copies of the batches to workers instead.

import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { LateralError } from '../errors';
import { CaptureBatch } from './captureBatch';
import { interfaceFrameCount } from './interfaceFrameCount';

/** The snaplen `cap` sets (pcap_set_snaplen(65535), not configurable). */
export const PASSIVE_SNAPLEN = 65535;

export interface PassiveCaptureOptions {
  /** Interface to open, e.g. "docker0" or a `br-<id>` bridge. */
  interface: string;
  /** BPF filter (pcap-filter(7)); "" or absent captures everything. */
  filter?: string;
  /**
   * libpcap's kernel ring size in bytes. Default 64 MiB. In immediate mode libpcap uses
   * TPACKET_V2, whose slots are snaplen-sized (~64 KiB each): 64 MiB holds ~1000 frames.
   */
  kernelBufferBytes?: number;
  /** Batch arena size in bytes (at least one snaplen). Default 4 MiB. */
  arenaBytes?: number;
  /** Most frames per batch. Default 1024. */
  maxBatch?: number;
  /** Called when the batch handler throws (the error is counted; capture continues). */
  onError?: (err: Error) => void;
}

export interface PassiveCaptureStats {
  /** Frames handed to the batch handler. */
  received: number;
  /** Bytes of those frames as captured. */
  bytes: number;
  batches: number;
  /** Frames cut at the snaplen (or the copy buffer). */
  truncated: number;
  /**
   * Frames the interface passed (rx + tx, sysfs) since open; null if it has no counters.
   */
  interfaceFrames: number | null;
  /**
   * Frames the kernel dropped before we read them (ring full): interfaceFrames minus frames
   * received, only without a BPF filter (null otherwise). Frames still waiting in the ring
   * count until read, so between bursts it is exact and during one an upper bound.
   */
  kernelDropped: number | null;
  /** Batches whose handler threw. */
  handlerErrors: number;
}

export type CaptureBatchHandler = (batch: CaptureBatch) => void;

/** The raw surface of the `cap` binding that is used here. */
interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  removeAllListeners(event?: string): void;
}
interface CapModule {
  Cap: new () => CapHandle;
}

// A Cap whose open() failed half-way must never be garbage collected: its destructor calls
// uv_poll_stop() on a poll handle that was never initialised and aborts the process
// (reproduced with cap 0.2.1 and a bad filter). Keeping them costs one socket per failed open,
// which only happens at start-up.
const failedHandles: CapHandle[] = [];

let capModule: CapModule | null = null;
function loadCap(iface: string): CapModule {
  if (capModule) return capModule;
  try {
    capModule = require('cap') as CapModule;
    return capModule;
  } catch (err) {
    throw new LateralError('LATERAL_ERR_NATIVE', `cannot load the libpcap binding (npm package "cap", needs libpcap) to capture on ${iface}: ${(err as Error).message}`, undefined, { cause: err });
  }
}

// pcap LINKTYPE_* numbers (the same as LinkType in decode/packet.ts, which capture may not import).
const LINK_TYPES: Record<string, number> = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINKTYPE_LINUX_SLL: 113,
};

const IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;
// pcap_compile's messages; anything else from open() is the kernel refusing.
const FILTER_ERROR = /filter|syntax error|parse|unknown (host|port|protocol|network)|illegal|expression/i;

export class PassiveCapture {
  readonly interface: string;
  readonly filter: string;
  /** pcap LINKTYPE_* of the frames (1, Ethernet, on a bridge). */
  readonly linkType: number;
  /** The binding's name for it ("ETHERNET"). */
  readonly linkTypeName: string;

  private readonly cap: CapHandle;
  private readonly frameBuffer: Buffer;
  private readonly batch: CaptureBatch;
  private readonly handler: CaptureBatchHandler;
  private readonly onError: ((err: Error) => void) | undefined;
  private immediate: NodeJS.Immediate | null = null;
  private readonly flushBound: () => void;
  private closed = false;
  private framesAtClose: number | null = null;
  /** Wall clock minus performance.now(), in ms; refreshed per batch to follow clock steps. */
  private wallOffsetMs = Date.now() - performance.now();

  private received = 0;
  private bytes = 0;
  private batches = 0;
  private truncated = 0;
  private readonly framesAtOpen: number | null;
  private handlerErrors = 0;

  /**
   * Opens `options.interface` and starts delivering batches to `handler`. The batch (and its
   * bytes) is reused after the handler returns. Throws LATERAL_ERR_USAGE for a missing
   * interface or a bad filter or option, LATERAL_ERR_KERNEL when the kernel refuses
   * (permissions, interface down), LATERAL_ERR_NATIVE when libpcap cannot be loaded.
   */
  constructor(options: PassiveCaptureOptions, handler: CaptureBatchHandler) {
    const iface = options.interface;
    this.interface = iface;
    this.filter = options.filter ?? '';
    const where = { file: `interface ${iface}`, line: 0 };
    if (typeof iface !== 'string' || !IFNAME.test(iface)) {
      throw new LateralError('LATERAL_ERR_USAGE', `not a valid interface name: ${JSON.stringify(iface)}`);
    }
    if (!fs.existsSync(`/sys/class/net/${iface}`)) {
      throw new LateralError('LATERAL_ERR_USAGE', 'no such network interface (for a Docker network, use docker0 or br-<12 hex of the network id>)', where);
    }
    const kernelBuffer = options.kernelBufferBytes ?? 64 * 1024 * 1024;
    const arena = options.arenaBytes ?? 4 * 1024 * 1024;
    const maxBatch = options.maxBatch ?? 1024;
    if (!Number.isInteger(kernelBuffer) || kernelBuffer < 65536 || kernelBuffer > 0x7fffffff) {
      throw new LateralError('LATERAL_ERR_USAGE', `kernelBufferBytes must be an integer from 65536 to 2^31-1, got ${kernelBuffer}`, where);
    }
    if (!Number.isInteger(arena) || arena < PASSIVE_SNAPLEN || arena > 0x7fffffff) {
      throw new LateralError('LATERAL_ERR_USAGE', `arenaBytes must be an integer of at least ${PASSIVE_SNAPLEN}, got ${arena}`, where);
    }
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new LateralError('LATERAL_ERR_USAGE', `maxBatch must be a positive integer, got ${maxBatch}`, where);
    }
    if (!isMainThread) {
      throw new LateralError('LATERAL_ERR_USAGE', 'passive capture must run on the main thread (the libpcap binding uses the default event loop)', where);
    }
    const mod = loadCap(iface);
    this.handler = handler;
    this.onError = options.onError;
    this.frameBuffer = Buffer.alloc(PASSIVE_SNAPLEN);
    this.flushBound = () => this.flush();
    this.cap = new mod.Cap();
    // Read before open: a frame passing in between counts as dropped (an upper bound), never
    // the other way round.
    this.framesAtOpen = interfaceFrameCount(iface);
    let name: string;
    try {
      name = this.cap.open(iface, this.filter, kernelBuffer, this.frameBuffer);
    } catch (err) {
      failedHandles.push(this.cap);
      const msg = (err as Error).message;
      if (this.filter !== '' && FILTER_ERROR.test(msg)) {
        throw new LateralError('LATERAL_ERR_USAGE', `bad capture filter ${JSON.stringify(this.filter)}: ${msg}`, where, { cause: err });
      }
      const hint = /permi/i.test(msg) ? ' (capturing needs root or CAP_NET_RAW)' : '';
      throw new LateralError('LATERAL_ERR_KERNEL', `cannot capture: ${msg}${hint}`, where, { cause: err });
    }
    this.linkTypeName = name;
    const known = LINK_TYPES[name];
    const unknown = /(\d+)$/.exec(name);
    this.linkType = known ?? (unknown ? Number(unknown[1]) : -1);
    this.batch = new CaptureBatch(arena, maxBatch, this.linkType);
    this.cap.on('packet', (nbytes, truncated) => this.onFrame(nbytes, truncated));
  }

  /** Counters; reads two sysfs files (call it for exports, not per packet). */
  stats(): PassiveCaptureStats {
    const now = this.closed ? this.framesAtClose : interfaceFrameCount(this.interface);
    const interfaceFrames = now === null || this.framesAtOpen === null ? null : now - this.framesAtOpen;
    const kernelDropped = interfaceFrames === null || this.filter !== '' ? null : Math.max(0, interfaceFrames - this.received - this.batch.count);
    return {
      received: this.received,
      bytes: this.bytes,
      batches: this.batches,
      truncated: this.truncated,
      interfaceFrames,
      kernelDropped,
      handlerErrors: this.handlerErrors,
    };
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Delivers the frames already copied, then stops capturing and releases the socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.immediate = null;
    }
    this.framesAtClose = interfaceFrameCount(this.interface);
    this.cap.close();
    this.cap.removeAllListeners('packet');
    this.deliver();
  }

  private onFrame(nbytes: number, truncatedByBuffer: boolean): void {
    if (this.closed) return;
    const ms = this.wallOffsetMs + performance.now();
    const sec = Math.floor(ms / 1000);
    const usec = Math.floor((ms - sec * 1000) * 1000);
    const b = this.batch;
    if (!b.fits(nbytes)) this.deliver();
    if (truncatedByBuffer || nbytes >= PASSIVE_SNAPLEN) this.truncated++;
    b.push(this.frameBuffer, nbytes, nbytes, sec, usec);
    if (this.immediate === null) this.immediate = setImmediate(this.flushBound);
  }

  private flush(): void {
    this.immediate = null;
    this.deliver();
    this.wallOffsetMs = Date.now() - performance.now();
  }

  private deliver(): void {
    const b = this.batch;
    if (b.count === 0) return;
    this.received += b.count;
    this.bytes += b.used;
    this.batches++;
    try {
      this.handler(b);
    } catch (err) {
      this.handlerErrors++;
      if (this.onError) this.onError(err as Error);
      else if (this.handlerErrors === 1) process.emitWarning(`lateral: capture batch handler on ${this.interface} threw: ${(err as Error).message}`);
    } finally {
      b.clear();
    }
  }
}
