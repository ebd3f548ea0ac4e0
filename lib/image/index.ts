/**
 * Images in, NCHW float32 tensors out: decode with sharp, resize, crop, normalise, and write each
 * image straight into its slot of one batch tensor.
 */
import { ParameterError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { decodeResized, describeSource, type ImageSource } from './decode.js';
import { ImageError } from './image-error.js';
import { resolveImageOptions, type ImageOptions, type ResolvedImageOptions } from './options.js';
import { normalisationTables, writeCHW } from './pixels.js';

export { ImageError } from './image-error.js';
export { describeSource, type ImageSource } from './decode.js';
export {
  PRESETS,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  resolveImageOptions,
  type ImageOptions,
  type ResolvedImageOptions,
  type PresetName,
  type ResizeFit,
  type ResizeKernel,
  type ChannelOrder,
} from './options.js';

/** One image as a [1, C, H, W] tensor. Rejects with an ImageError naming the file if it cannot be decoded. */
export async function imageToTensor(input: ImageSource, options: ImageOptions | ResolvedImageOptions = {}): Promise<Tensor> {
  const resolved = resolveImageOptions(options);
  const tensor = new Tensor([1, resolved.channelCount, resolved.height, resolved.width]);
  const pixels = await decodeResized(input, resolved);
  writeCHW(pixels, resolved, normalisationTables(resolved), tensor.data, 0);
  return tensor;
}

/** Where one input of a batch went: its row in the tensor, or why it has none. */
export type BatchItem =
  | { readonly source: string; readonly ok: true; readonly batchIndex: number }
  | { readonly source: string; readonly ok: false; readonly error: ImageError };

export interface ImageBatch {
  /** [N, C, H, W] where N counts the images that decoded; rows follow the input order. */
  readonly tensor: Tensor;
  /** One entry per input, in input order. */
  readonly items: readonly BatchItem[];
}

/**
 * Many images into one [N, C, H, W] tensor. Each image is decoded concurrently (sharp works off
 * the event loop) and written into its row as soon as it arrives. An image that fails becomes an
 * `ok: false` item and the others keep their results; the rows of the good ones are packed
 * together in place, so the tensor holds only real images.
 */
export async function imagesToBatch(inputs: readonly ImageSource[], options: ImageOptions | ResolvedImageOptions = {}): Promise<ImageBatch> {
  if (!Array.isArray(inputs)) throw new ParameterError(`imagesToBatch: inputs must be an array, got ${typeof inputs}`);
  const resolved = resolveImageOptions(options);
  const tables = normalisationTables(resolved);
  const imageSize = resolved.channelCount * resolved.height * resolved.width;
  const data = new Float32Array(inputs.length * imageSize);

  const settled = await Promise.all(
    inputs.map(async (input, i) => {
      const name = describeSource(input, i);
      // Results carry the path as given (errors quote it: 'photo.jpg' is not a valid image).
      const source = typeof input === 'string' ? input : typeof (input as { name?: unknown })?.name === 'string' ? (input as { name: string }).name : name;
      try {
        writeCHW(await decodeResized(input, resolved, name), resolved, tables, data, i * imageSize);
        return { source, error: undefined };
      } catch (error) {
        return { source, error: asImageError(error, name) };
      }
    }),
  );

  const items: BatchItem[] = [];
  let rows = 0;
  settled.forEach(({ source, error }, i) => {
    if (error !== undefined) {
      items.push({ source, ok: false, error });
      return;
    }
    if (rows !== i) data.copyWithin(rows * imageSize, i * imageSize, (i + 1) * imageSize);
    items.push({ source, ok: true, batchIndex: rows++ });
  });
  const shape = [rows, resolved.channelCount, resolved.height, resolved.width];
  return { tensor: new Tensor(shape, data.subarray(0, rows * imageSize)), items };
}

function asImageError(error: unknown, name: string): ImageError {
  if (error instanceof ImageError) return error;
  return new ImageError(name, error instanceof Error ? error.message : String(error));
}

/** Exposed for callers that preallocate their own batch (e.g. a server's dynamic batcher). */
export async function writeImageInto(
  input: ImageSource,
  options: ImageOptions | ResolvedImageOptions,
  out: Float32Array,
  offset: number,
): Promise<void> {
  const resolved = resolveImageOptions(options);
  const pixels = await decodeResized(input, resolved);
  writeCHW(pixels, resolved, normalisationTables(resolved), out, offset);
}
