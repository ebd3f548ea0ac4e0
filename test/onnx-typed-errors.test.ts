/**
 * Inputs that once escaped as raw TypeError / RangeError (issue 16, "errors without a type or
 * code"): each now gives one of convnode's typed errors with a code, naming what was wrong.
 */
import { describe, expect, it } from 'vitest';
import { ConvnodeError, ParameterError, ShapeError } from '../lib/errors.js';
import { loadOnnx, OnnxError } from '../lib/onnx/index.js';
import { ModelProto } from '../lib/onnx/schema.js';
import { Tensor } from '../lib/tensor.js';
import { availableBackends } from './helpers/backends.js';
import { encodeModel, floatTensor, node } from './onnx-model-builder.js';

const convModel = (attrs: Parameters<typeof node>[3]) =>
  encodeModel({
    opset: 13,
    nodes: [node('Conv', ['x', 'w'], ['y'], attrs, 'conv1')],
    initializers: [floatTensor('w', [2, 1, 3, 3], new Float32Array(18).fill(0.5))],
    inputs: [{ name: 'x', shape: [1, 1, 8, 8] }],
    outputs: [{ name: 'y' }],
  });

describe.each(availableBackends())('typed errors (%s)', (backend) => {
  it('a Conv stride of 2^31 is refused at load, naming the node (it used to fail inside the addon at run)', async () => {
    const error = await loadOnnx(convModel({ strides: { ints: [2 ** 31, 1] } }), { backend }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(OnnxError);
    expect((error as Error).message).toMatch(/conv1.*strides must be two positive integers below 2\^31.*got \[2147483648, 1\]/);
  });

  it('pads of 2^31 too', async () => {
    const error = await loadOnnx(convModel({ pads: { ints: [0, 0, 2 ** 31, 0] } }), { backend }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(OnnxError);
    expect((error as Error).message).toMatch(/conv1.*pads must be four non-negative integers below 2\^31/);
  });

  it('a feed whose ArrayBuffer was transferred is a ShapeError naming the input', async () => {
    const model = await loadOnnx(convModel({}), { backend });
    const data = new Float32Array(64);
    const x = new Tensor([1, 1, 8, 8], data);
    structuredClone(data.buffer, { transfer: [data.buffer] });
    const error = await model.run({ x }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ShapeError);
    expect((error as ShapeError).code).toBe('ERR_CONVNODE_SHAPE');
    expect((error as Error).message).toMatch(/feeds\['x'\] holds 0 elements but its shape \[1, 1, 8, 8\] needs 64 \(its ArrayBuffer is detached/);
  });
});

describe('typed errors outside a backend', () => {
  it('a STRING attribute with no value decodes as an empty string, not a TextDecoder TypeError', async () => {
    // The attribute declares type STRING (3) and carries no 's': protobufjs then decodes s as [].
    const message = ModelProto.decode(convModel({}));
    message.graph!.node![0].attribute = [{ name: 'auto_pad', type: 3 } as never];
    const bytes = ModelProto.encode(ModelProto.fromObject(ModelProto.toObject(message))).finish();
    expect(ModelProto.decode(bytes).graph!.node![0].attribute![0].s).toEqual([]);
    const error = await loadOnnx(bytes, { backend: 'js' }).then(() => null, (e: unknown) => e);
    // '' is not an auto_pad value: a typed error naming the node, or a load; never a TypeError.
    if (error !== null) {
      expect(error).toBeInstanceOf(ConvnodeError);
      expect((error as Error).message).toMatch(/conv1/);
    }
  });

  it('a BigInt64Array is refused by name', () => {
    expect(() => new Tensor([1, 1, 2, 2], new BigInt64Array(4) as never)).toThrow(ParameterError);
    expect(() => new Tensor([1, 1, 2, 2], new BigInt64Array(4) as never)).toThrow(/got BigInt64Array/);
  });
});
