// `lateral watch`: the engine on a passive copy of one or more bridges' traffic (libpcap,
// promiscuous), for hosts where NFQUEUE cannot be used and for trying rules before enforcing
// them. Alerts (always "allowed": nothing is judged), EVE stats records, Prometheus metrics and
// the live map, evidence pcaps per alert, container names from a JSON file, a summary line on
// stderr, and a clean stop with final totals on SIGINT/SIGTERM.
//
// Everything runs on the main thread: PassiveCapture must (the `cap` binding uses the default
// event loop), and the engine runs synchronously in its batch handler, one WatchPipeline (own
// flow table) per bridge so that a conversation routed across two bridges is not one flow
// seen twice.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import * as client from 'prom-client';
import { PassiveCapture } from '../capture/passiveCapture';
import { readNfqueueProc } from '../capture/nfqueueProc';
import { PROMISCUOUS_BRIDGE_ADVICE } from '../capture/promiscuousBridges';
import { loadDetectConfig } from '../detect/detectConfig';
import { loadRuleFiles, type RuleSet } from '../detect/ruleLoader';
import { DetectEngine } from '../detect/detectEngine';
import { EveWriter } from '../output/eveWriter';
import { startEveStats, type StatsSnapshot } from '../output/eveStats';
import { EvidenceRecorder } from '../output/evidenceRecorder';
import { LateralMetrics } from '../output/metrics';
import { MetricsServer, parseListenAddress } from '../output/metricsServer';
import { TrafficMap } from '../output/trafficMap';
import { LateralError } from '../errors';
import { ContainerMap, loadContainerMap } from './containerMap';
import { parseFlags, parseUint, type FlagSpec } from './parseFlags';
import { WATCH_COUNTER_KINDS, WatchPipeline } from './watchPipeline';

export const WATCH_USAGE = `usage: lateral watch --bridge BR [--bridge BR2]... [--rules FILE]... [--config YAML]
                     [--eve FILE|-] [--metrics-listen HOST:PORT] [--evidence-dir DIR]
                     [--containers FILE] [--filter BPF] [--summary-interval SEC] [--stats-interval SEC]
                     [--inline]

  --bridge BR            bridge (or any interface) to copy traffic from; repeatable
  --rules FILE           Suricata-style rules; repeatable (default: the repo's rules/lateral.rules)
  --config YAML          Suricata-style YAML (vars ...); EXTERNAL_NET is "any" unless it sets it
  --eve FILE|-           EVE JSON alerts and stats records (default: stdout)
  --metrics-listen H:P   serve /metrics, the map (/) and /api/map
  --evidence-dir DIR     write the packets of each alert's flow as a pcap there
  --containers FILE      JSON mapping addresses to container names (the \`scripts/lab up\` layout works)
  --filter BPF           capture filter (pcap-filter(7)); kernel drops are then not counted
  --summary-interval SEC summary line on stderr every SEC seconds (default 10, 0: only the final one)
  --stats-interval SEC   EVE stats record every SEC seconds (default 8, 0: only the final one)
  --inline               judge stream data on the packet that brings it (as \`run\`), not when it
                         is acknowledged (IDS timing, as \`suricata -r\` / af-packet IDS; default)
`;

export interface WatchOptions {
  bridges: string[];
  ruleFiles: string[];
  configPath?: string;
  /** EVE target, "-" for stdout. */
  eve: string;
  metricsListen?: string;
  evidenceDir?: string;
  containersFile?: string;
  filter: string;
  summaryIntervalMs: number;
  statsIntervalMs: number;
  /** Inline stream timing instead of Suricata's IDS timing (the default for a passive copy). */
  inline: boolean;
}

const WATCH_FLAGS: FlagSpec = {
  bridge: 'multiple',
  rules: 'multiple',
  config: 'string',
  eve: 'string',
  'metrics-listen': 'string',
  'evidence-dir': 'string',
  containers: 'string',
  filter: 'string',
  'summary-interval': 'string',
  'stats-interval': 'string',
  inline: 'boolean',
  help: 'boolean',
};

/** The repository's own rules, from dist/src/cli or src/cli. */
export function defaultRulesFile(): string {
  const candidates = [path.resolve(__dirname, '../../../rules/lateral.rules'), path.resolve(__dirname, '../../rules/lateral.rules')];
  return candidates.find((c) => fs.existsSync(c)) ?? candidates[0]!;
}

