// `lateral replay`: pcap/pcapng files through the same stages as the live path (decode →
// flow → stream → app layer → detect), alerts as EVE JSON, a stats summary on stderr.
// Flags follow Suricata's (`-k`, `--simulate-ips`, `--set`) so a suricata-verify case or a
// tuning session moves between the two engines unchanged.

import { pcreBudget, pcreBudgetChannel, type PcreBudgetEvent } from '../detect/pcreCost';
import * as fs from 'node:fs';
import { Packet } from '../decode/packet';
import { decodePacket } from '../decode/decodePacket';
import { DecodeContext, type ChecksumMode } from '../decode/decodeStats';
import { openPcap } from '../capture/pcapOpen';
import { loadDetectConfig, parseClassificationConfig, type DetectConfig } from '../detect/detectConfig';
import { loadRuleFiles, type RuleSet } from '../detect/ruleLoader';
import { DetectEngine, Verdict } from '../detect/detectEngine';
import { PacketInspector } from '../verdict/packetInspector';
import { alertRecordsOf } from '../output/alertRecords';
import { formatEveAlert, type AlertRecordInput } from '../output/eveAlert';
import { EveWriter } from '../output/eveWriter';
import { LateralError } from '../errors';
import { parseFlags, type FlagSpec } from './parseFlags';
import { resolveRuleAddressGroups } from '../docker/containerAddressGroups';

export interface ReplayOptions {
  pcapPaths: string[];
  ruleFiles: string[];
  /** Suricata-style YAML (vars, action-order, ...). */
  configPath?: string;
  /** classification.config; Suricata's stock one when absent. */
  classificationPath?: string;
  checksumMode: ChecksumMode;
  /** Offline IPS semantics: drop/reject rules block (alert action "blocked"). */
  simulateIps: boolean;
  /** Suricata `--set key=value` overrides. */
  settings: Record<string, string>;
  /** [cdocker] Table resolving container address groups (@label:tier=db ...); else they are empty. */
  containersFile?: string;
}

export interface ReplayStats {
  packets: number;
  alerts: number;
  dropped: number;
  rulesLoaded: number;
  rulesSkipped: number;
  ruleLoadMs: number;
  inspectMs: number;
  /** `--set` keys that have no effect in Lateral (reported, not silently taken). */
  ignoredSettings: string[];
}

export interface ReplayResult {
  /** Every alert, unless an onAlert consumer took them as they came (then empty). */
  alerts: AlertRecordInput[];
  stats: ReplayStats;
  rules: RuleSet;
}

/** `--set` keys Lateral understands; anything else is reported as ignored. */
function applySettings(settings: Record<string, string>, config: DetectConfig): { midstream: boolean; inline: boolean; ignored: string[] } {
  let midstream = false;
  let inline = false;
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(settings)) {
    const truthy = value === 'true' || value === 'yes' || value === '1';
    if (key === 'stream.midstream') midstream = truthy;
    else if (key.startsWith('vars.address-groups.')) config.addressVars.set(key.slice('vars.address-groups.'.length), value);
    else if (key.startsWith('vars.port-groups.')) config.portVars.set(key.slice('vars.port-groups.'.length), value);
    // Inline stream timing instead of IDS timing, as Suricata's stream.inline (see idsMode).
    else if (key === 'stream.inline') inline = truthy;
    else ignored.push(key);
  }
  return { midstream, inline, ignored };
}

/** A compiled rule set with the settings it was built under, reusable across replays. */
export interface ReplayEngine {
  engine: DetectEngine;
  rules: RuleSet;
  midstream: boolean;
  /**
   * Suricata's IDS-mode stream timing (PacketInspectorOptions.idsMode): what `suricata -r`
   * does unless --simulate-ips or stream.inline; Lateral's replay follows it so its alerts
   * land where Suricata's do.
   */
  idsMode: boolean;
  ignoredSettings: string[];
  ruleLoadMs: number;
  /** [cdocker] One line per container address group that resolves to nothing (file:line). */
  addressGroupWarnings: string[];
}

/**
 * Loads and compiles the rules of `options` once (cold path). Throws LateralError for a bad
 * rules file or YAML, and for the first broken rule unless ruleErrors is 'skip'. Share the result across replays of many pcaps (replayWithEngine).
 */
export function prepareReplayEngine(
  options: Omit<ReplayOptions, 'pcapPaths' | 'checksumMode'>,
  ruleErrors: 'fatal' | 'skip' = 'fatal',
): ReplayEngine {
  const config = loadDetectConfig(options.configPath);
  if (options.classificationPath !== undefined) {
    config.classifications = parseClassificationConfig(fs.readFileSync(options.classificationPath, 'utf8'), options.classificationPath);
  }
  config.ipsMode = options.simulateIps;
  const { midstream, inline, ignored } = applySettings(options.settings, config);
  const t0 = performance.now();
  const rules = loadRuleFiles(options.ruleFiles, config);
  // 'skip' is Suricata's default (engine.init-failure-fatal: no): broken rules are left out
  // and listed in rules.errors, the rest load.
  if (rules.errors.length > 0 && ruleErrors === 'fatal') throw rules.errors[0]!;
  const engine = DetectEngine.compile(rules, config);
  // [cdocker] container address groups: resolved from --containers, else empty (said once).
  const groups = resolveRuleAddressGroups(rules.signatures, options.containersFile);
  const idsMode = !options.simulateIps && !inline;
  return { engine, rules, midstream, idsMode, ignoredSettings: ignored, ruleLoadMs: performance.now() - t0, addressGroupWarnings: groups.warnings };
}

