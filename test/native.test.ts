/**
 * Parity: the native kernels against the naive definition, run on a geometry this file derives
 * from the lecture's formula (test/native-support.ts lectureGeometry, not the planner), and
 * against the pure-JS backend, on random inputs, for every ISA this machine can run. The sweep covers kernel
 * sizes, strides, asymmetric pads, dilation, groups (incl. depthwise with channel multipliers),
 * batches, channel counts off the tile sizes, odd spatial sizes, every fused activation and the
 * residual add, plus the special paths: 1x1 without im2col, K and pixel blocking, vector borders.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATION_KINDS } from '../lib/activation.js';
import type { Activation, Backend, PoolGeometry } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { availableIsas, getNumThreads, loadNativeBackend, setIsa, setNumThreads, type IsaName } from '../lib/backends/native.js';
import { planWindow, type PaddingSpec, type Pair } from '../lib/planner/geometry.js';
import { expectClose, randomFloats, seededRandom } from './helpers/numeric.js';
import { type ConvCase, convCase, convGeometry, describeCase, lectureGeometry, naiveConv, outputLength } from './native-support.js';

function nativeOrFail(): Backend {
  const loaded = loadNativeBackend();
  if (loaded instanceof Error) throw new Error(`native addon not built (npm run build:native): ${loaded.message}`);
  return loaded;
}

const ACTIVATIONS: Activation[] = [
  { kind: 'none' },
  { kind: 'relu' },
  { kind: 'relu6' },
  { kind: 'leakyRelu', alpha: 0.2 },
  { kind: 'hardSwish' },
  { kind: 'sigmoid' },
];

const base = convCase({ batch: 1, inChannels: 3, outChannels: 5, inH: 9, inW: 11 });

/** Random conv cases after the hand-picked ones: every one of them runs. */
const RANDOM_CASES = 60;

