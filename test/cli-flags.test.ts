/**
 * Every flag of every command (serve's are in cli-serve-flags.test.ts): its accepted forms
 * (long, short alias, --flag=value), what it changes, checked against the library called with
 * the option the flag stands for (or a value worked out by hand), and its bad values with
 * their error. A completeness check fails when a command gains a flag this file does not test.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { getBackend } from '../lib/backends/index.js';
import { getNumThreads, setNumThreads } from '../lib/backends/threads.js';
import { COMMANDS } from '../lib/cli/commands/index.js';
import { ImageClassifier } from '../lib/image/classifier.js';
import type { ImageOptions } from '../lib/image/options.js';
import { convnode } from './helpers/cli.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const boot = join(root, 'samples', '0000-ankle-boot.png');
const shirt = join(root, 'samples', '0004-shirt.png');
const BUILTIN = join(root, 'models', 'lenet5-fashion.onnx');
const BUILTIN_LABELS = join(root, 'models', 'lenet5-fashion.labels.txt');
const dir = mkdtempSync(join(tmpdir(), 'convnode-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Exit 2, the message, and the pointer to --help. */
async function expectUsageError(args: string[], message: RegExp): Promise<void> {
  const run = await convnode(...args);
  expect(run.code, args.join(' ')).toBe(2);
  expect(run.stderr, args.join(' ')).toMatch(message);
  expect(run.stderr).toMatch(new RegExp(`see convnode ${args[0]} --help`));
}

type Top = { label: string; index: number; probability: number };

/** classify --json, as { file: top list }. */
async function classifyJson(...args: string[]): Promise<Record<string, Top[]>> {
  const run = await convnode('classify', ...args, '--json');
  expect(run.stderr, args.join(' ')).toBe('');
  expect(run.code, args.join(' ')).toBe(0);
  const report = JSON.parse(run.stdout) as { results: Array<{ file: string; top: Top[] }> };
  return Object.fromEntries(report.results.map((r) => [r.file, r.top]));
}

/** The library's answer for the same images and options: the oracle for classify's flags. */
async function library(files: string[], image: ImageOptions, top = 5, model?: string, labels?: string): Promise<Record<string, Top[]>> {
  const classifier = await ImageClassifier.load({ image, ...(model ? { model } : {}), ...(labels ? { labels } : {}) });
  const results = await classifier.classify(files, top);
  return Object.fromEntries(results.map((r, i) => [files[i], r.ok ? r.top.map(({ label, index, probability }) => ({ label, index, probability })) : []]));
}

const TESTED: Record<string, string[]> = {};
function tested(command: string, ...flags: string[]): void {
  (TESTED[command] ??= []).push(...flags);
}

