/**
 * What a convolution or a fully connected layer is prepared from: the weights, their layout and
 * the fused activation. Every backend's prepare step reads these (lib/backends/backend.ts
 * re-exports them as part of the Backend contract); they live here, at the kernels' floor, so
 * the pure-JS kernels need nothing from the backends above them.
 */
import type { Activation } from '../activation.js';
import type { ConvAlgorithm } from '../planner/conv-plan.js';
import type { PaddingSpec, Pair } from '../planner/geometry.js';

/**
 * What a backend needs to prepare a convolution; weights are [Cout, Cin/groups, KH, KW]. The
 * backend plans the conv once from this static description (lib/planner/conv-plan.ts): runs
 * must use the same stride and dilation, or they are refused.
 */
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
  /** Step between filter positions [h, w] (default [1, 1]). */
  readonly stride?: Pair;
  /** Spacing between filter taps [h, w] (default [1, 1]). */
  readonly dilation?: Pair;
  /** The conv's padding when known (only decides whether a 1x1 conv reads its input in place). */
  readonly padding?: PaddingSpec;
  /** The input [H, W] to plan for, when known (runs at other sizes still work; see conv-plan.ts). */
  readonly inputSize?: Pair;
  /** Force an algorithm (it must compute this conv); default: the planner's rule. */
  readonly algorithm?: ConvAlgorithm;
  /** Packed weight bytes this conv may take (the rule then passes over larger forms); default: no limit. */
  readonly maxPackedBytes?: number;
}

/** What a backend needs to prepare a fully connected layer; weight is [outFeatures, inFeatures]. */
export interface LinearWeights {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  readonly activation: Activation;
}
