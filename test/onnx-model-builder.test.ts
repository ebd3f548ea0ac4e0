// The shared ONNX model builder (scripts/onnx-model-builder.mjs) writes protobuf by hand: its bytes
// checked against encodings worked out by hand from the protobuf wire format, and every field it
// writes read back by an independent decoder (protobufjs with convnode's schema) and by onnxruntime.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ModelProto } from '../lib/onnx/schema.js';
import { encodeModel, floatTensor, intTensor, node, rawFloatTensor } from './onnx-model-builder.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('onnx-model-builder', () => {
  it('writes the bytes the wire format gives by hand', () => {
    // An empty graph: ir_version 7 (08 07), producer 'p' (12 01 70), graph { name 't' } (3a 03 12 01 74),
    // opset_import { domain '' (0a 00), version 13 (10 0d) } (42 04 ...).
    const bytes = encodeModel({ nodes: [], inputs: [], outputs: [], producer: 'p', name: 't' });
    expect(hex(bytes)).toBe('0807' + '120170' + '3a03120174' + '42040a00100d');
  });

  it('writes int64 -1 as ten bytes, 300 as two (ac 02), floats as little-endian fixed32', () => {
    const bytes = encodeModel({
      nodes: [node('Pad', ['x'], ['y'], { a: { i: -1 }, b: { ints: [300] }, c: { f: 1 } }, 'n')],
      inputs: [], outputs: [], producer: 'p', name: 't',
    });
    const text = hex(bytes);
    // attribute (2a, 17 bytes): name 'a' (0a 01 61), type INT (a0 01 02), i = -1 (18, nine ff, 01)
    expect(text).toContain('2a11' + '0a0161' + 'a00102' + '18' + 'ff'.repeat(9) + '01');
    expect(text).toContain('2a09' + '0a0162' + 'a00107' + '40ac02'); // name 'b', type INTS, ints 300
    expect(text).toContain('2a0b' + '0a0163' + 'a00101' + '150000803f'); // name 'c', type FLOAT, f = 1.0f (0x3f800000)
  });

  it('is read back field by field by protobufjs with convnode schema', () => {
    const bytes = encodeModel({
      opset: 17,
      nodes: [
        node('Conv', ['x', 'w'], ['y'], { strides: { ints: [2, 2] }, alpha: { f: 0.5 }, mode: { s: 'edge' }, scales: { floats: [1.5, -2] } }),
        { opType: 'Custom', inputs: ['y'], outputs: ['z'], domain: 'com.example', attrs: { value: { t: intTensor('v', [2], [-3, 4]) } } },
      ],
      inputs: [{ name: 'x', shape: ['n', 3, 8, 8] }, { name: 'idx', shape: null, elemType: 7 }],
      outputs: [{ name: 'z' }],
      initializers: [
        floatTensor('w', [4, 3, 1, 1], Array.from({ length: 12 }, (_, i) => i - 5.25)),
        rawFloatTensor('r', [2], [0.25, -1]),
        { name: 'e', dims: [1], dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] },
      ],
    });
    const m = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Array }) as any;
    expect(m.irVersion).toBe(7);
    expect(m.opsetImport).toEqual([{ domain: '', version: 17 }]);
    const [conv, custom] = m.graph.node;
    expect(conv).toMatchObject({ opType: 'Conv', name: 'conv_y', input: ['x', 'w'], output: ['y'] });
    expect(conv.attribute.map((a: any) => [a.name, a.type])).toEqual([['strides', 7], ['alpha', 1], ['mode', 3], ['scales', 6]]);
    expect(conv.attribute[0].ints).toEqual([2, 2]);
    expect(conv.attribute[1].f).toBe(0.5);
    expect(Buffer.from(conv.attribute[2].s).toString()).toBe('edge');
    expect(conv.attribute[3].floats).toEqual([1.5, -2]);
    expect(custom.domain).toBe('com.example');
    expect(custom.attribute[0].t).toMatchObject({ name: 'v', dims: [2], dataType: 7, int64Data: [-3, 4] });
    const [w, r, e] = m.graph.initializer;
    expect(w).toMatchObject({ name: 'w', dims: [4, 3, 1, 1], dataType: 1, floatData: Array.from({ length: 12 }, (_, i) => i - 5.25) });
    expect(new Float32Array(Uint8Array.from(r.rawData).buffer)).toEqual(Float32Array.of(0.25, -1));
    expect(e).toMatchObject({ dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] });
    expect(m.graph.input[0].type.tensorType.shape.dim).toEqual([{ dimParam: 'n' }, { dimValue: 3 }, { dimValue: 8 }, { dimValue: 8 }]);
    expect(m.graph.input[1].type.tensorType).toEqual({ elemType: 7 });
  });

  it('makes a model onnxruntime runs (Conv + Relu with raw_data weights): the bytes are valid ONNX', async () => {
    const weight = [1, -1, 0.5, 2];
    const bytes = encodeModel({
      nodes: [node('Conv', ['x', 'w', 'b'], ['c'], { kernel_shape: { ints: [1, 1] } }), node('Relu', ['c'], ['y'])],
      inputs: [{ name: 'x', shape: [1, 2, 1, 2] }],
      outputs: [{ name: 'y', shape: [1, 2, 1, 2] }],
      initializers: [rawFloatTensor('w', [2, 2, 1, 1], weight), floatTensor('b', [2], [5, -10])],
    });
    const x = new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [1, 2, 1, 2]);
    // out[o][p] = relu(sum_c w[o][c] x[c][p] + b[o]): o0 = relu(1*1 - 1*3 + 5, 1*2 - 1*4 + 5) = 3, 3;
    // o1 = relu(0.5*1 + 2*3 - 10, 0.5*2 + 2*4 - 10) = 0, 0.
    const { y } = await (await ort.InferenceSession.create(bytes)).run({ x });
    expect(Array.from(y.data as Float32Array)).toEqual([3, 3, 0, 0]);
    const bytes2 = encodeModel({
      nodes: [node('Conv', ['x', 'w'], ['y'], { kernel_shape: { ints: [1, 1] } })],
      inputs: [{ name: 'x', shape: [1, 2, 1, 2] }],
      outputs: [{ name: 'y', shape: [1, 2, 1, 2] }],
      initializers: [rawFloatTensor('w', [2, 2, 1, 1], weight)],
    });
    const out = await (await ort.InferenceSession.create(bytes2)).run({ x });
    expect(Array.from(out.y.data as Float32Array)).toEqual([1 * 1 - 1 * 3, 1 * 2 - 1 * 4, 0.5 * 1 + 2 * 3, 0.5 * 2 + 2 * 4]);
  });
});
