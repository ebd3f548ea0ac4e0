// Batches of images, presets and option checking.
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ParameterError } from '../lib/errors.js';
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD, imagesToBatch, imageToTensor, resolveImageOptions, writeImageInto } from '../lib/image/index.js';

function flatGray(value: number, width = 4, height = 4): Promise<Buffer> {
  return sharp(Buffer.alloc(width * height, value), { raw: { width, height, channels: 1 } }).png().toBuffer();
}

describe('imagesToBatch', () => {
  it('writes each image into its own row of one NCHW tensor, in input order', async () => {
    const values = [10, 20, 30, 40];
    const batch = await imagesToBatch(await Promise.all(values.map((v) => flatGray(v))), { size: 2, channels: 'grayscale', scale: 1 });
    expect(batch.tensor.shape).toEqual([4, 1, 2, 2]);
    values.forEach((v, n) => expect([...batch.tensor.data.subarray(n * 4, n * 4 + 4)]).toEqual([v, v, v, v]));
    expect(batch.items.map((i) => i.ok && i.batchIndex)).toEqual([0, 1, 2, 3]);
  });

  it('keeps the good images when one is corrupt and reports the bad one by name', async () => {
    const inputs = [
      await flatGray(11),
      { name: 'broken.png', data: Buffer.from('garbage') },
      await flatGray(33),
      '/definitely/missing.jpg',
      await flatGray(55),
    ];
    const batch = await imagesToBatch(inputs, { size: 2, channels: 'grayscale', scale: 1 });
    expect(batch.tensor.shape).toEqual([3, 1, 2, 2]);
    expect(batch.tensor.data.length).toBe(12);
    expect([0, 1, 2].map((n) => batch.tensor.data[n * 4])).toEqual([11, 33, 55]);
    expect(batch.items.map((i) => (i.ok ? i.batchIndex : i.error.code))).toEqual([
      0,
      'ERR_CONVNODE_IMAGE',
      1,
      'ERR_CONVNODE_IMAGE',
      2,
    ]);
    const failed = batch.items.filter((i) => !i.ok);
    expect(failed.map((i) => i.source)).toEqual(['broken.png', '/definitely/missing.jpg']);
    expect(failed[0].ok === false && failed[0].error.message).toMatch(/broken\.png.*cannot be decoded/);
  });

  it('gives an empty [0, C, H, W] tensor when nothing decodes', async () => {
    const batch = await imagesToBatch([Buffer.from('x')], { size: 3 });
    expect(batch.tensor.shape).toEqual([0, 3, 3, 3]);
    expect(batch.items[0].ok).toBe(false);
  });

  it('matches imageToTensor row for row', async () => {
    const photo = await sharp({ create: { width: 37, height: 23, channels: 3, background: '#3a7bd5' } })
      .composite([{ input: await flatGray(200, 9, 9), left: 5, top: 3 }])
      .png()
      .toBuffer();
    const single = await imageToTensor(photo, { preset: 'imagenet', size: 16, resizeShorter: 20 });
    const batch = await imagesToBatch([await flatGray(1), photo], { preset: 'imagenet', size: 16, resizeShorter: 20 });
    expect(batch.tensor.data.subarray(3 * 16 * 16)).toEqual(single.data);
  });
});

