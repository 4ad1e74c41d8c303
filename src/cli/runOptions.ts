// `lateral run` flags → RunOptions. Pure, so flag errors are unit-tested without a kernel.
import * as path from 'node:path';
import { LateralError } from '../errors';
import { validateBridgeName, validateInstance } from '../capture/firewallRules';
import { parseFlags, parseUint } from './parseFlags';
import { copyRangeFor } from '../capture/copyRange';

export interface RunOptions {
  bridges: string[];
  firstQueue: number;
  lastQueue: number;
  /** --queue-bypass on the rule: traffic passes while no Lateral is bound. */
  queueBypass: boolean;
  /** NFQA_CFG_F_FAIL_OPEN: a full queue accepts instead of dropping. */
  overloadAccept: boolean;
  hook: 'auto' | 'FORWARD' | 'DOCKER-USER';
  instance: string;
  repeatMark: number;
  bypassMark: number;
  maxLen: number;
  copyRange: number;
  batchLimit: number;
  gso: boolean;
  conntrack: boolean;
  summaryIntervalMs: number;
  eve: string | undefined;
  /** HOST:PORT (a bare PORT or :PORT means loopback). */
  metricsListen: string | undefined;
  /** Rule files; default rules/lateral.rules of the installation. */
  ruleFiles: string[];
  /** Suricata-style YAML (vars, action-order, ...). */
  configPath: string | undefined;
  /** IDS mode: alert only, never drop. */
  monitor: boolean;
  /** Address → container JSON (the lab layout, or {containers: [...]}) */
  containersFile: string | undefined;
  /** Seconds between EVE `stats` records (0 = only at exit). */
  statsIntervalMs: number;
}

/** rules/lateral.rules next to the compiled CLI (dist/src/cli → repo root). */
export const DEFAULT_RULES = path.resolve(__dirname, '..', '..', '..', 'rules', 'lateral.rules');

export const RUN_USAGE = `Usage: lateral run --bridge BR [--bridge BR2 ...] [options]

Queues traffic between ports of the given bridges to Lateral (one worker per queue),
prints a summary line every --summary-interval seconds, and removes its rules on
SIGINT/SIGTERM.

  --bridge BR             bridge to inspect (repeatable; docker0, br-<id>, a lab bridge)
  --queues A-B            NFQUEUE numbers, balanced per flow (default 0-0)
  --fail-open             pass traffic while Lateral is not running (--queue-bypass) and
                          when its queue is full (FAIL_OPEN); the default
  --fail-closed           drop traffic in both cases
  --overload accept|drop  override only the queue-full behaviour
  --hook auto|forward|docker-user
                          where to hook in (default auto: DOCKER-USER if it exists)
  --instance NAME         rule tag/chain suffix, for several installs side by side (default main)
  --repeat-mark BIT       mark bit of judged packets (default 0x100000)
  --bypass-mark BIT       mark/connmark bit of flows taken off the queue (default 0x200000)
  --queue-maxlen N        kernel queue length (default 4096)
  --copy-range N          bytes copied per packet (default 65535; 256 with --no-rules)
  --batch N               most packets per batch (default 256)
  --no-gso                let the kernel segment GSO packets before queueing (slow)
  --conntrack             ask for NFQA_CFG_F_CONNTRACK (fails on kernels without it)
  --summary-interval SEC  seconds between summary lines (default 10; 0 = only at exit)
  --rules FILE            Suricata rules (repeatable; default rules/lateral.rules)
  --no-rules              no engine: accept everything (capture and counters only)
  --config YAML           Suricata-style YAML: vars (HOME_NET, EXTERNAL_NET ...),
                          action-order. EXTERNAL_NET defaults to "any" live (east-west)
  --monitor               IDS: alert only; drop rules alert as "allowed", nothing is dropped
                          (default: IPS, drop/reject rules drop the packet and its flow)
  --containers FILE       address -> container names for alerts, metrics and the map
                          (the JSON of \`scripts/lab up\`, or {"containers":[{name,addresses}]})
  --eve FILE|-            EVE-JSON alerts and stats records (SIGUSR1 reopens FILE;
                          with "-" all logs go to stderr)
  --stats-interval SEC    seconds between EVE stats records (default 8; 0 = only at exit)
  --metrics-listen [H:]P  Prometheus /metrics, live map on / and /api/map (loopback when
                          only a port is given; default off)
`;

const SPEC = {
  bridge: 'multiple',
  queues: 'string',
  'fail-open': 'boolean',
  'fail-closed': 'boolean',
  overload: 'string',
  hook: 'string',
  instance: 'string',
  'repeat-mark': 'string',
  'bypass-mark': 'string',
  'queue-maxlen': 'string',
  'copy-range': 'string',
  batch: 'string',
  'no-gso': 'boolean',
  conntrack: 'boolean',
  'summary-interval': 'string',
  eve: 'string',
  'metrics-listen': 'string',
  rules: 'multiple',
  'no-rules': 'boolean',
  config: 'string',
  monitor: 'boolean',
  containers: 'string',
  'stats-interval': 'string',
} as const;

