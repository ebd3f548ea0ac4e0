/**
 * The one rule that plans a convolution: from its static description (channels, groups, kernel,
 * stride, dilation, padding) and the target that will run it (the pure-JS kernels, or the
 * native addon's ISA) it picks the algorithm once, at prepare time, and names the bytes of
 * packed weights that algorithm costs. Both backends call it (lib/kernels/conv2d.ts and
 * lib/backends/native.ts); the native addon only checks that the algorithm it is handed
 * computes the conv (native/ops/conv2d.cc) and never chooses by speed itself.
 *
 * Algorithms, their packed weights (floats), and where they apply:
 *  - 'depthwise': Cout x KH x KW, the filters as they are; groups == inChannels > 1.
 *  - 'pointwise-gemm': Cout x Cin/groups; 1x1, stride 1, no padding (B is the input itself).
 *  - 'im2col-gemm': Cout x Cin/groups x KH x KW; any conv.
 *  - 'winograd-f2x2-3x3': 16 x Cout x Cin (16/9 of the filters); 3x3, stride 1, dilation 1, groups 1.
 *  - 'winograd-f4x4-3x3': 36 x Cout x Cin, plus the im2col form (45/9 = 5x the filters); same
 *    window, native only. The im2col form runs inputs that hold a NaN or an infinity: F(4x4)'s
 *    transforms would carry one past its outputs' footprint (native/ops/conv2d.h).
 *  - 'winograd-f6x6-3x3': 64 x Cout x Cin, plus the im2col form (73/9 of the filters); same
 *    window, native only, same non-finite rule as F(4x4). Computes any such conv when asked
 *    (options.algorithm); the rule does not choose it (WINOGRAD_RULE has no F(6x6) threshold:
 *    native/README.md has the measurement).
 *  - 'grouped-direct': Cout (rounded up to 8 per group) x Cin/groups x KH x KW; groups > 1 (not
 *    depthwise), any stride, native only: no im2col (native/kernels/f32-gconv).
 * (The native GEMM pads Cout up to its micro-kernel's rows, 4 to 8: a few percent more.)
 */
import { ParameterError } from '../errors.js';
import type { Pair, PaddingSpec } from './geometry.js';

export type ConvAlgorithm =
  | 'depthwise'
  | 'pointwise-gemm'
  | 'im2col-gemm'
  | 'winograd-f2x2-3x3'
  | 'winograd-f4x4-3x3'
  | 'grouped-direct'
  | 'winograd-f6x6-3x3';

export const CONV_ALGORITHMS: readonly ConvAlgorithm[] = [
  'depthwise',
  'pointwise-gemm',
  'im2col-gemm',
  'winograd-f2x2-3x3',
  'winograd-f4x4-3x3',
  'grouped-direct',
  'winograd-f6x6-3x3',
];

/** Who runs the conv: the pure-JS kernels, or the native addon on one of its ISA tiers. */
export type ConvTarget = 'js' | 'avx512' | 'avx2' | 'neon' | 'scalar' | 'wasmsimd';

/** A conv's static description: everything but the input's size. */
export interface ConvDescription {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
  readonly kernelH: number;
  readonly kernelW: number;
  /** Default [1, 1]. */
  readonly stride?: Pair;
  /** Default [1, 1]. */
  readonly dilation?: Pair;
  /** When known; only decides whether a 1x1 conv may read its input in place. Default: none. */
  readonly padding?: PaddingSpec;
  /**
   * The input's [H, W] the conv is planned for, when known (the first input it sees). Runs at
   * other sizes use the same plan (every algorithm computes any size); only the choice of a
   * Winograd tile depends on it. Default: unknown, and F(4x4) is not chosen.
   */
  readonly inputSize?: Pair;
}

export interface ConvPlanOptions {
  /** Use this algorithm (it must compute the conv); default: the rule's choice. */
  readonly algorithm?: ConvAlgorithm;
  /**
   * Packed weight bytes this conv may take: faster forms that cost more (Winograd) are passed
   * over for the next one that fits; the compact form (about the filters' size) is always
   * allowed. Default: no limit.
   */
  readonly maxPackedBytes?: number;
}

export interface ConvPlan {
  readonly algorithm: ConvAlgorithm;
  /** Packed weights and bias, in bytes (before the native GEMM's row padding). */
  readonly packedBytes: number;
}

/**
 * Where Winograd pays, per target: the smallest Cin and Cout at which each tile was measured
 * faster than im2col + GEMM (native/README.md has the measurements). null: the tile is not
 * used on that target.
 */
export interface WinogradThreshold {
  readonly minIn: number;
  readonly minOut: number;
  /** Smallest input side (H and W) at which the tile pays; 0: any size, known or not. */
  readonly minSide: number;
}

export interface WinogradThresholds {
  readonly f2x2: WinogradThreshold;
  readonly f4x4: WinogradThreshold | null;
}

