// NfQueue: one bound NFQUEUE queue, delivering batches and taking batched verdicts.
//
// A thin class over the addon (./native.ts). The contract that keeps batch verdicts
// correct lives here: every batch is verdicted completely and in kernel order right
// after its handler returns, so NFQNL_MSG_VERDICT_BATCH ("all ids <= N") never covers
// a packet someone still holds.
import { LateralError } from '../errors';
import { loadNativeAddon, NativeNfQueue, NativeNfQueueStats, NfVerdict } from './native';
import { PacketBatch } from './packetBatch';

export interface NfQueueOptions {
  queue: number;
  /** Bytes of each packet copied to us (max 65535). Default 65535. */
  copyRange?: number;
  /** Kernel queue length before it drops (or, with failOpen, accepts uninspected). Default 1024. */
  maxLen?: number;
  /** Netlink socket receive buffer. Default 8 MiB. */
  rcvBuf?: number;
  /** Most packets per batch. Default 256. */
  batchLimit?: number;
  /** NFQA_CFG_F_GSO: receive unsegmented GSO packets. Default true (see DESIGN.md "GSO"). */
  gso?: boolean;
  /** NFQA_CFG_F_FAIL_OPEN: accept instead of drop when the queue is full. Default false. */
  failOpen?: boolean;
  /** NFQA_CFG_F_CONNTRACK: fails with EOPNOTSUPP on kernels without NETLINK_GLUE_CT. */
  conntrack?: boolean;
  /** Mark bit set on accepted packets so the queue rule skips them on NF_REPEAT. */
  repeatMark: number;
  /** Mark bit that, saved to the connmark, takes a flow off the queue. */
  bypassMark: number;
  /** Verdict for a batch whose handler threw. Default 'accept'. */
  onHandlerError?: 'accept' | 'drop';
  /**
   * Called after each batch's verdicts were sent, with the batch size and the
   * performance.now() time the batch was handed over (before the handler ran): the
   * batch's whole service time, verdict syscall included.
   */
  onVerdictsSent?: (count: number, receivedAt: number) => void;
}

export interface NfQueueStats extends NativeNfQueueStats {
  handlerErrors: number;
}

export type BatchHandler = (batch: PacketBatch) => void;

export class NfQueue {
  readonly queue: number;
  private readonly native: NativeNfQueue;
  private readonly batch: PacketBatch;
  private readonly dropOnError: boolean;
  private handler: BatchHandler | undefined;
  private readonly onVerdictsSent: ((count: number, receivedAt: number) => void) | undefined;
  private handlerErrors = 0;
  private closed = false;

  constructor(options: NfQueueOptions) {
    if (!Number.isInteger(options.queue) || options.queue < 0 || options.queue > 65535) {
      throw new LateralError('LATERAL_ERR_USAGE', `queue number ${options.queue} is not in 0..65535`);
    }
    const addon = loadNativeAddon();
    this.queue = options.queue;
    this.dropOnError = options.onHandlerError === 'drop';
    this.onVerdictsSent = options.onVerdictsSent;
    try {
      this.native = new addon.NfQueue({
        queue: options.queue,
        copyRange: options.copyRange ?? 0xffff,
        maxLen: options.maxLen ?? 1024,
        rcvBuf: options.rcvBuf ?? 8 * 1024 * 1024,
        batchLimit: options.batchLimit ?? 256,
        gso: options.gso ?? true,
        failOpen: options.failOpen ?? false,
        conntrack: options.conntrack ?? false,
        batchVerdicts: true,
      });
    } catch (e) {
      throw wrapNativeError(e);
    }
    this.batch = new PacketBatch(options.queue, this.native.arena, this.native.meta, options.repeatMark >>> 0, options.bypassMark >>> 0);
  }

  /** Starts delivering batches. The batch object and its memory are reused: handle it synchronously. */
  start(handler: BatchHandler): void {
    if (this.closed) throw new LateralError('LATERAL_ERR_NATIVE', `queue ${this.queue}: start() after close()`);
    this.handler = handler;
    try {
      this.native.start(this.onBatch);
    } catch (e) {
      throw wrapNativeError(e);
    }
  }

  // One bound method for the queue's lifetime, not a closure per batch.
  private readonly onBatch = (count: number): void => {
    const receivedAt = performance.now();
    const batch = this.batch;
    batch.reset(count);
    try {
      this.handler!(batch);
    } catch {
      // A failing handler must not stall the queue: the batch still gets verdicts.
      this.handlerErrors++;
      if (this.dropOnError) batch.verdicts.fill(NfVerdict.DROP, 0, count);
      else batch.reset(count);
    }
    this.native.verdict(batch.ids, batch.verdicts, batch.marks, count);
    this.onVerdictsSent?.(count, receivedAt);
  };

  stats(): NfQueueStats {
    return { ...this.native.stats(), handlerErrors: this.handlerErrors };
  }

  /** Unbinds the queue. Packets still queued are dropped by the kernel: remove the rules first. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close();
  }
}

function wrapNativeError(e: unknown): LateralError {
  if (e instanceof LateralError) return e;
  const err = e as { code?: unknown; message?: unknown };
  const code = err.code === 'LATERAL_ERR_KERNEL' ? 'LATERAL_ERR_KERNEL' : 'LATERAL_ERR_NATIVE';
  return new LateralError(code, String(err.message ?? e), undefined, { cause: e });
}
