// A hard bound on how many distinct label sets a family of metrics may export.
//
// Container names come from the workload, so a host running hundreds of short-lived
// containers would otherwise create an unbounded number of Prometheus series. The first
// `maxSeries` label sets get their own series; once full, a new label set takes the slot of
// the least recently active one if that one has been idle for `idleMs` (its series is removed
// and goes stale in Prometheus), else it is folded into the `other` label set. Series are
// never renamed or reassigned while active, so every exported counter stays monotonic.

export interface LabelLimiterOptions {
  maxSeries: number;
  /** A series idle this long may be retired to make room. Default 10 minutes. */
  idleMs?: number;
  /** Called when a series is retired, to remove it from the metrics that carry it. */
  onRetire?: (key: string) => void;
}

export class LabelLimiter {
  readonly maxSeries: number;
  private readonly idleMs: number;
  private readonly onRetire: ((key: string) => void) | undefined;
  /** key -> last time (ms) it carried traffic. Map keeps insertion order, refreshed on use. */
  private readonly active = new Map<string, number>();
  private overflowed = 0;

  constructor(options: LabelLimiterOptions) {
    if (!(options.maxSeries >= 1)) throw new RangeError('maxSeries must be at least 1');
    this.maxSeries = options.maxSeries;
    this.idleMs = options.idleMs ?? 600_000;
    this.onRetire = options.onRetire;
  }

  /** True when `key` has (or now gets) its own series; false means: use the `other` labels. */
  admit(key: string, nowMs: number): boolean {
    if (this.active.has(key)) {
      // Move to the end so the map stays ordered by last activity.
      this.active.delete(key);
      this.active.set(key, nowMs);
      return true;
    }
    if (this.active.size >= this.maxSeries) {
      const oldest = this.active.entries().next().value as [string, number] | undefined;
      if (!oldest || nowMs - oldest[1] < this.idleMs) {
        this.overflowed++;
        return false;
      }
      this.active.delete(oldest[0]);
      this.onRetire?.(oldest[0]);
    }
    this.active.set(key, nowMs);
    return true;
  }

  get size(): number {
    return this.active.size;
  }

  /** How many admissions were refused (folded into `other`). */
  get overflowCount(): number {
    return this.overflowed;
  }
}
