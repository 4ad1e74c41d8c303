// threshold and detection_filter (Suricata detect-threshold.c, detect-detection-filter.c):
// threshold: type limit|threshold|both, track by_src|by_dst|by_rule|by_both, count N, seconds T
// detection_filter: track ..., count N, seconds T
// The counting itself is in ../thresholdTracker.ts.

import type { RuleBuilder } from '../ruleBuilder';
import type { ThresholdSpec } from '../signature';
import type { KeywordDef } from './registry';

function parse(b: RuleBuilder, kw: string, value: string | null, needType: boolean): ThresholdSpec {
  const f = new Map<string, string>();
  for (const part of (value ?? '').split(',')) {
    const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(part);
    if (!m) throw b.error(`${kw}: bad option "${part.trim()}"`);
    if (f.has(m[1]!)) throw b.error(`${kw}: ${m[1]} given twice`);
    f.set(m[1]!, m[2]!);
  }
  for (const k of f.keys()) if (!['type', 'track', 'count', 'seconds'].includes(k)) throw b.error(`${kw}: unknown option "${k}"`);
  const type = needType ? f.get('type') : 'detection_filter';
  if (type !== 'limit' && type !== 'threshold' && type !== 'both' && type !== 'detection_filter') throw b.error(`${kw}: bad type "${type ?? ''}"`);
  const track = f.get('track');
  if (track !== 'by_src' && track !== 'by_dst' && track !== 'by_rule' && track !== 'by_both') throw b.error(`${kw}: bad track "${track ?? ''}"`);
  const count = Number(f.get('count'));
  const seconds = Number(f.get('seconds'));
  if (!Number.isInteger(count) || count < 0) throw b.error(`${kw}: bad count`);
  if (!Number.isInteger(seconds) || seconds < 0) throw b.error(`${kw}: bad seconds`);
  return { type, track, count, seconds };
}

export const thresholdKeyword: KeywordDef = {
  name: 'threshold',
  setup(b, value) {
    if (b.sig.threshold || b.sig.detectionFilter) throw b.error('threshold: only one threshold/detection_filter per rule');
    b.sig.threshold = parse(b, 'threshold', value, true);
  },
};

export const detectionFilterKeyword: KeywordDef = {
  name: 'detection_filter',
  setup(b, value) {
    if (b.sig.threshold || b.sig.detectionFilter) throw b.error('detection_filter: only one threshold/detection_filter per rule');
    b.sig.detectionFilter = parse(b, 'detection_filter', value, false);
  },
};
