// Small ONNX models written in memory: the importer's tests (op forms the PyTorch fixtures do not
// produce, deliberately broken files; test/onnx-model-builder.ts re-exports this with types) and
// the benches that time one layer on onnxruntime-node too (bench/gemm-layers.mjs --ort,
// bench/grouped.mjs). Plain .mjs so a bench runs it without a build; types in the .d.ts beside it.
//
// The protobuf bytes are written here by hand from onnx.proto's field numbers, not with
// convnode's own schema (lib/onnx/schema.ts): the models that test the importer's decoder are then
// not encoded by that decoder's own description of the format. Every model a test means to be
// valid is also loaded by onnxruntime, which checks it independently. Repeated numbers are
// written the way onnx.proto declares them: TensorProto's *_data packed, dims and attribute
// lists unpacked; every parser accepts both.

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;

/** An unsigned LEB128 varint; negative int64s as their 64-bit two's complement (10 bytes). */
function varint(value) {
  let v = BigInt.asUintN(64, typeof value === 'bigint' ? value : BigInt(Math.trunc(value)));
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const key = (field, wire) => varint((field << 3) | wire);
const float32Bytes = (values) => new Uint8Array(Float32Array.from(values).buffer);

/**
 * A message from its fields, in order: [field, kind, value] with kind 'varint', 'float' (fixed32),
 * 'double' (fixed64), 'bytes' (a Uint8Array or a string, UTF-8), 'message' (nested fields) or
 * 'packed' ({ varints } or { floats }). Chunks are joined once: weights can be ~150 MB.
 */
function encode(fields) {
  const chunks = [];
  const lengthDelimited = (field, bytes) => {
    chunks.push(Uint8Array.from([...key(field, BYTES), ...varint(bytes.length)]), bytes);
  };
  for (const [field, kind, value] of fields) {
    if (kind === 'varint') chunks.push(Uint8Array.from([...key(field, VARINT), ...varint(value)]));
    else if (kind === 'float') chunks.push(Uint8Array.from(key(field, FIXED32)), float32Bytes([value]));
    else if (kind === 'double') chunks.push(Uint8Array.from(key(field, FIXED64)), new Uint8Array(Float64Array.of(value).buffer));
    else if (kind === 'bytes') lengthDelimited(field, typeof value === 'string' ? new TextEncoder().encode(value) : value);
    else if (kind === 'message') lengthDelimited(field, encode(value));
    else if (kind === 'packed') lengthDelimited(field, value.floats ? float32Bytes(value.floats) : Uint8Array.from(value.varints.flatMap(varint)));
    else throw new Error(`onnx-model-builder: unknown field kind '${kind}'`);
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function floatTensor(name, dims, values) {
  return { name, dims, dataType: 1, floatData: Array.from(values) };
}

export function intTensor(name, dims, values) {
  return { name, dims, dataType: 7, int64Data: values };
}

/** A float tensor whose values go in raw_data (a typed array's bytes: the compact form for large weights). */
export function rawFloatTensor(name, dims, values) {
  const data = values instanceof Float32Array ? values : Float32Array.from(values); // no copy of large weights
  return { name, dims, dataType: 1, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function node(opType, inputs, outputs, attrs = {}, name) {
  return { opType, inputs, outputs, attrs, name: name ?? `${opType.toLowerCase()}_${outputs[0]}` };
}

// onnx.proto: TensorProto dims 1, data_type 2, float_data 4, int64_data 7, name 8, raw_data 9,
// external_data 13 (StringStringEntryProto key 1, value 2), data_location 14.
function tensorFields(t) {
  const fields = [...t.dims.map((d) => [1, 'varint', d]), [2, 'varint', t.dataType]];
  if (t.floatData?.length) fields.push([4, 'packed', { floats: t.floatData }]);
  if (t.int64Data?.length) fields.push([7, 'packed', { varints: t.int64Data }]);
  fields.push([8, 'bytes', t.name]);
  if (t.rawData) fields.push([9, 'bytes', t.rawData]);
  for (const e of t.externalData ?? []) fields.push([13, 'message', [[1, 'bytes', e.key], [2, 'bytes', e.value]]]);
  if (t.dataLocation !== undefined) fields.push([14, 'varint', t.dataLocation]);
  return fields;
}

// AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, type 20 (FLOAT 1, INT 2, STRING 3,
// TENSOR 4, FLOATS 6, INTS 7).
function attributeFields(name, a) {
  const fields = [[1, 'bytes', name]];
  if ('i' in a) fields.push([20, 'varint', 2], [3, 'varint', a.i]);
  else if ('f' in a) fields.push([20, 'varint', 1], [2, 'float', a.f]);
  else if ('s' in a) fields.push([20, 'varint', 3], [4, 'bytes', a.s]);
  else if ('ints' in a) fields.push([20, 'varint', 7], ...a.ints.map((v) => [8, 'varint', v]));
  else if ('floats' in a) fields.push([20, 'varint', 6], ...a.floats.map((v) => [7, 'float', v]));
  else fields.push([20, 'varint', 4], [5, 'message', tensorFields(a.t)]);
  return fields;
}

// ValueInfoProto: name 1, type 2 (TypeProto: tensor_type 1 (elem_type 1, shape 2 (dim 1
// (dim_value 1, dim_param 2)))). A null shape writes no shape at all (rank unknown).
function valueInfoFields(name, shape, elemType = 1) {
  const tensorType = [[1, 'varint', elemType]];
  if (shape) {
    const dims = shape.map((d) => [1, 'message', [typeof d === 'string' ? [2, 'bytes', d] : [1, 'varint', d]]]);
    tensorType.push([2, 'message', dims]);
  }
  return [[1, 'bytes', name], [2, 'message', [[1, 'message', tensorType]]]];
}

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7.
function nodeFields(n) {
  return [
    ...n.inputs.map((i) => [1, 'bytes', i]),
    ...n.outputs.map((o) => [2, 'bytes', o]),
    ...(n.name !== undefined ? [[3, 'bytes', n.name]] : []),
    [4, 'bytes', n.opType],
    ...Object.entries(n.attrs ?? {}).map(([k, v]) => [5, 'message', attributeFields(k, v)]),
    ...(n.domain ? [[7, 'bytes', n.domain]] : []),
  ];
}

/**
 * The model's bytes. ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 (domain 1,
 * version 2); GraphProto: node 1, name 2, initializer 5, input 11, output 12.
 */
export function encodeModel(spec) {
  const graph = [
    ...spec.nodes.map((n) => [1, 'message', nodeFields(n)]),
    [2, 'bytes', spec.name ?? 'test'],
    ...(spec.initializers ?? []).map((t) => [5, 'message', tensorFields(t)]),
    ...spec.inputs.map((i) => [11, 'message', valueInfoFields(i.name, i.shape, i.elemType)]),
    ...spec.outputs.map((o) => [12, 'message', valueInfoFields(o.name, o.shape ?? null)]),
  ];
  return encode([
    [1, 'varint', spec.irVersion ?? 7],
    [2, 'bytes', spec.producer ?? 'convnode-test'],
    [7, 'message', graph],
    [8, 'message', [[1, 'bytes', ''], [2, 'varint', spec.opset ?? 13]]],
  ]);
}
