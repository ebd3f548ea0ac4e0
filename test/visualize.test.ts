// The visualiser: filters, the conv -> ReLU -> pool stages, and the pixels of the pictures.
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { ParameterError, ShapeError, Tensor, getBackend, setBackend } from '../lib/index.js';
import { ImageError } from '../lib/image/index.js';
import {
  FILTERS,
  FILTER_NAMES,
  composeFeatureMaps,
  composeStages,
  convReluPool,
  renderFeatureMaps,
  renderStages,
  resolveFilters,
  type Placement,
} from '../lib/visualize/index.js';
import { loadGrayscale } from '../lib/visualize/load.js';
import { availableBackends } from './helpers/backends.js';

const initialBackend = getBackend();
afterAll(() => setBackend(initialBackend));

interface Decoded {
  width: number;
  height: number;
  rgb(x: number, y: number): [number, number, number];
}

async function decodePng(png: Buffer): Promise<Decoded> {
  expect([...png.subarray(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe('PNG');
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    rgb: (x, y) => {
      const o = (y * info.width + x) * info.channels;
      return [data[o], data[o + 1], data[o + 2]];
    },
  };
}

/** Centre of map pixel (row, col) of a panel drawn at `zoom`. */
function at(panel: Placement, zoom: number, row: number, col: number): [number, number] {
  return [panel.x + col * zoom + Math.floor(zoom / 2), panel.y + row * zoom + Math.floor(zoom / 2)];
}

/** The independent oracle: plain valid cross-correlation of one H x W map with one filter. */
function naiveCrossCorrelation(image: number[][], filter: readonly (readonly number[])[]): number[][] {
  const kh = filter.length;
  const kw = filter[0].length;
  const out: number[][] = [];
  for (let y = 0; y + kh <= image.length; y++) {
    const row: number[] = [];
    for (let x = 0; x + kw <= image[0].length; x++) {
      let sum = 0;
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) sum += image[y + i][x + j] * filter[i][j];
      row.push(sum);
    }
    out.push(row);
  }
  return out;
}

/** 8 rows of: 4 dark, 4 bright, 4 dark columns: a rising edge at column 4 and a falling one at column 8. */
const BAR_ROW = [0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0];
const barImage = () => Array.from({ length: 8 }, () => [...BAR_ROW]);

describe('FILTERS', () => {
  it("sobel-x is the lecture's vertical-edge filter and every built-in is 3x3", () => {
    expect(FILTERS['sobel-x']).toEqual([
      [-1, 0, 1],
      [-2, 0, 2],
      [-1, 0, 1],
    ]);
    expect(FILTER_NAMES).toEqual(['sobel-x', 'sobel-y', 'laplacian', 'blur', 'sharpen', 'emboss']);
    for (const name of FILTER_NAMES) expect(resolveFilters(name)).toMatchObject({ label: name, count: 1, kernelH: 3, kernelW: 3 });
    // blur averages, so its weights sum to 1; edge detectors and the Laplacian sum to 0.
    const sum = (name: keyof typeof FILTERS) => FILTERS[name].flat().reduce((a, b) => a + b, 0);
    expect(sum('blur')).toBeCloseTo(1, 6);
    expect(sum('sharpen')).toBe(1);
    expect([sum('sobel-x'), sum('sobel-y'), sum('laplacian')]).toEqual([0, 0, 0]);
  });

  it('takes a matrix or a list of same-sized matrices, packed filter by filter', () => {
    const two = resolveFilters([
      [[1, 2], [3, 4]],
      [[5, 6], [7, 8]],
    ]);
    expect(two).toMatchObject({ label: 'custom', count: 2, kernelH: 2, kernelW: 2 });
    expect([...two.weights]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...resolveFilters([[1, 2, 3]]).weights]).toEqual([1, 2, 3]);
  });

  it('rejects bad filters naming the filter and the rule', () => {
    expect(() => resolveFilters('sobel-z' as never)).toThrow(/filter must be one of sobel-x, .*got "sobel-z"/);
    expect(() => resolveFilters([[1, 2], [3]])).toThrow(/filter\[1\] must have 2 numbers like row 0/);
    expect(() => resolveFilters([[1, Number.NaN]])).toThrow(/filter\[0\]\[1\] must be a finite number/);
    expect(() => resolveFilters([[1, '2' as unknown as number]])).toThrow(ParameterError);
    expect(() => resolveFilters([])).toThrow(/non-empty array/);
    expect(() => resolveFilters([[[1, 2]], [[1, 2, 3]]])).toThrow(/filter\[1\] is 1x3 but filter\[0\] is 1x2/);
    expect(() => resolveFilters([Array(40).fill(1)])).toThrow(/1 to 31 numbers/);
  });
});

