// The progress bar is for people at a terminal: drawn on a TTY stderr, absent otherwise, and
// never on stdout (which may be piped into another program).
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../lib/cli/main.js';

function capture(isTTY: boolean) {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 80;
  return { stream, text: () => text };
}

describe('classify progress', () => {
  it('draws a bar per batch on a TTY stderr and clears it at the end', async () => {
    const out = capture(false);
    const err = capture(true);
    const code = await runCli(['classify', 'samples', '--batch', '4', '--top', '1'], { stdout: out.stream, stderr: err.stream });
    expect(code).toBe(0);
    const frames = err.text().split('\r').filter((f) => f.startsWith('['));
    expect(frames.map((f) => /\] (\d+)\/10 images/.exec(f)?.[1])).toEqual(['4', '8', '10']);
    expect(frames[2]).toMatch(/^\[#+\]/);
    expect(err.text().endsWith('\r\x1b[K')).toBe(true);
    expect(out.text()).not.toMatch(/\r|#/);
  });

  it('writes nothing to stderr when it is not a terminal', async () => {
    const out = capture(false);
    const err = capture(false);
    expect(await runCli(['classify', 'samples', '--batch', '4', '--top', '1'], { stdout: out.stream, stderr: err.stream })).toBe(0);
    expect(err.text()).toBe('');
    expect(out.text().split('\n')).toHaveLength(13); // header, rule, 10 rows, final newline
  });
});
