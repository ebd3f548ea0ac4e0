/**
 * Turns .onnx bytes into a plain graph: nodes with their attributes, initializers as constant
 * tensors, graph inputs and outputs with their declared shapes. Everything malformed becomes an
 * OnnxError here, so later stages can trust the structure.
 */
import { OnnxError } from './errors.js';
import { checkTensorElements, DEFAULT_LIMITS, type ResolvedLimits } from './limits.js';
import { floatConst, intConst, type ConstTensor } from './constant.js';
import {
  AttributeType,
  DATA_TYPE_NAMES,
  DataType,
  ModelProto,
  int64ToNumber,
  type AttributeProtoMessage,
  type ModelProtoMessage,
  type TensorProtoMessage,
  type ValueInfoProtoMessage,
} from './schema.js';

/** A decoded attribute value. */
export type AttributeValue =
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'tensor'; readonly value: ConstTensor }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'strings'; readonly value: readonly string[] }
  | { readonly type: 'unsupported'; readonly value: string };

export interface OnnxNode {
  readonly opType: string;
  /** The node's name, or a generated one ('Conv_3') when the file leaves it empty. */
  readonly name: string;
  readonly domain: string;
  /** Input value names; '' marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, AttributeValue>;
}

/** A declared dimension: a number, a symbolic name ('batch'), or -1 when the file says nothing. */
export type DeclaredDim = number | string;

export interface ValueDeclaration {
  readonly name: string;
  /** null when the file declares no shape at all. */
  readonly shape: readonly DeclaredDim[] | null;
  readonly elemType: number;
}

export interface OnnxGraph {
  readonly opset: number;
  readonly producer: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: ReadonlyMap<string, ConstTensor>;
  /** Graph inputs the caller feeds (initializers listed as inputs by old exporters are left out). */
  readonly inputs: readonly ValueDeclaration[];
  readonly outputs: readonly ValueDeclaration[];
}

function describeDecodeFailure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Decodes .onnx bytes; any protobuf failure (truncation, garbage) is an OnnxError saying so. */
export function decodeModel(bytes: Uint8Array, source: string, limits: ResolvedLimits = DEFAULT_LIMITS): OnnxGraph {
  if (bytes.length === 0) {
    throw new OnnxError(`${source}: the file is empty, not an ONNX model`);
  }
  let model: ModelProtoMessage;
  try {
    model = ModelProto.decode(bytes) as unknown as ModelProtoMessage;
  } catch (error) {
    throw new OnnxError(
      `${source}: not a valid ONNX model (the protobuf data is truncated or corrupt: ${describeDecodeFailure(error)})`,
    );
  }
  const graph = model.graph;
  if (!graph || (graph.node.length === 0 && graph.output.length === 0)) {
    throw new OnnxError(`${source}: not a valid ONNX model (no graph with nodes and outputs was found in ${bytes.length} bytes)`);
  }
  if (graph.sparseInitializer.length > 0) {
    throw new OnnxError(`${source}: sparse initializers are not supported`);
  }
  const opset = defaultDomainOpset(model, source);
  const initializers = new Map<string, ConstTensor>();
  let initializerBytes = 0;
  for (const t of graph.initializer) {
    // Sized from the declared dims, before anything is allocated for the values.
    initializerBytes += declaredBytes(t, `initializer '${t.name}'`, source, initializerBytes, limits);
    initializers.set(t.name, decodeTensor(t, `initializer '${t.name}'`));
  }
  const nodes = graph.node.map((n, index): OnnxNode => {
    const name = n.name !== '' ? n.name : `${n.opType}_${index}`;
    const attributes = new Map<string, AttributeValue>();
    for (const a of n.attribute) attributes.set(a.name, decodeAttribute(a, `${n.opType} '${name}'`));
    return { opType: n.opType, name, domain: n.domain, inputs: [...n.input], outputs: [...n.output], attributes };
  });
  const inputs = graph.input.filter((v) => !initializers.has(v.name)).map(decodeValueInfo);
  const outputs = graph.output.map(decodeValueInfo);
  if (inputs.length === 0) throw new OnnxError(`${source}: the graph declares no inputs`);
  if (outputs.length === 0) throw new OnnxError(`${source}: the graph declares no outputs`);
  return { opset, producer: `${model.producerName} ${model.producerVersion}`.trim(), nodes, initializers, inputs, outputs };
}

function defaultDomainOpset(model: ModelProtoMessage, source: string): number {
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (!entry) {
    throw new OnnxError(`${source}: the model imports no version of the default ONNX operator set`);
  }
  return int64ToNumber(entry.version);
}

function decodeValueInfo(v: ValueInfoProtoMessage): ValueDeclaration {
  const tensorType = v.type?.tensorType ?? null;
  const shape = tensorType?.shape
    ? tensorType.shape.dim.map((d): DeclaredDim => {
        if (d.dimParam !== '') return d.dimParam;
        const value = int64ToNumber(d.dimValue);
        return value > 0 ? value : -1;
      })
    : null;
  return { name: v.name, shape, elemType: tensorType?.elemType ?? 0 };
}

const textDecoder = new TextDecoder();

/** A bytes field as text; an absent value (protobufjs leaves an empty array) is the empty string. */
function decodeText(bytes: Uint8Array | number[] | null | undefined): string {
  return bytes instanceof Uint8Array ? textDecoder.decode(bytes) : '';
}

/** Files from before IR version 2 may leave `type` unset; the field that holds data tells it. */
function attributeType(a: AttributeProtoMessage): number {
  if (a.type !== 0) return a.type;
  if (a.ints.length > 0) return AttributeType.INTS;
  if (a.floats.length > 0) return AttributeType.FLOATS;
  if (a.strings.length > 0) return AttributeType.STRINGS;
  if (a.t) return AttributeType.TENSOR;
  if (a.s.length > 0) return AttributeType.STRING;
  return a.f !== 0 ? AttributeType.FLOAT : AttributeType.INT;
}

function decodeAttribute(a: AttributeProtoMessage, owner: string): AttributeValue {
  switch (attributeType(a)) {
    case AttributeType.FLOAT:
      return { type: 'float', value: a.f };
    case AttributeType.INT:
      return { type: 'int', value: int64ToNumber(a.i) };
    case AttributeType.STRING:
      return { type: 'string', value: decodeText(a.s) };
    case AttributeType.TENSOR:
      if (!a.t) throw new OnnxError(`${owner}: attribute '${a.name}' is a tensor attribute without a tensor`);
      return { type: 'tensor', value: decodeTensor(a.t, `${owner} attribute '${a.name}'`) };
    case AttributeType.FLOATS:
      return { type: 'floats', value: [...a.floats] };
    case AttributeType.INTS:
      return { type: 'ints', value: a.ints.map(int64ToNumber) };
    case AttributeType.STRINGS:
      return { type: 'strings', value: a.strings.map(decodeText) };
    default:
      return { type: 'unsupported', value: `attribute type ${a.type}` };
  }
}

/** Little-endian raw bytes to numbers; copies first, since raw_data need not be aligned. */
function rawToNumbers(raw: Uint8Array, dataType: number, count: number, owner: string): Float32Array | number[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const width: Record<number, number> = {
    [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.INT64]: 8, [DataType.UINT64]: 8, [DataType.INT32]: 4,
    [DataType.UINT32]: 4, [DataType.INT16]: 2, [DataType.UINT16]: 2, [DataType.INT8]: 1, [DataType.UINT8]: 1,
    [DataType.BOOL]: 1, [DataType.FLOAT16]: 2,
  };
  const size = width[dataType];
  if (raw.byteLength !== count * size) {
    throw new OnnxError(
      `${owner}: raw_data holds ${raw.byteLength} bytes but ${count} ${DATA_TYPE_NAMES[dataType]} values need ${count * size} (the file is truncated or corrupt)`,
    );
  }
  switch (dataType) {
    case DataType.FLOAT: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case DataType.DOUBLE: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case DataType.FLOAT16: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    default: {
      const read: Record<number, (i: number) => number> = {
        [DataType.INT64]: (i) => Number(view.getBigInt64(i * 8, true)),
        [DataType.UINT64]: (i) => Number(view.getBigUint64(i * 8, true)),
        [DataType.INT32]: (i) => view.getInt32(i * 4, true),
        [DataType.UINT32]: (i) => view.getUint32(i * 4, true),
        [DataType.INT16]: (i) => view.getInt16(i * 2, true),
        [DataType.UINT16]: (i) => view.getUint16(i * 2, true),
        [DataType.INT8]: (i) => view.getInt8(i),
        [DataType.UINT8]: (i) => view.getUint8(i),
        [DataType.BOOL]: (i) => view.getUint8(i),
      };
      return Array.from({ length: count }, (_, i) => read[dataType](i));
    }
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16]);
const INT_TYPES = new Set<number>([
  DataType.INT64, DataType.INT32, DataType.INT16, DataType.INT8, DataType.UINT64, DataType.UINT32,
  DataType.UINT16, DataType.UINT8, DataType.BOOL,
]);

/**
 * The bytes a tensor will take once decoded (4 per value: float32 for floats, and counted the
 * same for integers), from its declared dims alone: checked against maxTensorElements and,
 * added to `sofar`, against maxInitializerBytes, so a file that declares a huge initializer is
 * refused before any array is made for it. Malformed dims are left to decodeTensor's error.
 */
function declaredBytes(t: TensorProtoMessage, owner: string, source: string, sofar: number, limits: ResolvedLimits): number {
  const dims = t.dims.map(int64ToNumber);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) return 0;
  checkTensorElements(dims, `${source}: ${owner}`, 'its declared value', limits);
  const bytes = dims.reduce((a, b) => a * b, 1) * 4;
  if (!(sofar + bytes <= limits.maxInitializerBytes)) {
    throw new OnnxError(
      `${source}: ${owner} of dims [${dims.join(', ')}] (${bytes} bytes) makes its initializers hold ${sofar + bytes} bytes, ` +
        `over the limit of ${limits.maxInitializerBytes} (options.limits.maxInitializerBytes)`,
    );
  }
  return bytes;
}

