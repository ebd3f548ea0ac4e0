// Model mode: an ONNX node's output fetched with run's `outputs` option (the model is not
// edited), checked against onnxruntime-node running a copy with that value declared a graph
// output, layers numbered as a user counts them (feature maps only; Identity and Constant nodes
// skipped), and drawn as a per-channel grid.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ParameterError, ShapeError, Tensor } from '../lib/index.js';
import { decodeModel } from '../lib/onnx/decode.js';
import { loadOnnx } from '../lib/onnx/index.js';
import { ModelProto } from '../lib/onnx/schema.js';
import { composeModelLayer, listFeatureMapLayers, listGraphNodes, modelLayerMaps, selectNode } from '../lib/visualize/index.js';
import { encodeModel, floatTensor, node } from './onnx-model-builder.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/onnx/${name}`, import.meta.url));
const BUILTIN = fileURLToPath(new URL('../models/lenet5-fashion.onnx', import.meta.url));

/** A deterministic input with structure (no Math.random, so failures reproduce). */
function patternInput(shape: number[]): Tensor {
  const t = new Tensor(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = Math.sin(i * 0.37) + ((i * 7919) % 13) / 13 - 0.5;
  return t;
}

/** The model with `value` also declared a (float) graph output, for onnxruntime to return it. */
function withOutput(bytes: Uint8Array, value: string): Uint8Array {
  const model = ModelProto.decode(bytes);
  model.graph!.output!.push({ name: value, type: { tensorType: { elemType: 1 } } });
  return ModelProto.encode(model).finish();
}

async function ortIntermediate(bytes: Uint8Array, value: string, input: Tensor): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const session = await ort.InferenceSession.create(withOutput(bytes, value));
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input.data.slice(), [...input.shape]) });
    return { dims: out[value].dims, data: out[value].data as Float32Array };
  } finally {
    await session.release();
  }
}

describe('modelLayerMaps agrees with onnxruntime on the same intermediate value', () => {
  const cases: [string, string | number, number[]][] = [
    ['the built-in LeNet-5, first ReLU by layer number', 1, [1, 1, 28, 28]],
    ['the built-in LeNet-5, second conv by name', '/conv2/Conv', [2, 1, 28, 28]],
    // Conv -> Relu would be fused on a normal load: the visualiser must still see the raw conv.
    ['resnet_small, a conv inside a residual block', '/blocks/blocks.0/conv1/Conv', [1, 3, 32, 32]],
    ['resnet_small, the residual Add by output name', '/blocks/blocks.0/Add_output_0', [1, 3, 32, 32]],
    ['mobilenet_v2_small, ReLU6 (Clip) after the stem', '/features/features.0/features.0.2/Clip', [1, 3, 64, 64]],
  ];
  it.each(cases)('%s', async (_what, layer, shape) => {
    const path = _what.startsWith('the built-in') ? BUILTIN : fixture(_what.startsWith('resnet') ? 'resnet_small.onnx' : 'mobilenet_v2_small.onnx');
    const bytes = readFileSync(path);
    const input = patternInput(shape);
    const result = await modelLayerMaps(path, input, layer);
    const reference = await ortIntermediate(bytes, result.node.output, input);
    expect(result.maps.shape).toEqual(reference.dims);
    let worst = 0;
    for (let i = 0; i < reference.data.length; i++) worst = Math.max(worst, Math.abs(reference.data[i] - result.maps.data[i]));
    expect(worst).toBeLessThan(1e-4);
    expect(result.row?.name).toBe(result.node.name);
    expect(result.row?.outputShape).toEqual(result.maps.shape);
  });

  it("reports LeNet-5's receptive fields: 5 after conv1, 6 (jump 2) after pool1, 14 (jump 2) after conv2", async () => {
    const input = patternInput([1, 1, 28, 28]);
    const field = async (layer: string) => {
      const { row } = await modelLayerMaps(BUILTIN, input, layer);
      return [row?.receptiveField, row?.jump];
    };
    // RF' = RF + (K - 1) * jump: 1 + 4 = 5; 5 + 1 * 1 = 6 and jump 2; 6 + 4 * 2 = 14.
    expect(await field('/conv1/Conv')).toEqual([[5, 5], [1, 1]]);
    expect(await field('/MaxPool')).toEqual([[6, 6], [2, 2]]);
    expect(await field('/Relu_1')).toEqual([[14, 14], [2, 2]]);
  });
});

describe('layer selection', () => {
  const nodes = listGraphNodes(readFileSync(BUILTIN));
  it('finds nodes by index, name or output name', () => {
    expect(nodes).toHaveLength(12);
    expect(selectNode(nodes, 0)).toMatchObject({ name: '/conv1/Conv', opType: 'Conv', index: 0 });
    expect(selectNode(nodes, '/MaxPool_1').index).toBe(5);
    expect(selectNode(nodes, 'logits').name).toBe('/fc3/Gemm');
  });

  it('names the valid choices when the layer does not exist', async () => {
    expect(() => selectNode(nodes, 12)).toThrow(/layer index must be an integer from 0 to 11 \(the model has 12 nodes\), got 12/);
    expect(() => selectNode(nodes, 'conv9')).toThrow(/layer 'conv9' is not a node or output name of this model; its nodes are 0: \/conv1\/Conv \(Conv\)/);
    await expect(modelLayerMaps(BUILTIN, patternInput([1, 1, 28, 28]), '/fc1/Gemm')).rejects.toThrow(ShapeError);
    await expect(modelLayerMaps(BUILTIN, patternInput([1, 1, 28, 28]), '/fc1/Gemm')).rejects.toThrow(/outputs 1x120, not N x C x H x W/);
    await expect(modelLayerMaps('/nonexistent/model.onnx', patternInput([1, 1, 28, 28]), 0)).rejects.toThrow(ParameterError);
  });
});

