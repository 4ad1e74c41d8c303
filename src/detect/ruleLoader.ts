// Reads rule files: comments, blank lines, multi-line rules (trailing backslash), one rule
// per logical line. Every rule ends up loaded, skipped (with a reason) or failed (syntax
// error with file:line); one bad rule never stops the rest of the file. Cold path.

import * as fs from 'node:fs';
import { LateralError } from '../errors';
import type { DetectConfig } from './detectConfig';
import { FlowbitTable, SkipRule } from './ruleBuilder';
import { parseRule } from './ruleParser';
import type { Signature } from './signature';

export interface SkippedRule {
  file: string;
  line: number;
  sid: number;
  reason: string;
}

export interface RuleSet {
  signatures: Signature[];
  skipped: SkippedRule[];
  errors: LateralError[];
  flowbits: FlowbitTable;
}

export interface RuleSource {
  file: string;
  text: string;
}

function sidOf(text: string): number {
  const m = /[(;]\s*sid\s*:\s*(\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Logical rules of a file with their first line number. */
export function ruleLines(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  const lines = text.split(/\r?\n/);
  let acc = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (acc === '') {
      const t = raw.trim();
      if (t === '' || t.startsWith('#')) continue;
      start = i + 1;
    }
    if (/\\\s*$/.test(raw)) {
      acc += raw.replace(/\\\s*$/, '');
      continue;
    }
    acc += raw;
    out.push({ line: start, text: acc.trim() });
    acc = '';
  }
  if (acc.trim()) out.push({ line: start, text: acc.trim() });
  return out;
}

export function loadRuleSources(sources: RuleSource[], config: DetectConfig): RuleSet {
  const set: RuleSet = { signatures: [], skipped: [], errors: [], flowbits: new FlowbitTable() };
  const seen = new Map<string, number>();
  for (const src of sources) {
    for (const { line, text } of ruleLines(src.text)) {
      const where = { file: src.file, line };
      try {
        const sig = parseRule(text, where, config, set.flowbits);
        const key = `${sig.gid}:${sig.sid}`;
        if (seen.has(key)) {
          set.skipped.push({ file: src.file, line, sid: sig.sid, reason: 'duplicate sid' });
          continue;
        }
        seen.set(key, set.signatures.length);
        set.signatures.push(sig);
      } catch (e) {
        if (e instanceof SkipRule) set.skipped.push({ file: src.file, line, sid: sidOf(text), reason: e.reason });
        else if (e instanceof LateralError) set.errors.push(e);
        else set.errors.push(new LateralError('LATERAL_ERR_RULE_PARSE', `internal error: ${(e as Error).message}`, where, { cause: e }));
      }
    }
  }
  return set;
}

export function loadRuleFiles(files: string[], config: DetectConfig): RuleSet {
  const sources: RuleSource[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new LateralError('LATERAL_ERR_IO', `cannot read rule file: ${(e as Error).message}`, { file, line: 0 }, { cause: e });
    }
    sources.push({ file, text });
  }
  return loadRuleSources(sources, config);
}