describe('convnode classify flags', () => {
  it('--top / -k: that many labels per image; 1 to 1000', async () => {
    tested('classify', 'top');
    for (const form of [['--top', '2'], ['-k', '2'], ['--top=2']]) {
      const out = await classifyJson(boot, ...form);
      expect(out[boot].map((t) => t.label)).toEqual((await library([boot], {}, 2))[boot].map((t) => t.label));
    }
    for (const bad of ['0', '1001', 'two', '2.5']) await expectUsageError(['classify', boot, '--top', bad], new RegExp(`--top must be a whole number from 1 to 1000, got '${bad.replace('.', '\\.')}'`));
  });

  it('--json: a report with the model, its input and one result per file; takes no value', async () => {
    tested('classify', 'json');
    const run = await convnode('classify', boot, shirt, '--json');
    const report = JSON.parse(run.stdout) as { model: string; input: number[]; results: unknown[] };
    expect(report.input).toEqual([1, 28, 28]);
    expect(report.results).toHaveLength(2);
    await expectUsageError(['classify', boot, '--json=yes'], /option '--json' takes no value/);
  });

  it('--model / -m and --labels / -l: that model and those labels; --labels needs --model', async () => {
    tested('classify', 'model', 'labels');
    const labels = join(dir, 'labels.txt');
    writeFileSync(labels, Array.from({ length: 10 }, (_, i) => `thing ${i}`).join('\n'));
    for (const form of [['--model', BUILTIN, '--labels', labels], ['-m', BUILTIN, '-l', labels], [`--model=${BUILTIN}`, `--labels=${labels}`]]) {
      const out = await classifyJson(boot, ...form);
      const want = await library([boot], {}, 5, BUILTIN, labels);
      expect(out[boot].map((t) => t.label)).toEqual(want[boot].map((t) => t.label));
      expect(out[boot][0].label).toMatch(/^thing \d$/);
    }
    await expectUsageError(['classify', boot, '--labels', labels], /--labels needs --model \(the built-in model brings its own labels\)/);
    const missing = await convnode('classify', boot, '--model', join(dir, 'none.onnx'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read ONNX model '.*none\.onnx'/);
    await expectUsageError(['classify', boot, '--model'], /option '--model' needs a value/);
  });

  it('--preset: that preprocessing (as the library applies it), in place of the model\'s; unknown names refused', async () => {
    // It used to change nothing: the built-in model's own channels, mean and std were kept.
    tested('classify', 'preset');
    const unit = await classifyJson(boot, shirt, '--preset', 'grayscale28');
    expect(unit).toEqual(await library([boot, shirt], { preset: 'grayscale28' }));
    const fashion = await classifyJson(boot, shirt, '--preset=fashion-mnist');
    expect(fashion).toEqual(await library([boot, shirt], { preset: 'fashion-mnist' }));
    expect(fashion).toEqual(await classifyJson(boot, shirt)); // the built-in model's own preprocessing
    expect(unit[shirt]).not.toEqual(fashion[shirt]); // [0, 1] scaling scores differently from the training set's mean / std
    await expectUsageError(['classify', boot, '--preset', 'cifar'], /--preset must be one of imagenet, unit, fashion-mnist, grayscale28, got 'cifar'/);
  });

  it('--grayscale: one luminance channel, so an RGB preset fits the 1-channel model', async () => {
    tested('classify', 'grayscale');
    const colour = await convnode('classify', boot, '--preset', 'unit');
    expect(colour.code).toBe(1); // 3 channels into a 1-channel model
    expect(colour.stderr).toMatch(/dimension 1 must be 1/);
    const gray = await classifyJson(boot, shirt, '--preset', 'unit', '--grayscale');
    expect(gray).toEqual(await library([boot, shirt], { preset: 'unit', channels: 'grayscale' }));
    expect(gray).toEqual(await classifyJson(boot, shirt, '--preset', 'grayscale28')); // the same preprocessing by another name
    await expectUsageError(['classify', boot, '--grayscale=no'], /option '--grayscale' takes no value/);
  });

  it('--size and --fit: the resize the library makes (crop and stretch differ on a 2:1 image)', async () => {
    tested('classify', 'size', 'fit');
    const wide = join(dir, 'wide.png');
    await sharp(boot).extend({ right: 28, background: { r: 255, g: 255, b: 255 } }).toFile(wide);
    const crop = await classifyJson(wide, '--fit', 'crop', '--size', '28');
    const stretch = await classifyJson(wide, '--fit=stretch', '--size=28x28');
    expect(crop).toEqual(await library([wide], { fit: 'crop', size: [28, 28] }));
    expect(stretch).toEqual(await library([wide], { fit: 'stretch', size: [28, 28] }));
    expect(crop[wide]).not.toEqual(stretch[wide]);
    // Larger than the 28 x 28 sample: the image is refused by name, as the library refuses it.
    const other = await convnode('classify', boot, '--size', '32x30');
    expect(other.code).toBe(1);
    const refused = (await ImageClassifier.load({ image: { size: [32, 30] } }).then((c) => c.classify([boot])))[0];
    expect(refused.ok).toBe(false);
    expect(other.stderr).toContain(refused.ok ? 'never' : refused.error);
    // Smaller: the image is made, and the model's declared 28 x 28 input refuses it.
    const small = await convnode('classify', boot, '--size', '14');
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(/input 'input': dimension 2 must be 28/);
    for (const bad of ['0', '28x', 'x28', '20000', '28x28x3']) {
      await expectUsageError(['classify', boot, '--size', bad], /--size must be a size like 224 or HEIGHTxWIDTH like 224x320 \(1 to 16384\)/);
    }
    await expectUsageError(['classify', boot, '--fit', 'cover'], /--fit must be crop or stretch, got 'cover'/);
  });

  it('--mean and --std: that normalisation; std must be positive', async () => {
    tested('classify', 'mean', 'std');
    const out = await classifyJson(shirt, '--mean', '0.3', '--std=0.2');
    expect(out).toEqual(await library([shirt], { mean: [0.3], std: [0.2] }));
    expect(out[shirt]).not.toEqual((await classifyJson(shirt))[shirt]);
    await expectUsageError(['classify', boot, '--mean', 'a'], /--mean must be a number or a comma-separated list of numbers \(one per channel\), got 'a'/);
    await expectUsageError(['classify', boot, '--mean', '0.5,,0.2'], /--mean must be a number or a comma-separated list/);
    await expectUsageError(['classify', boot, '--std', '0'], /--std values must be positive, got '0'/);
    await expectUsageError(['classify', boot, '--std', '0.2,-1'], /--std values must be positive/);
  });

  it('--batch / -b: any batch size gives the same answers; 1 to 4096', async () => {
    tested('classify', 'batch');
    const whole = await classifyJson(boot, shirt);
    expect(await classifyJson(boot, shirt, '--batch', '1')).toEqual(whole);
    expect(await classifyJson(boot, shirt, '-b', '4096')).toEqual(whole);
    for (const bad of ['0', '4097', '-1x']) await expectUsageError(['classify', boot, `--batch=${bad}`], /--batch must be a whole number from 1 to 4096/);
  });

  it('--threads / -t: sizes the native pool or the wasm workers (a note on the js backend); 1 to 256', async () => {
    tested('classify', 'threads');
    const before = getBackend() !== 'js' ? getNumThreads() : 0;
    try {
      for (const [form, n] of [[['--threads', '1'], 1], [['-t', '3'], 3]] as const) {
        const run = await convnode('classify', boot, ...form);
        expect(run.code).toBe(0);
        if (getBackend() === 'native') expect(getNumThreads()).toBe(n);
        else if (getBackend() === 'js') expect(run.stderr).toMatch(new RegExp(`--threads ${n} has no effect on the js backend`));
        else {
          // wasm: one thread per core at most (the one-thread build: 1).
          const got = getNumThreads();
          expect(got === Math.min(n, availableParallelism()) || got === 1).toBe(true);
          if (got !== n) expect(run.stderr).toContain(`--threads ${n}: the wasm backend runs on ${got} (one per core at most)`);
        }
      }
    } finally {
      if (before) setNumThreads(before);
    }
    for (const bad of ['0', '257', 'all']) await expectUsageError(['classify', boot, '--threads', bad], /--threads must be a whole number from 1 to 256/);
  });
});

describe('convnode summary flags', () => {
  it('--input / -i: the shape the table is planned for; four positive whole numbers', async () => {
    tested('summary', 'input');
    for (const form of [['--input', '4x1x32x32'], ['-i', '4x1x32x32'], ['--input=4x1x32x32']]) {
      const run = await convnode('summary', 'lenet5', ...form);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/Input: 4x1x32x32/);
      // conv1: 5x5, no padding: (32 - 5) / 1 + 1 = 28, by the lecture's formula.
      expect(run.stdout).toMatch(/conv1\s+Conv2d\s+4x6x28x28/);
    }
    for (const bad of ['1x3x32', '1x3x32x0', '1x3x32x32x1', 'big']) {
      await expectUsageError(['summary', 'lenet5', '--input', bad], new RegExp(`--input must be an NCHW shape of four positive whole numbers like 1x3x32x32, got '${bad}'`));
    }
  });

  it('--json: the same summary as JSON', async () => {
    tested('summary', 'json');
    const run = await convnode('summary', 'lenet5', '--json');
    const report = JSON.parse(run.stdout) as { totalParams: number } & Record<string, unknown>;
    expect(JSON.stringify(report)).toContain('62006');
    await expectUsageError(['summary', 'lenet5', '--json=1'], /option '--json' takes no value/);
  });
});

