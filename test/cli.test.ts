// The `convnode` command run as users run it: a child process on the compiled dist/ (npm test
// builds it first in "pretest"; after editing lib/, run `npm run build`).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'convnode.js');
const samples = readdirSync(join(root, 'samples')).filter((f) => f.endsWith('.png')).sort();
const LABELS = readFileSync(join(root, 'models', 'lenet5-fashion.labels.txt'), 'utf8').trim().split('\n');

/** The true class of a sample from its name: '0019-t-shirt-top.png' -> 'T-shirt/top'. */
function truth(file: string): string {
  const slug = file.replace(/^\d+-/, '').replace(/\.png$/, '');
  const label = LABELS.find((l) => l.toLowerCase().replace(/[/ ]/g, '-') === slug);
  if (!label) throw new Error(`sample ${file} names no label`);
  return label;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function convnode(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, CONVNODE_BACKEND: process.env.CONVNODE_BACKEND } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(() => {
  const main = join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error('dist/cli/main.js is missing: run `npm run build` (npm test does it in pretest)');
  const compiled = statSync(main).mtimeMs;
  const source = statSync(join(root, 'lib', 'cli', 'main.ts')).mtimeMs;
  if (source > compiled) throw new Error('dist/ is older than lib/cli/main.ts: run `npm run build`');
});

describe('convnode classify with the built-in model', () => {
  it('labels the shipped samples with their true classes (--json)', async () => {
    const run = await convnode('classify', 'samples', '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.input).toEqual([1, 28, 28]);
    expect(report.results.map((r: { file: string }) => r.file)).toEqual(samples.map((f) => join('samples', f)));
    for (const result of report.results) {
      expect(result.top).toHaveLength(5);
      const probabilities = result.top.map((p: { probability: number }) => p.probability);
      expect([...probabilities].sort((a, b) => b - a)).toEqual(probabilities);
      expect(probabilities.reduce((a: number, b: number) => a + b, 0)).toBeLessThanOrEqual(1 + 1e-9);
      expect(LABELS[result.top[0].index]).toBe(result.top[0].label);
    }
    const right = report.results.filter((r: { file: string; top: { label: string }[] }) => r.top[0].label === truth(r.file.slice(8)));
    // The model is ~90% accurate; these ten were all right when it was trained (models/lenet5-fashion.json).
    expect(right.length).toBeGreaterThanOrEqual(9);
  });

  it('prints a table with one row per image, honouring --top and globs', async () => {
    const run = await convnode('classify', 'samples/000[4-9]-s*.png', '--top', '2');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^File\s+Prediction\s+Probability\s+Runners-up$/);
    const rows = lines.slice(2);
    expect(rows.map((l) => l.split(/\s{2,}/)[0])).toEqual(['samples/0004-shirt.png', 'samples/0008-sandal.png', 'samples/0009-sneaker.png']);
    for (const row of rows) {
      const [file, label, probability, runnersUp] = row.split(/\s{2,}/);
      expect(label).toBe(truth(file.slice(8)));
      expect(probability).toMatch(/^\d+\.\d%$/);
      expect(runnersUp.split(', ')).toHaveLength(1);
    }
  });

  it('reports a corrupt file by name with exit code 1 and still classifies the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convnode-cli-'));
    writeFileSync(join(dir, 'broken.png'), 'this is not a png');
    const run = await convnode('classify', join('samples', samples[0]), join(dir, 'broken.png'), '--json', '--top', '1');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/broken\.png.*cannot be decoded/);
    const { results } = JSON.parse(run.stdout);
    expect(results[0].top[0].label).toBe(truth(samples[0]));
    expect(results[1]).toEqual({ file: join(dir, 'broken.png'), error: expect.stringMatching(/broken\.png/) });
  });

  it('uses --model and --labels, and rejects labels that do not fit the model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convnode-cli-'));
    writeFileSync(join(dir, 'upper.txt'), LABELS.map((l) => l.toUpperCase()).join('\n'));
    writeFileSync(join(dir, 'three.txt'), 'a\nb\nc\n');
    const model = join('models', 'lenet5-fashion.onnx');
    const mean = '0.28604';
    const std = '0.353024';
    const ok = await convnode('classify', 'samples/0018-bag.png', '--model', model, '--labels', join(dir, 'upper.txt'), '--mean', mean, '--std', std, '--json');
    expect(ok.code).toBe(0);
    // The model declares 1x28x28, so size and grayscale come from the file itself.
    expect(JSON.parse(ok.stdout).input).toEqual([1, 28, 28]);
    expect(JSON.parse(ok.stdout).results[0].top[0].label).toBe('BAG');
    const bad = await convnode('classify', 'samples/0018-bag.png', '--model', model, '--labels', join(dir, 'three.txt'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/scores 10 classes but 3 labels/);
  });
});