/** Hand-picked cases for each special path, then a seeded random sweep. */
function convCases(): ConvCase[] {
  const cases: ConvCase[] = [
    { ...base },
    // 1x1 stride 1, no pads: the direct (no im2col) path; ragged last pixel panel; K > 256 blocks.
    { ...base, kernel: [1, 1], padding: 0, inChannels: 300, outChannels: 13, inH: 7, inW: 9, residual: true },
    { ...base, kernel: [1, 1], padding: 0, inChannels: 16, outChannels: 64, inH: 16, inW: 16, batch: 2 },
    // 1x1 with K <= 32 (MobileNetV2's expansions): row panels sweep the pixel block in pieces.
    // K 1, 3, 16, 17, 24, 32; pixels off 16 and 8, past one 240-pixel block; M 16 / 5 / 13 / 40
    // (4-row and short panels); every activation, residual or not; batch 1 to 3.
    { ...base, kernel: [1, 1], padding: 0, inChannels: 1, outChannels: 16, inH: 13, inW: 11, activation: { kind: 'relu6' }, residual: true },
    { ...base, kernel: [1, 1], padding: 0, inChannels: 3, outChannels: 5, inH: 17, inW: 19, activation: { kind: 'leakyRelu', alpha: 0.2 }, batch: 2 },
    { ...base, kernel: [1, 1], padding: 0, inChannels: 16, outChannels: 96, inH: 16, inW: 17, activation: { kind: 'relu6' }, residual: true },
    { ...base, kernel: [1, 1], padding: 0, inChannels: 17, outChannels: 13, inH: 9, inW: 30, activation: { kind: 'hardSwish' }, bias: false, residual: true, batch: 3 },
    { ...base, kernel: [1, 1], padding: 0, inChannels: 24, outChannels: 24, inH: 23, inW: 13, activation: { kind: 'sigmoid' }, residual: true },
    { ...base, kernel: [1, 1], padding: 0, inChannels: 32, outChannels: 40, inH: 3, inW: 7, residual: true, batch: 2 },
    { ...base, kernel: [1, 1], padding: 0, inChannels: 32, outChannels: 16, inH: 28, inW: 28, activation: { kind: 'relu' }, bias: false },
    // 1x1 with stride or pads goes through im2col.
    { ...base, kernel: [1, 1], stride: [2, 2], padding: 0, inChannels: 8, outChannels: 7 },
    { ...base, kernel: [1, 1], padding: [1, 0, 0, 2], inChannels: 4, outChannels: 6 },
    // K = 40 * 9 = 360 > one K block; pixels 20x20 = 400 > one pixel block; M = 70 (not a multiple of 6 or 4).
    { ...base, inChannels: 40, outChannels: 70, inH: 20, inW: 20, activation: { kind: 'relu' }, residual: true },
    // the ResNet stem shape, smaller: 7x7 stride 2 pad 3.
    { ...base, inChannels: 3, outChannels: 16, kernel: [7, 7], stride: [2, 2], padding: 3, inH: 33, inW: 31 },
    // Stride 2 with one K block (native avx512: B rows read from the input's column phases, no
    // im2col): rows of 28 and 14 outputs (last tiles of 12 and 14 columns), 40 outputs (a half
    // row panel), batch 2 with a residual, asymmetric pads.
    { ...base, inChannels: 3, outChannels: 40, kernel: [7, 7], stride: [2, 2], padding: 3, inH: 30, inW: 56, batch: 2, activation: { kind: 'relu' }, residual: true },
    { ...base, inChannels: 3, outChannels: 24, stride: [2, 2], padding: [0, 1, 1, 0], inH: 29, inW: 28, activation: { kind: 'relu6' }, bias: false },
    // asymmetric pads, 'same' with stride 2 (odd total), 'full', dilation.
    { ...base, padding: [0, 2, 1, 0], kernel: [2, 3], inH: 8, inW: 7 },
    { ...base, padding: 'same', stride: [2, 2], kernel: [4, 4], inH: 10, inW: 13 },
    { ...base, padding: 'full', kernel: [3, 2] },
    { ...base, dilation: [2, 3], padding: 2, inH: 15, inW: 17, outChannels: 9 },
    // groups and depthwise (multiplier 1 and 2), 3x3 s1 / s2 wide enough for the vector path.
    { ...base, groups: 2, inChannels: 6, outChannels: 10, activation: { kind: 'hardSwish' } },
    { ...base, groups: 12, inChannels: 12, outChannels: 12, inH: 37, inW: 41, activation: { kind: 'relu6' }, residual: true },
    { ...base, groups: 12, inChannels: 12, outChannels: 12, inH: 37, inW: 41, stride: [2, 2], activation: { kind: 'relu6' } },
    { ...base, groups: 5, inChannels: 5, outChannels: 10, inH: 19, inW: 35, stride: [2, 2], padding: [0, 1, 1, 0] },
    { ...base, groups: 4, inChannels: 4, outChannels: 4, inH: 30, inW: 45, padding: 0, activation: { kind: 'sigmoid' } },
    { ...base, groups: 3, inChannels: 3, outChannels: 3, inH: 13, inW: 21, kernel: [5, 5], padding: 2, dilation: [2, 1] },
    { ...base, groups: 8, inChannels: 8, outChannels: 8, inH: 3, inW: 3, padding: 1, batch: 3 },
    // Depthwise jobs over 2^20 multiply-adds split into guided runs of planes (native/ops/task_split.h).
    { ...base, groups: 32, inChannels: 32, outChannels: 32, inH: 64, inW: 61, batch: 2, activation: { kind: 'relu6' }, residual: true },
    { ...base, groups: 24, inChannels: 24, outChannels: 48, inH: 90, inW: 87, stride: [2, 2], batch: 3 },
    // a single input channel (groups 1): GEMM, not depthwise.
    { ...base, inChannels: 1, outChannels: 6, kernel: [5, 5], padding: 0, inH: 28, inW: 28, batch: 2 },
    // 3x3 stride-1 convs with Cin >= 24, Cout >= 16 and maps of at least 6x6 take native's
    // Winograd F(2x2, 3x3) path: odd sizes (cut last tiles), pad 0 / 1 / 2 / asymmetric, every
    // activation with and without residual, batch > 1, channels off 6 / 16, a row of 70 tiles
    // (two 64-tile segments), K blocks (Cin 300), Cin 512 (float32 accuracy), the 6x6 minimum.
    { ...base, inChannels: 24, outChannels: 16, inH: 6, inW: 6, batch: 2 },
    { ...base, inChannels: 25, outChannels: 19, inH: 9, inW: 13, activation: { kind: 'relu' }, residual: true },
    { ...base, inChannels: 31, outChannels: 37, inH: 11, inW: 10, padding: 0, activation: { kind: 'relu6' }, bias: false, residual: true },
    { ...base, inChannels: 40, outChannels: 23, inH: 12, inW: 9, padding: [2, 0, 1, 2], activation: { kind: 'leakyRelu', alpha: 0.2 }, residual: true, batch: 2 },
    { ...base, inChannels: 33, outChannels: 17, inH: 8, inW: 140, activation: { kind: 'hardSwish' }, residual: true },
    { ...base, inChannels: 300, outChannels: 20, inH: 7, inW: 9, activation: { kind: 'sigmoid' }, residual: true },
    { ...base, inChannels: 48, outChannels: 50, inH: 15, inW: 15, padding: [1, 0, 0, 1], activation: { kind: 'relu' }, batch: 3 },
    { ...base, inChannels: 26, outChannels: 29, inH: 10, inW: 11, padding: 2, activation: { kind: 'sigmoid' }, bias: false },
    { ...base, inChannels: 512, outChannels: 17, inH: 9, inW: 7, activation: { kind: 'leakyRelu', alpha: 0.2 }, residual: true },
    { ...base, inChannels: 64, outChannels: 64, inH: 21, inW: 19, activation: { kind: 'none' }, residual: true, batch: 2 },
    // last panels of 1 or 2 tiles (GEMV columns); remainders that join the last chunk (49 tiles at
    // Cin 256: 16 + 16 + 17; 65 at Cin 64: 64 + 1).
    { ...base, inChannels: 256, outChannels: 20, inH: 14, inW: 14, activation: { kind: 'relu' }, residual: true },
    { ...base, inChannels: 64, outChannels: 22, inH: 10, inW: 26, activation: { kind: 'hardSwish' } },
    { ...base, inChannels: 30, outChannels: 17, inH: 6, inW: 12, activation: { kind: 'relu6' }, bias: false, residual: true, batch: 2 },
    // too few chunks for two threads: output channels split in parts (Cin 512 in K blocks; GEMV tails).
    { ...base, inChannels: 512, outChannels: 100, inH: 8, inW: 8, activation: { kind: 'relu' }, residual: true },
    { ...base, inChannels: 64, outChannels: 60, inH: 6, inW: 12, activation: { kind: 'leakyRelu', alpha: 0.2 }, residual: true },
    { ...base, inChannels: 256, outChannels: 60, inH: 14, inW: 14, activation: { kind: 'relu6' }, residual: true },
  ];
  const random = seededRandom(20251126);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(((random() + 1) / 2) * items.length)];
  const paddings: PaddingSpec[] = [0, 1, 2, [1, 0, 2, 1], [0, 1, 0, 2], 'same', 'valid'];
  const handPicked = cases.length;
  for (let i = 0; i < RANDOM_CASES; i++) {
    const groupsChoice = pick(['one', 'one', 'two', 'depthwise', 'multiplier'] as const);
    const k = pick([1, 2, 3, 3, 5]);
    let inChannels = pick([1, 3, 5, 7, 13, 17]);
    let outChannels = pick([1, 4, 7, 13, 19, 33]);
    let groups = 1;
    if (groupsChoice === 'two') {
      inChannels *= 2;
      outChannels *= 2;
      groups = 2;
    } else if (groupsChoice === 'depthwise' || groupsChoice === 'multiplier') {
      inChannels = pick([2, 5, 8]);
      groups = inChannels;
      outChannels = inChannels * (groupsChoice === 'multiplier' ? 2 : 1);
    }
    const c: ConvCase = {
      batch: pick([1, 1, 2, 3]),
      inChannels,
      outChannels,
      groups,
      inH: pick([5, 7, 12, 19, 24]),
      inW: pick([6, 9, 13, 25, 33]),
      kernel: [k, pick([k, k, 1, 3])] as Pair,
      stride: pick([[1, 1], [2, 2], [1, 2], [3, 3]] as Pair[]),
      dilation: pick([[1, 1], [1, 1], [2, 2], [1, 3]] as Pair[]),
      padding: pick(paddings),
      activation: pick(ACTIVATIONS),
      bias: random() > -0.6,
      residual: random() > 0.3,
    };
    // Valid by construction: a map too small for the (dilated) window grows until one output
    // pixel fits, by the lecture's formula, so every random case runs (none is dropped).
    while (lectureGeometry(c) === null) {
      c.inH += 3;
      c.inW += 3;
    }
    cases.push(c);
  }
  if (cases.length !== handPicked + RANDOM_CASES) throw new Error(`the random sweep made ${cases.length - handPicked} cases, not ${RANDOM_CASES}`);
  return cases;
}

