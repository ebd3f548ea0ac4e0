/**
 * The graph as the fusion patterns read it: who reads each value, who produces it, which nodes
 * a pattern has already absorbed, and the constants known at load. A pattern may absorb a node
 * only when no one else can observe the value it skips: every reader is inside the pattern and
 * the value is not a graph output.
 */
import type { ConstTensor } from '../constant.js';
import { constValues } from '../constant.js';
import type { OnnxNode } from '../decode.js';

export interface FusionInput {
  readonly nodes: readonly OnnxNode[];
  readonly graphOutputs: ReadonlySet<string>;
  readonly opset: number;
  constantOf(name: string): ConstTensor | undefined;
}

export class GraphView {
  readonly nodes: readonly OnnxNode[];
  readonly opset: number;
  private readonly graphOutputs: ReadonlySet<string>;
  private readonly readers = new Map<string, number[]>();
  private readonly producers = new Map<string, number>();
  private readonly absorbed = new Set<number>();

  constructor(private readonly input: FusionInput) {
    this.nodes = input.nodes;
    this.opset = input.opset;
    this.graphOutputs = input.graphOutputs;
    input.nodes.forEach((node, index) => {
      for (const name of node.inputs) {
        if (name === '') continue;
        const list = this.readers.get(name) ?? [];
        // A node reading a value twice (Mul(x, x)) is one reader.
        if (!list.includes(index)) list.push(index);
        this.readers.set(name, list);
      }
      for (const name of node.outputs) if (name !== '') this.producers.set(name, index);
    });
  }

  constantOf(name: string): ConstTensor | undefined {
    return this.input.constantOf(name);
  }

  /**
   * The number a constant scalar input holds (rank 0 or [1], so it cannot raise the rank of what
   * it broadcasts against), or undefined.
   */
  scalarOf(name: string): number | undefined {
    const value = name === '' ? undefined : this.constantOf(name);
    return value && value.data.length === 1 && value.dims.length <= 1 ? constValues(value)[0] : undefined;
  }

  isAbsorbed(index: number): boolean {
    return this.absorbed.has(index);
  }

  absorb(indices: readonly number[]): void {
    for (const index of indices) this.absorbed.add(index);
  }

  /** Indices of the nodes reading `value`, or undefined when it is a graph output (anyone may see it). */
  privateReaders(value: string): readonly number[] | undefined {
    if (this.graphOutputs.has(value)) return undefined;
    const list = this.readers.get(value) ?? [];
    return list.some((i) => this.absorbed.has(i)) ? undefined : list;
  }

  /**
   * The one node reading `value`, when no other node and no graph output can see it; with
   * opTypes, only such a node. Callers that need it to read `value` as a given input check that.
   */
  soleReader(value: string, opTypes: readonly string[] | null = null): number | undefined {
    const list = this.privateReaders(value);
    if (!list || list.length !== 1) return undefined;
    if (opTypes && !opTypes.includes(this.nodes[list[0]].opType)) return undefined;
    return list[0];
  }

  /** The node that writes `value` (undefined for graph inputs and initializers). */
  producerOf(value: string): OnnxNode | undefined {
    const index = this.producers.get(value);
    return index === undefined ? undefined : this.nodes[index];
  }

  /** The other operand of a binary node that reads `value` as one of its two inputs. */
  otherOperand(node: OnnxNode, value: string): string | undefined {
    if (node.inputs.length !== 2) return undefined;
    if (node.inputs[0] === value) return node.inputs[1];
    if (node.inputs[1] === value) return node.inputs[0];
    return undefined;
  }
}
