// EVE `stats` records: the periodic counters dump Suricata writes with event_type "stats"
// (Suricata's names where a counter has a Suricata equivalent: capture.kernel_packets,
// capture.kernel_drops, decoder.pkts/bytes/event.*, flow.*, tcp.memuse, detect.alert), and
// Lateral's own counters under `lateral`. Totals are cumulative since start, like Suricata's.

import { formatEveTimestamp } from './eveFormat';

/** A point-in-time copy of the engine's totals (LateralMetrics.statsSnapshot builds one). */
export interface StatsSnapshot {
  uptimeSeconds: number;
  /** Kernel queue counters summed over queues (/proc/net/netfilter/nfnetlink_queue). */
  kernelPackets: number;
  kernelDrops: number;
  userDrops: number;
  enobufs: number;
  /** Packets that passed through fail-open without inspection. */
  uninspected: number;
  decoderPackets: number;
  decoderBytes: number;
  /** Decoder anomalies by kind name. */
  decoderEvents: Record<string, number>;
  /** Packets by verdict name (accept, drop, bypass). */
  verdicts: Record<string, number>;
  /** Drops by reason name. */
  drops: Record<string, number>;
  flowsActive: number;
  flowsCreated: number;
  flowsEvicted: number;
  flowsBypassed: number;
  streamEvents: Record<string, number>;
  streamMemoryBytes: number;
  alerts: number;
  rulesLoaded: number;
  rulesSkipped: number;
  eveWritten: number;
  eveDropped: number;
}

export interface EveStatsRecord {
  timestamp: string;
  event_type: 'stats';
  stats: Record<string, unknown>;
}

export function buildEveStats(tsSec: number, tsUsec: number, s: StatsSnapshot): EveStatsRecord {
  return {
    timestamp: formatEveTimestamp(tsSec, tsUsec),
    event_type: 'stats',
    stats: {
      uptime: Math.floor(s.uptimeSeconds),
      capture: { kernel_packets: s.kernelPackets, kernel_drops: s.kernelDrops },
      decoder: { pkts: s.decoderPackets, bytes: s.decoderBytes, event: { ...s.decoderEvents } },
      flow: { total: s.flowsCreated, active: s.flowsActive },
      tcp: { memuse: s.streamMemoryBytes, ...s.streamEvents },
      detect: { alert: s.alerts },
      lateral: {
        verdict: { ...s.verdicts },
        drop: { ...s.drops },
        user_drops: s.userDrops,
        enobufs: s.enobufs,
        uninspected: s.uninspected,
        flow: { evicted: s.flowsEvicted, bypassed: s.flowsBypassed },
        rules: { loaded: s.rulesLoaded, skipped: s.rulesSkipped },
        eve: { written: s.eveWritten, dropped: s.eveDropped },
      },
    },
  };
}

/** One EVE line (no trailing newline) for a stats record. */
export function formatEveStats(tsSec: number, tsUsec: number, s: StatsSnapshot): string {
  return JSON.stringify(buildEveStats(tsSec, tsUsec, s));
}

/** Anything that can produce a StatsSnapshot (LateralMetrics does). */
export interface StatsSource {
  statsSnapshot(): StatsSnapshot;
}

/** Anything that takes EVE lines (EveWriter does). */
export interface EveLineSink {
  write(line: string): boolean;
}

/**
 * Writes a stats record every `intervalMs` (Suricata's default stats interval is 8 s). The
 * timer does not keep the process alive. Returns a function that stops it after writing a
 * final record, so the last totals reach the file on shutdown.
 */
export function startEveStats(sink: EveLineSink, source: StatsSource, intervalMs = 8000, now: () => number = Date.now): () => void {
  const emit = (): void => {
    const ms = now();
    sink.write(formatEveStats(Math.floor(ms / 1000), (ms % 1000) * 1000, source.statsSnapshot()));
  };
  const timer = setInterval(emit, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    emit();
  };
}
