/**
 * Preprocessing options and the presets for the common conventions. An option object is resolved
 * once (preset defaults, then the caller's overrides) and checked, so the per-pixel loop never
 * has to look at anything but plain numbers.
 */
import { ParameterError } from '../errors.js';

/** How the decoded image is brought to the network's input size. */
export type ResizeFit =
  /** Scale so the shorter side is `resizeShorter` (default: the output's shorter side), then cut the centre. */
  | 'crop'
  /** Scale each axis independently to the output size; the aspect ratio is not kept. */
  | 'stretch';

/** Channel layout of the produced tensor. */
export type ChannelOrder = 'rgb' | 'bgr' | 'grayscale';

/** The resampling filter sharp uses when resizing. */
export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';

export type PresetName = 'imagenet' | 'unit' | 'fashion-mnist' | 'grayscale28';

export interface ImageOptions {
  /** Start from a preset's values; explicit options below override it. Default: 'unit'. */
  preset?: PresetName;
  /** Output size: one number for a square, or [height, width]. Default: the preset's. */
  size?: number | readonly [number, number];
  /** 'crop' (default) or 'stretch'. */
  fit?: ResizeFit;
  /** For fit 'crop': the shorter side after resizing, before the centre crop (ImageNet: 256 for 224). */
  resizeShorter?: number;
  /** 'rgb' (default), 'bgr' or 'grayscale' (one channel, luminance). */
  channels?: ChannelOrder;
  /** Multiplies the uint8 pixel before mean/std. Default 1/255, giving [0, 1]. */
  scale?: number;
  /** Subtracted per channel after scaling; one value is used for every channel. Default 0. */
  mean?: number | readonly number[];
  /** Divides per channel after subtracting the mean; one value is used for every channel. Default 1. */
  std?: number | readonly number[];
  /** Resampling filter. Default 'linear' (close to torchvision's bilinear resize). */
  kernel?: ResizeKernel;
}

