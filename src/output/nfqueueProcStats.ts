// Parses /proc/net/netfilter/nfnetlink_queue, the kernel's per-queue counters, for
// LateralMetrics.setQueueCounters. Columns (net/netfilter/nfnetlink_queue.c, seq_show):
// queue_number peer_portid queue_total copy_mode copy_range queue_dropped user_dropped
// id_sequence 1. queue_total is the current backlog; id_sequence the last packet id.

import { LateralError } from '../errors';
import type { QueueCounters } from './metrics';

export const NFQUEUE_PROC_PATH = '/proc/net/netfilter/nfnetlink_queue';

/** Queue number -> counters. Throws LATERAL_ERR_KERNEL on a line it cannot read. */
export function parseNfqueueProcStats(text: string, file = NFQUEUE_PROC_PATH): Map<number, QueueCounters> {
  const out = new Map<number, QueueCounters>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const f = line.split(/\s+/).map(Number);
    if (f.length < 8 || f.slice(0, 8).some((n) => !Number.isInteger(n) || n < 0)) {
      throw new LateralError('LATERAL_ERR_KERNEL', `unexpected nfnetlink_queue line: "${line}"`, { file, line: i + 1 });
    }
    out.set(f[0]!, { queueTotal: f[2]!, queueDropped: f[5]!, userDropped: f[6]!, idSequence: f[7]! });
  }
  return out;
}