/** Parses and checks the flags (files must exist); throws LATERAL_ERR_USAGE naming the flag. */
export function parseWatchOptions(argv: readonly string[]): WatchOptions {
  const args = parseFlags(argv, WATCH_FLAGS, 'watch');
  if (args.positionals.length > 0) {
    throw new LateralError('LATERAL_ERR_USAGE', `watch: unexpected argument ${JSON.stringify(args.positionals[0])} (interfaces go after --bridge)`);
  }
  const bridges = args.multiples.get('bridge') ?? [];
  if (bridges.length === 0) throw new LateralError('LATERAL_ERR_USAGE', 'watch: no bridge given (--bridge BR, e.g. docker0 or br-<network id>)');
  const seen = new Set<string>();
  for (const b of bridges) {
    if (seen.has(b)) throw new LateralError('LATERAL_ERR_USAGE', `watch: --bridge ${b} given twice`);
    seen.add(b);
    if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(b)) throw new LateralError('LATERAL_ERR_USAGE', `watch: --bridge ${JSON.stringify(b)} is not an interface name`);
    if (!fs.existsSync(`/sys/class/net/${b}`)) {
      throw new LateralError('LATERAL_ERR_USAGE', `watch: --bridge ${b}: no such interface (ip link show type bridge)`);
    }
  }
  const ruleFiles = args.multiples.get('rules') ?? [defaultRulesFile()];
  const mustExist = (flag: string, file: string | undefined): void => {
    if (file !== undefined && !fs.existsSync(file)) throw new LateralError('LATERAL_ERR_USAGE', `watch: --${flag} ${file}: no such file`);
  };
  for (const f of ruleFiles) mustExist('rules', f);
  mustExist('config', args.strings.get('config'));
  mustExist('containers', args.strings.get('containers'));
  const listen = args.strings.get('metrics-listen');
  if (listen !== undefined) parseListenAddress(listen);
  const seconds = (flag: string, def: number): number => {
    const v = args.strings.get(flag);
    return v === undefined ? def : parseUint('watch', flag, v, 0, 86400) * 1000;
  };
  const opts: WatchOptions = {
    bridges,
    ruleFiles,
    eve: args.strings.get('eve') ?? '-',
    filter: args.strings.get('filter') ?? '',
    summaryIntervalMs: seconds('summary-interval', 10_000),
    statsIntervalMs: seconds('stats-interval', 8_000),
    inline: args.booleans.has('inline'),
  };
  const config = args.strings.get('config');
  if (config !== undefined) opts.configPath = config;
  if (listen !== undefined) opts.metricsListen = listen;
  const evidence = args.strings.get('evidence-dir');
  if (evidence !== undefined) opts.evidenceDir = evidence;
  const containers = args.strings.get('containers');
  if (containers !== undefined) opts.containersFile = containers;
  return opts;
}

/** True when the YAML's vars.address-groups sets `name` (the YAML was loaded fine before). */
function yamlSetsAddressVar(file: string, name: string): boolean {
  const doc = parseYaml(fs.readFileSync(file, 'utf8').replace(/^%YAML.*\n/, ''), { strict: false, uniqueKeys: false }) as unknown;
  const vars = (doc as { vars?: { 'address-groups'?: Record<string, unknown> } } | null)?.vars;
  const groups = vars?.['address-groups'];
  return groups !== null && typeof groups === 'object' && Object.prototype.hasOwnProperty.call(groups, name);
}

/**
 * Loads the rules with watch's variables: Suricata's defaults and the YAML, except that
 * EXTERNAL_NET is `any` unless the YAML sets it. East-west every container may be the
 * attacker, so rules written $EXTERNAL_NET -> $HOME_NET must fire between two containers
 * (as docker/eastWestVars.ts does for `run`). IDS semantics: nothing is blocked.
 * Throws the first rule error (LATERAL_ERR_RULE_PARSE ...) or LATERAL_ERR_CONFIG when no rule loads.
 */
export function loadWatchEngine(ruleFiles: readonly string[], configPath?: string): { engine: DetectEngine; rules: RuleSet } {
  const config = loadDetectConfig(configPath);
  config.ipsMode = false;
  if (configPath === undefined || !yamlSetsAddressVar(configPath, 'EXTERNAL_NET')) config.addressVars.set('EXTERNAL_NET', 'any');
  const rules = loadRuleFiles([...ruleFiles], config);
  if (rules.errors.length > 0) throw rules.errors[0]!;
  if (rules.signatures.length === 0) throw new LateralError('LATERAL_ERR_CONFIG', `no rule loaded from ${ruleFiles.join(', ')}`);
  return { engine: DetectEngine.compile(rules, config), rules };
}

interface BridgeWatch {
  bridge: string;
  capture: PassiveCapture;
  pipeline: WatchPipeline;
}

