/**
 * The native strided copy (native/ops/strided_copy.cc) against the pure-JS one
 * (lib/onnx/ops/strided-copy.ts copyStrided, the oracle) on the plans the ONNX ops build:
 * Transposes of every 4-D permutation, Slices with negative steps, Gather tables, Split parts
 * and Concat slices (a destination base and stride), long rows on the thread pool. And the
 * bounds rule: a plan that would reach outside either array is refused before anything is read
 * or written, with an error naming the side.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../lib/backends/backend.js';
import { loadNativeBackend, setNumThreads, getNumThreads } from '../lib/backends/native.js';
import { ShapeError } from '../lib/errors.js';
import { copyStrided, planCopy, type CopyAxis } from '../lib/onnx/ops/strided-copy.js';
import { stridesOf } from '../lib/onnx/ops/shape-utils.js';
import { randomFloats, seededRandom } from './helpers/numeric.js';

const loaded = loadNativeBackend();
if (loaded instanceof Error && process.env.CONVNODE_REQUIRE_NATIVE === '1') throw loaded;
const native = loaded instanceof Error ? undefined : (loaded as Backend);

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

async function expectSameCopy(axes: CopyAxis[], base: number, dstBase: number, source: Float32Array, outLength: number, label: string) {
  const plan = planCopy(axes, base, dstBase);
  const expected = copyStrided(source, plan, new Float32Array(outLength).fill(-7));
  const sync = new Float32Array(outLength).fill(-7);
  native!.stridedCopySync!(source, plan, sync);
  const async = new Float32Array(outLength).fill(-7);
  await native!.stridedCopy!(source, plan, async);
  expect(firstDifference(sync, expected), `${label} (sync): first differing index`).toBe(-1);
  expect(firstDifference(async, expected), `${label} (async): first differing index`).toBe(-1);
}

function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe.skipIf(!native)('native strided copy', () => {
  const random = seededRandom(3);

  it('transposes every permutation of a 4-D tensor like the JS copy', async () => {
    const shape = [2, 3, 4, 5];
    const source = randomFloats(120, random);
    const strides = stridesOf(shape);
    for (const perm of permutations(4)) {
      await expectSameCopy(perm.map((p) => ({ extent: shape[p], stride: strides[p] })), 0, 0, source, 120, `perm ${perm}`);
    }
  });

  it('slices with negative steps, gathers through a table, splits and concatenates with a destination base', async () => {
    const source = randomFloats(6 * 7 * 9, random);
    // Slice [5:0:-2, :, 8:1:-3] of a 6 x 7 x 9 tensor.
    await expectSameCopy([{ extent: 3, stride: -2 * 63 }, { extent: 7, stride: 9 }, { extent: 3, stride: -3 }], 5 * 63 + 8, 0, source, 63, 'slice');
    // Gather indices [4, 0, 4, 2] on axis 1.
    const table = Int32Array.from([4, 0, 4, 2], (i) => i * 9);
    await expectSameCopy([{ extent: 6, stride: 63 }, { extent: 4, stride: 0, table }, { extent: 9, stride: 1 }], 0, 0, source, 216, 'gather');
    // Split part 2 of a channel split [2, 3, 2] (batch 6, inner 9): from channel 5.
    await expectSameCopy([{ extent: 6, stride: 63, dstStride: 18 }, { extent: 18, stride: 1, dstStride: 1 }], 5 * 9, 0, source, 108, 'split');
    // Concat: this input's 6 rows of 27 into rows of 63, from column 36.
    await expectSameCopy([{ extent: 6, stride: 27, dstStride: 63 }, { extent: 27, stride: 1, dstStride: 1 }], 0, 36, source, 378, 'concat');
  });

  it('gives the same result when a large copy is split over 1, 2 and 16 threads', async () => {
    const before = getNumThreads();
    try {
      const shape = [4, 116, 28, 28]; // ShuffleNet's channel shuffle at batch 4: (N, 2, C/2, HW) -> (N, C/2, 2, HW)
      const source = randomFloats(shape.reduce((a, b) => a * b, 1), random);
      const hw = 28 * 28;
      const axes: CopyAxis[] = [{ extent: 4, stride: 116 * hw }, { extent: 58, stride: hw }, { extent: 2, stride: 58 * hw }, { extent: hw, stride: 1 }];
      for (const threads of [1, 2, 16]) {
        setNumThreads(threads);
        await expectSameCopy(axes, 0, 0, source, source.length, `shuffle, ${threads} threads`);
      }
    } finally {
      setNumThreads(before);
    }
  });

  it('refuses a plan that reaches outside the input or the output, naming the side', async () => {
    const source = new Float32Array(10);
    const out = new Float32Array(10);
    const cases: [CopyAxis[], number, number, RegExp][] = [
      [[{ extent: 11, stride: 1 }], 0, 0, /input/],
      [[{ extent: 5, stride: 1 }], 6, 0, /input/],
      [[{ extent: 3, stride: -1 }], 1, 0, /input/],
      [[{ extent: 2, stride: 0, table: Int32Array.of(0, 10) }], 0, 0, /input/],
      [[{ extent: 5, stride: 1, dstStride: 3 }], 0, 0, /output/],
      [[{ extent: 5, stride: 1 }], 0, 6, /output/],
    ];
    for (const [axes, base, dstBase, side] of cases) {
      const plan = { base, dstBase, axes: axes.map((a) => ({ extent: a.extent, stride: a.stride, dstStride: a.dstStride ?? 1 })), tables: axes.map((a) => a.table) };
      expect(() => native!.stridedCopySync!(source, plan, out)).toThrow(ShapeError);
      expect(() => native!.stridedCopySync!(source, plan, out)).toThrow(side);
      await expect(native!.stridedCopy!(source, plan, out)).rejects.toThrow(side);
    }
    expect(Array.from(out)).toEqual(new Array(10).fill(0));
  });
});
