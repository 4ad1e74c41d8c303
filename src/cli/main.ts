// The `lateral` command: dispatches subcommands. Usage errors exit 2, other failures 1.
import { LateralError } from '../errors';
import { runCommand } from './run';
import { uninstallCommand } from './uninstall';
import { runReplay } from './replay';
import { runRulesCheck } from './rulesCheck';
import { reloadCommand } from './reload';

type Command = (argv: readonly string[]) => number | Promise<number>;

// One line per subcommand. Others plug in here: replay (pcap through the engine),
// `rules check`, watch (live alerts).
const COMMANDS: Record<string, { run: Command; summary: string }> = {
  run: { run: runCommand, summary: 'inspect traffic on Docker/lab bridges through NFQUEUE' },
  reload: { run: reloadCommand, summary: 'make a running `lateral run` reload its rule files (same as SIGHUP), report the outcome' },
  uninstall: { run: uninstallCommand, summary: 'remove every iptables rule Lateral installed' },
  replay: { run: (argv) => runReplay(argv), summary: 'run pcap/pcapng files through the engine, alerts as EVE JSON' },
  watch: { run: (argv) => (require('./watch') as typeof import('./watch')).runWatch(argv), summary: 'the engine on a passive copy of bridge traffic: alerts, metrics, evidence; never blocks' },
  rules: { run: rulesCommand, summary: "'rules check FILE...': which rules load, which are skipped and why" },
};

function rulesCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'check') {
    throw new LateralError('LATERAL_ERR_USAGE', `rules: unknown subcommand ${JSON.stringify(sub ?? '')} (usage: lateral rules check FILE... [--json] [--config YAML])`);
  }
  return runRulesCheck(rest, process.stdout, process.stderr);
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`);
  return `Usage: lateral <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun \`lateral <command> --help\` for its options.\n`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`lateral: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof LateralError) {
      process.stderr.write(`lateral: ${e.message} [${e.code}]\n`);
      return e.code === 'LATERAL_ERR_USAGE' ? 2 : 1;
    }
    throw e;
  }
}

if (require.main === module) {
  // `lateral rules check ... | head` closes stdout early: that is the reader's choice, not a failure.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  // Output to a pipe is written asynchronously: exit only once stdout has taken everything,
  // or `lateral rules check --json | jq` reads a document cut at 64 KiB.
  const exitAfterOutput = (code: number): void => {
    if (process.stdout.writableLength === 0) process.exit(code);
    else process.stdout.write('', () => process.exit(code));
  };
  main(process.argv.slice(2)).then(
    exitAfterOutput,
    (e: unknown) => {
      process.stderr.write(`lateral: unexpected failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