/** Registers the passive-capture counters on the metrics registry (read at scrape time). */
function registerCaptureMetrics(metrics: LateralMetrics, watches: readonly BridgeWatch[]): void {
  const registers = [metrics.registry];
  new client.Counter({
    name: 'lateral_capture_packets_total', help: 'Frames passive capture (lateral watch) handed to the engine, by interface.', labelNames: ['interface'], registers,
    collect() {
      this.reset();
      for (const w of watches) this.inc({ interface: w.bridge }, w.capture.stats().received);
    },
  });
  new client.Counter({
    name: 'lateral_capture_kernel_dropped_total', help: 'Frames the interface passed that passive capture lost (ring full), by interface; absent with a BPF filter.', labelNames: ['interface'], registers,
    collect() {
      this.reset();
      for (const w of watches) {
        const d = w.capture.stats().kernelDropped;
        if (d !== null) this.inc({ interface: w.bridge }, d);
      }
    },
  });
  new client.Counter({
    name: 'lateral_capture_truncated_total', help: 'Frames cut at the capture snaplen, by interface.', labelNames: ['interface'], registers,
    collect() {
      this.reset();
      for (const w of watches) this.inc({ interface: w.bridge }, w.capture.stats().truncated);
    },
  });
}

function summaryLine(label: string, watches: readonly BridgeWatch[], eve: EveWriter, evidence: EvidenceRecorder | null): string {
  let packets = 0;
  let bytes = 0;
  let alerts = 0;
  let nonIp = 0;
  let flows = 0;
  let truncated = 0;
  let dropped: number | null = 0;
  let handlerErrors = 0;
  for (const w of watches) {
    const s = w.capture.stats();
    packets += w.pipeline.packets;
    bytes += w.pipeline.bytes;
    alerts += w.pipeline.alerts;
    nonIp += w.pipeline.nonIp;
    flows += w.pipeline.inspector.flows.size;
    truncated += s.truncated;
    handlerErrors += s.handlerErrors;
    dropped = dropped === null || s.kernelDropped === null ? null : dropped + s.kernelDropped;
  }
  const e = eve.stats();
  const parts = [
    label,
    `packets=${packets}`, `bytes=${bytes}`, `non_ip=${nonIp}`, `alerts=${alerts}`, `flows=${flows}`,
    `kernel_dropped=${dropped ?? 'unknown'}`, `truncated=${truncated}`, `handler_errors=${handlerErrors}`,
    `eve_written=${e.written}`, `eve_dropped=${e.droppedBacklog + e.droppedIoError}`,
  ];
  if (evidence !== null) {
    const v = evidence.stats();
    parts.push(`evidence_files=${v.filesCreated}`, `evidence_skipped=${v.skippedNoPackets + v.skippedCap + v.droppedQueue}`, `evidence_errors=${v.writeErrors}`);
  }
  return parts.join(' ');
}

