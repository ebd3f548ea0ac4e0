/**
 * Builds small ONNX models in memory for the importer's tests (op forms the PyTorch fixtures do
 * not produce, and deliberately broken files). Encoded with protobufjs from convnode's schema;
 * every model that should be valid is also loaded by onnxruntime, which checks it independently.
 */
import { ModelProto } from '../lib/onnx/schema.js';

export type Attr =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: number[] }
  | { floats: number[] }
  | { t: TensorSpec };

export interface TensorSpec {
  name: string;
  dims: number[];
  dataType: number;
  floatData?: number[];
  int64Data?: number[];
  rawData?: Uint8Array;
  dataLocation?: number;
  externalData?: Array<{ key: string; value: string }>;
}

export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorSpec {
  return { name, dims, dataType: 1, floatData: Array.from(values) };
}

export function intTensor(name: string, dims: number[], values: number[]): TensorSpec {
  return { name, dims, dataType: 7, int64Data: values };
}

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, Attr>;
}

export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, name?: string): NodeSpec {
  return { opType, inputs, outputs, attrs, name: name ?? `${opType.toLowerCase()}_${outputs[0]}` };
}

function attribute(name: string, a: Attr): Record<string, unknown> {
  if ('i' in a) return { name, type: 2, i: a.i };
  if ('f' in a) return { name, type: 1, f: a.f };
  if ('s' in a) return { name, type: 3, s: new TextEncoder().encode(a.s) };
  if ('ints' in a) return { name, type: 7, ints: a.ints };
  if ('floats' in a) return { name, type: 6, floats: a.floats };
  return { name, type: 4, t: a.t };
}

function valueInfo(name: string, shape: Array<number | string> | null, elemType = 1) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: shape ? { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } : undefined,
      },
    },
  };
}

export interface ModelSpec {
  nodes: NodeSpec[];
  inputs: Array<{ name: string; shape: Array<number | string> | null; elemType?: number }>;
  outputs: Array<{ name: string; shape?: Array<number | string> | null }>;
  initializers?: TensorSpec[];
  opset?: number;
}

export function encodeModel(spec: ModelSpec): Uint8Array {
  const message = ModelProto.fromObject({
    irVersion: 7,
    producerName: 'convnode-test',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'test',
      node: spec.nodes.map((n) => ({
        opType: n.opType,
        name: n.name,
        domain: n.domain ?? '',
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: spec.initializers ?? [],
      input: spec.inputs.map((i) => valueInfo(i.name, i.shape, i.elemType)),
      output: spec.outputs.map((o) => valueInfo(o.name, o.shape ?? null)),
    },
  });
  return ModelProto.encode(message).finish();
}
