/**
 * Untrusted image bytes -> one preprocessed CHW row, before the image joins a batch: a slow or
 * huge decode then never holds up the others in its batch. An image whose header declares more
 * pixels than the model's limit is refused (413) before any pixel is decoded. Large images
 * (over LARGE_IMAGE_PIXELS) decode one at a time, so they cannot take every thread of the
 * decoder's pool (libuv's, 4 by default) and make small images wait behind them. Decoder
 * warnings (a corrupt JPEG that still decodes) are reported to the client.
 */
import { decodeResized, type FailOn } from '../image/decode.js';
import { loadSharp } from '../image/sharp.js';
import { ImageError } from '../image/image-error.js';
import type { ResolvedImageOptions } from '../image/options.js';
import { normalisationTables, writeCHW } from '../image/pixels.js';
import { ServeError } from './errors.js';

export interface ImageLimits {
  readonly maxPixels: number;
  readonly failOn: FailOn;
}

export interface DecodedRow {
  /** C x H x W floats, normalised as the model expects. */
  readonly data: Float32Array;
  /** What the decoder complained about without refusing the image; empty when it was clean. */
  readonly warnings: readonly string[];
}

const tablesCache = new WeakMap<ResolvedImageOptions, Float32Array[]>();

/** Above this many pixels (a 2000 x 2000 photo), an image waits for its turn to decode. */
export const LARGE_IMAGE_PIXELS = 4_000_000;

/** A first-come, first-served gate for large decodes; one at a time. */
export class DecodeGate {
  private busy = false;
  private readonly waiting: (() => void)[] = [];

  async enter(signal?: AbortSignal): Promise<void> {
    if (!this.busy) {
      this.busy = true;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(go), 1);
        reject(signal!.reason);
      };
      const go = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiting.push(go);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.busy = false;
  }
}

const largeDecodes = new DecodeGate();

/**
 * Decodes one image. Rejects with a ServeError: 413 IMAGE_TOO_LARGE over the pixel limit,
 * 400 INVALID_IMAGE for anything the decoder refuses. `name` must already be safe to echo.
 */
export async function decodeImage(
  bytes: Uint8Array,
  name: string,
  image: ResolvedImageOptions,
  limits: ImageLimits,
  signal?: AbortSignal,
): Promise<DecodedRow> {
  // The header alone (no pixels decoded) says how big the image is.
  const pixels = await declaredPixels(bytes, name, limits);
  if (pixels <= LARGE_IMAGE_PIXELS) return decodeChecked(bytes, name, image, limits);
  await largeDecodes.enter(signal);
  try {
    return await decodeChecked(bytes, name, image, limits);
  } finally {
    largeDecodes.leave();
  }
}

async function declaredPixels(bytes: Uint8Array, name: string, limits: ImageLimits): Promise<number> {
  if (bytes.length === 0) throw new ServeError(400, 'INVALID_IMAGE', `image '${name}' is empty (0 bytes)`);
  const sharp = await loadSharp();
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch (error) {
    throw describe(new ImageError(name, 'cannot be decoded', error instanceof Error ? error.message : String(error)), name, limits);
  }
  const pixels = (width ?? 0) * (height ?? 0);
  if (pixels > limits.maxPixels) throw tooLarge(name, limits);
  return pixels;
}

function tooLarge(name: string, limits: ImageLimits): ServeError {
  return new ServeError(413, 'IMAGE_TOO_LARGE', `image '${name}' has more than ${limits.maxPixels} pixels, this model's limit`);
}

async function decodeChecked(bytes: Uint8Array, name: string, image: ResolvedImageOptions, limits: ImageLimits): Promise<DecodedRow> {
  let tables = tablesCache.get(image);
  if (!tables) tablesCache.set(image, (tables = normalisationTables(image)));
  const data = new Float32Array(image.channelCount * image.height * image.width);
  const decode = (failOn: FailOn) => decodeResized(bytes, image, name, { failOn, limitInputPixels: limits.maxPixels });
  const warnings: string[] = [];
  let pixels;
  try {
    // sharp reports a decoder warning only by failing at failOn 'warning'. So: try strictly first;
    // if the configured level is more lenient, decode again at that level and keep the complaint
    // as a warning. Clean images (nearly all) decode once.
    pixels = await decode('warning');
  } catch (strict) {
    if (limits.failOn === 'warning' || !(strict instanceof ImageError)) throw describe(strict, name, limits);
    const complaint = describe(strict, name, limits);
    if (complaint.code !== 'INVALID_IMAGE') throw complaint;
    try {
      pixels = await decode(limits.failOn);
    } catch (lenient) {
      throw describe(lenient, name, limits);
    }
    warnings.push(decoderWords(strict.reason));
  }
  writeCHW(pixels, image, tables, data, 0);
  return { data, warnings };
}

/** The decoder's own message turned into ours: fixed phrases, never libvips' text as is. */
function describe(error: unknown, name: string, limits: ImageLimits): ServeError {
  const reason = error instanceof ImageError ? (error.reason ?? error.message) : '';
  if (/exceeds pixel limit/i.test(reason)) return tooLarge(name, limits);
  if (/empty \(0 bytes\)/.test(error instanceof Error ? error.message : '')) {
    return new ServeError(400, 'INVALID_IMAGE', `image '${name}' is empty (0 bytes)`);
  }
  if (/unsupported image format/i.test(reason)) {
    return new ServeError(400, 'INVALID_IMAGE', `image '${name}' is not in a format the server reads (JPEG, PNG, WebP, GIF, TIFF, AVIF)`);
  }
  return new ServeError(400, 'INVALID_IMAGE', `image '${name}' cannot be decoded: ${decoderWords(reason)}`);
}

/**
 * A decoder complaint reduced to words safe to pass on: the first line, letters and common
 * punctuation only, at most 120 characters (a JPEG library's 'Corrupt JPEG data: bad Huffman code').
 */
function decoderWords(reason: string | undefined): string {
  const line = (reason ?? '').split('\n')[0].replace(/^Vips\w*:\s*/, '');
  const cleaned = line.replace(/[^A-Za-z0-9 .,:;()'_-]/g, '').trim().slice(0, 120);
  return cleaned === '' ? 'the pixel data is corrupt or truncated' : cleaned;
}
