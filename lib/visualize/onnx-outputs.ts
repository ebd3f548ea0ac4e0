/**
 * Makes an intermediate value of an ONNX model observable by declaring it a graph output.
 * The edit is done on the protobuf wire format: the ModelProto's `graph` field (7) is rewritten
 * with extra `output` entries (GraphProto field 12) appended, and every other byte is kept as it
 * was, so nothing the schema subset in lib/onnx does not know about is lost. The loader then
 * keeps the value (fusion never absorbs a graph output) and run() returns it.
 */
import { ParameterError } from '../errors.js';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;
const MODEL_GRAPH_FIELD = 7;
const GRAPH_OUTPUT_FIELD = 12;
const VALUE_INFO_NAME_FIELD = 1;
const VALUE_INFO_TYPE_FIELD = 2;
/** TypeProto { tensor_type (1): TypeProto.Tensor { elem_type (1): FLOAT = 1 } }: declares a float tensor of unknown shape. */
const FLOAT_TENSOR_TYPE = Uint8Array.of(0x0a, 0x02, 0x08, 0x01);

function readVarint(bytes: Uint8Array, offset: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = offset; i < bytes.length && i < offset + 10; i++) {
    value += (bytes[i] & 0x7f) * scale;
    if ((bytes[i] & 0x80) === 0) return [value, i + 1];
    scale *= 128;
  }
  throw new ParameterError(`ONNX model bytes: truncated or malformed varint at byte ${offset}`);
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function lengthDelimited(field: number, payload: Uint8Array): Uint8Array {
  const head = [...varint((field << 3) | WIRE_LENGTH_DELIMITED), ...varint(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Start and end of the last top-level `graph` field's payload (protobuf parsers keep the last one). */
function findGraph(bytes: Uint8Array): { fieldStart: number; payloadStart: number; payloadEnd: number } {
  let found: { fieldStart: number; payloadStart: number; payloadEnd: number } | undefined;
  let offset = 0;
  while (offset < bytes.length) {
    const fieldStart = offset;
    const [tag, afterTag] = readVarint(bytes, offset);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === WIRE_VARINT) offset = readVarint(bytes, afterTag)[1];
    else if (wire === WIRE_FIXED64) offset = afterTag + 8;
    else if (wire === WIRE_FIXED32) offset = afterTag + 4;
    else if (wire === WIRE_LENGTH_DELIMITED) {
      const [length, payloadStart] = readVarint(bytes, afterTag);
      offset = payloadStart + length;
      if (field === MODEL_GRAPH_FIELD) found = { fieldStart, payloadStart, payloadEnd: offset };
    } else {
      throw new ParameterError(`ONNX model bytes: unsupported protobuf wire type ${wire} at byte ${fieldStart}`);
    }
    if (offset > bytes.length) throw new ParameterError(`ONNX model bytes: field ${field} at byte ${fieldStart} runs past the end of the data`);
  }
  if (!found) throw new ParameterError('ONNX model bytes: no graph found (is this an .onnx file?)');
  return found;
}

/** A copy of the model bytes whose graph also outputs `names` (as float tensors of unknown shape). */
export function withExtraOutputs(model: Uint8Array, names: readonly string[]): Uint8Array {
  if (!(model instanceof Uint8Array)) throw new ParameterError('withExtraOutputs: model must be the bytes of an .onnx file');
  if (names.length === 0) return model;
  const { fieldStart, payloadStart, payloadEnd } = findGraph(model);
  const encoder = new TextEncoder();
  const outputs = names.map((name) =>
    lengthDelimited(
      GRAPH_OUTPUT_FIELD,
      concat([lengthDelimited(VALUE_INFO_NAME_FIELD, encoder.encode(name)), lengthDelimited(VALUE_INFO_TYPE_FIELD, FLOAT_TENSOR_TYPE)]),
    ),
  );
  // Repeated fields may be split anywhere in a message: appended entries follow the existing outputs.
  const graph = concat([model.subarray(payloadStart, payloadEnd), ...outputs]);
  return concat([model.subarray(0, fieldStart), lengthDelimited(MODEL_GRAPH_FIELD, graph), model.subarray(payloadEnd)]);
}
