// Model mode: an ONNX node's output made observable, checked against onnxruntime-node running
// the same edited model, and drawn as a per-channel grid.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ParameterError, ShapeError, Tensor } from '../lib/index.js';
import { decodeModel } from '../lib/onnx/decode.js';
import { composeModelLayer, listGraphNodes, modelLayerMaps, selectNode, withExtraOutputs } from '../lib/visualize/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/onnx/${name}`, import.meta.url));
const BUILTIN = fileURLToPath(new URL('../models/lenet5-fashion.onnx', import.meta.url));

/** A deterministic input with structure (no Math.random, so failures reproduce). */
function patternInput(shape: number[]): Tensor {
  const t = new Tensor(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = Math.sin(i * 0.37) + ((i * 7919) % 13) / 13 - 0.5;
  return t;
}

async function ortIntermediate(bytes: Uint8Array, value: string, input: Tensor): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const session = await ort.InferenceSession.create(withExtraOutputs(bytes, [value]));
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input.data.slice(), [...input.shape]) });
    return { dims: out[value].dims, data: out[value].data as Float32Array };
  } finally {
    await session.release();
  }
}

describe('withExtraOutputs', () => {
  it('adds graph outputs and keeps every node, initializer and existing output', () => {
    const bytes = readFileSync(fixture('resnet_small.onnx'));
    const before = decodeModel(bytes, 'before');
    const edited = withExtraOutputs(bytes, ['/blocks/blocks.0/conv1/Conv_output_0', '/pool/MaxPool_output_0']);
    const after = decodeModel(edited, 'after');
    expect(after.outputs.map((o) => o.name)).toEqual([
      ...before.outputs.map((o) => o.name),
      '/blocks/blocks.0/conv1/Conv_output_0',
      '/pool/MaxPool_output_0',
    ]);
    expect(after.outputs.at(-1)?.elemType).toBe(1); // declared float
    expect(after.nodes.map((n) => n.name)).toEqual(before.nodes.map((n) => n.name));
    expect([...after.initializers.keys()]).toEqual([...before.initializers.keys()]);
    // Only the graph field grew: the bytes before it are untouched.
    expect(edited.length).toBeGreaterThan(bytes.length);
    expect(withExtraOutputs(bytes, [])).toBe(bytes);
  });

  it('rejects bytes that are not a protobuf model', () => {
    expect(() => withExtraOutputs(new Uint8Array([0x08, 0x96]), ['x'])).toThrow(/malformed varint/);
    expect(() => withExtraOutputs(new Uint8Array([0x08, 0x01]), ['x'])).toThrow(/no graph found/);
    expect(() => withExtraOutputs(new Uint8Array([0x3a, 0x10, 0x01]), ['x'])).toThrow(/runs past the end/);
  });
});

describe('modelLayerMaps agrees with onnxruntime on the same intermediate value', () => {
  const cases: [string, string | number, number[]][] = [
    ['the built-in LeNet-5, first ReLU by index', 1, [1, 1, 28, 28]],
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