/** The drawn PNG's pixels. */
async function pixels(file: string) {
  const { data, info } = await sharp(readFileSync(file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

describe('convnode visualize flags', () => {
  it('--filter / -f: a named filter or a JSON matrix', async () => {
    tested('visualize', 'filter');
    for (const form of [['--filter', 'laplacian'], ['-f', 'blur'], ['--filter=emboss']]) {
      const run = await convnode('visualize', boot, ...form, '--out', join(dir, 'f.png'));
      expect(run.code, form.join(' ')).toBe(0);
      expect(run.stdout).toMatch(/conv\s+1x1x26x26/); // 3x3, no padding: 28 - 3 + 1
    }
    await expectUsageError(['visualize', boot, '--filter', 'sobel'], /--filter sobel must be one of sobel-x, sobel-y/);
  });

  it('--stride / -s and --padding / -p: the conv stage\'s size by the lecture\'s formula', async () => {
    tested('visualize', 'stride', 'padding');
    // floor((28 + 2P - 3) / S) + 1
    for (const [flags, size] of [[['--stride', '2'], 13], [['-s', '3', '-p', '1'], 10], [['--stride=2', '--padding=same'], 14], [['-p', 'full'], 30], [['--padding', 'valid'], 26]] as const) {
      const run = await convnode('visualize', boot, ...flags, '--pool', '1', '--out', join(dir, 's.png'));
      expect(run.code, flags.join(' ')).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`conv\\s+1x1x${size}x${size}`));
    }
    await expectUsageError(['visualize', boot, '--stride', '0'], /--stride must be a whole number from 1 to 1024, got '0'/);
    await expectUsageError(['visualize', boot, '--stride', '1025'], /--stride must be a whole number from 1 to 1024/);
    await expectUsageError(['visualize', boot, '--padding=-1'], /--padding must be a whole number from 0 to 1024 or one of valid, same, full, got '-1'/);
  });

  it('--pool: the max-pool window and stride; 1 means none', async () => {
    tested('visualize', 'pool');
    const three = await convnode('visualize', boot, '--pool', '3', '--out', join(dir, 'p.png'));
    expect(three.stdout).toMatch(/pool\s+1x1x8x8/); // floor((26 - 3) / 3) + 1
    const none = await convnode('visualize', boot, '--pool=1', '--out', join(dir, 'p.png'));
    expect(none.stdout).not.toMatch(/pool\s+1x1x13x13/);
    await expectUsageError(['visualize', boot, '--pool', 'two'], /--pool must be a whole number/);
  });

  it('--max-size: larger images are shrunk to it on the longer side first', async () => {
    tested('visualize', 'max-size');
    const run = await convnode('visualize', boot, '--max-size', '14', '--pool', '1', '--out', join(dir, 'm.png'));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/conv\s+1x1x12x12/); // 14 - 3 + 1
    const unchanged = await convnode('visualize', boot, '--max-size=256', '--pool', '1', '--out', join(dir, 'm.png'));
    expect(unchanged.stdout).toMatch(/conv\s+1x1x26x26/);
    await expectUsageError(['visualize', boot, '--max-size', '0'], /--max-size must be a whole number/);
  });

  it('--zoom / -z: screen pixels per map pixel (a larger zoom, a larger picture)', async () => {
    tested('visualize', 'zoom');
    const a = join(dir, 'z2.png');
    const b = join(dir, 'z12.png');
    expect((await convnode('visualize', boot, '--zoom', '2', '--out', a)).code).toBe(0);
    expect((await convnode('visualize', boot, '-z', '12', '--out', b)).code).toBe(0);
    const [small, large] = [await pixels(a), await pixels(b)];
    expect(large.width).toBeGreaterThan(small.width);
    expect(large.height).toBeGreaterThan(small.height);
    await expectUsageError(['visualize', boot, '--zoom', '0'], /--zoom must be a whole number/);
  });

  it('--out / -o and --html: the PNG there, and an HTML report with the planner table', async () => {
    tested('visualize', 'out', 'html');
    const png = join(dir, 'o.png');
    const html = join(dir, 'report.html');
    const run = await convnode('visualize', boot, '-o', png, '--html', html);
    expect(run.code).toBe(0);
    expect((await sharp(readFileSync(png)).metadata()).format).toBe('png');
    expect(readFileSync(html, 'utf8')).toMatch(/<table[\s\S]*Conv2d/);
    await expectUsageError(['visualize', boot, '--out'], /option '--out' needs a value/);
  });

  it('model mode: --model / -m, --layer / -l, --preset and --colormap (gray: R = G = B; diverging: not)', async () => {
    tested('visualize', 'model', 'layer', 'preset', 'colormap');
    const gray = join(dir, 'gray.png');
    const diverging = join(dir, 'div.png');
    const g = await convnode('visualize', boot, '-m', 'builtin', '-l', '0', '--colormap', 'gray', '--out', gray);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout).toMatch(/layer 0 '\/conv1\/Conv' \(Conv\) 1x6x28x28/);
    const d = await convnode('visualize', boot, '--model=builtin', '--layer=0', '--colormap=diverging', '--preset', 'fashion-mnist', '--out', diverging);
    expect(d.code, d.stderr).toBe(0);
    const grayPixels = await pixels(gray);
    const colourPixels = await pixels(diverging);
    let grayColoured = 0;
    let divergingColoured = 0;
    for (let i = 0; i < grayPixels.data.length; i += 3) if (grayPixels.data[i] !== grayPixels.data[i + 2]) grayColoured++;
    for (let i = 0; i < colourPixels.data.length; i += 3) if (colourPixels.data[i] !== colourPixels.data[i + 2]) divergingColoured++;
    // Labels and frames may be coloured; the maps themselves only in diverging.
    expect(divergingColoured).toBeGreaterThan(grayColoured + 100);
    await expectUsageError(['visualize', boot, '-m', 'builtin', '-l', '0', '--colormap', 'rainbow'], /--colormap must be gray or diverging, got 'rainbow'/);
    await expectUsageError(['visualize', boot, '-m', 'builtin', '-l', '0', '--preset', 'cifar'], /--preset must be one of imagenet, unit, fashion-mnist, grayscale28, got 'cifar'/);
    await expectUsageError(['visualize', boot, '--layer', '3'], /--layer is for model mode/);
  });
});

