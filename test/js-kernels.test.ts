/**
 * jsBackend convolutions against a naive direct convolution written here (seven nested loops),
 * over sweeps of kernel size, stride, padding mode, dilation, groups, batch, odd sizes, fused
 * activations and residual adds. Geometry (pads) comes from planConv, as in the layers; the
 * output size is recomputed here from the lecture's formula and must agree.
 */
import { describe, expect, it } from 'vitest';
import { jsBackend } from '../lib/backends/js.js';
import type { Activation } from '../lib/backends/backend.js';
import { planConv, type ConvGeometry, type Pads, type PaddingSpec } from '../lib/planner/geometry.js';
import { prepareConv2d } from '../lib/kernels/conv2d.js';
import { ShapeError } from '../lib/errors.js';
import {
  ALL_ACTIVATIONS, expectClose, randomFloats, seededRandom, referenceActivation,
} from './helpers/numeric.js';

type Pair = [number, number];

interface ConvCase {
  batch?: number;
  inChannels: number;
  outChannels: number;
  groups?: number;
  inH: number;
  inW: number;
  kernel: Pair;
  stride?: Pair;
  dilation?: Pair;
  padding?: PaddingSpec;
  activation?: Activation;
  bias?: boolean;
  residual?: boolean;
}

/** The oracle: out[n][oc][oy][ox] = act(bias + residual + sum over (ic, kh, kw) of x * w), zero padding. */
function naiveConv2d(
  c: Required<ConvCase>, pads: Pads, x: Float32Array, weight: Float32Array, bias: Float32Array | null,
  residual: Float32Array | null,
): { out: Float64Array; outH: number; outW: number } {
  const [kernelH, kernelW] = c.kernel;
  const [strideH, strideW] = c.stride;
  const [dilationH, dilationW] = c.dilation;
  const outH = Math.floor((c.inH + pads.top + pads.bottom - (dilationH * (kernelH - 1) + 1)) / strideH) + 1;
  const outW = Math.floor((c.inW + pads.left + pads.right - (dilationW * (kernelW - 1) + 1)) / strideW) + 1;
  const inPerGroup = c.inChannels / c.groups;
  const outPerGroup = c.outChannels / c.groups;
  const out = new Float64Array(c.batch * c.outChannels * outH * outW);
  let o = 0;
  for (let n = 0; n < c.batch; n++) {
    for (let oc = 0; oc < c.outChannels; oc++) {
      const group = Math.floor(oc / outPerGroup);
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++, o++) {
          let sum = bias ? bias[oc] : 0;
          for (let icg = 0; icg < inPerGroup; icg++) {
            const ic = group * inPerGroup + icg;
            for (let kh = 0; kh < kernelH; kh++) {
              for (let kw = 0; kw < kernelW; kw++) {
                const iy = oy * strideH - pads.top + kh * dilationH;
                const ix = ox * strideW - pads.left + kw * dilationW;
                if (iy < 0 || iy >= c.inH || ix < 0 || ix >= c.inW) continue;
                const xv = x[((n * c.inChannels + ic) * c.inH + iy) * c.inW + ix];
                const wv = weight[((oc * inPerGroup + icg) * kernelH + kh) * kernelW + kw];
                sum += xv * wv;
              }
            }
          }
          if (residual) sum += residual[o];
          out[o] = referenceActivation(sum, c.activation);
        }
      }
    }
  }
  return { out, outH, outW };
}

function withDefaults(c: ConvCase): Required<ConvCase> {
  return {
    batch: 1, groups: 1, stride: [1, 1], dilation: [1, 1], padding: 0, activation: { kind: 'none' }, bias: true,
    residual: false, ...c,
  };
}

function describeCase(c: Required<ConvCase>): string {
  return `N${c.batch} C${c.inChannels}->${c.outChannels} g${c.groups} ${c.inH}x${c.inW} k${c.kernel} s${c.stride} d${c.dilation} p${JSON.stringify(c.padding)} ${c.activation.kind}${c.activation.alpha ?? ''}${c.bias ? ' bias' : ''}${c.residual ? ' residual' : ''}`;
}

let seed = 1;

