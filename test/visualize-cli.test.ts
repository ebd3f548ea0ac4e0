// `convnode visualize` run in-process through runCli (the same code bin/convnode.js runs from dist/).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { convnode } from './helpers/cli.js';

const sample = fileURLToPath(new URL('../samples/0000-ankle-boot.png', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'convnode-visualize-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convnode visualize (filter mode)', () => {
  it('writes the stages PNG and prints the shapes of every stage', async () => {
    const out = join(dir, 'stages.png');
    const run = await convnode('visualize', sample, '--filter', 'sobel-y', '--padding', '1', '--pool', '2', '--out', out);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/wrote .*stages\.png \(\d+x\d+ PNG\)/);
    // 28x28 with padding 1 keeps 28x28; pool 2 halves it.
    expect(run.stdout).toMatch(/conv\s+1x1x28x28/);
    expect(run.stdout).toMatch(/pool\s+1x1x14x14/);
    const meta = await sharp(readFileSync(out)).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(4 * 28);
  });

  it('reads a filter from a JSON file (several filters give several channels)', async () => {
    const file = join(dir, 'filters.json');
    writeFileSync(file, JSON.stringify([[[1, -1]], [[-1, 1]]]));
    const run = await convnode('visualize', sample, '--filter', file, '--pool', '1', '--out', join(dir, 'custom.png'));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/conv\s+1x2x28x27/);
  });

  it('exits 2 naming the flag and the rule for bad flag values', async () => {
    const cases: [string[], RegExp][] = [
      [['--filter', 'sobel'], /--filter sobel must be one of sobel-x, sobel-y/],
      [['--stride', '0'], /--stride must be a whole number from 1 to 1024, got '0'/],
      [['--padding=-1'], /--padding must be a whole number from 0 to 1024 or one of valid, same, full, got '-1'/],
      [['--pool', 'two'], /--pool must be a whole number/],
      [['--layer', '3'], /--layer is for model mode/],
      [['--filter', join(dir, 'missing.json')], /--filter file '.*missing\.json' cannot be read as JSON/],
    ];
    for (const [flags, message] of cases) {
      const run = await convnode('visualize', sample, ...flags, '--out', join(dir, 'never.png'));
      expect(run.code, flags.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    expect(existsSync(join(dir, 'never.png'))).toBe(false);
    const bad = join(dir, 'ragged.json');
    writeFileSync(bad, '[[1, 2], [3]]');
    const ragged = await convnode('visualize', sample, '--filter', bad);
    expect(ragged.code).toBe(2);
    expect(ragged.stderr).toMatch(/--filter ragged\.json\[1\] must have 2 numbers like row 0/);
  });

  it('exits 1 with the library message when the image or the geometry is wrong', async () => {
    const missing = await convnode('visualize', join(dir, 'nope.png'), '--out', join(dir, 'x.png'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/convnode visualize: image '.*nope\.png': cannot be decoded/);
    const tooBig = await convnode('visualize', sample, '--pool', '30', '--out', join(dir, 'x.png'));
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toMatch(/kernelSize 30 spans 30 pixels but the padded input is 26 high/);
  });
});

describe('convnode visualize (model mode)', () => {
  it('draws a layer of the built-in model and names it', async () => {
    const out = join(dir, 'layer.png');
    const run = await convnode('visualize', sample, '--model', 'builtin', '--layer', '/MaxPool', '--out', out);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/layer 2 '\/MaxPool' \(MaxPool\) 1x6x14x14/);
    expect((await sharp(readFileSync(out)).metadata()).format).toBe('png');
  });

  it('needs --layer, refuses filter flags, and lists the nodes for an unknown layer', async () => {
    expect((await convnode('visualize', sample, '--model', 'builtin')).stderr).toMatch(/--model needs --layer/);
    const mixed = await convnode('visualize', sample, '--model', 'builtin', '--layer', '0', '--filter', 'blur');
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--filter is for filter mode/);
    const unknown = await convnode('visualize', sample, '--model', 'builtin', '--layer', 'conv1', '--out', join(dir, 'x.png'));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/layer 'conv1' is not a node or output name of this model; its nodes are 0: \/conv1\/Conv/);
    const preset = await convnode('visualize', sample, '--model', 'builtin', '--layer', '0', '--preset', 'cifar');
    expect(preset.code).toBe(2);
    expect(preset.stderr).toMatch(/--preset must be one of imagenet, unit, fashion-mnist, grayscale28, got 'cifar'/);
    const presetInFilterMode = await convnode('visualize', sample, '--preset', 'unit');
    expect(presetInFilterMode.stderr).toMatch(/--preset is for model mode/);
    const missing = await convnode('visualize', sample, '--model', join(dir, 'none.onnx'), '--layer', '0');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--model '.*none\.onnx' cannot be read/);
  });
});