describe.each(availableBackends())('convReluPool on the %s backend', (backend) => {
  it("reproduces the lecture's bright/dark 5x5 example: -1020s, then ReLU zeroes them", async () => {
    setBackend(backend);
    const image = Tensor.from([[Array.from({ length: 5 }, () => [255, 255, 0, 0, 0])]]);
    const stages = await convReluPool(image, { filter: 'sobel-x', pool: 1 });
    expect(stages.conv.toArray()).toEqual([[Array.from({ length: 3 }, () => [-1020, -1020, 0])]]);
    expect(stages.relu.toArray()).toEqual([[Array.from({ length: 3 }, () => [0, 0, 0])]]);
    expect(stages.pool.shape).toEqual([1, 1, 3, 3]);
  });

  it.each(FILTER_NAMES)('%s matches a naive cross-correlation, and ReLU/pool match max(0, x) and 2x2 maxima', async (name) => {
    setBackend(backend);
    const pixels = barImage().map((row, y) => row.map((v, x) => v + ((x * 7 + y * 13) % 11))); // not only 0/255
    const stages = await convReluPool(Tensor.from([[pixels]]), { filter: name });
    const expected = naiveCrossCorrelation(pixels, FILTERS[name]);
    const conv = (stages.conv.toArray() as number[][][][])[0][0];
    expect(conv.length).toBe(6);
    conv.forEach((row, y) => row.forEach((v, x) => expect(v).toBeCloseTo(expected[y][x], 3)));
    const relu = (stages.relu.toArray() as number[][][][])[0][0];
    relu.forEach((row, y) => row.forEach((v, x) => expect(v).toBe(Math.max(0, conv[y][x]))));
    const pool = (stages.pool.toArray() as number[][][][])[0][0];
    expect([pool.length, pool[0].length]).toEqual([3, 5]);
    pool.forEach((row, y) =>
      row.forEach((v, x) => expect(v).toBe(Math.max(relu[2 * y][2 * x], relu[2 * y][2 * x + 1], relu[2 * y + 1][2 * x], relu[2 * y + 1][2 * x + 1]))),
    );
  });

  it('applies stride and padding as Conv2d does', async () => {
    setBackend(backend);
    const stages = await convReluPool(Tensor.from([[barImage()]]), { stride: 2, padding: 1, pool: 2 });
    // O = floor((W - K + 2P) / S) + 1: H (8 - 3 + 2) / 2 + 1 = 4, W (12 - 3 + 2) / 2 + 1 = 6.
    expect(stages.conv.shape).toEqual([1, 1, 4, 6]);
    expect(stages.pool.shape).toEqual([1, 1, 2, 3]);
    expect(stages.model.layers.map((l) => l.name)).toEqual(['conv', 'relu', 'pool']);
  });
});

describe('convReluPool input checks', () => {
  const image = Tensor.from([[barImage()]]);
  it('names the option or the shape rule that was broken', async () => {
    await expect(convReluPool(new Tensor([1, 3, 8, 8]))).rejects.toThrow(ShapeError);
    await expect(convReluPool(new Tensor([1, 3, 8, 8]))).rejects.toThrow(/1 channels\), got \[1, 3, 8, 8\]/);
    await expect(convReluPool(image, { pool: 0 })).rejects.toThrow(/option 'pool' must be a positive integer/);
    await expect(convReluPool(image, { stride: 1.5 })).rejects.toThrow(/option 'stride' must be a positive integer, got 1.5/);
    await expect(convReluPool(image, { filter: 'edge' as never })).rejects.toThrow(/option 'filter' must be one of/);
    await expect(convReluPool(new Tensor([1, 1, 2, 2]))).rejects.toThrow(ShapeError);
    await expect(convReluPool([1, 2] as unknown as Tensor)).rejects.toThrow(/image must be a Tensor/);
  });
});

