/**
 * Element-wise activations: the one definition that layers, the ONNX fusion pass, both
 * backends and the native epilogue description share. This module sits at the bottom of the
 * house (it imports nothing but the error types), so kernels, planner, layers and backends can
 * all depend on it.
 *
 * Each kind's parameters, and its reference formula in float64 (the oracle the native
 * polynomial approximations are compared against):
 *
 * | kind          | parameters              | y =                                        |
 * |---------------|-------------------------|--------------------------------------------|
 * | none          |                         | x                                          |
 * | relu          |                         | max(x, 0)                                  |
 * | relu6         |                         | min(max(x, 0), 6)                          |
 * | clip          | min, max                | min(max(x, min), max)                      |
 * | leakyRelu     | alpha (0.01)            | x < 0 ? alpha x : x                        |
 * | elu           | alpha (1)               | x < 0 ? alpha (e^x - 1) : x                |
 * | hardSigmoid   | alpha (0.2), beta (0.5) | max(0, min(1, alpha x + beta))             |
 * | hardSwish     |                         | x relu6(x + 3) / 6                         |
 * | sigmoid       |                         | 1 / (1 + e^-x)                             |
 * | silu          |                         | x sigmoid(x)   (Swish)                     |
 * | tanh          |                         | tanh(x)                                    |
 * | gelu          |                         | x (1 + erf(x / sqrt 2)) / 2                |
 * | geluTanh      |                         | x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2 |
 * | exp           |                         | e^x                                        |
 * | softplus      |                         | ln(1 + e^x)                                |
 * | mish          |                         | x tanh(softplus(x))                        |
 *
 * NaN passes through every kind unchanged (comparisons are written so it falls through).
 */
import { ParameterError } from './errors.js';

export type ActivationKind =
  | 'none'
  | 'relu'
  | 'relu6'
  | 'clip'
  | 'leakyRelu'
  | 'elu'
  | 'hardSigmoid'
  | 'hardSwish'
  | 'sigmoid'
  | 'silu'
  | 'tanh'
  | 'gelu'
  | 'geluTanh'
  | 'exp'
  | 'softplus'
  | 'mish';

export interface Activation {
  readonly kind: ActivationKind;
  /** leakyRelu's negative slope (0.01), elu's scale (1), hardSigmoid's slope (0.2). */
  readonly alpha?: number;
  /** hardSigmoid's offset (0.5). */
  readonly beta?: number;
  /** clip's bounds (-Infinity / Infinity when absent). */
  readonly min?: number;
  readonly max?: number;
}

export const ACTIVATION_KINDS: readonly ActivationKind[] = Object.freeze([
  'none',
  'relu',
  'relu6',
  'clip',
  'leakyRelu',
  'elu',
  'hardSigmoid',
  'hardSwish',
  'sigmoid',
  'silu',
  'tanh',
  'gelu',
  'geluTanh',
  'exp',
  'softplus',
  'mish',
]);

export const NO_ACTIVATION: Activation = Object.freeze({ kind: 'none' });

/** Negative slope of leakyRelu when the activation does not give one (PyTorch's default). */
export const DEFAULT_LEAKY_RELU_ALPHA = 0.01;
export const DEFAULT_ELU_ALPHA = 1;
/** ONNX HardSigmoid's defaults (PyTorch's nn.Hardsigmoid is alpha 1/6). */
export const DEFAULT_HARD_SIGMOID_ALPHA = 0.2;
export const DEFAULT_HARD_SIGMOID_BETA = 0.5;

/** Every parameter of an activation with its default filled in: what kernels read. */
export interface ResolvedActivation {
  readonly kind: ActivationKind;
  readonly alpha: number;
  readonly beta: number;
  readonly min: number;
  readonly max: number;
}

export function resolveActivation(activation: Activation): ResolvedActivation {
  const { kind } = activation;
  const alphaDefault = kind === 'elu' ? DEFAULT_ELU_ALPHA : kind === 'hardSigmoid' ? DEFAULT_HARD_SIGMOID_ALPHA : DEFAULT_LEAKY_RELU_ALPHA;
  return {
    kind,
    alpha: activation.alpha ?? alphaDefault,
    beta: activation.beta ?? DEFAULT_HARD_SIGMOID_BETA,
    min: activation.min ?? -Infinity,
    max: activation.max ?? Infinity,
  };
}

/** Throws a ParameterError unless `activation` is one the kernels know, with usable parameters. */
export function checkActivation(activation: Activation, owner: string): void {
  if (activation === null || typeof activation !== 'object' || !ACTIVATION_KINDS.includes(activation.kind)) {
    throw new ParameterError(
      `${owner}: activation.kind must be one of ${ACTIVATION_KINDS.map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(activation?.kind ?? activation)}`,
    );
  }
  for (const key of ['alpha', 'beta'] as const) {
    const value = activation[key];
    if (value !== undefined && !Number.isFinite(value)) {
      throw new ParameterError(`${owner}: activation.${key} must be a finite number, got ${String(value)}`);
    }
  }
  for (const key of ['min', 'max'] as const) {
    const value = activation[key];
    if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value))) {
      throw new ParameterError(`${owner}: activation.${key} must be a number (not NaN), got ${String(value)}`);
    }
  }
  if (activation.kind === 'clip' && (activation.min ?? -Infinity) > (activation.max ?? Infinity)) {
    throw new ParameterError(`${owner}: clip needs min <= max, got min ${activation.min} and max ${activation.max}`);
  }
}

