/**
 * Decoding and resizing with sharp: whatever format sharp reads (JPEG, PNG, WebP, GIF, TIFF,
 * AVIF/HEIF, SVG) becomes interleaved HWC uint8 pixels at the resized size. The centre crop is
 * not done here: the pixel loop in pixels.ts reads the crop window directly, saving a copy.
 */
import { loadSharp } from './sharp.js';
import { ParameterError } from '../errors.js';
import { ImageError } from './image-error.js';
import type { ResolvedImageOptions } from './options.js';

/** A file path, encoded image bytes, or encoded bytes with a name for error messages. */
export type ImageSource = string | Uint8Array | { readonly name: string; readonly data: Uint8Array };

export interface DecodedPixels {
  /** HWC, `channels` bytes per pixel. */
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/** A short name for a source, used in every error about it. */
export function describeSource(source: ImageSource, index?: number): string {
  if (typeof source === 'string') return `'${source}'`;
  if (source instanceof Uint8Array) return `<buffer${index === undefined ? '' : ` #${index}`}, ${source.length} bytes>`;
  if (source !== null && typeof source === 'object' && typeof source.name === 'string') return `'${source.name}'`;
  return `<input${index === undefined ? '' : ` #${index}`}>`;
}

function sharpInput(source: ImageSource, name: string): string | Uint8Array {
  if (typeof source === 'string' || source instanceof Uint8Array) return source;
  if (source !== null && typeof source === 'object' && source.data instanceof Uint8Array) return source.data;
  throw new ParameterError(`image input ${name} must be a path, a Buffer/Uint8Array, or { name, data }, got ${typeof source}`);
}

/** sharp's levels of decoder trouble that abort a decode, least strict first. */
export type FailOn = 'none' | 'truncated' | 'error' | 'warning';

/** Limits a server puts on untrusted images. */
export interface DecodeGuard {
  /** The least serious decoder problem that aborts the decode (sharp's `failOn`). Default 'error'. */
  readonly failOn?: FailOn;
  /** Refuse an image whose header declares more pixels than this (sharp's `limitInputPixels`), before decoding it. Default: sharp's 268,402,689. */
  readonly limitInputPixels?: number;
}

/** Decodes and resizes one image; rejects with an ImageError naming the source. */
export async function decodeResized(
  source: ImageSource,
  options: ResolvedImageOptions,
  name = describeSource(source),
  guard: DecodeGuard = {},
): Promise<DecodedPixels> {
  const input = sharpInput(source, name);
  if (input instanceof Uint8Array && input.length === 0) throw new ImageError(name, 'is empty (0 bytes)');
  const sharp = await loadSharp();
  let pipeline = sharp(input, { failOn: guard.failOn ?? 'error', limitInputPixels: guard.limitInputPixels ?? true })
    .rotate() // honour EXIF orientation, as photo viewers do
    .removeAlpha();
  pipeline =
    options.fit === 'stretch'
      ? pipeline.resize({ width: options.width, height: options.height, fit: 'fill', kernel: options.kernel })
      : pipeline.resize({ width: options.resizeShorter, height: options.resizeShorter, fit: 'outside', kernel: options.kernel });
  // Always 8-bit sRGB (CMYK, 16-bit and palette images included); grayscale is made from it in
  // pixels.ts with the usual luma weights, not libvips' linear-light conversion.
  pipeline = pipeline.toColourspace('srgb');
  try {
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ImageError(name, `cannot be decoded (${reason})`, reason);
  }
}