/**
 * Depthwise K x K convs (K 3 / 5 / 7, stride 1 / 2: native's row kernels), dilation 1, 2 and
 * 2x1, symmetric / 'same' / asymmetric / wide pads, maps narrower than a vector (7, and 14 at
 * stride 2) and wider than a few steps (37, 67), channel multiplier 1 and 2, batch 1 and 2,
 * with and without residual, and every activation kind in turn (with non-default parameters).
 */
function depthwiseCases(): ConvCase[] {
  const activations: Activation[] = ACTIVATION_KINDS.map((kind) =>
    kind === 'clip' ? { kind, min: -0.4, max: 0.6 } : kind === 'leakyRelu' || kind === 'elu' ? { kind, alpha: 0.3 } : kind === 'hardSigmoid' ? { kind, alpha: 0.25, beta: 0.4 } : { kind });
  const cases: ConvCase[] = [];
  let n = 0;
  for (const k of [3, 5, 7]) {
    for (const s of [1, 2]) {
      for (const dilation of [[1, 1], [2, 2], [2, 1]] as Pair[]) {
        const half = ((k - 1) / 2) * dilation[0];
        const paddings: PaddingSpec[] = [half, 'same', [0, k - 1, half + 1, 1], [half + 1, half + 2, half, 0]];
        for (const [inH, inW] of [[7, 7], [14, 14], [13, 37], [9, 67]]) {
          n++;
          const multiplier = n % 3 === 0 ? 2 : 1;
          const c: ConvCase = {
            ...base,
            batch: n % 4 === 0 ? 2 : 1,
            inChannels: 3,
            outChannels: 3 * multiplier,
            groups: 3,
            inH,
            inW,
            kernel: [k, k],
            stride: [s, s],
            dilation,
            padding: paddings[n % paddings.length],
            activation: activations[n % activations.length],
            bias: n % 5 !== 0,
            residual: n % 2 === 0,
          };
          try {
            convGeometry(c);
            cases.push(c);
          } catch {
            /* the window does not fit this map */
          }
        }
      }
    }
  }
  return cases;
}