describe('renderStages', () => {
  it('draws the Sobel edge columns as the most saturated: falling edge blue, rising red, flat white', async () => {
    const stages = await convReluPool(Tensor.from([[barImage()]]), { filter: 'sobel-x', pool: 2 });
    const conv = (stages.conv.toArray() as number[][][][])[0][0];
    // Columns 2-3 see the rising edge (+1020), 6-7 the falling one (-1020), 0-1 and 4-5 are flat.
    expect(conv[0]).toEqual([0, 0, 1020, 1020, 0, 0, -1020, -1020, 0, 0]);

    const zoom = 10;
    const layout = await composeStages(stages, { zoom });
    const png = await decodePng(layout.png);
    expect([png.width, png.height]).toEqual([layout.width, layout.height]);
    const [inputPanel, convPanel, reluPanel, poolPanel] = layout.placements;
    expect([inputPanel.width, inputPanel.height]).toEqual([120, 80]);
    expect([convPanel.width, convPanel.height]).toEqual([100, 60]);
    expect([poolPanel.width, poolPanel.height]).toEqual([100, 60]); // 3x5 drawn at zoom 2 x 10

    // Input: gray 0 -> black, 255 -> white.
    expect(png.rgb(...at(inputPanel, zoom, 3, 1))).toEqual([0, 0, 0]);
    expect(png.rgb(...at(inputPanel, zoom, 3, 5))).toEqual([255, 255, 255]);

    // Saturation (distance from white) per screen column of the conv panel, read from the PNG.
    const middle = convPanel.y + convPanel.height / 2;
    const saturation = Array.from({ length: convPanel.width }, (_, dx) => {
      const [r, g, b] = png.rgb(convPanel.x + dx, middle);
      return 255 * 3 - r - g - b;
    });
    const strongest = Math.max(...saturation);
    const strongestMapColumns = new Set(saturation.flatMap((s, dx) => (s === strongest ? [Math.floor(dx / zoom)] : [])));
    expect([...strongestMapColumns].sort()).toEqual([2, 3, 6, 7]);
    expect(png.rgb(...at(convPanel, zoom, 2, 6))).toEqual([0, 0, 255]); // -1020: pure blue (B > R)
    expect(png.rgb(...at(convPanel, zoom, 2, 2))).toEqual([255, 0, 0]); // +1020: pure red
    expect(png.rgb(...at(convPanel, zoom, 2, 0))).toEqual([255, 255, 255]); // 0: white

    // ReLU: the negative response is gone (white = 0), the positive one keeps its colour.
    expect(png.rgb(...at(reluPanel, zoom, 2, 6))).toEqual([255, 255, 255]);
    expect(png.rgb(...at(reluPanel, zoom, 2, 2))).toEqual([255, 0, 0]);
    // Pool cell (1, 1) is the max of ReLU columns 2-3: red; cell (1, 3) of columns 6-7: white.
    expect(stages.pool.toArray()).toEqual([[Array.from({ length: 3 }, () => [0, 1020, 0, 0, 0])]]);
    expect(png.rgb(...at(poolPanel, 2 * zoom, 1, 1))).toEqual([255, 0, 0]);
    expect(png.rgb(...at(poolPanel, 2 * zoom, 1, 3))).toEqual([255, 255, 255]);

    // The scale bar beside them: +1020 red at the top, white in the middle, -1020 blue at the bottom.
    const bar = layout.placements[4];
    expect(bar.height).toBe(convPanel.height);
    const barX = bar.x + bar.width / 2;
    const [topR, topG, topB] = png.rgb(barX, bar.y);
    expect(topR).toBe(255);
    expect(topG).toBeLessThan(10);
    expect(topB).toBeLessThan(10);
    const [, midG] = png.rgb(barX, bar.y + bar.height / 2);
    expect(midG).toBeGreaterThan(245);
    const [botR, , botB] = png.rgb(barX, bar.y + bar.height - 1);
    expect([botR < 10, botB]).toEqual([true, 255]);
  });

  it('uses one symmetric scale: half the limit is half-faded blue', async () => {
    const image = Tensor.from([[Array.from({ length: 3 }, () => [0, 0, 0, 255, 255, 255, 127.5, 127.5, 127.5])]]);
    // Row filter [-1, 0, 1]: columns see 0, +255, +255, 0, -127.5, -127.5, 0.
    const stages = await convReluPool(image, { filter: [[-1, 0, 1]], pool: 1 });
    expect((stages.conv.toArray() as number[][][][])[0][0][0]).toEqual([0, 255, 255, 0, -127.5, -127.5, 0]);
    const zoom = 8;
    const layout = await composeStages(stages, { zoom });
    const png = await decodePng(layout.png);
    const conv = layout.placements[1];
    expect(png.rgb(...at(conv, zoom, 1, 1))).toEqual([255, 0, 0]);
    expect(png.rgb(...at(conv, zoom, 1, 4))).toEqual([128, 128, 255]);
  });

  it('writes captions: dark text pixels above each panel and none inside the flat white map areas', async () => {
    const stages = await convReluPool(Tensor.from([[barImage()]]));
    const layout = await composeStages(stages, { zoom: 10 });
    const png = await decodePng(layout.png);
    for (const panel of layout.placements) {
      let dark = 0;
      for (let y = panel.y - 34; y < panel.y - 4; y++) {
        for (let x = panel.x; x < panel.x + 60; x++) if (png.rgb(x, y)[0] < 100) dark++;
      }
      expect(dark).toBeGreaterThan(30);
    }
    const png2 = await renderStages(stages, { zoom: 10 });
    expect(png2.equals(layout.png)).toBe(true);
  });

  it('rejects a zoom that is not an integer from 1 to 64', async () => {
    const stages = await convReluPool(Tensor.from([[barImage()]]));
    await expect(composeStages(stages, { zoom: 0 })).rejects.toThrow(/zoom must be an integer from 1 to 64, got 0/);
    await expect(composeStages(stages, { zoom: 40 })).rejects.toThrow(/zoom x stride x pool\): zoom must be an integer from 1 to 64, got 80/);
    await expect(composeStages({} as never)).rejects.toThrow(/stages must be the result of convReluPool/);
  });
});

