/**
 * An image file (or encoded bytes) as a [1, 1, H, W] grayscale tensor of raw 0..255 values, the
 * units of the lecture's worked example (so the Sobel response of a 255/0 edge reads -1020).
 * Decoding and the grayscale conversion are lib/image's; this only picks the size.
 */
import { loadSharp } from '../image/sharp.js';
import { ParameterError } from '../errors.js';
import { ImageError, describeSource, imageToTensor, type ImageSource } from '../image/index.js';
import type { Tensor } from '../tensor.js';

export interface LoadGrayscaleOptions {
  /** Shrink the image (keeping its aspect ratio) so neither side exceeds this (default 256). Never enlarges. */
  maxSize?: number;
}

export async function loadGrayscale(source: ImageSource, options: LoadGrayscaleOptions = {}): Promise<Tensor> {
  const maxSize = options.maxSize ?? 256;
  if (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > 16384) {
    throw new ParameterError(`loadGrayscale: maxSize must be an integer from 1 to 16384, got ${JSON.stringify(options.maxSize)}`);
  }
  const [height, width] = await orientedSize(source);
  const shrink = Math.min(1, maxSize / Math.max(height, width));
  const size: [number, number] = [Math.max(1, Math.round(height * shrink)), Math.max(1, Math.round(width * shrink))];
  return imageToTensor(source, { size, fit: 'stretch', channels: 'grayscale', scale: 1, mean: 0, std: 1, kernel: shrink < 1 ? 'lanczos3' : 'nearest' });
}

/** [height, width] as displayed (after the EXIF rotation lib/image applies). */
async function orientedSize(source: ImageSource): Promise<[number, number]> {
  const input = typeof source === 'string' || source instanceof Uint8Array ? source : source?.data;
  const name = describeSource(source);
  try {
    const sharp = await loadSharp();
    const meta = await sharp(input).metadata();
    const { width, height } = meta.autoOrient ?? meta;
    if (!width || !height) throw new Error('no width/height');
    return [height, width];
  } catch (error) {
    throw new ImageError(name, `cannot be decoded (${error instanceof Error ? error.message : String(error)})`);
  }
}