describe('pipes', () => {
  it('stops quietly with exit code 0 when the reader closes the pipe early (| head)', async () => {
    const args = [bin, 'classify', ...Array<string>(100).fill('samples'), '--json'];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

describe('bad command lines exit with code 2 and say what is wrong', () => {
  it.each([
    [['classify', 'samples', '--frobnicate'], /unknown option '--frobnicate'/],
    [['classify', 'samples', '--top', 'many'], /--top must be a whole number from 1 to 1000, got 'many'/],
    [['classify', 'samples', '--top'], /option '--top' needs a value/],
    [['classify', 'samples', '--batch', '0'], /--batch must be a whole number/],
    [['classify', 'samples', '--threads', '1.5'], /--threads must be a whole number from 1 to 256, got '1.5'/],
    [['classify', 'samples', '--size', '0x3'], /--size must be a size like 224/],
    [['classify', 'samples', '--mean', '0.5,,1'], /--mean must be a number or a comma-separated list/],
    [['classify', 'samples', '--std', '0'], /--std values must be positive/],
    [['classify', 'samples', '--fit', 'cover'], /--fit must be crop or stretch/],
    [['classify', 'samples', '--preset', 'cifar'], /--preset must be one of/],
    [['classify', 'samples', '--labels', 'x.txt'], /--labels needs --model/],
    [['classify', 'samples', '--json=yes'], /option '--json' takes no value/],
    [['classify'], /missing argument: usage is convnode classify/],
    [['classify', 'samples/*.bmp'], /no files match 'samples\/\*\.bmp'/],
    [['summary', 'lenet5', 'extra'], /too many arguments \(extra\)/],
    [['summary', 'lenet5', '--input', '1x3x32'], /--input must be an NCHW shape/],
    [['summary', 'model.pt'], /must be 'lenet5', 'builtin' or a path ending in \.onnx/],
    [['bench', '--fast'], /unknown option '--fast'/],
    [['train'], /unknown command 'train'/],
  ])('convnode %j', async (args, message) => {
    const run = await convnode(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });
});

describe('help, version and summary', () => {
  it('--version prints the package version', async () => {
    const run = await convnode('--version');
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });

  it.each(['classify', 'summary', 'bench'])('%s --help shows usage, options and examples', async (command) => {
    const run = await convnode(command, '--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: convnode ${command}`));
    expect(run.stdout).toMatch(/\nOptions:\n[\s\S]*--help[\s\S]*\nExamples:\n {2}convnode /);
  });

  it('bench hands its arguments to bench/run.mjs and returns its exit code', async () => {
    const run = await convnode('bench', 'no-such-section');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown section\(s\) no-such-section/);
  });

  it("summary lenet5 is the lecture's table: 62,006 parameters", async () => {
    const run = await convnode('summary', 'lenet5');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/62,006/);
    expect(run.stdout).toMatch(/conv1\s+Conv2d\s+1x6x28x28\s+456/);
  });

  it('summary of the built-in ONNX model: 61,706 parameters with one input channel', async () => {
    const run = await convnode('summary', 'builtin', '--json');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.inputShape).toEqual([1, 1, 28, 28]);
    expect(report.totals.params).toBe(61706);
    expect(report.outputShape).toEqual([1, 10]);
  });

  it('summary lenet5 --input 4x1x32x32 builds a one-channel LeNet for a batch of 4', async () => {
    const report = JSON.parse((await convnode('summary', 'lenet5', '--input', '4x1x32x32', '--json')).stdout);
    expect(report.totals.params).toBe(61706);
    expect(report.outputShape).toEqual([4, 10]);
  });
});