/**
 * F(4x4, 3x3) on the native GEMM, measured against F(2x2) on AVX2 (AMD EPYC Zen 4, 1 thread,
 * CPU time, interleaved rounds, bench/conv-algorithms.mjs layers; native/README.md has the
 * table): 64->64 @56 0.84x, 128->128 @28 0.78x, 96->96 @40 0.83x, 48->48 @112 0.87x,
 * 128->128 @20 0.84x, 64->64 @20 1.00x, 32->32 @56 0.96x, 24->24 @32 0.95x, but 256->256 @14
 * 1.05x, 512->512 @7 1.83x (few tiles: each image streams all 36 U matrices for 4 of them) and
 * 16->16 @56 1.10x.
 */
const NATIVE_F4X4: WinogradThreshold = { minIn: 32, minOut: 32, minSide: 20 };

/**
 * The avx512 tier (its 16x16 GEMM tile and F(4x4) transforms on zmm), measured the same way (Zen 4,
 * 1 thread, 9 rounds, 6 Dec 2026, load average ~18): F(4x4) / F(2x2) 64->64 @56 0.91x, 128->128
 * @28 0.92x, 96->96 @40 0.87x, 128->128 @20 0.94x, 48->48 @112 0.90x, but 48->48 @56 1.06x,
 * 40->40 @56 1.08x, 40->32 @22 1.33x, 32->32 @56 1.02-1.15x (avx2: 1.02x) and 64->64 @20 1.12x
 * (avx2 1.01x): with 16-row tiles a GEMM of under 64 channels is mostly fixed costs, which F(4x4)
 * pays 36 times per chunk. So F(4x4) starts at 64 channels here (64->64 @20 still takes it, the
 * one measured layer above that loses).
 * From 14x14 inputs since session 11, when the point GEMMs of Cin > 192 began to stream U once,
 * requested ahead (native/README.md, "U streams"): F(4x4) / F(2x2) with U out of cache before
 * each run (bench/winograd-cold.mjs, 31 runs, CPU medians, load ~6.5) 256->256 @14 0.80x,
 * 512->512 @14 0.78x, 128->128 @14 0.88x, 64->64 @14 0.91x, 96->96 @14 0.97x, 256->256 @17
 * 1.00x; in the models (bench/model-ab.mjs, per-step minima, 21 rounds) ResNet-50's five
 * 256->256 @14 convs 0.78-0.82x (its 3x3 steps 0.914x, all steps 0.979x) and ResNet-18's two
 * 0.79-0.84x (all steps 0.973x). 512->512 @7 stays on F(2x2) (F(4x4) 1.38x: 4 tiles for 36 U
 * matrices). The price is memory: F(4x4) packs 45/9 of the filters against F(2x2)'s 16/9
 * (ResNet-50: +38 MB, ResNet-18: +23 MB), which maxPackedBytes can refuse.
 */
const AVX512_F4X4: WinogradThreshold = { minIn: 64, minOut: 64, minSide: 14 };

export const WINOGRAD_RULE: Readonly<Record<ConvTarget, WinogradThresholds>> = {
  // The pure-JS GEMM is slow enough that the transforms pay from 8 channels; it has no F(4x4).
  js: { f2x2: { minIn: 8, minOut: 8, minSide: 0 }, f4x4: null },
  // AVX2 transforms, 1 thread (bench/conv-algorithms.mjs layers): F(2x2) against im2col 0.51x
  // at 24->24 @32 and 0.54x at 16->16 @56 (before the transform rewrite 16->16 lost, 0.31 vs
  // 0.26 ms, and the threshold was Cin 24). The other tiers run the same GEMM driver and
  // transforms (NEON and scalar the portable ones): same thresholds, not measured apart. AVX-512
  // has its own F(4x4) threshold (above).
  avx2: { f2x2: { minIn: 16, minOut: 16, minSide: 0 }, f4x4: NATIVE_F4X4 },
  avx512: { f2x2: { minIn: 16, minOut: 16, minSide: 0 }, f4x4: AVX512_F4X4 },
  neon: { f2x2: { minIn: 16, minOut: 16, minSide: 0 }, f4x4: NATIVE_F4X4 },
  scalar: { f2x2: { minIn: 16, minOut: 16, minSide: 0 }, f4x4: NATIVE_F4X4 },
  // The wasm backend's module (native/wasm/): the native GEMM driver and portable transforms on
  // its 4x8 wasm-simd128 GEMM tile; the scalar tier's thresholds, not measured apart.
  wasmsimd: { f2x2: { minIn: 16, minOut: 16, minSide: 0 }, f4x4: NATIVE_F4X4 },
};

function windowOf(d: ConvDescription): { stride: Pair; dilation: Pair } {
  return { stride: d.stride ?? [1, 1], dilation: d.dilation ?? [1, 1] };
}

/** True when the padding is zero on every side for every input size (for a 1x1 stride-1 conv). */
function unpadded(padding: PaddingSpec | undefined): boolean {
  if (padding === undefined || typeof padding === 'string') return true; // every mode pads a 1x1 stride-1 window by 0
  const values = typeof padding === 'number' ? [padding] : padding;
  return values.every((v) => v === 0);
}

