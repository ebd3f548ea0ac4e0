/**
 * HWC uint8 -> CHW float32 with the centre crop, channel order and normalisation in one pass,
 * written at an offset into a caller's Float32Array (a slot of a batch tensor).
 */
import { ShapeError } from '../errors.js';
import type { DecodedPixels } from './decode.js';
import type { ResolvedImageOptions } from './options.js';

/**
 * One 256-entry table per output channel: (p * scale - mean) / std for every byte p. Computing it
 * in double once and rounding to float32 gives the same value as the formula per pixel, cheaper.
 */
export function normalisationTables(options: ResolvedImageOptions): Float32Array[] {
  return options.mean.map((mean, c) => {
    const table = new Float32Array(256);
    for (let p = 0; p < 256; p++) table[p] = (p * options.scale - mean) / options.std[c];
    return table;
  });
}

/** Source channel each output channel reads; a one-channel source feeds every output channel. */
function sourceChannels(order: ResolvedImageOptions['channels'], sourceCount: number): number[] {
  if (sourceCount < 3) return order === 'grayscale' ? [0] : [0, 0, 0];
  return order === 'bgr' ? [2, 1, 0] : [0, 1, 2];
}

/**
 * Luma of an sRGB byte triple with the ITU-R 601-2 weights (0.299, 0.587, 0.114) in 16-bit fixed
 * point, rounded: the convention grayscale training data is usually made with (PIL's convert('L'),
 * torchvision's Grayscale). The weights sum to 65536, so a gray pixel keeps its exact value.
 */
function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 32768) >> 16;
}

export function writeCHW(
  pixels: DecodedPixels,
  options: ResolvedImageOptions,
  tables: readonly Float32Array[],
  out: Float32Array,
  offset: number,
): void {
  const { height, width, channelCount } = options;
  if (pixels.width < width || pixels.height < height) {
    throw new ShapeError(`decoded image is ${pixels.width}x${pixels.height}, smaller than the ${width}x${height} crop`);
  }
  if (offset < 0 || offset + channelCount * height * width > out.length) {
    throw new ShapeError(`output slot at ${offset} of ${channelCount}x${height}x${width} does not fit a buffer of ${out.length}`);
  }
  // Centre crop; an odd surplus leaves the extra pixel on the right/bottom.
  const top = Math.floor((pixels.height - height) / 2);
  const left = Math.floor((pixels.width - width) / 2);
  const stride = pixels.channels;
  const rowBytes = pixels.width * stride;
  const planes = sourceChannels(options.channels, stride);
  const src = pixels.data;
  if (options.channels === 'grayscale' && stride >= 3) {
    const table = tables[0];
    for (let y = 0; y < height; y++) {
      let s = (top + y) * rowBytes + left * stride;
      const row = offset + y * width;
      for (let x = 0; x < width; x++, s += stride) out[row + x] = table[luma(src[s], src[s + 1], src[s + 2])];
    }
    return;
  }
  for (let c = 0; c < channelCount; c++) {
    const table = tables[c];
    const plane = offset + c * height * width;
    for (let y = 0; y < height; y++) {
      let s = (top + y) * rowBytes + left * stride + planes[c];
      const row = plane + y * width;
      for (let x = 0; x < width; x++, s += stride) out[row + x] = table[src[s]];
    }
  }
}