interface Prepared {
  weight: Float32Array;
  bias: Float32Array | null;
  input: Float32Array;
  residual: Float32Array | null;
}

function materialise(c: ConvCase, seed: number): Prepared {
  const random = seededRandom(seed);
  const g = lectureGeometry(c)!;
  return {
    weight: randomFloats((c.outChannels * c.inChannels * c.kernel[0] * c.kernel[1]) / c.groups, random),
    bias: c.bias ? randomFloats(c.outChannels, random) : null,
    input: randomFloats(c.batch * c.inChannels * c.inH * c.inW, random),
    residual: c.residual ? randomFloats(outputLength(g), random) : null,
  };
}

function runConv(backend: Backend, c: ConvCase, p: Prepared): Float32Array {
  const g = convGeometry(c);
  const kernel = backend.prepareConv2d({
    inChannels: c.inChannels,
    outChannels: c.outChannels,
    groups: c.groups,
    kernelH: c.kernel[0],
    kernelW: c.kernel[1],
    weight: p.weight,
    bias: p.bias,
    activation: c.activation,
    stride: c.stride,
    dilation: c.dilation,
    padding: c.padding,
  });
  // Poison the output so a pixel the kernel forgets to write is caught.
  const out = new Float32Array(outputLength(g)).fill(Number.NaN);
  kernel.runSync(p.input, g, out, p.residual);
  return out;
}