/** A TensorProto to a ConstTensor, from whichever field holds its data. */
export function decodeTensor(t: TensorProtoMessage, owner: string): ConstTensor {
  const dims = t.dims.map(int64ToNumber);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new OnnxError(`${owner}: dims [${dims.join(', ')}] must be non-negative integers`);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (t.dataLocation === 1 || t.externalData.length > 0) {
    const location = t.externalData.find((e) => e.key === 'location')?.value;
    throw new OnnxError(
      `${owner}: its data is stored outside the model file${location ? ` (in '${location}')` : ''}; external data is unsupported — re-save the model with all tensors inside it (onnx.save_model(..., save_as_external_data=False))`,
    );
  }
  const typeName = DATA_TYPE_NAMES[t.dataType] ?? `data type ${t.dataType}`;
  if (!FLOAT_TYPES.has(t.dataType) && !INT_TYPES.has(t.dataType)) {
    throw new OnnxError(`${owner}: ${typeName} tensors are not supported (only float and integer tensors)`);
  }
  let values: Float32Array | number[];
  if (t.rawData.length > 0) {
    values = rawToNumbers(t.rawData, t.dataType, count, owner);
  } else {
    const typed = pickTypedField(t);
    if (typed.length !== count) {
      throw new OnnxError(
        `${owner}: holds ${typed.length} values but its dims [${dims.join(', ')}] need ${count} (the file is truncated or corrupt)`,
      );
    }
    values = typed;
  }
  if (FLOAT_TYPES.has(t.dataType)) {
    return floatConst(dims, values instanceof Float32Array ? values : Float32Array.from(values));
  }
  return intConst(dims, Array.from(values));
}

function pickTypedField(t: TensorProtoMessage): number[] {
  switch (t.dataType) {
    case DataType.FLOAT:
      return t.floatData;
    case DataType.DOUBLE:
      return t.doubleData;
    case DataType.INT64:
      return t.int64Data.map(int64ToNumber);
    case DataType.UINT64:
    case DataType.UINT32:
      return t.uint64Data.map(int64ToNumber);
    case DataType.FLOAT16:
      return t.int32Data.map(halfToFloat);
    default:
      // INT32, INT16, INT8, UINT16, UINT8 and BOOL all travel in int32_data.
      return t.int32Data;
  }
}