/**
 * Replays the pcaps and returns every alert (or, given onAlert, streams them as they come and
 * returns none: a long capture's alerts need not fit in memory).
 * Throws LateralError for a bad rules file, YAML or pcap; a pcap broken midway yields the
 * alerts of the packets before the damage, then the error.
 */
export async function replayCapture(
  options: ReplayOptions,
  onAlert?: (alert: AlertRecordInput) => void,
): Promise<ReplayResult> {
  return replayWithEngine(prepareReplayEngine(options), options.pcapPaths, options.checksumMode, onAlert);
}

/**
 * Replays pcaps through an already compiled engine, with a fresh PacketInspector (flows,
 * streams, app layer), so one rule set serves many captures independently.
 */
export async function replayWithEngine(
  prepared: ReplayEngine,
  pcapPaths: readonly string[],
  checksumMode: ChecksumMode,
  onAlert?: (alert: AlertRecordInput) => void,
  pace?: () => Promise<void> | null,
): Promise<ReplayResult> {
  const { engine, rules } = prepared;
  engine.resetThresholds();
  const inspector = new PacketInspector(engine, { midstream: prepared.midstream, maxFlows: 65536, idsMode: prepared.idsMode });
  const decodeContext = new DecodeContext(checksumMode);
  const packet = new Packet();
  const alerts: AlertRecordInput[] = [];
  let alertCount = 0;
  const stats: ReplayStats = {
    packets: 0, alerts: 0, dropped: 0,
    rulesLoaded: rules.signatures.length, rulesSkipped: rules.skipped.length,
    ruleLoadMs: prepared.ruleLoadMs, inspectMs: 0, ignoredSettings: prepared.ignoredSettings,
  };
  // IDS mode: flows ending (timeout, end of capture) flush unacknowledged data through a
  // pseudo packet whose alerts count like any other.
  inspector.onPseudoPacket = (insp) => {
    const r = insp.result;
    if (r === null || r.alertCount === 0) return;
    for (const alert of alertRecordsOf(insp, r)) {
      alertCount++;
      if (onAlert !== undefined) onAlert(alert);
      else alerts.push(alert);
    }
  };
  const t1 = performance.now();
  try {
    for (const path of pcapPaths) {
      const reader = openPcap(path);
      try {
        let index = 0;
        // next() rather than for..of: the generator would allocate a result object per packet.
        for (let record = reader.next(); record !== null; record = reader.next()) {
          index++;
          packet.tsSec = record.tsSec;
          packet.tsUsec = record.tsUsec;
          packet.wireLength = record.wireLength;
          packet.pcapIndex = index;
          decodePacket(packet, record.data, record.linkType, decodeContext);
          stats.packets++;
          // The loop never yields by itself: let the alert consumer (EVE writer) catch up.
          if (pace !== undefined && (index & 255) === 0) {
            const wait = pace();
            if (wait !== null) await wait;
          }
          const verdict = inspector.inspect(packet);
          if (verdict === Verdict.DROP_FLOW || verdict === Verdict.DROP_PACKET) stats.dropped++;
          const r = inspector.result;
          if (r !== null && r.alertCount > 0) {
            for (const alert of alertRecordsOf(inspector, r)) {
              alertCount++;
              if (onAlert !== undefined) onAlert(alert);
              else alerts.push(alert);
            }
          }
        }
      } finally {
        reader.close();
      }
    }
  } finally {
    inspector.flush();
    stats.inspectMs = performance.now() - t1;
    stats.alerts = alertCount;
  }
  return { alerts, stats, rules };
}

const REPLAY_FLAGS: FlagSpec = {
  rules: 'multiple',
  config: 'string',
  'classification-file': 'string',
  k: 'string',
  'simulate-ips': 'boolean',
  'strict-rules': 'boolean',
  eve: 'string',
  set: 'multiple',
  containers: 'string',
  help: 'boolean',
};

/** Suricata's short flags, so a suricata command line carries over. */
const SHORT_FLAGS: Record<string, string> = { '-k': '--k', '-S': '--rules', '-s': '--rules', '-c': '--config', '-r': '' };

export const REPLAY_USAGE = `usage: lateral replay PCAP... --rules FILE... [--config YAML] [-k none|all|auto]
                      [--simulate-ips] [--strict-rules] [--eve FILE|-] [--set KEY=VALUE]...
                      [--containers FILE]   (resolves @container:/@label:/@network:/@image: rule addresses)`;

