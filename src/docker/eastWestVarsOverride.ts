// East-west HOME_NET / EXTERNAL_NET for `lateral run` on a Docker host, with a YAML override.
//
// Defaults come from eastWestVars() (HOME_NET = the protected networks' subnets, EXTERNAL_NET
// = any). A Suricata-style YAML (`vars: address-groups:`) that sets either one wins for that
// one; the other keeps its live default. Unlike the defaults, an override is fixed text: it is
// not recomputed when networks come and go.
import * as fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { LateralError } from '../errors';
import type { ContainerDirectory } from './containerDirectory';
import { eastWestVars } from './eastWestVars';

export type EastWestVars = Record<'HOME_NET' | 'EXTERNAL_NET', string>;

/** HOME_NET / EXTERNAL_NET set in the YAML's vars.address-groups (only those two). */
export function readAddressVarOverrides(yamlFile: string): Partial<EastWestVars> {
  let doc: unknown;
  try {
    doc = parseYaml(fs.readFileSync(yamlFile, 'utf8').replace(/^%YAML.*\n/, ''), { strict: false, uniqueKeys: false });
  } catch (e) {
    throw new LateralError('LATERAL_ERR_CONFIG', `cannot read YAML: ${(e as Error).message}`, { file: yamlFile, line: 0 }, { cause: e });
  }
  const out: Partial<EastWestVars> = {};
  const vars = record(record(doc)?.['vars']);
  const groups = record(vars?.['address-groups']);
  for (const k of ['HOME_NET', 'EXTERNAL_NET'] as const) {
    const v = groups?.[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v.trim() === '') {
      throw new LateralError('LATERAL_ERR_CONFIG', `vars.address-groups.${k} must be a non-empty string`, { file: yamlFile, line: 0 });
    }
    out[k] = v;
  }
  return out;
}

/** The live defaults with the YAML's overrides applied. */
export function eastWestVarsWithOverride(directory: ContainerDirectory, networks: readonly string[] | undefined, yamlFile?: string): EastWestVars {
  const vars = eastWestVars(directory, networks ? { networks } : {});
  return yamlFile ? { ...vars, ...readAddressVarOverrides(yamlFile) } : vars;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
