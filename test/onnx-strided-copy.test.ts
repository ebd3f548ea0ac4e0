/**
 * Data-movement ops as strided copies planned in O(rank) memory (lib/onnx/ops/strided-copy.ts):
 * checked element by element against an independent per-element walk, and the load-time bombs
 * of issue 16 (huge pads or declared dims in a tiny file) refused at once with a typed error.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, loadOnnx, OnnxError } from '../lib/onnx/index.js';
import { ParameterError } from '../lib/errors.js';
import { Tensor } from '../lib/tensor.js';
import { copyStrided, planCopy, type CopyAxis } from '../lib/onnx/ops/strided-copy.js';
import { encodeModel, floatTensor, intTensor, node } from './onnx-model-builder.js';

/** The reference: visit every output index in row-major order and compute both offsets. */
function naiveCopy(source: ArrayLike<number>, axes: CopyAxis[], base: number, dstBase: number, out: Float32Array): void {
  const rank = axes.length;
  const total = axes.reduce((n, a) => n * a.extent, 1);
  const dense: number[] = [];
  let d = 1;
  for (let k = rank - 1; k >= 0; k--) {
    dense[k] = d;
    d *= axes[k].extent;
  }
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    let src = base;
    let dst = dstBase;
    for (let k = 0; k < rank; k++) {
      const i = Math.floor(rest / dense[k]);
      rest %= dense[k];
      src += axes[k].table ? axes[k].table![i] : i * axes[k].stride;
      dst += i * (axes[k].dstStride ?? dense[k]);
    }
    out[dst] = source[src];
  }
}

function stridesOf(shape: number[]): number[] {
  const s: number[] = [];
  let n = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = n;
    n *= shape[k];
  }
  return s;
}

describe('strided copy', () => {
  const source = Float32Array.from({ length: 4 * 6 * 13 * 11 }, (_, i) => i + 0.5);
  const shape = [4, 6, 13, 11];
  const st = stridesOf(shape);
  const cases: Array<{ name: string; axes: CopyAxis[]; base?: number; dstBase?: number; outLength?: number }> = [
    { name: 'identity (merges to one run, block copy)', axes: shape.map((e, k) => ({ extent: e, stride: st[k] })) },
    { name: 'channel shuffle transpose', axes: [{ extent: 4, stride: st[0] }, { extent: 3, stride: 2 * st[1] }, { extent: 2, stride: st[1] }, { extent: 13 * 11, stride: 1 }] },
    { name: 'NCHW -> NHWC', axes: [{ extent: 4, stride: st[0] }, { extent: 13, stride: st[2] }, { extent: 11, stride: st[3] }, { extent: 6, stride: st[1] }] },
    { name: 'slice with a negative step', axes: [{ extent: 4, stride: st[0] }, { extent: 6, stride: st[1] }, { extent: 5, stride: -2 * st[2] }, { extent: 11, stride: -1 }], base: 12 * st[2] + 10 },
    { name: 'gather of repeated channels', axes: [{ extent: 4, stride: st[0] }, { extent: 5, stride: 0, table: Int32Array.from([5, 0, 0, 3, 1], (c) => c * st[1]) }, { extent: 13 * 11, stride: 1 }] },
    { name: 'extent-1 axes fold away', axes: [{ extent: 1, stride: 999 }, { extent: 6, stride: st[1] }, { extent: 1, stride: 7, table: Int32Array.of(3 * st[2]) }, { extent: 11, stride: 1 }] },
    {
      name: 'into a padded box (dst strides)',
      axes: [{ extent: 4, stride: st[0], dstStride: 6 * 15 * 14 }, { extent: 6, stride: st[1], dstStride: 15 * 14 }, { extent: 13, stride: st[2], dstStride: 14 }, { extent: 11, stride: 1, dstStride: 1 }],
      dstBase: 14 + 2,
      outLength: 4 * 6 * 15 * 14,
    },
    { name: 'empty', axes: [{ extent: 0, stride: 1 }, { extent: 3, stride: 1 }] },
  ];
  it.each(cases)('$name', ({ axes, base = 0, dstBase = 0, outLength }) => {
    const total = axes.reduce((n, a) => n * a.extent, 1);
    const length = outLength ?? total;
    const want = new Float32Array(length).fill(-1);
    const got = new Float32Array(length).fill(-1);
    naiveCopy(source, axes, base, dstBase, want);
    copyStrided(source, planCopy(axes, base, dstBase), got);
    expect(Array.from(got)).toEqual(Array.from(want));
    // The same plan over plain number arrays (constant folding of int shape chains).
    const asNumbers = copyStrided(Array.from(source), planCopy(axes, base, dstBase), new Array<number>(length).fill(-1));
    expect(asNumbers).toEqual(Array.from(want));
  });

  it('plans in O(rank): a 2^40-element transpose plan is a handful of numbers', () => {
    const plan = planCopy([{ extent: 2 ** 20, stride: 1 }, { extent: 2 ** 20, stride: 2 ** 20 }]);
    expect(plan.total).toBe(2 ** 40);
    expect(plan.axes.length).toBe(2);
  });
});

