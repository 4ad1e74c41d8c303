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
  const set = emptyRuleSet();
  const seen = new Map<string, number>();
  for (const src of sources) {
    for (const { line, text } of ruleLines(src.text)) addRule(set, seen, src.file, line, text, config);
  }
  return set;
}

export function emptyRuleSet(): RuleSet {
  return { signatures: [], skipped: [], errors: [], flowbits: new FlowbitTable() };
}

/**
 * One rule line into `set` (`seen`: gid:sid -> index in set.signatures). A rule that parses is
 * added; an unsupported one is skipped with its reason; a broken one is an error (file:line).
 * Reloads add rules in slices through this same function (src/cli/ruleReload.ts).
 */
export function addRule(set: RuleSet, seen: Map<string, number>, file: string, line: number, text: string, config: DetectConfig): void {
  const where = { file, line };
  try {
    const sig = parseRule(text, where, config, set.flowbits);
    // Suricata: a duplicate gid:sid with a higher rev replaces the loaded one; otherwise
    // the duplicate is an error ("Duplicate signature").
    const key = `${sig.gid}:${sig.sid}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      const old = set.signatures[prev]!;
      if (sig.rev > old.rev) {
        set.signatures[prev] = sig;
        set.skipped.push({ file: old.location.file, line: old.location.line, sid: old.sid, reason: 'duplicate sid (replaced by a higher rev)' });
      } else set.errors.push(new LateralError('LATERAL_ERR_RULE_PARSE', `duplicate signature ${key} (rev ${sig.rev} not newer than rev ${old.rev})`, where));
      return;
    }
    seen.set(key, set.signatures.length);
    set.signatures.push(sig);
  } catch (e) {
    if (e instanceof SkipRule) set.skipped.push({ file, line, sid: sidOf(text), reason: e.reason });
    else if (e instanceof LateralError) set.errors.push(e);
    else set.errors.push(new LateralError('LATERAL_ERR_RULE_PARSE', `internal error: ${(e as Error).message}`, where, { cause: e }));
  }
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
