// Kernel-side queue health from /proc/net/netfilter/nfnetlink_queue.
//
// One line per bound queue (net/netfilter/nfnetlink_queue.c, seq_show):
//   queue_num peer_portid queue_total copy_mode copy_range queue_dropped
//   queue_user_dropped id_sequence 1
// queue_dropped: the queue was full (maxlen) and FAIL_OPEN was off.
// queue_user_dropped: delivery to our socket failed (ENOBUFS on our side).
// With FAIL_OPEN both cases are accepted instead and no counter moves: see
// uninspectedPackets().
import { readFileSync } from 'node:fs';
import { LateralError } from '../errors';

export const NFQUEUE_PROC_FILE = '/proc/net/netfilter/nfnetlink_queue';

export interface NfqueueProcEntry {
  queue: number;
  peerPortId: number;
  /** Packets waiting for a verdict right now. */
  queueTotal: number;
  copyMode: number;
  copyRange: number;
  queueDropped: number;
  userDropped: number;
  idSequence: number;
}

/** Parses the file's text; a malformed line is an error naming the line. */
export function parseNfqueueProc(text: string, file = NFQUEUE_PROC_FILE): NfqueueProcEntry[] {
  const out: NfqueueProcEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const f = line.split(/\s+/);
    if (f.length < 8 || !f.slice(0, 8).every((x) => /^\d+$/.test(x))) {
      throw new LateralError('LATERAL_ERR_KERNEL', `unexpected nfnetlink_queue line: ${JSON.stringify(line)}`, { file, line: i + 1 });
    }
    const n = f.map(Number);
    out.push({
      queue: n[0]!,
      peerPortId: n[1]!,
      queueTotal: n[2]!,
      copyMode: n[3]!,
      copyRange: n[4]!,
      queueDropped: n[5]!,
      userDropped: n[6]!,
      idSequence: n[7]!,
    });
  }
  return out;
}

/** Reads the file; when nfnetlink_queue is not loaded yet (no queue ever bound) it is empty. */
export function readNfqueueProc(file = NFQUEUE_PROC_FILE): NfqueueProcEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new LateralError('LATERAL_ERR_KERNEL', `cannot read ${file}: ${String(e)}`, undefined, { cause: e });
  }
  return parseNfqueueProc(text, file);
}

/**
 * Packets that hit the NFQUEUE rule but were never seen by us and not counted as dropped:
 * under FAIL_OPEN (queue full) or --queue-bypass (no listener) the kernel accepts them
 * silently. hits - seen - dropped - still queued, never negative.
 */
export function uninspectedPackets(ruleHits: number, seen: number, entries: readonly NfqueueProcEntry[]): number {
  let accounted = seen;
  for (const e of entries) accounted += e.queueDropped + e.userDropped + e.queueTotal;
  return Math.max(0, ruleHits - accounted);
}