describe('renderFeatureMaps', () => {
  it('normalises each channel to its own range by default: each min black, each max white', async () => {
    const small = [0, 0.5, 1, 1];
    const large = [-500, 0, 500, 1000];
    const tensor = new Tensor([1, 2, 2, 2], [...small, ...large]);
    const layout = await composeFeatureMaps(tensor, { zoom: 10, columns: 2 });
    const png = await decodePng(layout.png);
    const [a, b] = layout.placements;
    expect(png.rgb(...at(a, 10, 0, 0))).toEqual([0, 0, 0]);
    expect(png.rgb(...at(a, 10, 0, 1))).toEqual([128, 128, 128]);
    expect(png.rgb(...at(a, 10, 1, 1))).toEqual([255, 255, 255]);
    expect(png.rgb(...at(b, 10, 0, 0))).toEqual([0, 0, 0]);
    expect(png.rgb(...at(b, 10, 1, 1))).toEqual([255, 255, 255]);
    expect(png.rgb(...at(b, 10, 0, 1))).toEqual([85, 85, 85]); // 0 is a third of the way from -500 to 1000
  });

  it("'tensor' normalisation shares one range; 'diverging' puts zero at white", async () => {
    const tensor = new Tensor([2, 2], [-4, 0, 2, 4]);
    const shared = await decodePng(await renderFeatureMaps(new Tensor([1, 2, 1, 2], [0, 1, 0, 4]), { zoom: 4, normalize: 'tensor' }));
    const sharedLayout = await composeFeatureMaps(new Tensor([1, 2, 1, 2], [0, 1, 0, 4]), { zoom: 4, normalize: 'tensor' });
    expect(shared.rgb(...at(sharedLayout.placements[0], 4, 0, 1))).toEqual([64, 64, 64]); // 1 of 0..4
    const layout = await composeFeatureMaps(tensor, { zoom: 4, colormap: 'diverging' });
    const png = await decodePng(layout.png);
    const [p] = layout.placements;
    expect(png.rgb(...at(p, 4, 0, 0))).toEqual([0, 0, 255]);
    expect(png.rgb(...at(p, 4, 0, 1))).toEqual([255, 255, 255]);
    expect(png.rgb(...at(p, 4, 1, 0))).toEqual([255, 128, 128]);
    expect(png.rgb(...at(p, 4, 1, 1))).toEqual([255, 0, 0]);
  });

  it('draws NaN and Infinity in green and keeps them out of the range', async () => {
    const tensor = new Tensor([1, 1, 1, 3], [Number.NaN, 2, 4]);
    const layout = await composeFeatureMaps(tensor, { zoom: 6 });
    const png = await decodePng(layout.png);
    const [p] = layout.placements;
    expect(png.rgb(...at(p, 6, 0, 0))).toEqual([0, 160, 0]);
    expect(png.rgb(...at(p, 6, 0, 1))).toEqual([0, 0, 0]);
    expect(png.rgb(...at(p, 6, 0, 2))).toEqual([255, 255, 255]);
  });

  it('shows the chosen image of a batch and lays channels out in rows', async () => {
    const tensor = new Tensor([2, 5, 3, 3]);
    tensor.data.fill(1, 45); // image 1 is all ones... except one pixel per channel
    for (let c = 0; c < 5; c++) tensor.data[45 + c * 9 + 4] = 9;
    const layout = await composeFeatureMaps(tensor, { batchIndex: 1, zoom: 5 });
    expect(layout.placements).toHaveLength(5);
    // ceil(sqrt(5)) = 3 per row: channels 3 and 4 start a second row.
    expect(new Set(layout.placements.map((p) => p.y)).size).toBe(2);
    const png = await decodePng(layout.png);
    for (const p of layout.placements) {
      expect(png.rgb(...at(p, 5, 1, 1))).toEqual([255, 255, 255]);
      expect(png.rgb(...at(p, 5, 0, 0))).toEqual([0, 0, 0]);
    }
  });

  it('rejects tensors and options it cannot draw, naming them', async () => {
    await expect(renderFeatureMaps(new Tensor([1, 1, 1, 2, 2]))).rejects.toThrow(/must be N x C x H x W, C x H x W or H x W .*got 1x1x1x2x2/);
    await expect(renderFeatureMaps(new Tensor([2, 1, 2, 2]), { batchIndex: 2 })).rejects.toThrow(/batchIndex must be an integer in \[0, 1\]/);
    await expect(renderFeatureMaps(new Tensor([1, 1, 2, 2]), { colormap: 'jet' as never })).rejects.toThrow(/colormap must be 'gray' or 'diverging'/);
    await expect(renderFeatureMaps(new Tensor([1, 1, 2, 2]), { normalize: 'global' as never })).rejects.toThrow(/normalize must be/);
    await expect(renderFeatureMaps(new Tensor([1, 0, 2, 2]))).rejects.toThrow(/has no pixels/);
    await expect(renderFeatureMaps(new Tensor([1, 4000, 64, 64]), { zoom: 8 })).rejects.toThrow(/would be \d+x\d+ pixels/);
  });
});

