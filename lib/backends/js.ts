/**
 * The pure-JS backend: the fallback where the native addon does not load, and the oracle the
 * native kernels are tested against. Everything runs synchronously on the calling thread; the
 * async forms resolve once the sync work is done, and reject (never throw) on bad input.
 */
import { prepareConv2d } from '../kernels/conv2d.js';
import { prepareLinear } from '../kernels/linear.js';
import { prepareSqueezeExcite } from '../kernels/squeeze-excite.js';
import { binary, channelAffine, unary } from '../kernels/elementwise.js';
import { globalPool2d, pool2d } from '../kernels/pool.js';
import { matMul } from '../kernels/matmul.js';
import { checkGroupShape, layerNorm } from '../kernels/layernorm.js';
import { softmax } from '../kernels/softmax.js';
import { NO_ACTIVATION } from '../activation.js';
import { DisposedError } from '../errors.js';
import type { Backend, ConvKernel, GroupShape, LinearKernel, SqueezeExciteKernel } from './backend.js';

/** Holds a prepared pure-JS kernel until dispose() drops it (then GC frees its arrays). */
function holder<T>(prepared: T, what: string): { get(method: string): T; dispose(): void } {
  let held: T | null = prepared;
  return {
    get(method) {
      if (held === null) throw new DisposedError(`${what}.${method}: this kernel was disposed; its prepared weights are released`);
      return held;
    },
    dispose() {
      held = null;
    },
  };
}

/** Runs `work` now and reports its outcome as a promise, so an error becomes a rejection. */
export function settle(work: () => void): Promise<void> {
  try {
    work();
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error);
  }
}

function checkedSoftmax(input: Float32Array, output: Float32Array, groups: GroupShape): void {
  checkGroupShape('softmax', input, output, groups);
  softmax(input, output, groups.outer, groups.length, groups.inner);
}

export const jsBackend: Backend = Object.freeze<Backend>({
  name: 'js' as const,
  // Every call finishes before it returns, so calls can never overtake each other.
  ordersQueuedCalls: true,

  prepareConv2d(weights): ConvKernel {
    const prepared = prepareConv2d(weights);
    const kernel = holder(prepared, 'Conv2d kernel');
    return {
      plan: prepared.plan,
      runSync: (input, geometry, output, residual) => kernel.get('runSync').runSync(input, geometry, output, residual),
      run: (input, geometry, output, residual) => settle(() => kernel.get('run').runSync(input, geometry, output, residual)),
      dispose: kernel.dispose,
    };
  },

  prepareLinear(weights): LinearKernel {
    const kernel = holder(prepareLinear(weights), 'Linear kernel');
    return {
      runSync: (input, batch, output) => kernel.get('runSync').runSync(input, batch, output),
      run: (input, batch, output) => settle(() => kernel.get('run').runSync(input, batch, output)),
      dispose: kernel.dispose,
    };
  },

  prepareSqueezeExcite(weights): SqueezeExciteKernel {
    const kernel = holder(prepareSqueezeExcite(weights), 'SqueezeExcite kernel');
    return {
      runSync: (input, batch, plane, output) => kernel.get('runSync').runSync(input, batch, plane, output),
      run: (input, batch, plane, output) => settle(() => kernel.get('run').runSync(input, batch, plane, output)),
      dispose: kernel.dispose,
    };
  },

  pool2dSync: pool2d,
  pool2d: (input, geometry, output) => settle(() => pool2d(input, geometry, output)),
  globalPool2dSync: globalPool2d,
  globalPool2d: (input, kind, planes, plane, output) => settle(() => globalPool2d(input, kind, planes, plane, output)),

  unarySync: unary,
  unary: (input, output, activation) => settle(() => unary(input, output, activation)),
  binarySync: binary,
  binary: (op, a, aShape, b, bShape, output, outShape, activation) =>
    settle(() => binary(op, a, aShape, b, bShape, output, outShape, activation)),
  channelAffineSync: channelAffine,
  channelAffine: (input, affine, output) => settle(() => channelAffine(input, affine, output)),
  matMulSync: (a, aShape, b, bShape, output, activation) => matMul(a, aShape, b, bShape, output, activation ?? NO_ACTIVATION),
  matMul: (a, aShape, b, bShape, output, activation) =>
    settle(() => matMul(a, aShape, b, bShape, output, activation ?? NO_ACTIVATION)),
  layerNormSync: layerNorm,
  layerNorm: (input, output, params) => settle(() => layerNorm(input, output, params)),
  softmaxSync: checkedSoftmax,
  softmax: (input, output, groups) => settle(() => checkedSoftmax(input, output, groups)),
});
