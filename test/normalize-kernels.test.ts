/**
 * LayerNorm and Softmax over [outer, length, inner] groups: the pure-JS kernels against values
 * worked by hand, then the native kernels (f32-layernorm, f32-softmax: the rows form for
 * inner 1, the columns form otherwise) against the pure-JS ones on every ISA this CPU has, at 1
 * and 2 threads, with lengths and column counts around every vector width (the tails), in place
 * and async. Then bad input, refused alike by both backends.
 */
import { describe, expect, it } from 'vitest';
import type { Backend, GroupShape } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { availableIsas, setIsa, setNumThreads } from '../lib/backends/native.js';
import { useNativeBackend } from './helpers/backends.js';
import { ParameterError, ShapeError } from '../lib/errors.js';
import { expectClose, randomFloats, seededRandom } from './helpers/numeric.js';

let native: Backend;
useNativeBackend((loaded) => {
  native = loaded;
});

describe('the pure-JS kernels, by hand', () => {
  it('layerNorm of [1, 2, 3] (mean 2, variance 2/3) with scale and bias, rows and columns', () => {
    const inverse = 1 / Math.sqrt(2 / 3 + 0.5);
    const expected = [-inverse * 2 + 1, 0 * 3 + 1, inverse * 4 + 1];
    const out = new Float32Array(3);
    const params = { outer: 1, length: 3, inner: 1, scale: new Float32Array([2, 3, 4]), bias: new Float32Array([1, 1, 1]), epsilon: 0.5 };
    jsBackend.layerNormSync(new Float32Array([1, 2, 3]), out, params);
    expectClose(out, expected, 'rows');
    // The same group as a column of a [1, 3, 2] view, beside a constant column (variance 0: y = bias).
    const columns = new Float32Array(6);
    jsBackend.layerNormSync(new Float32Array([1, 5, 2, 5, 3, 5]), columns, { ...params, inner: 2 });
    expectClose(columns, [expected[0], 1, expected[1], 1, expected[2], 1], 'columns');
  });
  it('softmax of [0, ln 2, ln 5] is [1/8, 2/8, 5/8], and a huge logit does not overflow', () => {
    const out = new Float32Array(3);
    jsBackend.softmaxSync(new Float32Array([0, Math.LN2, Math.log(5)]), out, { outer: 1, length: 3, inner: 1 });
    expectClose(out, [1 / 8, 2 / 8, 5 / 8], 'softmax');
    jsBackend.softmaxSync(new Float32Array([1000, 1000, 1000]), out, { outer: 1, length: 3, inner: 1 });
    expectClose(out, [1 / 3, 1 / 3, 1 / 3], 'large logits');
  });
});

/** Shapes around the vector widths (4, 8, 16) and the 64-column task blocks. */
const SHAPES: GroupShape[] = [
  { outer: 3, length: 1, inner: 1 },
  { outer: 5, length: 7, inner: 1 },
  { outer: 4, length: 33, inner: 1 },
  { outer: 197, length: 768, inner: 1 }, // ViT's tokens
  { outer: 2, length: 49, inner: 1 }, // a Swin window's attention row
  { outer: 2, length: 96, inner: 3 },
  { outer: 1, length: 5, inner: 17 },
  { outer: 2, length: 96, inner: 56 * 56 }, // ConvNeXt stage 1, channels of an NCHW map
  { outer: 3, length: 9, inner: 67 },
];

function paramsOf(shape: GroupShape, seed: number, withBias: boolean) {
  const random = seededRandom(seed);
  return {
    ...shape,
    scale: randomFloats(shape.length, random),
    bias: withBias ? randomFloats(shape.length, random) : null,
    epsilon: 1e-5,
  };
}

describe('native LayerNorm and Softmax against the pure-JS kernels', () => {
  for (const isa of availableIsas()) {
    for (const threads of [1, 2]) {
      it(`${isa}, ${threads} thread(s)`, async () => {
        setIsa(isa);
        setNumThreads(threads);
        for (const [index, shape] of SHAPES.entries()) {
          const total = shape.outer * shape.length * shape.inner;
          // Inputs with an offset, so the mean is far from 0 (the two-pass variance matters).
          const input = randomFloats(total, seededRandom(index)).map((v) => v * 3 + 2);
          const params = paramsOf(shape, 50 + index, index % 2 === 0);
          const label = `${isa} ${threads}t [${shape.outer}, ${shape.length}, ${shape.inner}]`;

          const expectedNorm = new Float32Array(total);
          jsBackend.layerNormSync(input, expectedNorm, params);
          const norm = new Float32Array(total).fill(Number.NaN);
          native.layerNormSync(input, norm, params);
          expectClose(norm, expectedNorm, `layerNorm ${label}`);
          const inPlace = input.slice();
          await native.layerNorm(inPlace, inPlace, params);
          expectClose(inPlace, expectedNorm, `layerNorm in place, async ${label}`);

          const expectedSoftmax = new Float32Array(total);
          jsBackend.softmaxSync(input, expectedSoftmax, shape);
          const soft = new Float32Array(total).fill(Number.NaN);
          native.softmaxSync(input, soft, shape);
          expectClose(soft, expectedSoftmax, `softmax ${label}`);
          const softInPlace = input.slice();
          await native.softmax(softInPlace, softInPlace, shape);
          expectClose(softInPlace, expectedSoftmax, `softmax in place, async ${label}`);
        }
      });
    }
  }
});

describe('bad input is refused alike by both backends', () => {
  const x = new Float32Array(12), y = new Float32Array(12);
  const scale = new Float32Array(4);
  const cases: { name: string; call: (b: Backend) => void; type: typeof ParameterError | typeof ShapeError; message: RegExp }[] = [
    { name: 'input of the wrong length', call: (b) => b.softmaxSync(x.subarray(1), y, { outer: 3, length: 4, inner: 1 }), type: ShapeError, message: /input has 11 elements/ },
    { name: 'a zero length', call: (b) => b.softmaxSync(x, y, { outer: 3, length: 0, inner: 1 }), type: ParameterError, message: /length must be a positive integer/ },
    { name: 'scale of the wrong length', call: (b) => b.layerNormSync(x, y, { outer: 3, length: 4, inner: 1, scale: scale.subarray(1), bias: null, epsilon: 0 }), type: ShapeError, message: /scale has 3 elements/ },
    { name: 'a negative epsilon', call: (b) => b.layerNormSync(x, y, { outer: 3, length: 4, inner: 1, scale, bias: null, epsilon: -1 }), type: ParameterError, message: /epsilon must be a finite non-negative/ },
    { name: 'bias not a Float32Array', call: (b) => b.layerNormSync(x, y, { outer: 3, length: 4, inner: 1, scale, bias: [1, 2, 3, 4] as never, epsilon: 0 }), type: ParameterError, message: /bias must be a Float32Array/ },
  ];
  for (const { name, call, type, message } of cases) {
    it(name, () => {
      for (const backend of [jsBackend, native]) {
        expect(() => call(backend)).toThrow(type);
        expect(() => call(backend)).toThrow(message);
      }
    });
  }
  it('the native addon refuses an output that partly overlaps the input', () => {
    const shared = new Float32Array(16);
    expect(() => native.softmaxSync(shared.subarray(0, 12), shared.subarray(2, 14), { outer: 3, length: 4, inner: 1 })).toThrow(/overlap|disjoint|share/i);
  });
});
