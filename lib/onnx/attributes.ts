/**
 * Typed reads of a node's attributes with ONNX defaults. A wrong attribute type is an OnnxError
 * naming the node and the attribute, never a silent misread.
 */
import type { ConstTensor } from './constant.js';
import type { AttributeValue, OnnxNode } from './decode.js';
import { OnnxError } from './errors.js';

/** "Conv 'conv1'": how messages name a node. */
export function describeNode(node: OnnxNode): string {
  return `${node.opType} '${node.name}'`;
}

export class NodeAttributes {
  constructor(private readonly node: OnnxNode) {}

  has(name: string): boolean {
    return this.node.attributes.has(name);
  }

  private read<T extends AttributeValue['type']>(name: string, type: T): Extract<AttributeValue, { type: T }> | undefined {
    const attr = this.node.attributes.get(name);
    if (attr === undefined) return undefined;
    if (attr.type !== type) {
      throw new OnnxError(`${describeNode(this.node)}: attribute '${name}' must be of type ${type}, got ${attr.type}`);
    }
    return attr as Extract<AttributeValue, { type: T }>;
  }

  int(name: string, fallback: number): number {
    return this.read(name, 'int')?.value ?? fallback;
  }

  float(name: string, fallback: number): number {
    return this.read(name, 'float')?.value ?? fallback;
  }

  string(name: string, fallback: string): string {
    return this.read(name, 'string')?.value ?? fallback;
  }

  ints(name: string): readonly number[] | undefined {
    return this.read(name, 'ints')?.value;
  }

  floats(name: string): readonly number[] | undefined {
    return this.read(name, 'floats')?.value;
  }

  tensor(name: string): ConstTensor | undefined {
    return this.read(name, 'tensor')?.value;
  }

  /** Fails on an attribute the implementation does not honour, rather than ignoring it. */
  rejectUnless(name: string, allowed: (value: AttributeValue) => boolean, rule: string): void {
    const attr = this.node.attributes.get(name);
    if (attr !== undefined && !allowed(attr)) {
      throw new OnnxError(`${describeNode(this.node)}: attribute '${name}' = ${JSON.stringify(attr.value)} is not supported (${rule})`);
    }
  }
}
