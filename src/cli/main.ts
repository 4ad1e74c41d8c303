// The `lateral` command: dispatches subcommands. Usage errors exit 2, other failures 1.
import { LateralError } from '../errors';
import { runCommand } from './run';
import { uninstallCommand } from './uninstall';

type Command = (argv: readonly string[]) => number | Promise<number>;

// One line per subcommand. Others plug in here: replay (pcap through the engine),
// `rules check`, watch (live alerts).
const COMMANDS: Record<string, { run: Command; summary: string }> = {
  run: { run: runCommand, summary: 'inspect traffic on Docker/lab bridges through NFQUEUE' },
  uninstall: { run: uninstallCommand, summary: 'remove every iptables rule Lateral installed' },
};

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
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`lateral: unexpected failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
