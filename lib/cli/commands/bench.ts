/** `convnode bench`: runs the benchmark harness (bench/run.mjs) with the same node. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CliIO, Command, ParsedArgs } from '../command.js';

// lib/cli/commands and dist/cli/commands are both three levels below the package root.
const RUNNER = fileURLToPath(new URL('../../../bench/run.mjs', import.meta.url));

async function run({ positionals }: ParsedArgs, io: CliIO): Promise<number> {
  if (!existsSync(RUNNER)) {
    io.stderr.write(`convnode bench: ${RUNNER} is missing; the benchmarks ship with the source repository, not the npm package\n`);
    return 1;
  }
  const child = spawn(process.execPath, [RUNNER, ...positionals], { stdio: 'inherit' });
  return new Promise((resolve) => {
    child.on('error', (error) => {
      io.stderr.write(`convnode bench: cannot start ${RUNNER}: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

export const bench: Command = {
  name: 'bench',
  summary: 'Run the benchmarks of bench/ (native vs pure-JS vs TensorFlow.js and onnxruntime).',
  usage: 'bench [section...]',
  minPositionals: 0,
  maxPositionals: Infinity,
  options: {},
  examples: ['convnode bench', 'convnode bench native models'],
  run,
};