export function parseRunOptions(argv: readonly string[]): RunOptions {
  const cmd = 'lateral run';
  const f = parseFlags(argv, SPEC, cmd);
  if (f.positionals.length > 0) {
    throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: unexpected argument ${JSON.stringify(f.positionals[0])}`);
  }
  const bridges = f.multiples.get('bridge') ?? [];
  if (bridges.length === 0) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --bridge is required`);
  for (const b of bridges) validateBridgeName(b);

  let firstQueue = 0;
  let lastQueue = 0;
  const q = f.strings.get('queues');
  if (q !== undefined) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(q);
    if (!m) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --queues expects N or A-B, got ${JSON.stringify(q)}`);
    firstQueue = parseUint(cmd, 'queues', m[1]!, 0, 65535);
    lastQueue = m[2] === undefined ? firstQueue : parseUint(cmd, 'queues', m[2], 0, 65535);
    if (lastQueue < firstQueue) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --queues ${q}: end before start`);
    if (lastQueue - firstQueue >= 64) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --queues ${q}: at most 64 queues`);
  }

  if (f.booleans.has('fail-open') && f.booleans.has('fail-closed')) {
    throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --fail-open and --fail-closed exclude each other`);
  }
  const failOpen = !f.booleans.has('fail-closed');
  let overloadAccept = failOpen;
  const overload = f.strings.get('overload');
  if (overload !== undefined) {
    if (overload !== 'accept' && overload !== 'drop') {
      throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --overload expects accept or drop, got ${JSON.stringify(overload)}`);
    }
    overloadAccept = overload === 'accept';
  }

  const hookArg = f.strings.get('hook') ?? 'auto';
  const hooks: Record<string, RunOptions['hook']> = { auto: 'auto', forward: 'FORWARD', 'docker-user': 'DOCKER-USER' };
  const hook = hooks[hookArg];
  if (hook === undefined) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --hook expects auto, forward or docker-user`);

  const instance = f.strings.get('instance') ?? 'main';
  validateInstance(instance);

  const bit = (name: string, dflt: number): number => {
    const v = f.strings.get(name);
    if (v === undefined) return dflt;
    const n = parseUint(cmd, name, v, 1, 0xffffffff);
    if ((n & (n - 1)) !== 0) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --${name} must be a single bit, got ${v}`);
    return n;
  };
  const repeatMark = bit('repeat-mark', 0x100000);
  const bypassMark = bit('bypass-mark', 0x200000);
  if (repeatMark === bypassMark) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --repeat-mark and --bypass-mark must differ`);

  const num = (name: string, dflt: number, min: number, max: number): number => {
    const v = f.strings.get(name);
    return v === undefined ? dflt : parseUint(cmd, name, v, min, max);
  };
  let metricsListen = f.strings.get('metrics-listen');
  if (metricsListen !== undefined && /^:?\d{1,5}$/.test(metricsListen)) metricsListen = `127.0.0.1:${metricsListen.replace(':', '')}`;
  if (metricsListen !== undefined && !/^[^\s:]+:\d{1,5}$/.test(metricsListen) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(metricsListen)) {
    throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --metrics-listen expects HOST:PORT, got ${JSON.stringify(metricsListen)}`);
  }
  return {
    bridges,
    firstQueue,
    lastQueue,
    queueBypass: failOpen,
    overloadAccept,
    hook,
    instance,
    repeatMark,
    bypassMark,
    maxLen: num('queue-maxlen', 4096, 1, 1 << 20),
    copyRange: num('copy-range', copyRangeFor(!f.booleans.has('no-rules')), 64, 65535),
    batchLimit: num('batch', 256, 1, 4096),
    gso: !f.booleans.has('no-gso'),
    conntrack: f.booleans.has('conntrack'),
    summaryIntervalMs: num('summary-interval', 10, 0, 86400) * 1000,
    eve: f.strings.get('eve'),
    metricsListen,
    ruleFiles: ruleFiles(f.multiples.get('rules'), f.booleans.has('no-rules'), cmd),
    configPath: f.strings.get('config'),
    monitor: f.booleans.has('monitor'),
    containersFile: f.strings.get('containers'),
    statsIntervalMs: num('stats-interval', 8, 0, 86400) * 1000,
  };
}

function ruleFiles(given: string[] | undefined, none: boolean, cmd: string): string[] {
  if (none && given !== undefined) throw new LateralError('LATERAL_ERR_USAGE', `${cmd}: --rules and --no-rules exclude each other`);
  if (none) return [];
  return given ?? [DEFAULT_RULES];
}
