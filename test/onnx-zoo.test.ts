/**
 * Miniatures of the model-zoo architectures (bench/zoo.mjs), exported by PyTorch with
 * scripts/onnx-fixtures/export_zoo_fixtures.py, against onnxruntime-node on the same input, at
 * batch 1 and 3, on every backend that loads:
 *   max |convnode - onnxruntime| <= 1e-4 x max |onnxruntime output|.
 * The scale is the whole output's, as the zoo bench reports it: logits of random nets differ in
 * size from model to model, and a per-element relative rule would be loose on large outputs and
 * meaningless near zero.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { availableBackends } from './helpers/backends.js';
import { decodeModel } from '../lib/onnx/decode.js';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { randomInput } from './helpers/numeric.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/zoo/', import.meta.url));
const TOLERANCE = 1e-4;

/**
 * Fixture -> what of the full architecture it carries (the test titles say it), and the graph
 * patterns that prove it (see graphPatterns), so a re-export that lost one fails here.
 */
const ZOO_FIXTURES: Record<string, { carries: string; patterns: string[] }> = {
  efficientnet_b0_mini: { carries: 'MBConv, SE, SiLU as x * Sigmoid(x), 5x5 depthwise', patterns: ['x*Sigmoid(x)', 'depthwise 5x5', 'depthwise 3x3/2', 'GlobalAveragePool'] },
  efficientnet_v2_s_mini: { carries: 'Fused-MBConv and MBConv with SE', patterns: ['x*Sigmoid(x)', 'conv 3x3/2', 'depthwise 3x3/2', 'GlobalAveragePool'] },
  mobilenet_v3_small_mini: { carries: 'HardSwish, SE with HardSigmoid', patterns: ['x*HardSigmoid(x)', 'HardSigmoid', 'depthwise 5x5'] },
  mobilenet_v3_large_mini: { carries: 'HardSwish, SE with HardSigmoid, 5x5 depthwise', patterns: ['x*HardSigmoid(x)', 'depthwise 5x5/2', 'depthwise 3x3'] },
  mnasnet_mini: { carries: '3x3 and 5x5 inverted residuals, ReduceMean head', patterns: ['depthwise 5x5/2', 'depthwise 3x3/2', 'ReduceMean'] },
  densenet_mini: { carries: 'BN-ReLU pre-activation, dense concat, transitions', patterns: ['BatchNormalization', 'Concat', 'AveragePool', 'conv 7x7/2'] },
  googlenet_mini: { carries: 'Inception branches, ceil-mode pools', patterns: ['Concat', 'MaxPool ceil_mode'] },
  inception_v3_mini: { carries: 'Inception A-E, factorised 1x7 / 7x1 convs, Pad + AveragePool', patterns: ['Concat', 'Pad->AveragePool', 'conv 1x7', 'conv 7x1', 'conv 1x3', 'conv 5x5'] },
  regnet_x_mini: { carries: 'grouped 3x3 bottlenecks', patterns: ['grouped 3x3', 'grouped 3x3/2'] },
  regnet_y_mini: { carries: 'grouped 3x3 bottlenecks, SE with ReLU / Sigmoid', patterns: ['grouped 3x3', 'Sigmoid', 'GlobalAveragePool'] },
  resnext_mini: { carries: 'grouped bottlenecks (groups of 4-16 channels)', patterns: ['grouped 3x3', 'grouped 3x3/2', 'conv 7x7/2'] },
  resnet50_mini: { carries: 'bottlenecks with projection shortcuts', patterns: ['conv 1x1/2', 'conv 3x3/2', 'Add'] },
  alexnet_mini: { carries: '11x11/4 stem, adaptive 6x6 pool, three Linear', patterns: ['conv 11x11/4', 'conv 5x5', 'Gemm'] },
  shufflenet_v2_mini: { carries: 'channel split and shuffle', patterns: ['Transpose', 'Concat', 'depthwise 3x3/2'] },
};

