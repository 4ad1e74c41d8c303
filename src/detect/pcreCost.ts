// Cost bound for pcre. Suricata bounds PCRE with match-limit (a hit counts as no match); a JS
// RegExp cannot be interrupted, so the bound here is on the input. V8's backtracking engine
// (irregexp, JIT) runs every pcre: it is fast, but its cost can grow as a power of the subject
// length, and V8's own guard (--enable-experimental-regexp-engine-on-excessive-backtracks)
// misses the polynomial cases: greedy loops over a class backtrack without counting
// (measured: sid 2008099 `[^\n]*\.(ini|exe|...)` ~17 s on 64 KiB). V8's linear engine (flag
// `l`) is bounded but slow here: 1-15 us per byte on ET pcres (up to ~0.9 s CPU per 64 KiB).
// So, from the pattern's shape, an upper bound on backtracking steps for an n-byte subject:
//   steps(n) = (anchored ? 1 : n) * n^(unbounded quantifiers + backreferences + [det > 0]) * factor
// (factor: the product of the bounded quantifiers' choices, e.g. {1,5} → 5, ? → 2; a
// quantifier over one character followed by a character outside its set only walks: `det`),
// and the largest n with steps(n) <= PCRE_STEP_BUDGET is the pcre's window. Where that window
// is under PCRE_LINEAR_WINDOW, or the pattern nests unbounded repetition (exponential), the
// pcre runs on V8's linear engine with PCRE_LINEAR_WINDOW instead, when that engine can run
// it. On a longer buffer the pcre inspects only the first `window` bytes (a match there is a
// match in the whole buffer), or counts as no match when its outcome can depend on later
// bytes ($, \b, lookahead) or it is negated. Either way `pcreBudget.exceeded` goes up and the
// pcre is reported once on the `lateral:pcre-budget` diagnostics channel. What gets no window
// of PCRE_MIN_WINDOW on either engine is skipped at load with the reason (pcre.ts).

import { channel } from 'node:diagnostics_channel';

/** Shape of a translated pcre, as counted by translatePcre. */
export interface PcreCost {
  /** Matches can only start at the subject's start (^ first, or the A flag). */
  anchored: boolean;
  /** Quantifiers without an upper bound (*, +, {n,}). */
  unbounded: number;
  /** Backreferences (each compares up to n bytes). */
  backrefs: number;
  /** Product of the bounded quantifiers' ranges (max - min + 1). */
  factor: number;
  /**
   * Quantifiers over one character followed by a character outside that set (or ending the
   * pattern): giving back characters always fails at once, so together they add one
   * O(n) walk per path rather than a factor each (e.g. `\s*\(\s*foo`).
   */
  det: number;
}

/**
 * Model steps allowed per exec. A step costs ~1–3 ns of CPU here; the model is tight for one
 * greedy loop over an overlapping class (sid 2008099) and pessimistic when quantified classes
 * are disjoint. Measured worst case: docs/hardening.md (test/hardening/pcreCost.test.ts).
 */
export const PCRE_STEP_BUDGET = 7_500_000;
/** Largest buffer (bytes) inspected; at or above it, no window applies. */
export const PCRE_MAX_WINDOW = 65536;
/**
 * Window for pcres moved to V8's linear engine (flag `l`: no backtracking, O(n * pattern)):
 * those whose backtracking window is smaller, or that nest unbounded repetition. That engine
 * is slow here (measured on ET pcres: up to ~14 us per byte of CPU on a loaded box), so its
 * window is what keeps one exec near 30 ms.
 */
export const PCRE_LINEAR_WINDOW = 2048;
/** Below this window the pcre could not match realistic buffers: skipped at load instead. */
export const PCRE_MIN_WINDOW = 64;

/** The power of n in steps(n). */
export function pcreDegree(c: PcreCost): number {
  return (c.anchored ? 0 : 1) + c.unbounded + c.backrefs + (c.det > 0 ? 1 : 0);
}

/** Upper bound on backtracking steps for an n-byte subject. */
export function pcreSteps(c: PcreCost, n: number): number {
  return (c.anchored ? 1 : n) * Math.pow(n, c.unbounded + c.backrefs + (c.det > 0 ? 1 : 0)) * c.factor;
}

/** The largest subject length (<= PCRE_MAX_WINDOW) whose step bound fits the budget; 0 if none. */
export function pcreWindow(c: PcreCost, budget = PCRE_STEP_BUDGET): number {
  if (pcreSteps(c, PCRE_MAX_WINDOW) <= budget) return PCRE_MAX_WINDOW;
  let lo = 0;
  let hi = PCRE_MAX_WINDOW;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (pcreSteps(c, mid) <= budget) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/** Process-wide counters (export as metrics: pcre_budget_exceeded). */
export const pcreBudget = {
  /** Execs that did not see the whole buffer (longer than the pcre's window). */
  exceeded: 0,
  /** Distinct pcres that have exceeded their window at least once. */
  pcres: 0,
};

/** Published once per pcre the first time it exceeds its window: { sid, pattern, window, length }. */
export const pcreBudgetChannel = channel('lateral:pcre-budget');

export interface PcreBudgetEvent {
  sid: number;
  pattern: string;
  window: number;
  length: number;
}