/** null when the algorithm computes this conv, else why not. */
export function convAlgorithmRefusal(d: ConvDescription, algorithm: ConvAlgorithm): string | null {
  const { stride, dilation } = windowOf(d);
  switch (algorithm) {
    case 'depthwise':
      return d.groups === d.inChannels && d.groups > 1 ? null : `needs groups == inChannels > 1 (got groups ${d.groups}, inChannels ${d.inChannels})`;
    case 'pointwise-gemm':
      return d.kernelH === 1 && d.kernelW === 1 && stride[0] === 1 && stride[1] === 1 && unpadded(d.padding)
        ? null
        : 'needs a 1x1 kernel at stride 1 without padding';
    case 'im2col-gemm':
      return null;
    case 'grouped-direct':
      return d.groups > 1 && d.groups !== d.inChannels
        ? null
        : `needs groups > 1, not depthwise (got groups ${d.groups}, inChannels ${d.inChannels})`;
    case 'winograd-f2x2-3x3':
    case 'winograd-f4x4-3x3':
    case 'winograd-f6x6-3x3':
      return d.kernelH === 3 && d.kernelW === 3 && stride[0] === 1 && stride[1] === 1 && dilation[0] === 1 &&
        dilation[1] === 1 && d.groups === 1
        ? null
        : `needs a 3x3 kernel, stride 1, dilation 1 and groups 1 (got ${d.kernelH}x${d.kernelW}, stride ${stride.join('x')}, dilation ${dilation.join('x')}, groups ${d.groups})`;
  }
  return `is not one of ${CONV_ALGORITHMS.join(', ')}`;
}

/** Bytes of packed weights (and bias) the algorithm keeps for this conv. */
export function packedConvBytes(d: ConvDescription, algorithm: ConvAlgorithm, bias = true): number {
  const filters = d.outChannels * (d.inChannels / d.groups);
  const floats =
    algorithm === 'winograd-f2x2-3x3' ? 16 * filters
    : algorithm === 'winograd-f4x4-3x3' ? (36 + 9) * filters
    : algorithm === 'winograd-f6x6-3x3' ? (64 + 9) * filters
    : algorithm === 'pointwise-gemm' ? filters
    : algorithm === 'grouped-direct' ? d.groups * Math.ceil(d.outChannels / d.groups / 8) * 8 * (d.inChannels / d.groups) * d.kernelH * d.kernelW
    : filters * d.kernelH * d.kernelW;
  return 4 * (floats + (bias ? d.outChannels : 0));
}

/**
 * The rule: depthwise where groups == inChannels > 1; natively, a grouped conv with a window
 * larger than 1x1 runs direct, at stride 1 or 2 (0.4-0.8x of im2col's time on every grouped
 * 3x3 layer of ResNeXt-50 and RegNetX / RegNetY-400MF; native/README.md); else the fastest Winograd tile the target
 * measured faster for these channels and input size (F(4x4) before F(2x2)) whose bytes fit
 * maxPackedBytes;
 * else a GEMM, straight on the input for an unpadded 1x1 stride-1 conv, through im2col
 * otherwise. Throws a ParameterError when options.algorithm cannot compute the conv.
 */
export function planConvAlgorithm(d: ConvDescription, target: ConvTarget, options: ConvPlanOptions = {}, bias = true): ConvPlan {
  const plan = (algorithm: ConvAlgorithm): ConvPlan => ({ algorithm, packedBytes: packedConvBytes(d, algorithm, bias) });
  if (options.algorithm !== undefined) {
    const refusal = convAlgorithmRefusal(d, options.algorithm);
    if (refusal !== null) throw new ParameterError(`conv2d: algorithm '${String(options.algorithm)}' ${refusal}`);
    return plan(options.algorithm);
  }
  const limit = options.maxPackedBytes;
  if (limit !== undefined && !(typeof limit === 'number' && limit >= 0)) {
    throw new ParameterError(`conv2d: maxPackedBytes must be a non-negative number, got ${String(limit)}`);
  }
  if (convAlgorithmRefusal(d, 'depthwise') === null) return plan('depthwise');
  if (target !== 'js' && d.kernelH * d.kernelW > 1 && convAlgorithmRefusal(d, 'grouped-direct') === null) {
    return plan('grouped-direct');
  }
  if (convAlgorithmRefusal(d, 'winograd-f2x2-3x3') === null) {
    const rule = WINOGRAD_RULE[target];
    const fits = (a: ConvAlgorithm) => limit === undefined || packedConvBytes(d, a, bias) <= limit;
    const pays = (t: WinogradThreshold | null) =>
      t !== null && d.inChannels >= t.minIn && d.outChannels >= t.minOut &&
      (t.minSide === 0 || (d.inputSize !== undefined && Math.min(d.inputSize[0], d.inputSize[1]) >= t.minSide));
    if (pays(rule.f4x4) && fits('winograd-f4x4-3x3')) return plan('winograd-f4x4-3x3');
    if (pays(rule.f2x2) && fits('winograd-f2x2-3x3')) return plan('winograd-f2x2-3x3');
  }
  return plan(convAlgorithmRefusal(d, 'pointwise-gemm') === null ? 'pointwise-gemm' : 'im2col-gemm');
}