/**
 * What a graph is built of: its op types, each conv's form ('conv 3x3/2', 'depthwise 5x5',
 * 'grouped 3x3'), x * Sigmoid(x) and x * HardSigmoid(x) (SiLU and HardSwish as exported at
 * opset 13), a Pad feeding an AveragePool, and ceil-mode max pools.
 */
function graphPatterns(path: string): Set<string> {
  const graph = decodeModel(readFileSync(path), path);
  const patterns = new Set<string>();
  const producer = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  for (const node of graph.nodes) {
    patterns.add(node.opType);
    const attr = (name: string) => node.attributes.get(name)?.value;
    if (node.opType === 'Conv') {
      const [cout, cinPerGroup, kh, kw] = graph.initializers.get(node.inputs[1])?.dims ?? [];
      const group = (attr('group') as number | undefined) ?? 1;
      const stride = Math.max(...((attr('strides') as number[] | undefined) ?? [1]));
      const window = `${kh}x${kw}${stride > 1 ? `/${stride}` : ''}`;
      const form = group === 1 ? 'conv' : cinPerGroup === 1 && group === cout ? 'depthwise' : 'grouped';
      patterns.add(`${form} ${window}`);
    }
    if (node.opType === 'Mul') {
      for (const [i, gate] of [node.inputs[0], node.inputs[1]].entries()) {
        const from = producer.get(gate);
        if (from && (from.opType === 'Sigmoid' || from.opType === 'HardSigmoid') && from.inputs[0] === node.inputs[1 - i]) {
          patterns.add(`x*${from.opType}(x)`);
        }
      }
    }
    if (node.opType === 'AveragePool' && producer.get(node.inputs[0])?.opType === 'Pad') patterns.add('Pad->AveragePool');
    if (node.opType === 'MaxPool' && attr('ceil_mode') === 1) patterns.add('MaxPool ceil_mode');
  }
  return patterns;
}


/** max |actual - expected| and max |expected| over the whole output. */
function differenceAndRange(actual: Float32Array, expected: Float32Array): { worst: number; range: number } {
  let worst = 0;
  let range = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    range = Math.max(range, Math.abs(expected[i]));
  }
  return { worst, range };
}

describe('zoo miniatures carry their architecture\'s patterns', () => {
  it.each(Object.entries(ZOO_FIXTURES))('%s', (name, { patterns }) => {
    const found = graphPatterns(`${FIXTURES}${name}.onnx`);
    expect(patterns.filter((p) => !found.has(p)), `${name} has ${[...found].sort().join(', ')}`).toEqual([]);
  });
});

describe.each(availableBackends())('zoo miniatures vs onnxruntime-node (%s backend)', (backend) => {
  describe.each(Object.entries(ZOO_FIXTURES).map(([name, f]) => [name, f.carries]))('%s (%s)', (name) => {
    it.each([1, 3])('matches at batch %i', async (batch) => {
      const path = `${FIXTURES}${name}.onnx`;
      const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
      const declared = session.inputMetadata[0];
      const imageShape = declared.isTensor ? declared.shape.slice(1) : [];
      expect(imageShape.every((d) => typeof d === 'number' && d > 0), `${name}: fixed C x H x W`).toBe(true);
      const shape = [batch, ...(imageShape as number[])];
      const data = randomInput(shape, 29 + batch);
      const reference = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data.slice(), shape) });
      const expected = reference[session.outputNames[0]];
      const expectedData = expected.data as Float32Array;

      const model = await loadOnnx(path, { backend });
      const output = (await model.run({ [model.inputNames[0]]: new Tensor(shape, data) }))[model.outputNames[0]];

      expect(output.shape).toEqual(expected.dims);
      const { worst, range } = differenceAndRange(output.data, expectedData);
      // A constant or vanishing output would make the tolerance prove nothing.
      expect(new Set(expectedData).size).toBeGreaterThan(batch);
      expect(range).toBeGreaterThan(1e-2);
      expect(worst / range, `${name} batch ${batch}: max |diff| ${worst} vs max |output| ${range}`).toBeLessThanOrEqual(TOLERANCE);
    });
  });
});
