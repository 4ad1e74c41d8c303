// Engine configuration from a Suricata-style YAML: vars (address-groups, port-groups) with
// Suricata 7's stock defaults, classification.config, action-order, packet-alert-max, and
// IPS mode. Cold path: read once at start or reload.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { LateralError } from '../errors';
import type { GroupLayout } from './signatureGroups';

export interface Classification {
  name: string;
  description: string;
  priority: number;
}

export interface DetectConfig {
  addressVars: Map<string, string>;
  portVars: Map<string, string>;
  classifications: Map<string, Classification>;
  /** IPS semantics (live inline, or offline --simulate-ips): drop/reject block. */
  ipsMode: boolean;
  /** Suricata's packet-alert-max (default 15). */
  packetAlertMax: number;
  /** Suricata's action-order (default pass, drop, reject, alert). */
  actionOrder: string[];
  /** App-layer protocols the app-layer stage parses; rules needing others are skipped. */
  appLayerProtocols: Set<string>;
  /**
   * How the engine groups signatures (signatureGroups.ts): 'port' (absent: the default) by
   * protocol, flow direction and service port; 'protocol' by IP protocol only, the older
   * layout, to check the grouped engine against.
   */
  signatureGroups?: GroupLayout;
}

/** Suricata 7.0.10's stock suricata.yaml vars, verbatim. */
export const DEFAULT_ADDRESS_GROUPS: Record<string, string> = {
  HOME_NET: '[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]',
  EXTERNAL_NET: '!$HOME_NET',
  HTTP_SERVERS: '$HOME_NET',
  SMTP_SERVERS: '$HOME_NET',
  SQL_SERVERS: '$HOME_NET',
  DNS_SERVERS: '$HOME_NET',
  TELNET_SERVERS: '$HOME_NET',
  AIM_SERVERS: '$EXTERNAL_NET',
  DC_SERVERS: '$HOME_NET',
  DNP3_SERVER: '$HOME_NET',
  DNP3_CLIENT: '$HOME_NET',
  MODBUS_CLIENT: '$HOME_NET',
  MODBUS_SERVER: '$HOME_NET',
  ENIP_CLIENT: '$HOME_NET',
  ENIP_SERVER: '$HOME_NET',
};

export const DEFAULT_PORT_GROUPS: Record<string, string> = {
  HTTP_PORTS: '80',
  SHELLCODE_PORTS: '!80',
  ORACLE_PORTS: '1521',
  SSH_PORTS: '22',
  DNP3_PORTS: '20000',
  MODBUS_PORTS: '502',
  FILE_DATA_PORTS: '[$HTTP_PORTS,110,143]',
  FTP_PORTS: '21',
  GENEVE_PORTS: '6081',
  VXLAN_PORTS: '4789',
  TEREDO_PORTS: '3544',
};

/** The app-layer parsers Lateral has (src/applayer). */
export const DEFAULT_APP_LAYER = ['http', 'http1', 'http2', 'dns', 'tls', 'ssh'];

/** Where the default classification.config is looked for, first hit wins. */
function defaultClassificationFile(): string | null {
  const candidates = [
    path.resolve(__dirname, '../../rules/classification.config'),
    path.resolve(__dirname, '../../../rules/classification.config'),
    '/etc/suricata/classification.config',
  ];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  return null;
}

/** Parses `config classification: name,description,priority` lines. */
export function parseClassificationConfig(text: string, file: string): Map<string, Classification> {
  const out = new Map<string, Classification>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^config\s+classification\s*:\s*([^,]+),([^,]*),\s*(\d+)\s*$/.exec(line);
    if (!m) throw new LateralError('LATERAL_ERR_CONFIG', `bad classification line: ${line}`, { file, line: i + 1 });
    out.set(m[1]!.trim(), { name: m[1]!.trim(), description: m[2]!.trim(), priority: Number(m[3]) });
  });
  return out;
}

export function defaultDetectConfig(): DetectConfig {
  const cf = defaultClassificationFile();
  return {
    addressVars: new Map(Object.entries(DEFAULT_ADDRESS_GROUPS)),
    portVars: new Map(Object.entries(DEFAULT_PORT_GROUPS)),
    classifications: cf ? parseClassificationConfig(fs.readFileSync(cf, 'utf8'), cf) : new Map(),
    ipsMode: false,
    packetAlertMax: 15,
    actionOrder: ['pass', 'drop', 'reject', 'alert'],
    appLayerProtocols: new Set(DEFAULT_APP_LAYER),
  };
}

function asRecord(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/**
 * Reads a Suricata-style YAML. Groups it defines replace the defaults one by one (a YAML
 * that only sets HOME_NET keeps Suricata's other defaults).
 */
export function loadDetectConfig(yamlFile?: string): DetectConfig {
  const cfg = defaultDetectConfig();
  if (!yamlFile) return cfg;
  let doc: unknown;
  try {
    doc = parseYaml(fs.readFileSync(yamlFile, 'utf8').replace(/^%YAML.*\n/, ''), { strict: false, uniqueKeys: false });
  } catch (e) {
    // One line naming file:line: the yaml package's message carries a multi-line excerpt.
    const linePos = (e as { linePos?: Array<{ line: number }> }).linePos;
    const cause = (e as Error).message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new LateralError('LATERAL_ERR_CONFIG', `cannot read YAML: ${cause}`, { file: yamlFile, line: linePos?.[0]?.line ?? 0 }, { cause: e });
  }
  const root = asRecord(doc) ?? {};
  const vars = asRecord(root['vars']);
  const ag = asRecord(vars?.['address-groups']);
  const pg = asRecord(vars?.['port-groups']);
  if (ag) for (const [k, v] of Object.entries(ag)) cfg.addressVars.set(k, String(v));
  if (pg) for (const [k, v] of Object.entries(pg)) cfg.portVars.set(k, String(v));
  const order = root['action-order'];
  if (Array.isArray(order)) cfg.actionOrder = order.map(String);
  if (typeof root['packet-alert-max'] === 'number') cfg.packetAlertMax = root['packet-alert-max'];
  const cls = root['classification-file'];
  if (typeof cls === 'string') {
    const file = path.resolve(path.dirname(yamlFile), cls);
    if (fs.existsSync(file)) cfg.classifications = parseClassificationConfig(fs.readFileSync(file, 'utf8'), file);
  }
  return cfg;
}
