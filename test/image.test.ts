// Preprocessing of single images: exact tensor values after normalisation, NCHW layout, channel
// order, centre-crop and resize geometry. Every input is built pixel by pixel here with sharp.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { imageToTensor, ImageError } from '../lib/image/index.js';

/** Encodes raw HWC bytes as PNG (lossless, so decoding gives the bytes back). */
function png(width: number, height: number, channels: 1 | 3 | 4, bytes: number[]): Promise<Buffer> {
  return sharp(Buffer.from(bytes), { raw: { width, height, channels } }).png().toBuffer();
}

/** Reads element [0, c, y, x] of a [1, C, H, W] tensor. */
function at(t: { shape: readonly number[]; data: Float32Array }, c: number, y: number, x: number): number {
  const [, , h, w] = t.shape;
  return t.data[(c * h + y) * w + x];
}

describe('imageToTensor', () => {
  it('normalises each pixel as (p * scale - mean) / std', async () => {
    const bytes = [0, 50, 100, 150, 200, 255];
    const t = await imageToTensor(await png(3, 2, 1, bytes), { size: [2, 3], channels: 'grayscale', mean: 0.5, std: 0.25 });
    expect(t.shape).toEqual([1, 1, 2, 3]);
    // Hand-worked: 0 -> -2, 255 -> 2, 100 -> (100/255 - 0.5) / 0.25 = -0.431372...
    expect(t.data[0]).toBe(-2);
    expect(t.data[5]).toBe(2);
    expect(t.data[2]).toBeCloseTo(-0.4313725, 6);
    bytes.forEach((p, i) => expect(t.data[i]).toBe(Math.fround((p / 255 - 0.5) / 0.25)));
  });

  it('lays RGB out as planes (NCHW) and honours per-channel mean/std and bgr order', async () => {
    // 2x2 image, pixel (y, x) has colour [10 + 40y + 20x, 100 + y + x, 255 - 40y - 20x]
    const bytes: number[] = [];
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) bytes.push(10 + 40 * y + 20 * x, 100 + y + x, 255 - 40 * y - 20 * x);
    const input = await png(2, 2, 3, bytes);
    const mean = [0.1, 0.2, 0.3];
    const std = [0.5, 0.25, 2];
    const rgb = await imageToTensor(input, { size: 2, mean, std });
    const bgr = await imageToTensor(input, { size: 2, mean, std, channels: 'bgr' });
    expect(rgb.shape).toEqual([1, 3, 2, 2]);
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 2; x++) {
        const colour = bytes.slice((y * 2 + x) * 3, (y * 2 + x) * 3 + 3);
        for (let c = 0; c < 3; c++) {
          expect(at(rgb, c, y, x)).toBe(Math.fround((colour[c] / 255 - mean[c]) / std[c]));
          expect(at(bgr, c, y, x)).toBe(Math.fround((colour[2 - c] / 255 - mean[c]) / std[c]));
        }
      }
    }
  });

  it('with scale 1 and no mean/std gives the raw byte values', async () => {
    const t = await imageToTensor(await png(2, 1, 1, [7, 249]), { size: [1, 2], channels: 'grayscale', scale: 1 });
    expect([...t.data]).toEqual([7, 249]);
  });

  it('centre-crops a wide image to a square without resizing when the short side already fits', async () => {
    // 6 wide x 4 tall; column x holds the value 10x. Crop 4x4 keeps columns 1..4.
    const bytes: number[] = [];
    for (let y = 0; y < 4; y++) for (let x = 0; x < 6; x++) bytes.push(10 * x);
    const t = await imageToTensor(await png(6, 4, 1, bytes), { size: 4, channels: 'grayscale', scale: 1 });
    for (let y = 0; y < 4; y++) expect([0, 1, 2, 3].map((x) => at(t, 0, y, x))).toEqual([10, 20, 30, 40]);
  });

  it('resizes the shorter side to resizeShorter before the centre crop', async () => {
    // 8x8 with value 10 * (ring distance from the border): crop 4 of 8 keeps rings 2 and 3.
    const bytes: number[] = [];
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) bytes.push(10 * Math.min(x, y, 7 - x, 7 - y));
    const t = await imageToTensor(await png(8, 8, 1, bytes), { size: 4, resizeShorter: 8, channels: 'grayscale', scale: 1 });
    expect(t.shape).toEqual([1, 1, 4, 4]);
    expect([0, 1, 2, 3].map((x) => at(t, 0, 0, x))).toEqual([20, 20, 20, 20]);
    expect([0, 1, 2, 3].map((x) => at(t, 0, 1, x))).toEqual([20, 30, 30, 20]);
  });

  it("downsamples 2x2 blocks to single pixels and 'stretch' ignores the aspect ratio", async () => {
    // 8 wide x 4 tall: left half 0, right half 200. Stretched to 4x4, columns 0-1 are 0 and 2-3 are 200.
    const bytes: number[] = [];
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) bytes.push(x < 4 ? 0 : 200);
    const input = await png(8, 4, 1, bytes);
    const stretched = await imageToTensor(input, { size: 4, fit: 'stretch', kernel: 'nearest', channels: 'grayscale', scale: 1 });
    for (let y = 0; y < 4; y++) expect([0, 1, 2, 3].map((x) => at(stretched, 0, y, x))).toEqual([0, 0, 200, 200]);
    // 'crop' keeps the aspect: the 4x4 centre of the unscaled 8x4 image is columns 2..5.
    const cropped = await imageToTensor(input, { size: 4, kernel: 'nearest', channels: 'grayscale', scale: 1 });
    expect([0, 1, 2, 3].map((x) => at(cropped, 0, 0, x))).toEqual([0, 0, 200, 200]);
    const small = await imageToTensor(input, { size: 2, kernel: 'nearest', channels: 'grayscale', scale: 1 });
    expect(small.shape).toEqual([1, 1, 2, 2]);
    expect([at(small, 0, 0, 0), at(small, 0, 0, 1)]).toEqual([0, 200]);
  });

  it('drops alpha, turns gray into three equal planes, and converts colour to luminance', async () => {
    const rgba = await png(1, 1, 4, [30, 60, 90, 0]);
    const rgb = await imageToTensor(rgba, { size: 1, scale: 1 });
    expect([...rgb.data]).toEqual([30, 60, 90]);
    const grayToRgb = await imageToTensor(await png(1, 1, 1, [77]), { size: 1, scale: 1 });
    expect([...grayToRgb.data]).toEqual([77, 77, 77]);
    const white = await imageToTensor(await png(1, 1, 3, [255, 255, 255]), { size: 1, scale: 1, channels: 'grayscale' });
    expect([...white.data]).toEqual([255]);
    const red = await imageToTensor(await png(1, 1, 3, [255, 0, 0]), { size: 1, scale: 1, channels: 'grayscale' });
    // ITU-R 601 luma: round(0.299 * 255) = 76, as PIL's convert('L') gives for pure red.
    expect([...red.data]).toEqual([76]);
    const mixed = await imageToTensor(await png(1, 1, 3, [10, 200, 50]), { size: 1, scale: 1, channels: 'grayscale' });
    expect(mixed.data[0]).toBe(Math.round(0.299 * 10 + 0.587 * 200 + 0.114 * 50)); // 126.03 -> 126
  });

  it('reads lossless WebP exactly and JPEG within compression error, from a path too', async () => {
    const bytes = [0, 60, 120, 180, 240, 255, 128, 64, 32];
    const raw = sharp(Buffer.from(bytes), { raw: { width: 3, height: 3, channels: 1 } });
    const webp = await raw.clone().webp({ lossless: true }).toBuffer();
    const t = await imageToTensor(webp, { size: 3, channels: 'grayscale', scale: 1 });
    expect([...t.data]).toEqual(bytes);
    const flat = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 100, b: 50 } } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(await mkdtemp(join(tmpdir(), 'convnode-image-')), 'flat.jpg');
    await writeFile(file, flat);
    const j = await imageToTensor(file, { size: 8, scale: 1 });
    [200, 100, 50].forEach((v, c) => expect(Math.abs(at(j, c, 4, 4) - v)).toBeLessThanOrEqual(3));
  });

  it('rejects a corrupt buffer, an empty buffer and a missing file with errors naming them', async () => {
    const corrupt = imageToTensor(Buffer.from('not an image at all'), { size: 4 });
    await expect(corrupt).rejects.toBeInstanceOf(ImageError);
    await expect(corrupt).rejects.toMatchObject({ code: 'ERR_CONVNODE_IMAGE' });
    await expect(corrupt).rejects.toThrow(/<buffer, 19 bytes>: cannot be decoded .*unsupported image format/);
    await expect(imageToTensor(new Uint8Array(0))).rejects.toThrow(/is empty/);
    await expect(imageToTensor('/no/such/dir/cat.png')).rejects.toThrow(/image '\/no\/such\/dir\/cat\.png': cannot be decoded .*missing/);
    await expect(imageToTensor({ name: 'upload.png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47]) })).rejects.toThrow(/image 'upload\.png'/);
  });

  it('rejects a truncated JPEG and PNG instead of returning a half-grey image', async () => {
    const noise = sharp({ create: { width: 64, height: 64, channels: 3, noise: { type: 'gaussian', mean: 128, sigma: 30 } } });
    for (const [name, encoded] of [['cut.jpg', await noise.clone().jpeg().toBuffer()], ['cut.png', await noise.clone().png().toBuffer()]] as const) {
      const cut = { name, data: encoded.subarray(0, Math.floor(encoded.length * 0.6)) };
      await expect(imageToTensor(cut, { size: 8 })).rejects.toThrow(new RegExp(`image '${name.replace('.', '\\.')}': cannot be decoded`));
    }
  });
});