/** The `lateral replay` command; returns the process exit code. */
export async function runReplay(argv: readonly string[], stderr: NodeJS.WritableStream = process.stderr): Promise<number> {
  const expanded: string[] = [];
  for (const arg of argv) {
    const long = SHORT_FLAGS[arg];
    if (long === undefined) expanded.push(arg);
    else if (long !== '') expanded.push(long);
  }
  const args = parseFlags(expanded, REPLAY_FLAGS, 'replay');
  if (args.booleans.has('help')) {
    process.stdout.write(`${REPLAY_USAGE}\n`);
    return 0;
  }
  const ruleFiles = args.multiples.get('rules') ?? [];
  if (args.positionals.length === 0) throw new LateralError('LATERAL_ERR_USAGE', `no pcap given\n${REPLAY_USAGE}`);
  if (ruleFiles.length === 0) throw new LateralError('LATERAL_ERR_USAGE', `no rules given (--rules FILE)\n${REPLAY_USAGE}`);
  const k = args.strings.get('k') ?? 'auto';
  if (k !== 'none' && k !== 'all' && k !== 'auto') throw new LateralError('LATERAL_ERR_USAGE', `-k takes none, all or auto, not '${k}'`);
  const settings: Record<string, string> = {};
  for (const s of args.multiples.get('set') ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new LateralError('LATERAL_ERR_USAGE', `--set takes KEY=VALUE, not '${s}'`);
    settings[s.slice(0, eq)] = s.slice(eq + 1);
  }
  // As Suricata (engine.init-failure-fatal: no), a broken rule is reported and left out;
  // --strict-rules makes it fatal (what a CI check of a rules file wants).
  const prepared = prepareReplayEngine(
    {
      ruleFiles,
      configPath: args.strings.get('config'),
      classificationPath: args.strings.get('classification-file'),
      simulateIps: args.booleans.has('simulate-ips'),
      settings,
      containersFile: args.strings.get('containers'),
    },
    args.booleans.has('strict-rules') ? 'fatal' : 'skip',
  );
  for (const e of prepared.rules.errors.slice(0, 5)) stderr.write(`lateral replay: rule error (rule not loaded): ${e.message}\n`);
  if (prepared.rules.errors.length > 5) stderr.write(`lateral replay: ... ${prepared.rules.errors.length - 5} more rule errors\n`);
  for (const w of prepared.addressGroupWarnings) stderr.write(`lateral replay: warning: ${w}\n`);
  // Offline, nothing may be lost: the writer keeps every record and paces the replay.
  const eve = new EveWriter(args.strings.get('eve') ?? '-', { whenFull: 'wait' });
  const budgetBefore = pcreBudget.exceeded;
  const onBudget = (message: unknown): void => {
    const ev = message as PcreBudgetEvent;
    stderr.write(`lateral replay: pcre of sid ${ev.sid} saw only ${ev.window} of ${ev.length} bytes (cost bound, docs/hardening.md)\n`);
  };
  pcreBudgetChannel.subscribe(onBudget);
  const result = await replayWithEngine(prepared, args.positionals, k, (alert) => eve.write(formatEveAlert(alert)), () => (eve.full ? eve.flush() : null));
  await eve.close();
  pcreBudgetChannel.unsubscribe(onBudget);
  const budgetExceeded = pcreBudget.exceeded - budgetBefore;
  if (budgetExceeded > 0) stderr.write(`lateral replay: ${budgetExceeded} pcre executions were cut to their cost window\n`);
  const s = result.stats;
  for (const skipped of result.rules.skipped.slice(0, 5)) {
    stderr.write(`lateral replay: skipped rule ${skipped.file}:${skipped.line} (sid ${skipped.sid}): ${skipped.reason}\n`);
  }
  if (result.rules.skipped.length > 5) stderr.write(`lateral replay: ... ${result.rules.skipped.length - 5} more skipped rules (see 'lateral rules check')\n`);
  for (const key of s.ignoredSettings) stderr.write(`lateral replay: --set ${key} has no effect in Lateral\n`);
  const pps = s.inspectMs > 0 ? Math.round((s.packets / s.inspectMs) * 1000) : 0;
  stderr.write(
    `lateral replay: ${s.packets} packets, ${s.alerts} alerts, ${s.dropped} dropped; rules ${s.rulesLoaded} loaded, ` +
      `${s.rulesSkipped} skipped in ${(s.ruleLoadMs / 1000).toFixed(2)} s; inspected at ${pps} packets/s\n`,
  );
  const eveStats = eve.stats();
  const lost = eveStats.droppedBacklog + eveStats.droppedIoError;
  if (lost > 0) {
    stderr.write(`lateral replay: ${lost} EVE records could not be written (${eveStats.ioErrors} I/O errors): the EVE output is incomplete\n`);
    return 1;
  }
  return 0;
}
