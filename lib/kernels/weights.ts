/**
 * What a convolution or a fully connected layer is prepared from: the weights, their layout and
 * the fused activation. Every backend's prepare step reads these (lib/backends/backend.ts
 * re-exports them as part of the Backend contract); they live here, at the kernels' floor, so
 * the pure-JS kernels need nothing from the backends above them.
 */
import type { Activation } from '../activation.js';

/** What a backend needs to prepare a convolution; weights are [Cout, Cin/groups, KH, KW]. */
export interface ConvWeights {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  /** Applied after bias and residual: out = act(conv(x) + bias + residual). */
  readonly activation: Activation;
}

/** What a backend needs to prepare a fully connected layer; weight is [outFeatures, inFeatures]. */
export interface LinearWeights {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  readonly activation: Activation;
}
