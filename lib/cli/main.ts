/**
 * `convnode <command> [options]`: finds the command, parses its flags with node:util parseArgs,
 * and turns every mistake on the command line into one clear line on stderr and exit code 2.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { COMMANDS } from './commands/index.js';
import { UsageError, type CliIO, type Command, type OptionSpec } from './command.js';

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' };

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs the CLI; resolves to the process exit code (0 ok, 1 failed, 2 bad command line). */
export async function runCli(argv: readonly string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topLevelHelp());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    const hint = name.startsWith('-') ? 'options go after a command' : `choose one of ${COMMANDS.map((c) => c.name).join(', ')}`;
    io.stderr.write(`convnode: unknown command '${name}' (${hint}); see convnode --help\n`);
    return 2;
  }
  try {
    const args = parseCommandArgs(command, rest);
    if (args.values.help === true) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`convnode ${command.name}: ${error.message}\nsee convnode ${command.name} --help\n`);
      return 2;
    }
    io.stderr.write(`convnode ${command.name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function parseCommandArgs(command: Command, argv: readonly string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...command.options, help: HELP_OPTION },
      allowPositionals: command.maxPositionals > 0,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error as Error & { code?: string }));
  }
  if (parsed.values.help !== true) {
    const count = parsed.positionals.length;
    if (count < command.minPositionals) throw new UsageError(`missing argument: usage is convnode ${command.usage}`);
    if (count > command.maxPositionals) {
      throw new UsageError(`too many arguments (${parsed.positionals.slice(command.maxPositionals).join(' ')}): usage is convnode ${command.usage}`);
    }
  }
  return parsed as { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
}

/** Node's parseArgs messages, made short and specific. */
function describeParseError(error: Error & { code?: string }): string {
  const quoted = /'([^']+)'/.exec(error.message)?.[1] ?? '';
  // Node quotes '-k, --top <value>' for options with a short alias: name the long form.
  const flag = /--[\w-]+/.exec(quoted)?.[0] ?? quoted.split(' ')[0];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option '${flag}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (error.message.includes('argument missing')) return `option '${flag}' needs a value`;
      // '--padding -1': Node will not guess whether -1 is a value or another option.
      if (error.message.includes('ambiguous')) return `option '${flag}' needs a value; write a value that starts with '-' as ${flag}=-1`;
      return `option '${flag}' takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `this command takes no arguments, got '${quoted}'`;
    default:
      return error.message;
  }
}

export function commandHelp(command: Command): string {
  const options = Object.entries({ ...command.options, help: HELP_OPTION }).map(([long, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : '    ';
    return [`${short}--${long}${spec.value ? ` ${spec.value}` : ''}`, spec.help];
  });
  const width = Math.max(...options.map(([flag]) => flag.length));
  return [
    `Usage: convnode ${command.usage}`,
    '',
    command.summary,
    '',
    'Options:',
    ...options.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`),
    '',
    'Examples:',
    ...command.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}

function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: convnode <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show this help (convnode <command> --help for a command)',
    '  -v, --version  print the convnode version',
    '',
    'Examples:',
    '  convnode classify samples/',
    '  convnode summary lenet5 --input 1x3x32x32',
    '',
  ].join('\n');
}
