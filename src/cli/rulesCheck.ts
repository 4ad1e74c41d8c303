// `lateral rules check FILE... [--json] [--config YAML]`: loads rule files the way the
// engine would and reports what loaded, what was skipped and why (with file:line), and
// syntax errors. Commented-out rules are not rules and are not counted. Exit code is
// non-zero only when a rule has a syntax error (or the command line / config is wrong);
// skipped rules are expected with third-party rule sets.

import { LateralError } from '../errors';
import { loadDetectConfig } from '../detect/detectConfig';
import { loadRuleFiles } from '../detect/ruleLoader';
import { DetectEngine } from '../detect/detectEngine';
import { resolveRuleAddressGroups } from '../docker/containerAddressGroups';

const USAGE = 'usage: lateral rules check FILE... [--json] [--config suricata.yaml] [--containers FILE]\n';

/** Report on out; a failure that stops the check is one line on err: exit 2 usage, 1 otherwise. */
export async function runRulesCheck(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream = out): Promise<number> {
  const files: string[] = [];
  let json = false;
  let configFile: string | undefined;
  let containersFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') json = true;
    else if (a === '--config') {
      configFile = args[++i];
      if (!configFile) { err.write(`lateral: rules check: --config needs a file\n${USAGE}`); return 2; }
    } else if (a === '--containers') {
      containersFile = args[++i];
      if (!containersFile) { err.write(`lateral: rules check: --containers needs a file\n${USAGE}`); return 2; }
    } else if (a === '-h' || a === '--help') { out.write(USAGE); return 0; }
    else if (a.startsWith('-')) { err.write(`lateral: rules check: unknown option ${a}\n${USAGE}`); return 2; }
    else files.push(a);
  }
  if (files.length === 0) { err.write(`lateral: rules check: no rule file given\n${USAGE}`); return 2; }
  try {
    const config = loadDetectConfig(configFile);
    const t0 = Date.now();
    const set = loadRuleFiles(files, config);
    const loadMs = Date.now() - t0;
    const engine = DetectEngine.compile(set, config);
    // [cdocker] container address groups: resolved at run time; offline empty unless --containers.
    const groups = resolveRuleAddressGroups(set.signatures, containersFile);
    const reasons: Record<string, number> = {};
    for (const s of set.skipped) reasons[s.reason] = (reasons[s.reason] ?? 0) + 1;
    const errors = set.errors.map((e) => ({ file: e.location?.file ?? '', line: e.location?.line ?? 0, error: e.message }));
    if (json) {
      const report = {
        loaded: set.signatures.length,
        skipped: set.skipped.length,
        errors: errors.length,
        reasons,
        loadMs,
        compileMs: engine.stats.compileMs,
        addressGroups: groups.refs.map((r) => ({ ...r, addresses: groups.update.find(([e]) => e === r.expr)?.[1] ?? [] })),
        warnings: groups.warnings,
        rules: [
          ...set.skipped.map((s) => ({ file: s.file, line: s.line, sid: s.sid, status: 'skipped', reason: s.reason })),
          ...errors.map((e) => ({ file: e.file, line: e.line, status: 'error', reason: e.error })),
        ],
      };
      out.write(JSON.stringify(report) + '\n');
    } else {
      const total = set.signatures.length + set.skipped.length + errors.length;
      out.write(`${set.signatures.length} loaded, ${set.skipped.length} skipped, ${errors.length} errors (of ${total} rules; ` +
        `load ${loadMs} ms, compile ${engine.stats.compileMs} ms)\n`);
      for (const e of errors) out.write(`error: ${e.error}\n`);
      for (const w of groups.warnings) out.write(`warning: ${w}\n`);
      for (const s of set.skipped) out.write(`skipped: ${s.file}:${s.line}: sid ${s.sid}: ${s.reason}\n`);
      const top = Object.entries(reasons).sort((a, b) => b[1] - a[1]);
      if (top.length) out.write('skip reasons:\n' + top.map(([r, n]) => `  ${n}\t${r}`).join('\n') + '\n');
    }
    return errors.length > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof LateralError) {
      err.write(`lateral: ${e.message} [${e.code}]\n`);
      return e.code === 'LATERAL_ERR_USAGE' ? 2 : 1;
    }
    throw e;
  }
}