/**
 * The naive definition's answer on the lecture's geometry (not the planner's), computed once
 * per case and seed and shared by every ISA and thread count.
 */
const naiveAnswers = new Map<string, Float32Array>();
function naiveAnswer(c: ConvCase, p: Prepared, key: string): Float32Array {
  let answer = naiveAnswers.get(key);
  if (!answer) {
    const g = lectureGeometry(c);
    if (!g) throw new Error(`case ${key} has no output pixel by the lecture's formula: ${describeCase(c)}`);
    answer = naiveConv(p.input, g, p.weight, p.bias, p.residual, c.activation);
    naiveAnswers.set(key, answer);
  }
  return answer;
}

/** ResNet / MobileNet-sized layers for the many-thread splits. */
const LARGE_LAYERS: ConvCase[] = [
  { ...base, inChannels: 64, outChannels: 64, inH: 28, inW: 28, activation: { kind: 'relu' }, residual: true }, // Winograd
  { ...base, inChannels: 256, outChannels: 40, inH: 7, inW: 7 }, // Winograd, output-channel parts
  { ...base, inChannels: 32, outChannels: 48, inH: 30, inW: 29, stride: [2, 2] }, // im2col
  { ...base, inChannels: 3, outChannels: 16, kernel: [7, 7], stride: [2, 2], padding: 3, inH: 64, inW: 60 },
  { ...base, inChannels: 3, outChannels: 32, stride: [2, 2], padding: 1, inH: 112, inW: 112, activation: { kind: 'relu6' } }, // MobileNet stem
  { ...base, kernel: [1, 1], padding: 0, inChannels: 96, outChannels: 24, inH: 28, inW: 28, residual: true },
  { ...base, kernel: [1, 1], padding: 0, inChannels: 16, outChannels: 96, inH: 28, inW: 27, activation: { kind: 'relu6' } },
  { ...base, kernel: [1, 1], padding: 0, inChannels: 320, outChannels: 33, inH: 7, inW: 7 }, // K blocks, 49 pixels
  { ...base, groups: 96, inChannels: 96, outChannels: 96, inH: 28, inW: 28, activation: { kind: 'relu6' } },
  // 1x1 with few outputs on maps of >= 56x56 (native reads the input rows in place: one and two
  // weight panels, the last tile part-filled).
  { ...base, kernel: [1, 1], padding: 0, inChannels: 32, outChannels: 16, inH: 57, inW: 56, residual: true },
  { ...base, kernel: [1, 1], padding: 0, inChannels: 40, outChannels: 24, inH: 56, inW: 58, activation: { kind: 'relu6' } },
];

const ISAS: IsaName[] = (() => {
  const loaded = loadNativeBackend();
  return loaded instanceof Error ? ['scalar'] : availableIsas();
})();

