/**
 * f32-linear (fully connected): output[b, o] = act(sum_i input[b, i] * weight[o, i] + bias[o]).
 * Runs on the GEMM with the weight as the packed A side, prepared once: C^T = W x input^T,
 * where input^T and C^T are just strided views of the row-major batch buffers.
 */
import type { LinearWeights } from './weights.js';
import { ParameterError } from '../errors.js';
import { checkActivation } from '../activation.js';
import { expectCount, expectLength } from './checks.js';
import { gemm, packRows } from './gemm.js';

const OWNER = 'linear';

export interface PreparedLinear {
  runSync(input: Float32Array, batch: number, output: Float32Array): void;
}

export function prepareLinear(weights: LinearWeights): PreparedLinear {
  const { inFeatures, outFeatures, weight, activation } = weights;
  const bias = weights.bias ?? null; // plain-JS callers may leave it out
  expectCount(OWNER, 'inFeatures', inFeatures, 1);
  expectCount(OWNER, 'outFeatures', outFeatures, 1);
  checkActivation(activation, OWNER);
  expectLength(OWNER, 'weight', weight, outFeatures * inFeatures, `[outFeatures, inFeatures] = [${outFeatures}, ${inFeatures}]`);
  if (bias !== null) expectLength(OWNER, 'bias', bias, outFeatures, `outFeatures = ${outFeatures}`);
  const packed = packRows(weight, outFeatures, inFeatures);
  const ownBias = bias === null ? null : bias.slice();
  return {
    runSync(input, batch, output) {
      expectCount(OWNER, 'batch', batch);
      expectLength(OWNER, 'input', input, batch * inFeatures, `batch x inFeatures = ${batch}x${inFeatures}`);
      expectLength(OWNER, 'output', output, batch * outFeatures, `batch x outFeatures = ${batch}x${outFeatures}`);
      if (input.buffer === output.buffer &&
        input.byteOffset < output.byteOffset + output.byteLength && output.byteOffset < input.byteOffset + input.byteLength) {
        throw new ParameterError(`${OWNER}: output must not share memory with input`);
      }
      gemm(
        packed,
        { data: input, offset: 0, rowStride: 1, colStride: inFeatures },
        batch,
        { data: output, offset: 0, rowStride: 1, colStride: outFeatures },
        { bias: ownBias, biasOffset: 0, residual: null, activation },
      );
    },
  };
}
