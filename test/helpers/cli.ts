/**
 * The CLI run in-process through runCli (the same code bin/convnode.js runs from dist/), its
 * output caught in memory: what the CLI tests assert on.
 */
import { Writable } from 'node:stream';
import { runCli } from '../../lib/cli/main.js';

/** A stream that keeps everything written to it in `text`. */
export function sink(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  stream.text = '';
  return stream;
}

/** `convnode ...args`: the exit code and everything printed to stdout and stderr. */
export async function convnode(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = sink();
  const stderr = sink();
  const code = await runCli(args, { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
