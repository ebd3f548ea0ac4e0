/**
 * Size limits for loading a model: checked before anything is allocated, so a small hostile or
 * broken file (pads of 1e9, a declared 65536 x 65536 input, a batch of millions) is refused with
 * a typed error instead of blocking the process for minutes and taking gigabytes. The defaults
 * are far above any real CNN and low enough to stop a bomb.
 */
import { ParameterError } from '../errors.js';
import { OnnxError } from './errors.js';

export interface LoadLimits {
  /** Most elements one tensor may hold (an activation, a constant, an input). Default 2^30 (4 GiB of float32). */
  readonly maxTensorElements?: number;
  /** Most bytes of activations one planned run may need (its arena). Default 8 GiB. */
  readonly maxActivationBytes?: number;
  /** Most bytes of initializers (weights) a file may hold. Default 4 GiB (ONNX's protobuf cap is 2 GiB). */
  readonly maxInitializerBytes?: number;
}

export type ResolvedLimits = Required<LoadLimits>;

export const DEFAULT_LIMITS: ResolvedLimits = Object.freeze({
  maxTensorElements: 2 ** 30,
  maxActivationBytes: 8 * 2 ** 30,
  maxInitializerBytes: 4 * 2 ** 30,
});

const NAMES = Object.keys(DEFAULT_LIMITS) as Array<keyof LoadLimits>;

export function resolveLimits(limits: LoadLimits | undefined): ResolvedLimits {
  if (limits === undefined) return DEFAULT_LIMITS;
  if (limits === null || typeof limits !== 'object') {
    throw new ParameterError(`loadOnnx: options.limits must be an object with ${NAMES.join(', ')}, got ${String(limits)}`);
  }
  for (const key of Object.keys(limits)) {
    if (!NAMES.includes(key as keyof LoadLimits)) {
      throw new ParameterError(`loadOnnx: options.limits.${key} is not a limit; the limits are ${NAMES.join(', ')}`);
    }
  }
  const resolved = { ...DEFAULT_LIMITS };
  for (const key of NAMES) {
    const value = limits[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new ParameterError(`loadOnnx: options.limits.${key} must be a positive safe integer, got ${String(value)}`);
    }
    resolved[key] = value;
  }
  return Object.freeze(resolved);
}

/** Elements of a shape in float64: exact up to 2^53 and never wraps, so the comparison is sound. */
function elementsOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Throws an OnnxError naming the owner, the tensor and its shape when it is over the limit. */
export function checkTensorElements(shape: readonly number[], owner: string, what: string, limits: ResolvedLimits = DEFAULT_LIMITS): void {
  const count = elementsOf(shape);
  if (!(count <= limits.maxTensorElements)) {
    throw new OnnxError(
      `${owner}: ${what} of shape [${shape.join(', ')}] would hold ${count} elements, over the limit of ${limits.maxTensorElements} per tensor (options.limits.maxTensorElements)`,
    );
  }
}

export function checkActivationBytes(bytes: number, shapes: string, limits: ResolvedLimits): void {
  if (!(bytes <= limits.maxActivationBytes)) {
    throw new OnnxError(
      `a run on inputs ${shapes} needs ${bytes} bytes of activations, over the limit of ${limits.maxActivationBytes} (options.limits.maxActivationBytes)`,
    );
  }
}
