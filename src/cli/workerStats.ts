// Counters a queue worker shares with the main thread: one Float64Array over a
// SharedArrayBuffer per worker, written only by that worker, read for the summary.
export const WorkerStat = {
  PACKETS: 0,
  BYTES: 1,
  IPV4: 2,
  IPV6: 3,
  TCP: 4,
  UDP: 5,
  ICMP: 6,
  OTHER: 7,
  ACCEPTED: 8,
  DROPPED: 9,
  BYPASSED: 10,
  BATCHES: 11,
  GSO: 12,
  HANDLER_ERRORS: 13,
  ENOBUFS: 14,
  RECV_ERRORS: 15,
  SEND_ERRORS: 16,
  NETLINK_ERRORS: 17,
  VERDICT_MESSAGES: 18,
  MAX_BATCH: 19,
  /** Packets the addon received but could not hand over (skipped + truncated). */
  UNVERDICTED: 20,
  /** Alerts the engine raised. */
  ALERTS: 21,
  /** Alerts not handed to the main thread because its backlog was full (counted, dropped). */
  ALERTS_LOST: 22,
  /** Flows given the bypass mark, in total and by reason (src/verdict/bypassPolicy.ts). */
  BYPASSED_FLOWS: 23,
  BYPASS_PASS: 24,
  BYPASS_DEPTH: 25,
  BYPASS_ENCRYPTED: 26,
  /** Drops turned into accepts because both containers are in monitor mode (lateral.mode). */
  DROPS_WAIVED: 27,
  /** pcre execs cut to their cost window (src/detect/pcreCost.ts). */
  PCRE_BUDGET_EXCEEDED: 28,
} as const;
export const WORKER_STAT_COUNT = 29;
