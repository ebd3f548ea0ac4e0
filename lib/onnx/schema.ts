/**
 * The subset of the ONNX protobuf schema convnode reads, written as a protobufjs reflection
 * descriptor. Field numbers are the ones the ONNX specification assigns; messages and fields
 * convnode has no use for (training info, functions, sparse tensors' contents) are left out, and
 * protobufjs skips unknown fields while decoding.
 */
import protobuf from 'protobufjs';

const descriptor: protobuf.INamespace = {
  nested: {
    ModelProto: {
      fields: {
        irVersion: { type: 'int64', id: 1 },
        opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
        producerName: { type: 'string', id: 2 },
        producerVersion: { type: 'string', id: 3 },
        domain: { type: 'string', id: 4 },
        modelVersion: { type: 'int64', id: 5 },
        docString: { type: 'string', id: 6 },
        graph: { type: 'GraphProto', id: 7 },
      },
    },
    OperatorSetIdProto: {
      fields: {
        domain: { type: 'string', id: 1 },
        version: { type: 'int64', id: 2 },
      },
    },
    GraphProto: {
      fields: {
        node: { rule: 'repeated', type: 'NodeProto', id: 1 },
        name: { type: 'string', id: 2 },
        initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
        // Only counted, to refuse models that keep weights there.
        sparseInitializer: { rule: 'repeated', type: 'SparseTensorProto', id: 15 },
        input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
        output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
        valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
      },
    },
    NodeProto: {
      fields: {
        input: { rule: 'repeated', type: 'string', id: 1 },
        output: { rule: 'repeated', type: 'string', id: 2 },
        name: { type: 'string', id: 3 },
        opType: { type: 'string', id: 4 },
        domain: { type: 'string', id: 7 },
        attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
      },
    },
    AttributeProto: {
      fields: {
        name: { type: 'string', id: 1 },
        type: { type: 'int32', id: 20 },
        f: { type: 'float', id: 2 },
        i: { type: 'int64', id: 3 },
        s: { type: 'bytes', id: 4 },
        t: { type: 'TensorProto', id: 5 },
        g: { type: 'GraphProto', id: 6 },
        floats: { rule: 'repeated', type: 'float', id: 7 },
        ints: { rule: 'repeated', type: 'int64', id: 8 },
        strings: { rule: 'repeated', type: 'bytes', id: 9 },
        tensors: { rule: 'repeated', type: 'TensorProto', id: 10 },
      },
    },
    ValueInfoProto: {
      fields: {
        name: { type: 'string', id: 1 },
        type: { type: 'TypeProto', id: 2 },
      },
    },
    TypeProto: {
      fields: {
        tensorType: { type: 'TypeProtoTensor', id: 1 },
      },
    },
    TypeProtoTensor: {
      fields: {
        elemType: { type: 'int32', id: 1 },
        shape: { type: 'TensorShapeProto', id: 2 },
      },
    },
    TensorShapeProto: {
      fields: {
        dim: { rule: 'repeated', type: 'TensorShapeDimension', id: 1 },
      },
    },
    TensorShapeDimension: {
      fields: {
        dimValue: { type: 'int64', id: 1 },
        dimParam: { type: 'string', id: 2 },
      },
    },
    TensorProto: {
      fields: {
        dims: { rule: 'repeated', type: 'int64', id: 1 },
        dataType: { type: 'int32', id: 2 },
        floatData: { rule: 'repeated', type: 'float', id: 4 },
        int32Data: { rule: 'repeated', type: 'int32', id: 5 },
        int64Data: { rule: 'repeated', type: 'int64', id: 7 },
        name: { type: 'string', id: 8 },
        rawData: { type: 'bytes', id: 9 },
        doubleData: { rule: 'repeated', type: 'double', id: 10 },
        uint64Data: { rule: 'repeated', type: 'uint64', id: 11 },
        externalData: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
        dataLocation: { type: 'int32', id: 14 },
      },
    },
    SparseTensorProto: {
      fields: {
        dims: { rule: 'repeated', type: 'int64', id: 3 },
      },
    },
    StringStringEntryProto: {
      fields: {
        key: { type: 'string', id: 1 },
        value: { type: 'string', id: 2 },
      },
    },
  },
};

/** The ONNX TensorProto.DataType numbers convnode understands. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

/** Names for error messages. */
export const DATA_TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64',
  8: 'STRING', 9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64',
  15: 'COMPLEX128', 16: 'BFLOAT16',
};

/** AttributeProto.AttributeType numbers. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
} as const;

/** protobufjs decodes int64 fields to Long objects (the `long` package is installed) or numbers. */
export type Int64 = number | { toNumber(): number };

export interface TensorProtoMessage {
  dims: Int64[];
  dataType: number;
  floatData: number[];
  int32Data: number[];
  int64Data: Int64[];
  name: string;
  rawData: Uint8Array;
  doubleData: number[];
  uint64Data: Int64[];
  externalData: Array<{ key: string; value: string }>;
  dataLocation: number;
}

export interface AttributeProtoMessage {
  name: string;
  type: number;
  f: number;
  i: Int64;
  s: Uint8Array;
  t: TensorProtoMessage | null;
  g: unknown;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  tensors: TensorProtoMessage[];
}

export interface NodeProtoMessage {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain: string;
  attribute: AttributeProtoMessage[];
}

export interface ValueInfoProtoMessage {
  name: string;
  type: {
    tensorType: {
      elemType: number;
      shape: { dim: Array<{ dimValue: Int64; dimParam: string }> } | null;
    } | null;
  } | null;
}

export interface GraphProtoMessage {
  node: NodeProtoMessage[];
  name: string;
  initializer: TensorProtoMessage[];
  sparseInitializer: unknown[];
  input: ValueInfoProtoMessage[];
  output: ValueInfoProtoMessage[];
  valueInfo: ValueInfoProtoMessage[];
}

export interface ModelProtoMessage {
  irVersion: Int64;
  opsetImport: Array<{ domain: string; version: Int64 }>;
  producerName: string;
  producerVersion: string;
  graph: GraphProtoMessage | null;
}

const root = protobuf.Root.fromJSON(descriptor);

/** The ModelProto message type, ready to decode a .onnx file. */
export const ModelProto = root.lookupType('ModelProto');

/** Converts a decoded int64 (Long or number) to a JS number; values beyond 2^53 lose precision, which only ever happens for "to the end" sentinels. */
export function int64ToNumber(value: Int64 | undefined | null): number {
  if (value === undefined || value === null) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}
