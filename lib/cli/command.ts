/** What every `convnode <command>` provides, and the error that means "you typed it wrong". */
import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & {
  /** Shown in --help, e.g. '--top <k>   how many labels per image (default 5)'. */
  readonly help: string;
  /** The placeholder after the flag in --help, e.g. '<k>'; omitted for boolean flags. */
  readonly value?: string;
};

/** Where a command writes; tests and the progress bar need to know whether stderr is a terminal. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
}

export interface Command {
  readonly name: string;
  /** One line for `convnode --help`. */
  readonly summary: string;
  /** The usage line after 'convnode ', e.g. 'classify <image|dir|glob...> [options]'. */
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Full command lines shown under "Examples" in --help. */
  readonly examples: readonly string[];
  /** Whether positionals are allowed (and how many at least). */
  readonly minPositionals: number;
  readonly maxPositionals: number;
  /** Resolves to the exit code. Throw UsageError for bad flag values (exit 2). */
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

/** Bad command line: printed with a hint to --help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
