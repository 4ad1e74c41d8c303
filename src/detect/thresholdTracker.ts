// Counting for threshold and detection_filter (Suricata detect-engine-threshold.c):
//   limit      alert on the first `count` matches per `seconds` window
//   threshold  alert on every `count`-th match within the window
//   both       alert once per window, at the `count`-th match
//   detection_filter  alert on every match after the first `count` within the window
// Called only when a thresholded signature matched (rare), so a Map keyed per
// (signature, tracked address) is fine; entries are pruned when the map grows large.

import type { Packet } from '../decode/packet';
import type { Signature, ThresholdSpec } from './signature';

interface Entry {
  count: number;
  first: number;
}

const MAX_ENTRIES = 100_000;

function addrKey(a: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += a[i]!.toString(16).padStart(2, '0');
  return s;
}

export class ThresholdTracker {
  private readonly entries = new Map<string, Entry>();

  /** Forget all counts (a new, independent capture). */
  clear(): void {
    this.entries.clear();
  }

  /** True when this match should produce an alert (threshold) / count as a match (detection_filter). */
  allow(sig: Signature, spec: ThresholdSpec, p: Packet): boolean {
    let key = `${sig.num}|`;
    if (spec.track === 'by_src') key += addrKey(p.src);
    else if (spec.track === 'by_dst') key += addrKey(p.dst);
    else if (spec.track === 'by_both') key += addrKey(p.src) + addrKey(p.dst);
    const now = p.tsSec + p.tsUsec / 1e6;
    let e = this.entries.get(key);
    const fresh = !e || now - e.first > spec.seconds;
    if (!e || fresh) {
      if (this.entries.size >= MAX_ENTRIES) this.prune(now);
      e = { count: 0, first: now };
      this.entries.set(key, e);
    }
    e.count++;
    switch (spec.type) {
      case 'limit': return e.count <= spec.count;
      case 'threshold':
        if (e.count >= spec.count) { e.count = 0; return true; }
        return false;
      case 'both': return e.count === spec.count;
      default: return e.count > spec.count;
    }
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) if (now - e.first > 3600) this.entries.delete(k);
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
  }
}
