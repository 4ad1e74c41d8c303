// Rule reload for `lateral run` (SIGHUP or `lateral reload`), cold path.
//
// The main thread reads the rule files once and parses them aside (validation): a file that
// cannot be read, a bad YAML or any rule that fails to parse refuses the reload with one
// `file:line: cause` and the running rules stay. Only then does each worker get the very text
// that was validated (not the path: the file may change again meanwhile), compile its own
// DetectEngine aside and swap it into its PacketInspector between two batches. Flow state is
// kept: each flow's FlowDetectState (flowbits, pass/drop marks) is carried over and remapped by
// flowbit name on its next packet (DetectEngine.inspect → FlowDetectState.adoptBy).
//
// Why every worker compiles for itself (issue #6 "compiled once, shared or rebuilt per worker —
// measure which"): a DetectEngine is a graph of class instances, RegExps and Aho-Corasick
// tables; nothing of it can be shared between isolates. Measured on ET Open (24429 rules, this
// 2-core box, docs/hardening.md): parse 2.5–3.3 s, compile 0.8–1.8 s; v8.serialize of the parsed
// signatures 1.0–1.3 s (62 MB) and deserialize 0.85–1.4 s — before re-attaching the keyword
// classes, which the detect stage offers no way to do. Sharing would cost about what it saves.
import * as fs from 'node:fs';
import { LateralError } from '../errors';
import type { DetectConfig } from '../detect/detectConfig';
import { DetectEngine } from '../detect/detectEngine';
import { addRule, emptyRuleSet, loadRuleSources, ruleLines, type RuleSet, type RuleSource } from '../detect/ruleLoader';
import type { FlowDetectState } from '../detect/flowDetectState';
import { liveDetectConfig, ruleLoadSummary, type RuleLoadSummary } from '../verdict/createVerdictHandler';
import type { PacketInspector } from '../verdict/packetInspector';

/** What the main thread hands every worker for one reload. */
export interface RuleReloadRequest {
  generation: number;
  sources: RuleSource[];
  configPath: string | undefined;
  monitor: boolean;
}

/** Reads every rule file; throws LATERAL_ERR_IO naming the file. */
export function readRuleSources(files: readonly string[]): RuleSource[] {
  return files.map((file) => {
    try {
      return { file, text: fs.readFileSync(file, 'utf8') };
    } catch (e) {
      throw new LateralError('LATERAL_ERR_IO', `cannot read rule file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file, line: 0 }, { cause: e });
    }
  });
}

/**
 * Main thread: parse the new rules aside. Unlike the first load (which loads around broken
 * rules, as Suricata does), a reload is all or nothing: an operator who edits a file and
 * breaks a rule keeps the running set and is told where. Throws LateralError (the first
 * error's file:line: cause, plus how many more).
 */
export function validateRuleReload(files: readonly string[], configPath: string | undefined, monitor: boolean): { sources: RuleSource[]; summary: RuleLoadSummary } {
  const t0 = performance.now();
  const sources = readRuleSources(files);
  const config = liveDetectConfig(configPath, monitor);
  const set = loadRuleSources(sources, config);
  const first = set.errors[0];
  if (first !== undefined) {
    const more = set.errors.length > 1 ? ` (and ${set.errors.length - 1} more rule errors)` : '';
    throw new LateralError(first.code, `${first.message.replace(/^.*?: /, '')}${more}`, first.location, { cause: first });
  }
  if (set.signatures.length === 0) {
    throw new LateralError('LATERAL_ERR_RULE_PARSE', 'no rule loaded from the new rule files; refusing to replace the running rules with none', { file: files.join(', '), line: 0 });
  }
  return { sources, summary: ruleLoadSummary(set, config, t0) };
}

/** Where the worker's reload time went; `longestSliceMs` is the longest the queue waited. */
export interface ReloadTiming {
  parseMs: number;
  compileMs: number;
  slices: number;
  longestSliceMs: number;
}

/**
 * Worker: the same load as loadRuleSources (same order, duplicate-sid and error handling, one
 * FlowbitTable), but parsed in slices of about `sliceMs`, awaiting `yieldToBatches` between
 * them so the worker keeps judging packets with its running engine while the new rules parse
 * (about two thirds of ET Open's cost). Only DetectEngine.compile runs as one block. The
 * result is checked equal to loadRuleSources' in test/hardening/ruleReload.test.ts.
 */
export async function compileRuleReloadInSlices(
  req: RuleReloadRequest,
  yieldToBatches: () => Promise<void>,
  sliceMs = 20,
): Promise<{ engine: DetectEngine; summary: RuleLoadSummary; timing: ReloadTiming }> {
  const t0 = performance.now();
  const config = liveDetectConfig(req.configPath, req.monitor);
  const set: RuleSet = emptyRuleSet();
  const seen = new Map<string, number>();
  let slices = 0;
  let longest = 0;
  let sliceStart = performance.now();
  for (const src of req.sources) {
    for (const { line, text } of ruleLines(src.text)) {
      addRule(set, seen, src.file, line, text, config);
      const now = performance.now();
      if (now - sliceStart >= sliceMs) {
        longest = Math.max(longest, now - sliceStart);
        slices++;
        await yieldToBatches();
        sliceStart = performance.now();
      }
    }
  }
  const t1 = performance.now();
  const engine = DetectEngine.compile(set, config);
  const t2 = performance.now();
  longest = Math.max(longest, t2 - sliceStart);
  return { engine, summary: ruleLoadSummary(set, config, t0), timing: { parseMs: t1 - t0, compileMs: t2 - t1, slices: slices + 1, longestSliceMs: longest } };
}

/**
 * Worker, between two batches: the inspector judges the next packet with `engine`. Every flow
 * keeps its FlowDetectState (PacketInspector.setEngine alone would start each flow afresh and
 * lose its flowbits and its pass/drop decision); the new engine remaps the bits by name on the
 * flow's next packet. Returns the number of flows carried over.
 */
export function swapEngine(inspector: PacketInspector, engine: DetectEngine): number {
  const kept: Array<[{ detectState: unknown }, FlowDetectState]> = [];
  for (const flow of inspector.flows.flows()) {
    const fd = flow.detectState as FlowDetectState | null;
    if (fd !== null) kept.push([flow, fd]);
  }
  inspector.setEngine(engine);
  for (const [flow, fd] of kept) flow.detectState = fd;
  return kept.length;
}
