// Where each queue worker gets its PacketVerdictHandler: the detection engine compiled from
// the rule files (one engine per worker thread: flow state never crosses threads), or
// accept-all when no rules are given. Cold path; runs once per worker at start.
//
// East-west default: Suricata's stock EXTERNAL_NET is `!$HOME_NET`, which makes every
// perimeter rule ($EXTERNAL_NET -> $HOME_NET) blind between two containers, since both ends
// are home. Unless the YAML sets EXTERNAL_NET, the live path uses `any` (docs/rules.md).
import type { PacketVerdictHandler } from './packetVerdictHandler';
import { AcceptAllHandler } from './acceptAllHandler';
import * as fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { loadDetectConfig, type DetectConfig } from '../detect/detectConfig';
import { loadRuleFiles, type RuleSet, type SkippedRule } from '../detect/ruleLoader';
import { DetectEngine } from '../detect/detectEngine';
import { PacketInspector } from './packetInspector';
import { EngineVerdictHandler } from './engineVerdictHandler';
import { loadBypassOptions, type BypassOptions } from './bypassPolicy';
import { warmUpEngine, type WarmupOptions, type WarmupResult } from './engineWarmup';

export interface VerdictHandlerOptions {
  queue: number;
  /** Rule files; empty = accept everything (no engine). */
  ruleFiles: readonly string[];
  /** Suricata-style YAML (vars, action-order, ...). */
  configPath?: string;
  /** IDS: rules alert, nothing is dropped (drop rules alert as "allowed"). */
  monitor: boolean;
  /** Pick up TCP sessions already open when Lateral started (default true live). */
  midstream?: boolean;
  maxFlows?: number;
  /**
   * Flow bypass settings over those of the YAML (`stream.bypass`, `stream.bypass-depth`,
   * `app-layer.protocols.tls.encryption-handling`; see bypassPolicy.ts).
   */
  bypass?: Partial<BypassOptions>;
  /**
   * Judge synthetic connections before returning, so the first real ones do not pay V8's
   * compilation (./engineWarmup.ts). Off unless given: the live worker asks for it.
   */
  warmup?: WarmupOptions;
}

export interface RuleLoadSummary {
  loaded: number;
  skipped: number;
  /** Rules that did not parse (file:line: cause), loaded around. */
  errors: string[];
  /** The first skipped rules with their reason (for the log). */
  skippedRules: SkippedRule[];
  externalNet: string;
  loadMs: number;
}

export interface CreatedVerdictHandler {
  handler: PacketVerdictHandler;
  /** The engine handler, or null when no rules were given. */
  engine: EngineVerdictHandler | null;
  rules: RuleLoadSummary | null;
  /** What the warm-up did (null: none asked, or no engine). */
  warmup: WarmupResult | null;
}

/** Loads and compiles the rules; throws LateralError for an unreadable rules file or YAML. */
export function createVerdictHandler(options: VerdictHandlerOptions): CreatedVerdictHandler {
  if (options.ruleFiles.length === 0) return { handler: new AcceptAllHandler(), engine: null, rules: null, warmup: null };
  const t0 = performance.now();
  const config = liveDetectConfig(options.configPath, options.monitor);
  const set = loadRuleFiles([...options.ruleFiles], config);
  const engine = DetectEngine.compile(set, config);
  // Live, a restart must not leave established connections uninspected: midstream pickup.
  const inspector = new PacketInspector(engine, { midstream: options.midstream ?? true, maxFlows: options.maxFlows ?? 65536 });
  const bypass = { ...loadBypassOptions(options.configPath), ...options.bypass };
  const handler = new EngineVerdictHandler(inspector, null, bypass);
  const rules = ruleLoadSummary(set, config, t0);
  const warmup = options.warmup !== undefined ? warmUpEngine(engine, { bypass, ...options.warmup }) : null;
  return { handler, engine: handler, rules, warmup };
}

/**
 * The detection config of the live path: the YAML (or Suricata's defaults), EXTERNAL_NET `any`
 * unless the YAML names it (east-west: both ends are home), drop rules drop unless monitoring.
 */
export function liveDetectConfig(configPath: string | undefined, monitor: boolean): DetectConfig {
  const config = loadDetectConfig(configPath);
  if (!yamlSetsExternalNet(configPath)) config.addressVars.set('EXTERNAL_NET', 'any');
  config.ipsMode = !monitor;
  return config;
}

/** What a (re)load reports; t0 is when it started (performance.now()). */
export function ruleLoadSummary(set: RuleSet, config: DetectConfig, t0: number): RuleLoadSummary {
  return {
    loaded: set.signatures.length,
    skipped: set.skipped.length + set.errors.length,
    errors: set.errors.map((e) => e.message),
    skippedRules: set.skipped.slice(0, 20),
    externalNet: config.addressVars.get('EXTERNAL_NET') ?? '',
    loadMs: performance.now() - t0,
  };
}

/** True when the YAML's vars.address-groups names EXTERNAL_NET (even to Suricata's default). */
function yamlSetsExternalNet(configPath: string | undefined): boolean {
  if (configPath === undefined) return false;
  // loadDetectConfig has already read and validated the file; this only looks for the key.
  const doc = parseYaml(fs.readFileSync(configPath, 'utf8').replace(/^%YAML.*\n/, ''), { strict: false, uniqueKeys: false }) as unknown;
  const vars = (doc as { vars?: { 'address-groups'?: Record<string, unknown> } } | null)?.vars;
  const groups = vars?.['address-groups'];
  return groups !== null && typeof groups === 'object' && 'EXTERNAL_NET' in groups;
}