describe('load-time bombs are refused before anything is allocated', () => {
  const padModel = (pads: number[]) =>
    encodeModel({
      opset: 13,
      nodes: [node('Pad', ['x', 'pads'], ['y'])],
      initializers: [intTensor('pads', [8], pads)],
      inputs: [{ name: 'x', shape: [1, 3, 8, 8] }],
      outputs: [{ name: 'y' }],
    });

  it('a Pad of 1e9 on each side: a typed error naming the node and the limit, at once', async () => {
    const error = await loadOnnx(padModel([0, 0, 1e9, 1e9, 0, 0, 1e9, 1e9]), { backend: 'js' }).then(
      (model) => model.run({ x: new Tensor([1, 3, 8, 8], new Float32Array(192)) }).then(() => null, (e: unknown) => e),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OnnxError);
    expect((error as OnnxError).code).toBe('ERR_CONVNODE_ONNX');
    expect((error as Error).message).toMatch(/Pad '.*': output of shape \[1, 3, 2000000008, 2000000008\] would hold .* over the limit of 1073741824 per tensor/);
    // The old planner never finished (> 120 s, 3.7 GB): such a load fails on vitest's 60 s test timeout.
  });

  it('a declared 1 x 3 x 65536 x 65536 input is refused, naming the input', async () => {
    const bytes = encodeModel({
      opset: 13,
      nodes: [node('Transpose', ['x'], ['y'], { perm: { ints: [0, 1, 3, 2] } })],
      inputs: [{ name: 'x', shape: [1, 3, 65536, 65536] }],
      outputs: [{ name: 'y' }],
    });
    const error = await loadOnnx(bytes, { backend: 'js' }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(OnnxError);
    expect((error as Error).message).toMatch(/graph input 'x'.*\[1, 3, 65536, 65536\].*over the limit/);
  });

  it('edge and reflect pads still copy exactly (numpy.pad semantics)', async () => {
    for (const [mode, want] of [
      ['edge', [1, 1, 2, 3, 3, 3]],
      ['reflect', [2, 1, 2, 3, 2, 1]],
      ['constant', [0, 1, 2, 3, 0, 0]],
    ] as const) {
      const bytes = encodeModel({
        opset: 13,
        nodes: [node('Pad', ['x', 'pads'], ['y'], { mode: { s: mode } })],
        initializers: [intTensor('pads', [4], [0, 1, 0, 2])],
        inputs: [{ name: 'x', shape: [1, 3] }],
        outputs: [{ name: 'y' }],
      });
      const model = await loadOnnx(bytes, { backend: 'js' });
      const out = await model.run({ x: new Tensor([1, 3], Float32Array.of(1, 2, 3)) });
      expect(Array.from(Object.values(out)[0].data), mode).toEqual(want);
    }
  });
});

describe('loadOnnx(path, { limits })', () => {
  const reluModel = (shape: number[]) =>
    encodeModel({ opset: 13, nodes: [node('Relu', ['x'], ['y'])], inputs: [{ name: 'x', shape }], outputs: [{ name: 'y' }] });

  it('defaults no real CNN hits', () => {
    expect(DEFAULT_LIMITS).toEqual({ maxTensorElements: 2 ** 30, maxActivationBytes: 8 * 2 ** 30, maxInitializerBytes: 4 * 2 ** 30 });
  });

  it('maxTensorElements: a batch planned over the limit is refused at run, naming the value', async () => {
    const model = await loadOnnx(reluModel(['N', 3, 8, 8]), { backend: 'js', limits: { maxTensorElements: 1000 } });
    await expect(model.run({ x: new Tensor([5, 3, 8, 8], new Float32Array(960)) })).resolves.toBeDefined(); // 960 <= 1000
    const big = new Tensor([6, 3, 8, 8], new Float32Array(1152));
    await expect(model.run({ x: big })).rejects.toThrow(/graph input 'x': the input of shape \[6, 3, 8, 8\] would hold 1152 elements, over the limit of 1000 per tensor/);
  });

  it('maxActivationBytes: the arena of a planned run', async () => {
    const bytes = encodeModel({
      opset: 13,
      nodes: [node('Relu', ['x'], ['a']), node('Relu', ['a'], ['b']), node('Relu', ['b'], ['y'])],
      inputs: [{ name: 'x', shape: ['N', 4, 8, 8] }],
      outputs: [{ name: 'y' }],
    });
    const model = await loadOnnx(bytes, { backend: 'js', limits: { maxActivationBytes: 4096 } });
    await expect(model.run({ x: new Tensor([1, 4, 8, 8], new Float32Array(256)) })).resolves.toBeDefined();
    await expect(model.run({ x: new Tensor([4, 4, 8, 8], new Float32Array(1024)) })).rejects.toThrow(
      /a run on inputs \[4, 4, 8, 8\] needs \d+ bytes of activations, over the limit of 4096/,
    );
  });

  it('maxInitializerBytes: refused at load', async () => {
    const bytes = encodeModel({
      opset: 13,
      nodes: [node('Add', ['x', 'w'], ['y'])],
      initializers: [floatTensor('w', [64], new Float32Array(64))],
      inputs: [{ name: 'x', shape: [1, 64] }],
      outputs: [{ name: 'y' }],
    });
    await expect(loadOnnx(bytes, { backend: 'js', limits: { maxInitializerBytes: 100 } })).rejects.toThrow(
      /initializers hold 256 bytes, over the limit of 100 \(options.limits.maxInitializerBytes\)/,
    );
    await expect(loadOnnx(bytes, { backend: 'js', limits: { maxInitializerBytes: 256 } })).resolves.toBeDefined();
  });

  it('bad limits are parameter errors naming the key', async () => {
    await expect(loadOnnx(reluModel([1, 3]), { limits: { maxTensorElement: 5 } as never })).rejects.toThrow(ParameterError);
    await expect(loadOnnx(reluModel([1, 3]), { limits: { maxTensorElement: 5 } as never })).rejects.toThrow(/options.limits.maxTensorElement is not a limit/);
    await expect(loadOnnx(reluModel([1, 3]), { limits: { maxActivationBytes: -1 } })).rejects.toThrow(/options.limits.maxActivationBytes must be a positive safe integer, got -1/);
  });
});