describe('loadGrayscale', () => {
  const rawGray = (width: number, height: number, value: (x: number, y: number) => number) => {
    const data = Buffer.alloc(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = value(x, y);
    return sharp(data, { raw: { width, height, channels: 1 } }).png().toBuffer();
  };

  it('gives [1, 1, H, W] raw 0..255 values at the original size', async () => {
    const png = await rawGray(6, 4, (x, y) => x * 40 + y);
    const tensor = await loadGrayscale(png);
    expect(tensor.shape).toEqual([1, 1, 4, 6]);
    expect(tensor.data[0]).toBe(0);
    expect(tensor.data[1 * 6 + 5]).toBe(201);
  });

  it('shrinks large images to maxSize on the longer side, keeping the aspect ratio', async () => {
    const tensor = await loadGrayscale(await rawGray(100, 50, () => 77), { maxSize: 20 });
    expect(tensor.shape).toEqual([1, 1, 10, 20]);
    expect(tensor.data.every((v) => Math.abs(v - 77) <= 1)).toBe(true);
  });

  it('names the source when it cannot be decoded, and the option when it is bad', async () => {
    await expect(loadGrayscale({ name: 'broken.png', data: new Uint8Array([1, 2, 3]) })).rejects.toThrow(ImageError);
    await expect(loadGrayscale({ name: 'broken.png', data: new Uint8Array([1, 2, 3]) })).rejects.toThrow(/broken\.png/);
    await expect(loadGrayscale(await rawGray(2, 2, () => 0), { maxSize: 0 })).rejects.toThrow(/maxSize must be an integer/);
  });
});
