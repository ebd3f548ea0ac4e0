/**
 * Element-wise activations, the last step of every fused epilogue (after bias and residual).
 * `applyActivation` rewrites a range of a buffer in place; `activate` is the scalar form used
 * where values are produced one by one.
 */
import type { Activation } from '../backends/backend.js';
import { ParameterError } from '../errors.js';

/** Negative slope of leakyRelu when the activation does not give one (PyTorch's default). */
export const DEFAULT_LEAKY_RELU_ALPHA = 0.01;

const KINDS = ['none', 'relu', 'relu6', 'leakyRelu', 'hardSwish', 'sigmoid'];

/** Throws a ParameterError unless `activation` is one the kernels know, with a usable alpha. */
export function checkActivation(activation: Activation, owner: string): void {
  if (activation === null || typeof activation !== 'object' || !KINDS.includes(activation.kind)) {
    throw new ParameterError(
      `${owner}: activation.kind must be one of ${KINDS.map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(activation?.kind ?? activation)}`,
    );
  }
  if (activation.alpha !== undefined && !Number.isFinite(activation.alpha)) {
    throw new ParameterError(`${owner}: activation.alpha must be a finite number, got ${String(activation.alpha)}`);
  }
}

function leakyAlpha(activation: Activation): number {
  return activation.alpha ?? DEFAULT_LEAKY_RELU_ALPHA;
}

/** One value through the activation. */
export function activate(x: number, activation: Activation): number {
  switch (activation.kind) {
    case 'none':
      return x;
    case 'relu':
      return x < 0 ? 0 : x; // NaN passes through, as in PyTorch
    case 'relu6':
      return x < 0 ? 0 : x > 6 ? 6 : x;
    case 'leakyRelu':
      return x < 0 ? leakyAlpha(activation) * x : x;
    case 'hardSwish': {
      const gate = x + 3;
      return gate <= 0 ? 0 : gate >= 6 ? x : (x * gate) / 6;
    }
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
  }
  throw new ParameterError(`activate: unknown activation kind ${JSON.stringify((activation as Activation).kind)}`);
}

/**
 * Applies the activation in place to data[start, end). One loop per kind, so the branch on
 * the kind is taken once per call rather than once per element.
 */
export function applyActivation(data: Float32Array, activation: Activation, start = 0, end = data.length): void {
  checkActivation(activation, 'applyActivation');
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > data.length || start > end) {
    throw new ParameterError(
      `applyActivation: range [start, end) must lie inside the data (0..${data.length}), got [${start}, ${end})`,
    );
  }
  switch (activation.kind) {
    case 'none':
      return;
    case 'relu':
      for (let i = start; i < end; i++) if (data[i] < 0) data[i] = 0;
      return;
    case 'relu6':
      for (let i = start; i < end; i++) {
        const x = data[i];
        data[i] = x < 0 ? 0 : x > 6 ? 6 : x;
      }
      return;
    case 'leakyRelu': {
      const alpha = leakyAlpha(activation);
      for (let i = start; i < end; i++) if (data[i] < 0) data[i] *= alpha;
      return;
    }
    case 'hardSwish':
      for (let i = start; i < end; i++) {
        const x = data[i];
        const gate = x + 3;
        data[i] = gate <= 0 ? 0 : gate >= 6 ? x : (x * gate) / 6;
      }
      return;
    case 'sigmoid':
      for (let i = start; i < end; i++) data[i] = 1 / (1 + Math.exp(-data[i]));
      return;
  }
}
