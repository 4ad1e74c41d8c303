// One queue's worker thread for `lateral run`: binds its NfQueue, runs the verdict
// handler on each batch, and keeps its counters in shared memory for the summary.
//
// Flow state never crosses threads: the kernel's --queue-balance keeps a connection on
// one queue, so each worker owns its flows outright (DESIGN.md).
import { parentPort, workerData } from 'node:worker_threads';
import { NfQueue } from '../capture/nfqueue';
import { NfVerdict, SkbInfo } from '../capture/native';
import type { PacketBatch } from '../capture/packetBatch';
import { createVerdictHandler } from '../verdict/createVerdictHandler';
import type { PacketVerdictHandler } from '../verdict/packetVerdictHandler';
import { WorkerStat } from './workerStats';

export interface RunWorkerData {
  queue: number;
  stats: SharedArrayBuffer;
  maxLen: number;
  copyRange: number;
  batchLimit: number;
  gso: boolean;
  failOpen: boolean;
  conntrack: boolean;
  repeatMark: number;
  bypassMark: number;
  settings: Record<string, string | number | boolean | undefined>;
}

export type WorkerMessage =
  | { type: 'ready'; queue: number }
  | { type: 'error'; queue: number; code: string; message: string }
  | { type: 'stopped'; queue: number };

const data = workerData as RunWorkerData;
const stats = new Float64Array(data.stats);
const port = parentPort!;

let handler: PacketVerdictHandler;
let queue: NfQueue;

// Counting by reading the IP version and protocol bytes directly: the decoders live in
// another stage and would be wired in by the handler anyway.
function countBatch(batch: PacketBatch): void {
  const bytes = batch.data;
  const n = batch.count;
  for (let i = 0; i < n; i++) {
    const off = batch.offset(i);
    stats[WorkerStat.BYTES]! += batch.origLen(i);
    if ((batch.skbInfo(i) & SkbInfo.GSO) !== 0) stats[WorkerStat.GSO]!++;
    if (batch.capLen(i) < 20) {
      stats[WorkerStat.OTHER]!++;
      continue;
    }
    const version = bytes[off]! >> 4;
    let proto = -1;
    if (version === 4) {
      stats[WorkerStat.IPV4]!++;
      proto = bytes[off + 9]!;
    } else if (version === 6) {
      stats[WorkerStat.IPV6]!++;
      proto = batch.capLen(i) >= 40 ? bytes[off + 6]! : -1;
    }
    if (proto === 6) stats[WorkerStat.TCP]!++;
    else if (proto === 17) stats[WorkerStat.UDP]!++;
    else if (proto === 1 || proto === 58) stats[WorkerStat.ICMP]!++;
    else stats[WorkerStat.OTHER]!++;
  }
  stats[WorkerStat.PACKETS]! += n;
  stats[WorkerStat.BATCHES]!++;
}

function countVerdicts(batch: PacketBatch): void {
  const n = batch.count;
  const bypass = batch.bypassMark;
  for (let i = 0; i < n; i++) {
    if (batch.verdicts[i] === NfVerdict.DROP) stats[WorkerStat.DROPPED]!++;
    else if ((batch.marks[i]! & bypass) !== 0 && (batch.mark(i) & bypass) === 0) stats[WorkerStat.BYPASSED]!++;
    else stats[WorkerStat.ACCEPTED]!++;
  }
}

function onBatch(batch: PacketBatch): void {
  countBatch(batch);
  handler.handleBatch(batch);
  countVerdicts(batch);
}

function copyNativeStats(): void {
  const s = queue.stats();
  stats[WorkerStat.ENOBUFS] = s.enobufs;
  stats[WorkerStat.RECV_ERRORS] = s.recvErrors;
  stats[WorkerStat.SEND_ERRORS] = s.sendErrors;
  stats[WorkerStat.NETLINK_ERRORS] = s.netlinkErrors;
  stats[WorkerStat.VERDICT_MESSAGES] = s.verdictMessages;
  stats[WorkerStat.MAX_BATCH] = s.maxBatch;
  stats[WorkerStat.HANDLER_ERRORS] = s.handlerErrors;
  stats[WorkerStat.UNVERDICTED] = s.skipped + s.truncated;
}

function main(): void {
  try {
    handler = createVerdictHandler({ queue: data.queue, settings: data.settings });
    queue = new NfQueue({
      queue: data.queue,
      maxLen: data.maxLen,
      copyRange: data.copyRange,
      batchLimit: data.batchLimit,
      gso: data.gso,
      failOpen: data.failOpen,
      conntrack: data.conntrack,
      repeatMark: data.repeatMark,
      bypassMark: data.bypassMark,
      onHandlerError: data.failOpen ? 'accept' : 'drop',
    });
    queue.start(onBatch);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    port.postMessage({ type: 'error', queue: data.queue, code: err.code ?? 'LATERAL_ERR_NATIVE', message: err.message ?? String(e) } satisfies WorkerMessage);
    return;
  }
  const timer = setInterval(copyNativeStats, 500);
  port.on('message', (msg: { type: string }) => {
    if (msg.type !== 'stop') return;
    clearInterval(timer);
    copyNativeStats();
    queue.close();
    handler.close?.();
    port.postMessage({ type: 'stopped', queue: data.queue } satisfies WorkerMessage);
    port.close();
  });
  port.postMessage({ type: 'ready', queue: data.queue } satisfies WorkerMessage);
}

main();