/** Runs one case through jsBackend and the oracle; returns false when the kernel does not fit (planConv refused it). */
function checkConv(spec: ConvCase): boolean {
  const c = withDefaults(spec);
  const label = describeCase(c);
  const random = seededRandom(seed++);
  let geometry: ConvGeometry;
  try {
    geometry = planConv('test', [c.batch, c.inChannels, c.inH, c.inW], {
      inChannels: c.inChannels, outChannels: c.outChannels, groups: c.groups,
      kernel: c.kernel, stride: c.stride, dilation: c.dilation, padding: c.padding,
    });
  } catch (error) {
    expect(error, label).toBeInstanceOf(ShapeError);
    return false;
  }
  const x = randomFloats(c.batch * c.inChannels * c.inH * c.inW, random);
  const weight = randomFloats(c.outChannels * (c.inChannels / c.groups) * c.kernel[0] * c.kernel[1], random);
  const bias = c.bias ? randomFloats(c.outChannels, random) : null;
  const outSize = c.batch * c.outChannels * geometry.outH * geometry.outW;
  const residual = c.residual ? randomFloats(outSize, random) : null;
  const expected = naiveConv2d(c, geometry.pads, x, weight, bias, residual);
  expect([geometry.outH, geometry.outW], `${label}: output size`).toEqual([expected.outH, expected.outW]);

  const kernel = jsBackend.prepareConv2d({
    inChannels: c.inChannels, outChannels: c.outChannels, groups: c.groups, kernelH: c.kernel[0], kernelW: c.kernel[1],
    weight, bias, activation: c.activation, stride: c.stride, dilation: c.dilation, padding: c.padding,
  });
  const output = new Float32Array(outSize).fill(Number.NaN); // stale contents must not leak through
  kernel.runSync(x, geometry, output, residual);
  expectClose(output, expected.out, label);
  return true;
}

const KERNELS: Pair[] = [[1, 1], [2, 2], [3, 3], [5, 5], [7, 7], [1, 3], [3, 1], [2, 5]];
const STRIDES: Pair[] = [[1, 1], [2, 2], [3, 3], [2, 1]];
const PADDINGS: PaddingSpec[] = [0, 1, 2, [1, 2], [0, 1, 2, 1], [2, 0, 1, 3], 'valid', 'same', 'same_lower', 'full'];