/** Options after presets and defaults are applied and every value is checked. */
export interface ResolvedImageOptions {
  readonly height: number;
  readonly width: number;
  readonly fit: ResizeFit;
  readonly resizeShorter: number;
  readonly channels: ChannelOrder;
  /** 1 for grayscale, 3 otherwise. */
  readonly channelCount: number;
  readonly scale: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly kernel: ResizeKernel;
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/**
 * Fashion-MNIST's pixel mean and standard deviation in [0, 1] units, measured on the 60,000
 * training images by scripts/train/train_lenet5_fashion.py and stored in models/lenet5-fashion.json
 * (a test checks the two agree).
 */
export const FASHION_MNIST_MEAN = 0.28604;
export const FASHION_MNIST_STD = 0.353024;

export const PRESETS: Readonly<Record<PresetName, ImageOptions>> = Object.freeze({
  /** torchvision's classic evaluation transform: resize to 256, centre crop 224, ImageNet mean/std. */
  imagenet: { size: 224, fit: 'crop', resizeShorter: 256, channels: 'rgb', mean: IMAGENET_MEAN, std: IMAGENET_STD },
  /** RGB scaled to [0, 1], no mean/std. */
  unit: { size: 224, fit: 'crop', channels: 'rgb', mean: 0, std: 1 },
  /** What the built-in LeNet-5 expects: 1x28x28 grayscale normalised with the training set's mean/std. */
  'fashion-mnist': { size: 28, fit: 'crop', channels: 'grayscale', mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD },
  /** 1x28x28 grayscale scaled to [0, 1]. */
  grayscale28: { size: 28, fit: 'crop', channels: 'grayscale', mean: 0, std: 1 },
});

const OPTION_NAMES = ['preset', 'size', 'fit', 'resizeShorter', 'channels', 'scale', 'mean', 'std', 'kernel'] as const satisfies ReadonlyArray<
  keyof ImageOptions
>;
const FITS: readonly ResizeFit[] = ['crop', 'stretch'];
const CHANNEL_ORDERS: readonly ChannelOrder[] = ['rgb', 'bgr', 'grayscale'];
const KERNELS: readonly ResizeKernel[] = ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'];

/** Marks option objects that resolveImageOptions made, so passing one back in is free and exact. */
const RESOLVED = new WeakSet<object>();

/**
 * Applies the preset and defaults and checks every value. Accepts its own result too, so every
 * function taking ImageOptions can be handed a ResolvedImageOptions.
 */
export function resolveImageOptions(options: ImageOptions | ResolvedImageOptions = {}): ResolvedImageOptions {
  if (options === null || typeof options !== 'object') {
    throw new ParameterError(`image options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  if (RESOLVED.has(options)) return options as ResolvedImageOptions;
  const resolved = Object.freeze(resolveFresh(options as ImageOptions));
  RESOLVED.add(resolved);
  return resolved;
}

function resolveFresh(options: ImageOptions): ResolvedImageOptions {
  // A misspelt key would otherwise be ignored and the preset's value used without a word.
  for (const key of Object.keys(options)) {
    if (!(OPTION_NAMES as readonly string[]).includes(key)) {
      throw new ParameterError(`image option '${key}' is unknown (the options are ${OPTION_NAMES.join(', ')})`);
    }
  }
  const presetName = options.preset ?? 'unit';
  if (!Object.hasOwn(PRESETS, presetName)) {
    throw new ParameterError(`image option 'preset' must be one of ${Object.keys(PRESETS).join(', ')}, got ${JSON.stringify(presetName)}`);
  }
  const merged: ImageOptions = { ...PRESETS[presetName] };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }

  const [height, width] = readSize(merged.size);
  const fit = oneOf(merged.fit ?? 'crop', FITS, 'fit');
  const channels = oneOf(merged.channels ?? 'rgb', CHANNEL_ORDERS, 'channels');
  const kernel = oneOf(merged.kernel ?? 'linear', KERNELS, 'kernel');
  const channelCount = channels === 'grayscale' ? 1 : 3;

  const resizeShorter = merged.resizeShorter ?? Math.min(height, width);
  if (!Number.isInteger(resizeShorter) || resizeShorter < Math.min(height, width)) {
    throw new ParameterError(
      `image option 'resizeShorter' must be an integer at least the output's shorter side (${Math.min(height, width)}), got ${String(merged.resizeShorter)}`,
    );
  }
  const scale = merged.scale ?? 1 / 255;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale === 0) {
    throw new ParameterError(`image option 'scale' must be a finite non-zero number, got ${String(scale)}`);
  }
  const mean = perChannel(merged.mean ?? 0, channelCount, 'mean');
  const std = perChannel(merged.std ?? 1, channelCount, 'std');
  std.forEach((s, c) => {
    if (s <= 0) throw new ParameterError(`image option 'std' must be positive for every channel, got ${s} for channel ${c}`);
  });
  return { height, width, fit, resizeShorter, channels, channelCount, scale, mean, std, kernel };
}

function readSize(size: ImageOptions['size']): [number, number] {
  const pair = typeof size === 'number' ? [size, size] : size;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((d) => Number.isInteger(d) && d >= 1 && d <= 16384)) {
    throw new ParameterError(
      `image option 'size' must be a positive integer or [height, width] of them (at most 16384), got ${JSON.stringify(size)}`,
    );
  }
  return [pair[0], pair[1]];
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  if (!allowed.includes(value as T)) {
    throw new ParameterError(`image option '${name}' must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function perChannel(value: number | readonly number[], channelCount: number, name: string): number[] {
  const values = typeof value === 'number' ? Array<number>(channelCount).fill(value) : value;
  if (!Array.isArray(values) || values.length !== channelCount || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new ParameterError(
      `image option '${name}' must be a finite number or ${channelCount} of them (one per channel), got ${JSON.stringify(value)}`,
    );
  }
  return [...values];
}