/** The `lateral watch` command; resolves with the exit code after SIGINT/SIGTERM. */
export async function runWatch(argv: readonly string[], stderr: NodeJS.WritableStream = process.stderr): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(WATCH_USAGE);
    return 0;
  }
  const opts = parseWatchOptions(argv);
  const log = (line: string): void => {
    stderr.write(`lateral watch: ${line}\n`);
  };

  const { engine, rules } = loadWatchEngine(opts.ruleFiles, opts.configPath);
  for (const s of rules.skipped.slice(0, 5)) log(`skipped rule ${s.file}:${s.line} (sid ${s.sid}): ${s.reason}`);
  if (rules.skipped.length > 5) log(`... ${rules.skipped.length - 5} more skipped rules (see 'lateral rules check')`);

  const containers = opts.containersFile !== undefined ? loadContainerMap(opts.containersFile) : new ContainerMap();
  const map = new TrafficMap();
  for (const id of containers.identities()) map.setContainer(id);
  const metrics = new LateralMetrics({ ...WATCH_COUNTER_KINDS, map });
  metrics.recordRuleLoad({ loaded: rules.signatures.length, skipped: rules.skipped.length, success: true, timeSec: Math.floor(Date.now() / 1000) });

  // Everything that can fail on a user's input is opened before the first capture.
  const eve = new EveWriter(opts.eve, { onError: (err) => log(`EVE output: ${err.message}`) });
  metrics.attachEveWriter(eve);
  eve.reopenOnSigusr1(); // logrotate's postrotate `kill -USR1`
  const evidence =
    opts.evidenceDir !== undefined
      ? new EvidenceRecorder({ dir: opts.evidenceDir, linkType: 1, onError: (err) => log(err.message) })
      : null;
  const server = opts.metricsListen !== undefined ? new MetricsServer({ metrics, map, listen: opts.metricsListen }) : null;
  const watches: BridgeWatch[] = [];
  const closeAll = async (): Promise<void> => {
    for (const w of watches) w.capture.close();
    await eve.close();
  };
  try {
    const listening = server !== null ? await server.start() : null;
    for (const bridge of opts.bridges) {
      const pipeline = new WatchPipeline({ engine, containers, eve, evidence, map, idsMode: !opts.inline });
      // A bug hit by some traffic must not flood stderr: the first failure in full, then a
      // count now and then (every failure is in handler_errors).
      let failures = 0;
      const onError = (err: Error): void => {
        failures++;
        if (failures === 1) log(`${bridge}: inspecting a batch failed (the batch is skipped, capture goes on): ${err.stack ?? err.message}`);
        else if ((failures & (failures - 1)) === 0) log(`${bridge}: ${failures} batches failed so far; latest: ${err.message}`);
      };
      const capture = new PassiveCapture(
        { interface: bridge, filter: opts.filter, onError },
        (batch) => pipeline.handleBatch(batch),
      );
      if (evidence !== null && capture.linkType !== 1) {
        capture.close();
        throw new LateralError('LATERAL_ERR_USAGE', `watch: --bridge ${bridge} is not an Ethernet interface (link type ${capture.linkTypeName}); evidence pcaps need Ethernet`);
      }
      watches.push({ bridge, capture, pipeline });
      warnIfQueuedBridge(bridge, log);
    }
    registerCaptureMetrics(metrics, watches);
    log(
      `watching ${opts.bridges.join(',')} (passive copy, nothing blocked); rules ${rules.signatures.length} loaded, ${rules.skipped.length} skipped; ` +
        `containers ${containers.identities().length}; eve ${opts.eve}` +
        (listening ? `; metrics http://${listening.host.includes(':') ? `[${listening.host}]` : listening.host}:${listening.port}/metrics` : '') +
        (evidence ? `; evidence ${evidence.dir}` : ''),
    );
  } catch (err) {
    await closeAll();
    if (server !== null) await server.stop().catch(() => undefined);
    throw err;
  }

  const applyDeltas = (): void => {
    watches.forEach((w, i) => metrics.applyDelta(i, w.pipeline.takeDelta()));
  };
  const deltaTimer = setInterval(applyDeltas, 1000);
  // Suricata's capture.kernel_* come from the capture here, not from NFQUEUE.
  const statsSource = {
    statsSnapshot(): StatsSnapshot {
      const s = metrics.statsSnapshot();
      let received = 0;
      let dropped = 0;
      for (const w of watches) {
        const c = w.capture.stats();
        received += c.received;
        dropped += c.kernelDropped ?? 0;
      }
      s.kernelPackets = received;
      s.kernelDrops = dropped;
      return s;
    },
  };
  const stopStats = startEveStats(eve, statsSource, opts.statsIntervalMs > 0 ? opts.statsIntervalMs : 2 ** 31 - 1);
  const startedAt = Date.now();
  const summaryTimer =
    opts.summaryIntervalMs > 0
      ? setInterval(() => log(summaryLine(`summary ${Math.round((Date.now() - startedAt) / 1000)}s`, watches, eve, evidence)), opts.summaryIntervalMs)
      : null;

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      clearInterval(deltaTimer);
      if (summaryTimer !== null) clearInterval(summaryTimer);
      log(`${signal}: stopping`);
      let code = 0;
      // close() delivers the frames already copied, so they are inspected before the totals.
      for (const w of watches) w.capture.close();
      for (const w of watches) {
        try {
          w.pipeline.flush();
        } catch (err) {
          log(`${w.bridge}: ending flows failed: ${(err as Error).message}`);
          code = 1;
        }
      }
      applyDeltas();
      stopStats();
      log(summaryLine('final', watches, eve, evidence));
      void (async () => {
        if (evidence !== null) await evidence.close();
        await eve.close();
        if (server !== null) await server.stop();
        resolve(code);
      })();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/**
 * A promiscuous capture on a bridge whose traffic an NFQUEUE consumer (`lateral run`, Suricata)
 * judges makes the kernel drop new connections' first packets at the queue
 * (src/capture/promiscuousBridges.ts): say so once at start, it is the operator's call.
 */
function warnIfQueuedBridge(bridge: string, log: (line: string) => void): void {
  let bound: number;
  try {
    bound = readNfqueueProc().length;
  } catch {
    return;
  }
  if (bound > 0 && fs.existsSync(`/sys/class/net/${bridge}/bridge`)) {
    log(`warning: ${bound} NFQUEUE queue(s) are bound on this host; if one judges ${bridge}'s traffic, this capture (promiscuous) makes ${PROMISCUOUS_BRIDGE_ADVICE}`);
  }
}