/** Reads an activation option given as a kind ('relu') or an object ({ kind: 'leakyRelu', alpha: 0.1 }). */
export function toActivation(value: ActivationKind | Activation | undefined, owner: string): Activation {
  if (value === undefined) return NO_ACTIVATION;
  const activation: Activation = typeof value === 'string' ? { kind: value } : value;
  checkActivation(activation, owner);
  return activation;
}

/** A key that tells prepared kernels with different fused activations apart. */
export function activationKey(activation: Activation): string {
  const r = resolveActivation(activation);
  switch (r.kind) {
    case 'leakyRelu':
    case 'elu':
      return `${r.kind}:${r.alpha}`;
    case 'hardSigmoid':
      return `${r.kind}:${r.alpha}:${r.beta}`;
    case 'clip':
      return `${r.kind}:${r.min}:${r.max}`;
    default:
      return r.kind;
  }
}

/** erf(x) to about 1e-7 absolute (Abramowitz & Stegun 7.1.26 is too coarse for an oracle). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  // Maclaurin series below 2.5 (converges fast there), continued fraction of erfc above.
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - erfcTail(ax));
}

/** erfc(z) for z >= 2.5, where 1 - erf(z) would cancel. */
function erfcTail(z: number): number {
  // erfc(z) = exp(-z^2)/sqrt(pi) * 1/(z + 1/2/(z + 1/(z + 3/2/(z + ...)))) by Lentz-free backward evaluation.
  let f = z;
  for (let n = 60; n >= 1; n--) f = z + n / 2 / f;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}

/**
 * The standard normal CDF, (1 + erf(x / sqrt 2)) / 2, computed as erfc(-x / sqrt 2) / 2 in the
 * lower tail, where 1 + erf cancels (at x = -8 it would keep no digit of the 1e-15 result).
 */
function normalCdf(x: number): number {
  const z = -x / Math.SQRT2;
  if (z >= 2.5) return erfcTail(z) / 2;
  return (1 + erf(x / Math.SQRT2)) / 2;
}

/** ln(1 + e^x) without overflow for large x or loss for very negative x. */
function softplus(x: number): number {
  return x > 20 ? x : x < -20 ? Math.exp(x) : Math.log1p(Math.exp(x));
}

/** One value through the activation (float64 reference). */
export function activate(x: number, activation: Activation): number {
  const r = resolveActivation(activation);
  return activateResolved(x, r);
}

function activateResolved(x: number, r: ResolvedActivation): number {
  switch (r.kind) {
    case 'none':
      return x;
    case 'relu':
      return x < 0 ? 0 : x;
    case 'relu6':
      return x < 0 ? 0 : x > 6 ? 6 : x;
    case 'clip':
      return x < r.min ? r.min : x > r.max ? r.max : x;
    case 'leakyRelu':
      return x < 0 ? r.alpha * x : x;
    case 'elu':
      return x < 0 ? r.alpha * Math.expm1(x) : x;
    case 'hardSigmoid': {
      const y = r.alpha * x + r.beta;
      return y < 0 ? 0 : y > 1 ? 1 : y;
    }
    case 'hardSwish': {
      const gate = x + 3;
      return gate <= 0 ? 0 : gate >= 6 ? x : (x * gate) / 6;
    }
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
    case 'gelu':
      return x * normalCdf(x);
    case 'geluTanh':
      // (1 + tanh(u)) / 2 written as 1 / (1 + e^-2u), which does not cancel for x < 0.
      return x / (1 + Math.exp(-2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    case 'exp':
      return Math.exp(x);
    case 'softplus':
      return softplus(x);
    case 'mish':
      return x * Math.tanh(softplus(x));
  }
  throw new ParameterError(`activate: unknown activation kind ${JSON.stringify(r.kind)}`);
}

/**
 * Applies the activation to src[start, end) and writes dst[start, end) (dst may be src). One
 * loop per cheap kind, so the branch on the kind is taken once per call rather than per element.
 */
export function applyActivationTo(
  src: Float32Array,
  dst: Float32Array,
  activation: Activation,
  start = 0,
  end = src.length,
): void {
  checkActivation(activation, 'applyActivation');
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > src.length || end > dst.length || start > end) {
    throw new ParameterError(
      `applyActivation: range [start, end) must lie inside the data (0..${Math.min(src.length, dst.length)}), got [${start}, ${end})`,
    );
  }
  const r = resolveActivation(activation);
  switch (r.kind) {
    case 'none':
      if (src !== dst) dst.set(src.subarray(start, end), start);
      return;
    case 'relu':
      for (let i = start; i < end; i++) {
        const x = src[i];
        dst[i] = x < 0 ? 0 : x;
      }
      return;
    case 'sigmoid':
      for (let i = start; i < end; i++) dst[i] = 1 / (1 + Math.exp(-src[i]));
      return;
    case 'silu':
      for (let i = start; i < end; i++) {
        const x = src[i];
        dst[i] = x / (1 + Math.exp(-x));
      }
      return;
    default:
      for (let i = start; i < end; i++) dst[i] = activateResolved(src[i], r);
  }
}

/** Applies the activation in place to data[start, end). */
export function applyActivation(data: Float32Array, activation: Activation, start = 0, end = data.length): void {
  applyActivationTo(data, data, activation, start, end);
}