describe('presets', () => {
  it("'imagenet' is 3x224x224 with the ImageNet mean/std", async () => {
    const image = await sharp({ create: { width: 300, height: 400, channels: 3, background: { r: 124, g: 116, b: 104 } } }).png().toBuffer();
    const t = await imageToTensor(image, { preset: 'imagenet' });
    expect(t.shape).toEqual([1, 3, 224, 224]);
    const expected = [(124 / 255 - 0.485) / 0.229, (116 / 255 - 0.456) / 0.224, (104 / 255 - 0.406) / 0.225];
    expected.forEach((v, c) => expect(t.data[c * 224 * 224 + 100 * 224 + 50]).toBeCloseTo(v, 6));
  });

  it("'fashion-mnist' is 1x28x28 normalised with the training set statistics the model was trained with", async () => {
    const meta = JSON.parse(readFileSync(new URL('../models/lenet5-fashion.json', import.meta.url), 'utf8'));
    expect(meta.input.mean).toEqual([FASHION_MNIST_MEAN]);
    expect(meta.input.std).toEqual([FASHION_MNIST_STD]);
    const t = await imageToTensor(await flatGray(255, 28, 28), { preset: 'fashion-mnist' });
    expect(t.shape).toEqual([1, 1, 28, 28]);
    expect(t.data[0]).toBeCloseTo((1 - 0.28604) / 0.353024, 6);
  });

  it("'grayscale28' scales to [0, 1] and 'unit' keeps RGB in [0, 1]; explicit options override a preset", async () => {
    const g = await imageToTensor(await flatGray(51, 56, 56), { preset: 'grayscale28' });
    expect(g.shape).toEqual([1, 1, 28, 28]);
    expect(g.data[0]).toBeCloseTo(0.2, 7);
    const u = await imageToTensor(await flatGray(255, 8, 8), { preset: 'unit', size: 4 });
    expect(u.shape).toEqual([1, 3, 4, 4]);
    expect(Math.min(...u.data)).toBe(1);
  });
});

describe('option checking', () => {
  it.each([
    [{ size: 0 }, /'size' must be a positive integer/],
    [{ size: [2, 2.5] as unknown as [number, number] }, /'size'/],
    [{ std: [1, 0, 1] }, /'std' must be positive for every channel, got 0 for channel 1/],
    [{ mean: [0.5, 0.5] }, /'mean' must be a finite number or 3 of them/],
    [{ channels: 'grayscale' as const, mean: [0.1, 0.2, 0.3] }, /'mean' must be a finite number or 1 of them/],
    [{ preset: 'cifar' as never }, /'preset' must be one of imagenet, unit, fashion-mnist, grayscale28/],
    [{ fit: 'cover' as never }, /'fit' must be one of crop, stretch/],
    [{ size: 224, resizeShorter: 200 }, /'resizeShorter' must be an integer at least the output's shorter side \(224\)/],
    [{ scale: Number.NaN }, /'scale' must be a finite non-zero number/],
  ])('rejects %j', (options, message) => {
    expect(() => resolveImageOptions(options)).toThrow(ParameterError);
    expect(() => resolveImageOptions(options)).toThrow(message);
  });

  it('rejects bad options before decoding anything', async () => {
    await expect(imagesToBatch(['/whatever.png'], { size: -1 })).rejects.toThrow(ParameterError);
  });
});

describe('resolved options', () => {
  it('can be passed back in unchanged (a 28x28 resolved option stays 28x28, not the default preset size)', async () => {
    const resolved = resolveImageOptions({ size: 28, channels: 'grayscale', mean: 0.5, std: 0.5 });
    expect(resolveImageOptions(resolved)).toBe(resolved);
    const t = await imageToTensor(await flatGray(255, 28, 28), resolved);
    expect(t.shape).toEqual([1, 1, 28, 28]);
    expect(t.data[0]).toBe(1);
  });
});

describe('writeImageInto', () => {
  it("fills one slot of a caller's buffer and leaves the rest alone", async () => {
    const out = new Float32Array(3 * 4).fill(-7);
    await writeImageInto(await flatGray(9, 2, 2), { size: 2, channels: 'grayscale', scale: 1 }, out, 4);
    expect([...out]).toEqual([-7, -7, -7, -7, 9, 9, 9, 9, -7, -7, -7, -7]);
    await expect(writeImageInto(await flatGray(9, 2, 2), { size: 2, channels: 'grayscale' }, out, 10)).rejects.toThrow(
      /output slot at 10 of 1x2x2 does not fit a buffer of 12/,
    );
  });
});