describe('jsBackend conv2d against the naive seven-loop convolution', () => {
  it.each(KERNELS)('kernel %i x %i over every stride and padding mode', (kh, kw) => {
    let ran = 0;
    for (const stride of STRIDES) {
      for (const padding of PADDINGS) {
        if (checkConv({ inChannels: 3, outChannels: 5, inH: 11, inW: 9, kernel: [kh, kw], stride, padding })) ran++;
      }
    }
    expect(ran).toBe(STRIDES.length * PADDINGS.length);
  });

  it('dilation over kernels, strides and paddings (cases that do not fit must be refused by planConv)', () => {
    let ran = 0;
    let refused = 0;
    for (const dilation of [[1, 1], [2, 2], [3, 3], [2, 1], [1, 3]] as Pair[]) {
      for (const kernel of [[3, 3], [2, 2], [3, 2], [5, 5]] as Pair[]) {
        for (const stride of [[1, 1], [2, 2]] as Pair[]) {
          for (const padding of [0, 1, [2, 1, 0, 3], 'same', 'same_lower', 'full'] as PaddingSpec[]) {
            if (checkConv({ inChannels: 2, outChannels: 3, inH: 12, inW: 10, kernel, stride, dilation, padding })) ran++;
            else refused++;
          }
        }
      }
    }
    expect(ran).toBeGreaterThan(200);
    expect(refused).toBeGreaterThan(0); // 5x5 at dilation 3 spans 13 > 10 with no padding
  });

  const GROUPINGS: Array<[number, number, number, string]> = [
    [4, 6, 2, 'groups 2'],
    [8, 8, 4, 'groups 4'],
    [8, 4, 4, 'groups 4, fewer outputs'],
    [12, 12, 3, 'groups 3'],
    [6, 6, 6, 'depthwise'],
    [3, 6, 3, 'depthwise, channel multiplier 2'],
    [4, 12, 4, 'depthwise, channel multiplier 3'],
    [1, 5, 1, 'one input channel'],
  ];
  it.each(GROUPINGS)('grouped: %i -> %i channels in %i groups (%s)', (inChannels, outChannels, groups) => {
    for (const kernel of [[1, 1], [3, 3], [5, 3]] as Pair[]) {
      for (const stride of [[1, 1], [2, 2], [1, 3]] as Pair[]) {
        for (const padding of [0, 'same', [1, 0, 2, 1]] as PaddingSpec[]) {
          for (const dilation of [[1, 1], [2, 2]] as Pair[]) {
            expect(checkConv({ inChannels, outChannels, groups, inH: 10, inW: 11, kernel, stride, padding, dilation })).toBe(true);
          }
        }
      }
    }
  });

  it('batches of 1, 2 and 3 with odd sizes and channel counts that are not multiples of the 4x4 tile', () => {
    for (const batch of [1, 2, 3]) {
      for (const [inH, inW] of [[5, 7], [13, 11], [15, 1], [1, 9], [3, 3]]) {
        for (const [inChannels, outChannels] of [[5, 7], [13, 17], [1, 1], [16, 9]]) {
          expect(checkConv({ batch, inChannels, outChannels, inH, inW, kernel: [3, 3], padding: 1 })).toBe(true);
          expect(checkConv({ batch, inChannels, outChannels, inH, inW, kernel: [1, 1] })).toBe(true);
        }
      }
    }
  });

  it('wider layers: several row panels, column chunks and im2col bands', () => {
    expect(checkConv({ batch: 2, inChannels: 32, outChannels: 48, inH: 19, inW: 21, kernel: [3, 3], padding: 1 })).toBe(true);
    expect(checkConv({ batch: 1, inChannels: 40, outChannels: 18, inH: 17, inW: 15, kernel: [1, 1] })).toBe(true);
    // Winograd with 64 channels, 50 tiles per row: bands of 40 + 10 tile rows.
    expect(checkConv({ batch: 1, inChannels: 64, outChannels: 8, inH: 100, inW: 100, kernel: [3, 3], padding: 1, residual: true })).toBe(true);
    // 576 x 8000 im2col floats exceed the 4M-float buffer: convolved in bands of 72 + 8 output rows.
    expect(checkConv({ batch: 2, inChannels: 64, outChannels: 5, inH: 80, inW: 100, kernel: [3, 3], padding: 1, residual: true, activation: { kind: 'relu' } })).toBe(true);
    expect(checkConv({ batch: 1, inChannels: 24, outChannels: 24, groups: 24, inH: 33, inW: 31, kernel: [3, 3], stride: [2, 2], padding: 1 })).toBe(true);
  });

  it('GEMM paths with fewer output positions than a 4x4 tile is wide (1, 2 and 3 columns)', () => {
    for (const [inH, inW] of [[3, 3], [3, 4], [3, 5], [1, 1], [1, 3]]) {
      expect(checkConv({ batch: 2, inChannels: 5, outChannels: 7, inH, inW, kernel: [inH, Math.min(3, inW)], padding: 'valid', bias: true })).toBe(true);
      expect(checkConv({ batch: 2, inChannels: 6, outChannels: 6, groups: 2, inH, inW, kernel: [1, 1], residual: true, activation: { kind: 'relu6' } })).toBe(true);
    }
  });

  it('depthwise 3x3 on inputs so small that no output column sees all three taps', () => {
    for (const [inH, inW] of [[1, 1], [2, 3], [3, 2], [4, 1]]) {
      for (const dilation of [[1, 1], [2, 2], [1, 3]] as Pair[]) {
        for (const stride of [[1, 1], [2, 1]] as Pair[]) {
          expect(checkConv({ inChannels: 3, outChannels: 6, groups: 3, inH, inW, kernel: [3, 3], stride, dilation, padding: 'full' })).toBe(true);
          expect(checkConv({ inChannels: 2, outChannels: 2, groups: 2, inH, inW, kernel: [3, 3], stride, dilation, padding: [2, 4, 3, 4] })).toBe(true);
        }
      }
    }
  });

  it('Winograd F(2x2, 3x3) layers: every stride-1 padding mode, odd and tiny sizes, batches', () => {
    let ran = 0;
    for (const [inChannels, outChannels] of [[8, 8], [9, 13], [16, 12]]) {
      for (const [inH, inW] of [[1, 1], [2, 3], [5, 7], [6, 6], [13, 11]]) {
        for (const padding of [0, 1, 2, [1, 2], [0, 1, 2, 1], [2, 0, 1, 3], 'valid', 'same', 'same_lower', 'full'] as PaddingSpec[]) {
          if (checkConv({ batch: 1 + (ran % 3), inChannels, outChannels, inH, inW, kernel: [3, 3], padding })) ran++;
        }
      }
    }
    expect(ran).toBeGreaterThan(100); // 1x1 and 2x3 inputs without padding are refused by planConv
  });

  it('3x3 layers with 8 channels plan im2col for strided and dilated windows, Winograd for stride 1', () => {
    for (const stride of [[1, 1], [2, 2], [1, 2]] as Pair[]) {
      for (const dilation of [[1, 1], [2, 2], [2, 1]] as Pair[]) {
        expect(checkConv({ batch: 2, inChannels: 8, outChannels: 10, inH: 11, inW: 12, kernel: [3, 3], stride, dilation, padding: 'same' })).toBe(true);
      }
    }
  });

  const FUSED_PATHS: Array<[string, ConvCase]> = [
    ['im2col + GEMM', { inChannels: 6, outChannels: 5, inH: 9, inW: 8, kernel: [3, 3], padding: 1 }],
    ['1x1 GEMM on the input', { inChannels: 7, outChannels: 6, inH: 9, inW: 8, kernel: [1, 1] }],
    ['grouped GEMM', { inChannels: 6, outChannels: 9, groups: 3, inH: 9, inW: 8, kernel: [3, 3], stride: [2, 2], padding: 'same' }],
    ['depthwise', { inChannels: 5, outChannels: 10, groups: 5, inH: 9, inW: 8, kernel: [3, 3], padding: 1 }],
    ['Winograd', { inChannels: 8, outChannels: 9, inH: 9, inW: 7, kernel: [3, 3], padding: 'same' }],
  ];
  it.each(FUSED_PATHS)('fused epilogue on the %s path: every activation, with and without bias and residual', (_path, spec) => {
    for (const activation of ALL_ACTIVATIONS) {
      for (const bias of [true, false]) {
        for (const residual of [false, true]) {
          expect(checkConv({ ...spec, activation, bias, residual, batch: 2 })).toBe(true);
        }
      }
    }
  });

  it('takes the path its shape calls for', () => {
    const weights = (inChannels: number, outChannels: number, groups: number, k: number) => ({
      inChannels, outChannels, groups, kernelH: k, kernelW: k,
      weight: new Float32Array((outChannels * inChannels * k * k) / groups), bias: null, activation: { kind: 'none' as const },
    });
    expect(prepareConv2d(weights(8, 4, 1, 1)).path).toBe('pointwise-gemm');
    expect(prepareConv2d(weights(8, 4, 1, 3)).path).toBe('im2col-gemm');
    expect(prepareConv2d(weights(8, 8, 2, 3)).path).toBe('im2col-gemm');
    expect(prepareConv2d(weights(8, 16, 8, 3)).path).toBe('depthwise');
    expect(prepareConv2d(weights(8, 8, 1, 3)).path).toBe('winograd-f2x2-3x3');
    expect(prepareConv2d(weights(8, 8, 1, 3), { winograd: false }).path).toBe('im2col-gemm');
    // The window is part of the plan: stride, dilation and padding decide it once.
    expect(prepareConv2d({ ...weights(8, 8, 1, 3), stride: [2, 2] as const }).path).toBe('im2col-gemm');
    expect(prepareConv2d({ ...weights(8, 8, 1, 3), dilation: [1, 2] as const }).path).toBe('im2col-gemm');
    expect(prepareConv2d({ ...weights(8, 4, 1, 1), padding: 1 }).path).toBe('im2col-gemm');
    expect(prepareConv2d({ ...weights(8, 4, 1, 1), padding: 'same' }).path).toBe('pointwise-gemm');
    expect(prepareConv2d({ ...weights(8, 8, 1, 3), algorithm: 'im2col-gemm' }).path).toBe('im2col-gemm');
    expect(prepareConv2d(weights(8, 8, 1, 3)).plan.packedBytes).toBe(4 * 16 * 8 * 8);
    expect(() => prepareConv2d({ ...weights(8, 8, 1, 3), stride: [2, 2] as const, algorithm: 'winograd-f2x2-3x3' })).toThrow(
      /algorithm 'winograd-f2x2-3x3' needs a 3x3 kernel, stride 1, dilation 1 and groups 1 \(got 3x3, stride 2x2/,
    );
    expect(() => prepareConv2d({ ...weights(8, 8, 1, 3), algorithm: 'winograd-f4x4-3x3' })).toThrow(/native only/);
  });

  it('refuses a run whose window is not the planned one, naming the field', () => {
    const kernel = jsBackend.prepareConv2d({
      inChannels: 8, outChannels: 8, groups: 1, kernelH: 3, kernelW: 3, weight: new Float32Array(576), bias: null,
      activation: { kind: 'none' },
    });
    const geometry = planConv('strided', [1, 8, 9, 9], {
      inChannels: 8, outChannels: 8, groups: 1, kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padding: 1,
    });
    expect(() => kernel.runSync(new Float32Array(8 * 81), geometry, new Float32Array(8 * 25))).toThrow(
      'conv2d: geometry.strideH is 2 but the conv was planned for strideH 1: prepare one conv per window',
    );
  });

  it('a hand-worked example: 2x2 filter over a 3x3 image, cross-correlation (no flip), bias 1', () => {
    // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,0],[0,-1]]: out[y][x] = x[y][x] - x[y+1][x+1] + 1 = -4 + 1
    const geometry = planConv('hand', [1, 1, 3, 3], {
      inChannels: 1, outChannels: 1, groups: 1, kernel: [2, 2], stride: [1, 1], dilation: [1, 1], padding: 0,
    });
    for (const groups of [1]) {
      const kernel = jsBackend.prepareConv2d({
        inChannels: 1, outChannels: 1, groups, kernelH: 2, kernelW: 2,
        weight: Float32Array.from([1, 0, 0, -1]), bias: Float32Array.from([1]), activation: { kind: 'none' },
      });
      const out = new Float32Array(4);
      kernel.runSync(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), geometry, out);
      expect(Array.from(out)).toEqual([-3, -3, -3, -3]);
    }
  });

  it('run() resolves with the same result as runSync()', async () => {
    const geometry = planConv('async', [2, 3, 7, 6], {
      inChannels: 3, outChannels: 4, groups: 1, kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padding: 1,
    });
    const random = seededRandom(99);
    const kernel = jsBackend.prepareConv2d({
      inChannels: 3, outChannels: 4, groups: 1, kernelH: 3, kernelW: 3,
      weight: randomFloats(108, random), bias: randomFloats(4, random), activation: { kind: 'relu' },
    });
    const x = randomFloats(2 * 3 * 7 * 6, random);
    const viaSync = new Float32Array(2 * 4 * 7 * 6);
    const viaAsync = new Float32Array(viaSync.length);
    kernel.runSync(x, geometry, viaSync);
    const pending = kernel.run(x, geometry, viaAsync);
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    expect(Array.from(viaAsync)).toEqual(Array.from(viaSync));
    expect(viaSync.some((v) => v > 0)).toBe(true);
  });
});

