/**
 * Bad model files and bad feeds: each gives its own typed error whose message names what is
 * wrong, never a crash, a hang or a silently wrong answer.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConvnodeError, ParameterError, ShapeError } from '../lib/errors.js';
import { loadOnnx, loadOnnxSync, OnnxError } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { encodeModel, floatTensor, intTensor, node, type ModelSpec } from './onnx-model-builder.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/onnx/${name}.onnx`, import.meta.url));

function loadError(source: string | Uint8Array): ConvnodeError {
  try {
    loadOnnxSync(source, { backend: 'js' });
  } catch (error) {
    expect(error).toBeInstanceOf(ConvnodeError);
    return error as ConvnodeError;
  }
  throw new Error('expected loading to fail');
}

function expectOnnxError(source: string | Uint8Array, message: RegExp): void {
  const error = loadError(source);
  expect(error).toBeInstanceOf(OnnxError);
  expect(error.code).toBe('ERR_CONVNODE_ONNX');
  expect(error.message).toMatch(message);
}

const tinyConv = (overrides: Partial<ModelSpec> = {}): ModelSpec => ({
  opset: 13,
  initializers: [floatTensor('w', [2, 1, 3, 3], new Array(18).fill(0.1))],
  nodes: [node('Conv', ['x', 'w'], ['y'])],
  inputs: [{ name: 'x', shape: ['n', 1, 'h', 'w'] }],
  outputs: [{ name: 'y' }],
  ...overrides,
});

describe('malformed files', () => {
  const lenet = readFileSync(fixture('lenet5'));

  it.each([0.1, 0.5, 0.9, 0.999])('a file truncated to %f of its length', (fraction) => {
    expectOnnxError(lenet.subarray(0, Math.floor(lenet.length * fraction)), /truncated or corrupt|not a valid ONNX model/);
  });

  it.each([1, 2, 3, 4, 5])('random bytes (seed %i)', (seed) => {
    let state = seed;
    const bytes = Uint8Array.from({ length: 4096 }, () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state >>> 24;
    });
    expectOnnxError(bytes, /not a valid ONNX model|truncated or corrupt|unsupported|opset/);
  });

  it('an empty file', () => {
    expectOnnxError(new Uint8Array(0), /empty/);
  });

  it('a path that does not exist', async () => {
    await expect(loadOnnx('/nonexistent/model.onnx')).rejects.toThrow(/cannot read ONNX model '\/nonexistent\/model.onnx'/);
  });

  it('something that is neither a path nor bytes', () => {
    expect(() => loadOnnxSync(42 as unknown as string)).toThrow(ParameterError);
  });
});

describe('models convnode cannot run', () => {
  it('an unsupported operator names the op, the node and the opset, and lists what is supported', () => {
    const error = loadError(fixture('unsupported_op'));
    expect(error).toBeInstanceOf(OnnxError);
    expect(error.message).toMatch(/unsupported operator Det \(node 'determinant'\) at opset 13/);
    expect(error.message).toMatch(/supports: .*Conv.*Gemm/);
  });

  it('an operator from another domain, even with a known name', () => {
    const spec = tinyConv();
    spec.nodes = [{ ...node('Conv', ['x', 'w'], ['y']), name: 'ms', domain: 'com.microsoft' }];
    expectOnnxError(encodeModel(spec), /unsupported operator com\.microsoft\.Conv \(node 'ms'\)/);
  });

  it('a missing initializer', () => {
    expectOnnxError(encodeModel(tinyConv({ initializers: [] })), /Conv '.*' reads 'w', which is not a graph input, an initializer .*missing initializer/);
  });

  it('weights stored as external data', () => {
    const external = { name: 'w', dims: [2, 1, 3, 3], dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: 'weights.bin' }] };
    expectOnnxError(encodeModel(tinyConv({ initializers: [external] })), /stored outside the model file \(in 'weights.bin'\); external data is unsupported/);
  });

  it('an initializer whose data does not fill its dims', () => {
    expectOnnxError(encodeModel(tinyConv({ initializers: [floatTensor('w', [2, 1, 3, 3], [1, 2, 3])] })), /initializer 'w': holds 3 values but its dims \[2, 1, 3, 3\] need 18/);
  });

  it('an input that is not float32', () => {
    expectOnnxError(encodeModel(tinyConv({ inputs: [{ name: 'x', shape: ['n', 1, 5, 5], elemType: 7 }] })), /input 'x' has element type INT64; convnode feeds float32 tensors only/);
  });

  it('an opset older than 7', () => {
    expectOnnxError(encodeModel(tinyConv({ opset: 6 })), /opset 6; convnode supports opsets 7 to 21/);
  });

  it('a 1-D convolution', () => {
    const spec = tinyConv({ initializers: [floatTensor('w', [2, 1, 3], [1, 2, 3, 4, 5, 6])], inputs: [{ name: 'x', shape: ['n', 1, 8] }] });
    expectOnnxError(encodeModel(spec), /only 2-D convolutions are supported/);
  });

  it('training-mode BatchNormalization', () => {
    const stats = ['s', 'b', 'm', 'v'].map((n) => floatTensor(n, [1], [1]));
    const spec: ModelSpec = {
      opset: 15,
      initializers: stats,
      nodes: [node('BatchNormalization', ['x', 's', 'b', 'm', 'v'], ['y'], { training_mode: { i: 1 } })],
      inputs: [{ name: 'x', shape: ['n', 1, 4, 4] }],
      outputs: [{ name: 'y' }],
    };
    expectOnnxError(encodeModel(spec), /training-mode BatchNormalization .* not supported/);
  });

  it('a Reshape whose target shape is computed from tensor data', () => {
    const spec: ModelSpec = {
      opset: 13,
      nodes: [node('Cast', ['x'], ['shape'], { to: { i: 7 } }), node('Reshape', ['x', 'shape'], ['y'])],
      inputs: [{ name: 'x', shape: [2] }],
      outputs: [{ name: 'y' }],
    };
    expect(() => loadOnnxSync(encodeModel(spec))).toThrow(/casting a runtime tensor to data type 7 is not supported/);
  });

  it('a Gather index out of range', () => {
    const spec: ModelSpec = {
      opset: 13,
      initializers: [intTensor('i', [], [7])],
      nodes: [node('Shape', ['x'], ['s']), node('Gather', ['s', 'i'], ['g']), node('Unsqueeze', ['g', 'zero'], ['u']), node('Reshape', ['x', 'u'], ['y'])],
      inputs: [{ name: 'x', shape: [2, 3] }],
      outputs: [{ name: 'y' }],
    };
    spec.initializers!.push(intTensor('zero', [1], [0]));
    const error = loadError(encodeModel(spec));
    expect(error).toBeInstanceOf(ShapeError);
    expect(error.message).toMatch(/Gather '.*': index 7 is out of range for axis 0 of size 2/);
  });
});

describe('bad feeds at run time', () => {
  const model = loadOnnxSync(fixture('lenet5'), { backend: 'js' });
  const good = new Tensor([1, 3, 32, 32]);

  it('a wrong input name', async () => {
    await expect(model.run({ image: good })).rejects.toThrow(ParameterError);
    await expect(model.run({ image: good })).rejects.toThrow(/feeds has an input named 'image', but the model's inputs are: input/);
  });

  it('a missing input', () => {
    expect(() => model.runSync({})).toThrow(/feeds is missing input 'input'/);
  });

  it('a feed that is not a Tensor', () => {
    expect(() => model.runSync({ input: new Float32Array(3072) as unknown as Tensor })).toThrow(/feeds\['input'\] must be a Tensor/);
  });

  it('a wrong channel count', () => {
    const error = (() => {
      try {
        model.runSync({ input: new Tensor([1, 1, 32, 32]) });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a ShapeError');
    })();
    expect(error).toBeInstanceOf(ShapeError);
    expect(error.message).toBe("input 'input': dimension 1 must be 3 (expected batch x 3 x 32 x 32), got [1, 1, 32, 32]");
  });

  it('a wrong rank', () => {
    expect(() => model.runSync({ input: new Tensor([3, 32, 32]) })).toThrow(/expected rank 4 \(batch x 3 x 32 x 32\), got \[3, 32, 32\] \(rank 3\)/);
  });

  it('an input too small for a conv with symbolic height and width', () => {
    const conv = loadOnnxSync(encodeModel(tinyConv()), { backend: 'js' });
    expect(conv.runSync({ x: new Tensor([1, 1, 5, 4]) }).y.shape).toEqual([1, 2, 3, 2]);
    expect(() => conv.runSync({ x: new Tensor([1, 1, 2, 8]) })).toThrow(ShapeError);
    expect(() => conv.runSync({ x: new Tensor([1, 1, 2, 8]) })).toThrow(/Conv '.*': kernelSize 3 spans 3 pixels but the padded input is 2 high/);
  });
});
