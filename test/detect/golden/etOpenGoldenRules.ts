// The ET Open rules a golden file was made from, as the differential tests load them: every
// golden rule line mapped to its loaded signature, with the rules Lateral skips for pcre cost
// (pcre.ts, pcreCost.ts; Suricata runs them under PCRE's match-limit) set aside — their flows
// are not replayed and their Suricata alerts are not expected.
import * as assert from 'uvu/assert';
import { corpusPath } from '../../support/corpus';
import { defaultDetectConfig } from '../../../src/detect/detectConfig';
import { loadRuleFiles } from '../../../src/detect/ruleLoader';
import { DetectEngine } from '../../../src/detect/detectEngine';
import type { Signature } from '../../../src/detect/signature';

/** Skip reasons of the pcre cost bound. */
export const PCRE_COST_SKIP = /^pcre: (backtracking cost|nested unbounded)/;

export interface GoldenRules {
  /** Per golden line (= per golden flow): its signature, undefined when skipped for cost. */
  all: Array<Signature | undefined>;
  /** The loaded signatures, in golden order, and the golden flow index of each. */
  sigs: Signature[];
  flowOf: number[];
  /** Sids of the rules skipped for pcre cost. */
  skippedSids: Set<number>;
  engine: DetectEngine;
}

/**
 * Loads ET Open, keeps the signatures on the golden's lines and compiles them; asserts that
 * every golden line is loaded or skipped for pcre cost, and that exactly `costSkipped` were.
 */
export function goldenRules(lines: readonly number[], costSkipped: number): GoldenRules {
  const cfg = defaultDetectConfig();
  const set = loadRuleFiles([corpusPath('et-open', 'et-open.rules')], cfg);
  const byLine = new Map(set.signatures.map((s) => [s.location.line, s]));
  const skipped = set.skipped.filter((s) => PCRE_COST_SKIP.test(s.reason));
  const skippedLines = new Set(skipped.map((s) => s.line));
  const all = lines.map((l) => byLine.get(l));
  assert.ok(all.every((s, i) => s !== undefined || skippedLines.has(lines[i]!)));
  assert.is(all.filter((s) => s === undefined).length, costSkipped);
  const sigs = all.filter((s): s is Signature => s !== undefined);
  const flowOf = all.map((s, i) => (s === undefined ? -1 : i)).filter((i) => i >= 0);
  set.signatures = sigs;
  return { all, sigs, flowOf, skippedSids: new Set(skipped.map((s) => s.sid)), engine: DetectEngine.compile(set, cfg) };
}