describe('translation equivariance', () => {
  // Content sits in the middle of a zero background, so moving it never crosses the border:
  // shifting the input by (dy, dx) must shift the output by (dy / s, dx / s).
  it.each([
    [1, 3, 1, 2, 3, 1],
    [2, 3, 1, 2, 4, 1],
    [2, 5, 2, 4, 2, 1],
    [1, 3, 1, 1, 2, 4], // depthwise
    [3, 1, 0, 3, 6, 2], // grouped 1x1, stride 3
    [1, 3, 1, 3, 1, 1, 8], // 8 channels: the Winograd path
  ])('stride %i, kernel %i, padding %i, shift (%i, %i), groups %i', (stride, k, padding, dy, dx, groups, channels = 4) => {
    const size = 24;
    const random = seededRandom(7 + stride * 10 + k);
    const image = new Float32Array(channels * size * size);
    const shifted = new Float32Array(image.length);
    for (let c = 0; c < channels; c++) {
      for (let y = 6; y < 14; y++) {
        for (let x = 6; x < 14; x++) {
          const v = random();
          image[(c * size + y) * size + x] = v;
          shifted[(c * size + y + dy) * size + x + dx] = v;
        }
      }
    }
    const spec = { inChannels: channels, outChannels: channels, groups: groups === 1 ? 1 : channels, kernel: [k, k] as const, stride: [stride, stride] as const, dilation: [1, 1] as const, padding };
    const geometry = planConv('shift', [1, channels, size, size], spec);
    const kernel = jsBackend.prepareConv2d({
      inChannels: channels, outChannels: channels, groups: spec.groups, kernelH: k, kernelW: k, stride: spec.stride,
      weight: randomFloats((channels * channels * k * k) / spec.groups, random), bias: randomFloats(channels, random),
      activation: { kind: 'leakyRelu', alpha: 0.1 },
    });
    const plane = geometry.outH * geometry.outW;
    const out = new Float32Array(channels * plane);
    const outShifted = new Float32Array(channels * plane);
    kernel.runSync(image, geometry, out);
    kernel.runSync(shifted, geometry, outShifted);
    const sy = dy / stride;
    const sx = dx / stride;
    let compared = 0;
    let nonConstant = 0;
    for (let c = 0; c < channels; c++) {
      for (let oy = 0; oy + sy < geometry.outH; oy++) {
        for (let ox = 0; ox + sx < geometry.outW; ox++) {
          const a = out[(c * geometry.outH + oy) * geometry.outW + ox];
          const b = outShifted[(c * geometry.outH + oy + sy) * geometry.outW + ox + sx];
          expect(Math.abs(a - b), `channel ${c} at (${oy}, ${ox})`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(a)));
          if (a !== out[c * plane]) nonConstant++;
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(channels * 16);
    expect(nonConstant).toBeGreaterThan(0); // the content really moved through the comparison region
  });
});