describe('convnode bench flags', () => {
  type BenchRow = { batch: number; threads: number; runs: number; p50Ms: number };
  type BenchReport = { input: number[]; runs: number; convnode: BenchRow[]; onnxruntime?: BenchRow[]; slowestOps?: unknown[] };
  async function benchJson(...args: string[]): Promise<BenchReport> {
    const run = await convnode('bench', BUILTIN, '--json', ...args);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as BenchReport;
  }

  it('--runs / -n, --batch / -b, --threads / -t: one row per batch x threads, each timed that many times', async () => {
    tested('bench', 'runs', 'batch', 'threads', 'json');
    for (const form of [['--runs', '2', '--batch', '1,3', '--threads', '1'], ['-n', '2', '-b', '1,3', '-t', '1'], ['--runs=2', '--batch=1,3', '--threads=1']]) {
      const report = await benchJson(...form);
      expect(report.runs).toBe(2);
      expect(report.convnode.map((r) => [r.batch, r.threads, r.runs])).toEqual([[1, 1, 2], [3, 1, 2]]);
    }
    await expectUsageError(['bench', BUILTIN, '--runs', 'many'], /--runs must be a whole number/);
    await expectUsageError(['bench', BUILTIN, '--batch', '1,0'], /--batch must be a whole number from 1/);
    await expectUsageError(['bench', BUILTIN, '--json=yes'], /option '--json' takes no value/);
  });

  it('--input / -i: that NCHW shape (its N is the default batch); a shape of another rank is refused', async () => {
    tested('bench', 'input');
    for (const form of [['--input', '2x1x28x28'], ['-i', '2x1x28x28'], ['--input=2x1x28x28']]) {
      const report = await benchJson('-n', '1', '-t', '1', ...form);
      expect(report.input).toEqual([1, 1, 28, 28]); // reported per image
      expect(report.convnode.map((r) => r.batch)).toEqual([2]);
    }
    await expectUsageError(['bench', BUILTIN, '--input', '1x1x28'], /--input must be an NCHW shape/);
  });

  it('--profile lists the slowest ops; --compare times onnxruntime-node on the same batches; both take no value', async () => {
    tested('bench', 'profile', 'compare');
    const profiled = await benchJson('-n', '1', '-t', '1', '--profile');
    expect(profiled.slowestOps?.length).toBeGreaterThan(0);
    expect(profiled.onnxruntime).toBeUndefined();
    const compared = await benchJson('-n', '1', '-t', '1', '-b', '1,2', '--compare');
    expect(compared.onnxruntime?.map((r) => [r.batch, r.threads])).toEqual([[1, 1], [2, 1]]);
    await expectUsageError(['bench', BUILTIN, '--profile=1'], /option '--profile' takes no value/);
    await expectUsageError(['bench', BUILTIN, '--compare=yes'], /option '--compare' takes no value/);
  });
});

describe('every command', () => {
  it('--help / -h prints its usage and options, exit 0', async () => {
    for (const command of COMMANDS) {
      for (const form of ['--help', '-h']) {
        const run = await convnode(command.name, form);
        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(new RegExp(`^Usage: convnode ${command.name}`));
        for (const flag of Object.keys(command.options)) expect(run.stdout).toContain(`--${flag}`);
      }
    }
  });

  it('an unknown flag is a usage error naming it', async () => {
    for (const command of COMMANDS) await expectUsageError([command.name, '--strides', '2'], /unknown option '--strides'/);
  });

  it('has a test above for every flag of classify, summary, visualize and bench (serve: cli-serve-flags.test.ts)', () => {
    for (const command of COMMANDS.filter((c) => c.name !== 'serve')) {
      expect([...new Set(TESTED[command.name] ?? [])].sort(), command.name).toEqual(Object.keys(command.options).sort());
    }
  });
});