describe('native backend parity', () => {
  let native: Backend;
  let startIsa: IsaName;
  let startThreads: number;
  beforeAll(() => {
    native = nativeOrFail();
    startIsa = ISAS[ISAS.length - 1];
    startThreads = getNumThreads();
  });
  afterAll(() => {
    setIsa(startIsa);
    setNumThreads(startThreads);
  });

  it('plans every case with the geometry the lecture\'s formula gives (output size and padding split)', () => {
    const all = [...convCases(), ...depthwiseCases(), ...LARGE_LAYERS];
    for (const c of all) {
      const { batch, inChannels, outChannels, groups, inH, inW, kernelH, kernelW, strideH, strideW, dilationH, dilationW, pads, outH, outW, exact } = convGeometry(c);
      expect({ batch, inChannels, outChannels, groups, inH, inW, kernelH, kernelW, strideH, strideW, dilationH, dilationW, pads, outH, outW, exact }, describeCase(c))
        .toEqual(lectureGeometry(c));
    }
  });

  it('offers every ISA this CPU has (scalar; avx2 where /proc/cpuinfo lists avx2 + fma; avx512 with avx512f/bw/dq/vl too)', () => {
    expect(ISAS[0]).toBe('scalar');
    if (process.arch === 'x64' && existsSync('/proc/cpuinfo')) {
      const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(' ') ?? [];
      const hasAvx2 = flags.includes('avx2') && flags.includes('fma');
      const hasAvx512 = hasAvx2 && ['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.includes(f));
      expect(ISAS).toEqual(hasAvx512 ? ['scalar', 'avx2', 'avx512'] : hasAvx2 ? ['scalar', 'avx2'] : ['scalar']);
      if (!hasAvx512) console.log('native parity: avx512: skipped, CPU lacks AVX-512F/BW/DQ/VL');
    }
  });

  for (const isa of ISAS) {
    describe(`ISA ${isa}`, () => {
      beforeAll(() => setIsa(isa));

      for (const threads of [1, 2]) {
        it(`matches the naive definition and jsBackend over the conv sweep (${threads} thread${threads > 1 ? 's' : ''})`, () => {
          setNumThreads(threads);
          const cases = convCases();
          expect(cases.length).toBeGreaterThan(RANDOM_CASES);
          cases.forEach((c, i) => {
            const p = materialise(c, 1000 + i);
            const got = runConv(native, c, p);
            expectClose(got, naiveAnswer(c, p, `sweep ${i}`), `${isa} t${threads} #${i} vs naive ${describeCase(c)}`);
            expectClose(got, runConv(jsBackend, c, p), `${isa} t${threads} #${i} ${describeCase(c)}`);
          });
        });
      }

      // Servers have 8 to 64 cores: the work split must stay correct when the threads outnumber
      // the natural tasks (batch 1, few pixel tiles, output-channel parts, GEMV row panels).
      for (const threads of [8, 16]) {
        it(`matches the naive definition and jsBackend on ResNet / MobileNet-sized layers at batch 1 and 2 (${threads} threads)`, () => {
          setNumThreads(threads);
          expect(getNumThreads()).toBe(threads);
          LARGE_LAYERS.forEach((layer, i) => {
            for (const batch of [1, 2]) {
              const c = { ...layer, batch };
              const p = materialise(c, 3000 + 10 * i + batch);
              const got = runConv(native, c, p);
              expectClose(got, naiveAnswer(c, p, `large ${i} x${batch}`), `${isa} t${threads} vs naive ${describeCase(c)}`);
              expectClose(got, runConv(jsBackend, c, p), `${isa} t${threads} ${describeCase(c)}`);
            }
          });
          const random = seededRandom(29);
          for (const batch of [1, 2, 5]) {
            const weights = {
              inFeatures: 1280, outFeatures: 100, weight: randomFloats(128000, random), bias: randomFloats(100, random),
              activation: { kind: 'none' } as Activation,
            };
            const x = randomFloats(1280 * batch, random);
            const got = new Float32Array(100 * batch).fill(Number.NaN);
            const want = new Float32Array(100 * batch);
            native.prepareLinear(weights).runSync(x, batch, got);
            jsBackend.prepareLinear(weights).runSync(x, batch, want);
            expectClose(got, want, `${isa} t${threads} linear 1280->100 x${batch}`);
          }
          const window = planWindow('pool', 56, 56, { kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padding: 1 });
          const g: PoolGeometry = { ...window, batch: 1, channels: 64, kind: 'max', countIncludePad: false };
          const input = randomFloats(64 * 56 * 56, random);
          const got = new Float32Array(64 * g.outH * g.outW).fill(Number.NaN);
          const want = new Float32Array(got.length);
          native.pool2dSync(input, g, got);
          jsBackend.pool2dSync(input, g, want);
          expectClose(got, want, `${isa} t${threads} maxpool 3x3/2 64 @56`);
        });
      }

      it('matches the naive definition and jsBackend on depthwise K x K convs (3 / 5 / 7, stride 1 / 2, dilation, pads, every activation)', () => {
        const cases = depthwiseCases();
        expect(cases.length).toBeGreaterThan(60);
        for (const threads of [1, 2]) {
          setNumThreads(threads);
          cases.forEach((c, i) => {
            const p = materialise(c, 3000 + i);
            const got = runConv(native, c, p);
            expectClose(got, naiveAnswer(c, p, `dw ${i}`), `${isa} t${threads} dw #${i} vs naive ${describeCase(c)}`);
            expectClose(got, runConv(jsBackend, c, p), `${isa} t${threads} dw #${i} ${describeCase(c)}`);
          });
        }
      });

      it('matches jsBackend on pooling (max / avg, ceilMode, countIncludePad, dilation)', () => {
        const random = seededRandom(7);
        const specs: Array<[number, number, number, number, number, PaddingSpec, boolean, number]> = [
          // inH, inW, kernel, stride, dilation, padding, ceilMode, channels
          [112, 112, 3, 2, 1, 1, false, 3], // ResNet stem pool: the AVX2 3x3s2 kernel
          [57, 45, 3, 2, 1, [1, 0, 0, 1], true, 2],
          [13, 17, 2, 2, 1, 0, true, 3],
          [10, 11, 3, 1, 2, 1, false, 2],
          [9, 9, 3, 3, 1, 1, true, 4],
          [7, 8, 4, 3, 1, [2, 1, 1, 2], true, 1],
          [5, 5, 5, 1, 1, 0, false, 2],
        ];
        for (const [inH, inW, k, s, d, padding, ceilMode, channels] of specs) {
          for (const kind of ['max', 'avg'] as const) {
            for (const countIncludePad of [true, false]) {
              const window = planWindow('pool test', inH, inW, { kernel: [k, k], stride: [s, s], dilation: [d, d], padding, ceilMode });
              const g: PoolGeometry = { ...window, batch: 2, channels, kind, countIncludePad };
              const input = randomFloats(2 * channels * inH * inW, random);
              const got = new Float32Array(2 * channels * g.outH * g.outW).fill(Number.NaN);
              const want = new Float32Array(got.length);
              native.pool2dSync(input, g, got);
              jsBackend.pool2dSync(input, g, want);
              expectClose(got, want, `${isa} ${kind} ${inH}x${inW} k${k} s${s} d${d} p${JSON.stringify(padding)} ceil ${ceilMode} include ${countIncludePad}`);
            }
          }
        }
      });

      it('matches jsBackend on global pooling and Linear', () => {
        const random = seededRandom(11);
        for (const kind of ['max', 'avg'] as const) {
          const input = randomFloats(6 * 49, random);
          const got = new Float32Array(6);
          const want = new Float32Array(6);
          native.globalPool2dSync(input, kind, 6, 49, got);
          jsBackend.globalPool2dSync(input, kind, 6, 49, want);
          expectClose(got, want, `${isa} global ${kind}`);
        }
        for (const [inF, outF, batch] of [
          [10, 3, 1],
          [300, 37, 5],
          [84, 10, 33],
        ]) {
          const weights = {
            inFeatures: inF,
            outFeatures: outF,
            weight: randomFloats(inF * outF, random),
            bias: randomFloats(outF, random),
            activation: { kind: 'relu' } as Activation,
          };
          const x = randomFloats(inF * batch, random);
          const got = new Float32Array(outF * batch).fill(Number.NaN);
          const want = new Float32Array(outF * batch);
          native.prepareLinear(weights).runSync(x, batch, got);
          jsBackend.prepareLinear(weights).runSync(x, batch, want);
          expectClose(got, want, `${isa} linear ${inF}->${outF} x${batch}`);
        }
      });

      it('propagates NaN and Infinity like IEEE arithmetic', () => {
        const c: ConvCase = { ...base, inChannels: 2, outChannels: 7, inH: 12, inW: 20, bias: false };
        const p = materialise(c, 5);
        p.input[3 * 20 + 4] = Number.NaN;
        p.input[12 * 20 + 8 * 20 + 15] = Number.POSITIVE_INFINITY;
        const got = runConv(native, c, p);
        const want = naiveConv(p.input, convGeometry(c), p.weight, null, null, c.activation);
        let nans = 0;
        for (let i = 0; i < want.length; i++) {
          expect(Number.isNaN(got[i]), `element ${i}`).toBe(Number.isNaN(want[i]));
          if (Number.isNaN(want[i])) nans++;
          else if (!Number.isFinite(want[i])) expect(got[i]).toBe(want[i]);
        }
        expect(nans).toBeGreaterThan(7 * 8); // the NaN reaches a 3x3 neighbourhood in every output channel
        const pooled = new Float32Array(2 * 6 * 10);
        const window = planWindow('pool', 12, 20, { kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padding: 0 });
        native.pool2dSync(p.input, { ...window, batch: 1, channels: 2, kind: 'max', countIncludePad: false }, pooled);
        expect(Number.isNaN(pooled[1 * 10 + 2])).toBe(true);
        expect(pooled[60 + 4 * 10 + 7]).toBe(Number.POSITIVE_INFINITY);
      });

      for (const threads of [1, 2]) {
        it(`max pool 3x3/2 with NaN / ±Infinity at borders and inside matches jsBackend exactly (${threads} thread${threads > 1 ? 's' : ''})`, () => {
          setNumThreads(threads);
          // 4 x 16 planes of 112x112: enough work that the native side splits it over the threads.
          const [batch, channels, size] = [4, 16, 112];
          const input = randomFloats(batch * channels * size * size, seededRandom(17));
          const plane = size * size;
          const put = (p: number, y: number, x: number, v: number) => (input[p * plane + y * size + x] = v);
          put(1, 0, 0, Number.NaN);
          put(2, 111, 111, Number.NaN);
          put(3, 50, 0, Number.POSITIVE_INFINITY);
          put(3, 0, 77, Number.NEGATIVE_INFINITY);
          put(40, 63, 64, Number.NaN);
          put(41, 111, 3, Number.POSITIVE_INFINITY);
          input.fill(Number.NEGATIVE_INFINITY, 60 * plane, 61 * plane);
          const window = planWindow('pool', size, size, { kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padding: 1 });
          const g: PoolGeometry = { ...window, batch, channels, kind: 'max', countIncludePad: false };
          const got = new Float32Array(batch * channels * g.outH * g.outW).fill(12345);
          const want = new Float32Array(got.length);
          native.pool2dSync(input, g, got);
          jsBackend.pool2dSync(input, g, want);
          let nans = 0;
          for (let i = 0; i < want.length; i++) {
            if (Number.isNaN(want[i])) nans++;
            if (!Object.is(got[i] + 0, want[i] + 0)) expect(got[i], `element ${i}`).toBe(want[i]);
          }
          expect(nans).toBe(1 + 1 + 2); // each corner NaN reaches 1 output; (63, 64) reaches rows 31-32 of column 32
          expect(got[60 * g.outH * g.outW + 100]).toBe(Number.NEGATIVE_INFINITY);
          expect(got[3 * g.outH * g.outW + 25 * g.outW]).toBe(Number.POSITIVE_INFINITY);
        });
      }
    });
  }
});
