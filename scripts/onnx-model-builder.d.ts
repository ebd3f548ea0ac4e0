// Types for scripts/onnx-model-builder.mjs (the tests import it through test/onnx-model-builder.ts).

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
  /** onnx.proto's TensorProto.DataType: 1 FLOAT, 7 INT64, ... */
  dataType: number;
  floatData?: number[];
  int64Data?: number[];
  rawData?: Uint8Array;
  /** 1: EXTERNAL (the values are in the file externalData names). */
  dataLocation?: number;
  externalData?: Array<{ key: string; value: string }>;
}

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, Attr>;
}

export interface ModelSpec {
  nodes: NodeSpec[];
  /** A null shape: no shape written (rank unknown). A string dimension is a dim_param. */
  inputs: Array<{ name: string; shape: Array<number | string> | null; elemType?: number }>;
  outputs: Array<{ name: string; shape?: Array<number | string> | null }>;
  initializers?: TensorSpec[];
  /** Default 13. */
  opset?: number;
  /** Default 7. */
  irVersion?: number;
  /** The graph's name, default 'test'. */
  name?: string;
  /** producer_name, default 'convnode-test'. */
  producer?: string;
}

export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorSpec;
export function intTensor(name: string, dims: number[], values: number[]): TensorSpec;
export function rawFloatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorSpec;
export function node(opType: string, inputs: string[], outputs: string[], attrs?: Record<string, Attr>, name?: string): NodeSpec;
export function encodeModel(spec: ModelSpec): Uint8Array;