describe('composeModelLayer', () => {
  it('draws each channel on its own range: its largest value white, its smallest black', async () => {
    const result = await modelLayerMaps(BUILTIN, patternInput([1, 1, 28, 28]), '/conv1/Conv');
    const zoom = 3;
    const layout = await composeModelLayer(result, { zoom, modelName: 'lenet5' });
    expect(layout.placements).toHaveLength(6);
    const { data, info } = await sharp(layout.png).raw().toBuffer({ resolveWithObject: true });
    const rgb = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
    const [, , h, w] = result.maps.shape;
    layout.placements.forEach((p, c) => {
      const plane = result.maps.data.subarray(c * h * w, (c + 1) * h * w);
      const argmax = plane.indexOf(Math.max(...plane));
      const argmin = plane.indexOf(Math.min(...plane));
      const centre = (i: number): [number, number] => [p.x + (i % w) * zoom + 1, p.y + Math.floor(i / w) * zoom + 1];
      expect(rgb(...centre(argmax))).toEqual([255, 255, 255]);
      expect(rgb(...centre(argmin))).toEqual([0, 0, 0]);
    });
  });
});

/**
 * What exporters write around the layers: an Identity for a shared initializer (torchvision's
 * ResNet-18 export reads a conv bias through one), a Constant node, a Conv + Relu pair that a
 * normal load fuses. x -> Conv(w, Identity(b)) -> Relu -> Mul(Constant) -> Identity -> Conv2.
 */
function exporterStyleModel(): Uint8Array {
  return encodeModel({
    opset: 13,
    nodes: [
      node('Identity', ['b1'], ['b1_shared'], {}, 'shared_bias'),
      node('Conv', ['x', 'w1', 'b1_shared'], ['c1'], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } }, 'conv1'),
      node('Relu', ['c1'], ['r1'], {}, 'relu1'),
      node('Constant', [], ['half'], { value: { t: floatTensor('half', [], [0.5]) } }, 'half_constant'),
      node('Mul', ['r1', 'half'], ['m1'], {}, 'scale'),
      node('Identity', ['m1'], ['m1_copy'], {}, 'copy'),
      node('Conv', ['m1_copy', 'w2'], ['y'], { kernel_shape: { ints: [1, 1] } }, 'conv2'),
    ],
    initializers: [
      floatTensor('w1', [4, 2, 3, 3], Array.from({ length: 72 }, (_, i) => Math.sin(i))),
      floatTensor('b1', [4], [0.1, -0.2, 0.3, -0.4]),
      floatTensor('w2', [3, 4, 1, 1], Array.from({ length: 12 }, (_, i) => Math.cos(i))),
    ],
    inputs: [{ name: 'x', shape: [1, 2, 6, 6] }],
    outputs: [{ name: 'y' }, { name: 'b1_shared' }],
  });
}

describe('layers as a user counts them, on an export with Identity and Constant nodes', () => {
  const bytes = exporterStyleModel();
  const input = patternInput([1, 2, 6, 6]);

  it('numbers only the nodes whose output is a feature map, skipping Identity and Constant', async () => {
    const layers = await listFeatureMapLayers(bytes, [1, 2, 6, 6]);
    expect(layers.map((l) => [l.number, l.node.name, l.shape])).toEqual([
      [0, 'conv1', [1, 4, 6, 6]],
      [1, 'relu1', [1, 4, 6, 6]],
      [2, 'scale', [1, 4, 6, 6]],
      [3, 'conv2', [1, 3, 6, 6]],
    ]);
    await expect(modelLayerMaps(bytes, input, 4)).rejects.toThrow(/from 0 to 3 \(the model has 4 layers whose output is a feature map; --layer list prints them\), got 4/);
  });

  it('layer N fetches that layer, before and after the Conv + Relu pair a normal load fuses, as onnxruntime computes it', async () => {
    for (const [number, name] of [[0, 'conv1'], [1, 'relu1'], [3, 'conv2']] as const) {
      const result = await modelLayerMaps(bytes, input, number);
      expect(result.node.name).toBe(name);
      expect(result.layerNumber).toBe(number);
      const reference = await ortIntermediate(bytes, result.node.output, input);
      expect(result.maps.shape).toEqual(reference.dims);
      for (let i = 0; i < reference.data.length; i++) expect(Math.abs(result.maps.data[i] - reference.data[i])).toBeLessThan(1e-5);
    }
  });

  it('a fused load keeps the values a caller asks for, and returns a constant that is a graph output', async () => {
    // Without `keep`, fusion absorbs the conv's own value; with it, the pair stays apart.
    expect((await loadOnnx(bytes)).summaryRows([1, 2, 6, 6]).map((r) => r.type)).toContain('Conv+Relu');
    const fused = await loadOnnx(bytes, { keep: ['c1'] });
    const feeds = { x: input };
    const out = await fused.run(feeds, { outputs: ['c1', 'r1', 'b1_shared'] });
    const reference = await ortIntermediate(withOutput(bytes, 'c1'), 'r1', input);
    const convReference = await ortIntermediate(bytes, 'c1', input);
    for (let i = 0; i < convReference.data.length; i++) expect(Math.abs(out.c1.data[i] - convReference.data[i])).toBeLessThan(1e-5);
    for (let i = 0; i < reference.data.length; i++) expect(Math.abs(out.r1.data[i] - reference.data[i])).toBeLessThan(1e-5);
    expect(Array.from(out.b1_shared.data)).toEqual(Array.from(new Float32Array([0.1, -0.2, 0.3, -0.4])));
    expect((await fused.run(feeds)).b1_shared.shape).toEqual([4]);
  });
});
