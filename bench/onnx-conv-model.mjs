// A one-layer ONNX model (Conv + Relu, or Gemm + Relu) as bytes, so a bench can time the same
// layer on onnxruntime-node as on convnode (bench/gemm-layers.mjs --ort). Only the protobuf fields
// such a model needs are written (onnx.proto field numbers); repeated scalars are unpacked, which
// every parser accepts.

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;

function varint(value) {
  const out = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

/** A message as a list of [field, value]: numbers are varints, strings, byte arrays and nested lists length-delimited. */
function encode(fields) {
  const chunks = []; // Uint8Arrays, joined once: weights are up to ~150 MB
  for (const [field, value] of fields) {
    if (typeof value === 'number' || typeof value === 'bigint') {
      chunks.push(Uint8Array.from([...varint((field << 3) | WIRE_VARINT), ...varint(value)]));
      continue;
    }
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value instanceof Uint8Array ? value : encode(value);
    chunks.push(Uint8Array.from([...varint((field << 3) | WIRE_BYTES), ...varint(bytes.length)]), bytes);
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

const tensor = (name, dims, data) => [
  ...dims.map((d) => [1, d]),
  [2, FLOAT],
  [8, name],
  [9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)],
];
const valueInfo = (name, dims) => [
  [1, name],
  [2, [[1, [[1, FLOAT], [2, dims.map((d) => [1, [[1, d]]])]]]]],
];
const ints = (name, values) => [[1, name], [20, ATTR_INTS], ...values.map((v) => [8, v])];
const int = (name, value) => [[1, name], [20, ATTR_INT], [3, value]];

function model(nodes, initializers, inputs, output) {
  const graph = [
    ...nodes.map((n) => [1, n]),
    [2, 'layer'],
    ...initializers.map((t) => [5, t]),
    ...inputs.map((i) => [11, i]),
    [12, output],
  ];
  return encode([
    [1, 8], // ir_version
    [2, 'convnode-bench'],
    [7, graph],
    [8, [[1, ''], [2, 13]]], // opset 13
  ]);
}

/**
 * Conv (bias) + Relu on a [batch, cin, size, size] input, square kernel, symmetric padding. With
 * `residual`, Conv + Add(r) + Relu: a second input 'r' shaped like the output (a ResNet block's
 * last conv, whose shortcut both runtimes fuse into the conv).
 */
export function convReluModel({ batch, cin, cout, size, kernel, stride, pad, outSize, weight, bias, residual = false }) {
  const conv = [
    [1, 'x'], [1, 'w'], [1, 'b'], [2, 'y'], [3, 'conv'], [4, 'Conv'],
    [5, ints('kernel_shape', [kernel, kernel])],
    [5, ints('strides', [stride, stride])],
    [5, ints('pads', [pad, pad, pad, pad])],
    [5, ints('dilations', [1, 1])],
    [5, int('group', 1)],
  ];
  const outDims = [batch, cout, outSize, outSize];
  const initializers = [tensor('w', [cout, cin, kernel, kernel], weight), tensor('b', [cout], bias)];
  if (!residual) {
    const relu = [[1, 'y'], [2, 'out'], [3, 'relu'], [4, 'Relu']];
    return model([conv, relu], initializers, [valueInfo('x', [batch, cin, size, size])], valueInfo('out', outDims));
  }
  const add = [[1, 'y'], [1, 'r'], [2, 'sum'], [3, 'add'], [4, 'Add']];
  const relu = [[1, 'sum'], [2, 'out'], [3, 'relu'], [4, 'Relu']];
  return model([conv, add, relu], initializers, [valueInfo('x', [batch, cin, size, size]), valueInfo('r', outDims)],
    valueInfo('out', outDims));
}

/** Gemm (x W^T + b) + Relu: a Linear layer, weight [out, in]. */
export function linearReluModel({ batch, cin, cout, weight, bias }) {
  const gemm = [[1, 'x'], [1, 'w'], [1, 'b'], [2, 'y'], [3, 'fc'], [4, 'Gemm'], [5, int('transB', 1)]];
  const relu = [[1, 'y'], [2, 'out'], [3, 'relu'], [4, 'Relu']];
  return model([gemm, relu], [tensor('w', [cout, cin], weight), tensor('b', [cout], bias)],
    [valueInfo('x', [batch, cin])], valueInfo('out', [batch, cout]));
}
