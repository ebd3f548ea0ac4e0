// The bench scripts' one command-line reader (bench/harness.mjs parseFlags): how each kind of
// flag is read, and that every bench script answers --help with its usage (exit 0) and a bad
// command line with a message naming the flag (exit 2) instead of a crash or a silent default.
// No benchmark runs here: --help and the errors exit before any timing starts.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseFlags, positiveIntegers } from '../bench/harness.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const benchDir = join(root, 'bench');
/** Modules the scripts import; they have no command line of their own. */
const LIBRARIES = ['harness.mjs', 'ab-addons.mjs', 'zoo-env.mjs'];
const scripts = readdirSync(benchDir).filter((f) => f.endsWith('.mjs') && !LIBRARIES.includes(f));

function bench(file: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(benchDir, file), ...args], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const url = new URL('../bench/zoo.mjs', import.meta.url).href;

describe('parseFlags', () => {
  it('reads numbers, strings, switches and repeated flags; defaults stay where nothing is given', () => {
    const spec = { '--rounds': 9, '--only': String, '--ms': Number, '--quick': false, '--addon': [] as string[], '--models': 'a,b' };
    const flags = parseFlags(url, spec, { argv: ['--rounds', '3', '--addon', 'x.node', '--quick', '--addon', 'y.node', '--only', '5x5'] });
    expect(flags).toEqual({ _: [], '--rounds': 3, '--only': '5x5', '--ms': undefined, '--quick': true, '--addon': ['x.node', 'y.node'], '--models': 'a,b' });
    // The default array is copied, never filled in place.
    expect(spec['--addon']).toEqual([]);
    expect(parseFlags(url, spec, { argv: [] })['--quick']).toBe(false);
  });

  it('keeps positional arguments only when the script takes them', () => {
    expect(parseFlags(url, { '--rounds': 9 }, { argv: ['models', '--rounds', '-1'], positional: true })).toEqual({ _: ['models'], '--rounds': -1 });
  });

  it('positiveIntegers reads a comma list', () => {
    expect(positiveIntegers('--threads', '1,2')).toEqual([1, 2]);
  });
});

describe('every bench script', () => {
  it('finds the scripts', () => {
    expect(scripts).toContain('zoo.mjs');
    expect(scripts.length).toBeGreaterThan(15);
  });

  it.each(scripts)('%s --help prints its usage and exits 0', async (file) => {
    const { code, stdout, stderr } = await bench(file, '--help');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // The usage names the script (`node bench/x.mjs [...]`, or npm run bench for run.mjs).
    expect(stdout).toMatch(file === 'run.mjs' ? /npm run bench/ : new RegExp(`bench/${file.replace('.', '\\.')}`));
  });

  it.each([
    ['zoo.mjs', ['--rounds'], '--rounds needs a value'],
    ['zoo.mjs', ['--threads', '0'], "--threads takes positive integers separated by commas, got '0'"],
    ['zoo.mjs', ['--bogus', '1'], 'unknown flag --bogus'],
    ['dwconv.mjs', ['--rounds', 'x'], "--rounds takes a number, got 'x'"],
    ['thread-share.mjs', ['--threads'], '--threads needs a value'],
    ['zoo-summary.mjs', ['--markdown'], 'unknown flag --markdown'],
    ['conv-algorithms.mjs', ['nope'], 'one of layers, grouped, models'],
    ['memory.mjs', ['extra'], "unexpected argument 'extra'"],
  ])('%s %j exits 2: %s', async (file, args, message) => {
    const { code, stderr } = await bench(file, ...args);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});
