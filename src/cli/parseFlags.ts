// A small, strict command-line flag parser: known flags only, `--flag value` or
// `--flag=value`, repeatable flags collected in order. Anything else is a usage error
// (LATERAL_ERR_USAGE, exit code 2) naming the flag.
import { LateralError } from '../errors';

export type FlagKind = 'string' | 'boolean' | 'multiple';

export type FlagSpec = Record<string, FlagKind>;

export interface ParsedFlags {
  strings: Map<string, string>;
  booleans: Set<string>;
  multiples: Map<string, string[]>;
  positionals: string[];
}

export function parseFlags(argv: readonly string[], spec: FlagSpec, command: string): ParsedFlags {
  const out: ParsedFlags = { strings: new Map(), booleans: new Set(), multiples: new Map(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const kind = spec[name];
    if (kind === undefined) throw new LateralError('LATERAL_ERR_USAGE', `${command}: unknown flag --${name} (see --help)`);
    if (kind === 'boolean') {
      if (eq >= 0) throw new LateralError('LATERAL_ERR_USAGE', `${command}: --${name} takes no value`);
      out.booleans.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      // A value may be "-" (stdout) but not another flag.
      if (value === undefined || (value.startsWith('--') && value.length > 2)) {
        throw new LateralError('LATERAL_ERR_USAGE', `${command}: --${name} needs a value`);
      }
      i++;
    }
    if (value === '') throw new LateralError('LATERAL_ERR_USAGE', `${command}: --${name} needs a non-empty value`);
    if (kind === 'multiple') {
      const list = out.multiples.get(name) ?? [];
      list.push(value);
      out.multiples.set(name, list);
    } else {
      if (out.strings.has(name)) throw new LateralError('LATERAL_ERR_USAGE', `${command}: --${name} given twice`);
      out.strings.set(name, value);
    }
  }
  return out;
}

/** Parses an unsigned integer flag value (decimal or 0x hex) within [min, max]. */
export function parseUint(command: string, flag: string, value: string, min: number, max: number): number {
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(value)) {
    throw new LateralError('LATERAL_ERR_USAGE', `${command}: --${flag} expects a number, got ${JSON.stringify(value)}`);
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new LateralError('LATERAL_ERR_USAGE', `${command}: --${flag} must be in ${min}..${max}, got ${value}`);
  }
  return n;
}
