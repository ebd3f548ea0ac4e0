/**
 * The feature maps of one layer of an ONNX model: pick a layer (by node name, output value name,
 * or number among the feature-map layers), load the model unfused (so every node keeps its own
 * value and planner row) and run it on the image asking for that value by name (run's `outputs`
 * option; the model is not edited).
 *
 * "Layer N" counts what a user means by a layer: nodes whose output is an N x C x H x W feature
 * map, in graph order. Nodes that compute nothing of their own (Identity, Dropout, Constant: an
 * exporter's Identity for a shared initializer would otherwise be "layer 3" of ResNet-18) and
 * nodes folded away at load are not counted.
 */
import { readFile } from 'node:fs/promises';
import { ParameterError, ShapeError } from '../errors.js';
import { decodeModel, type OnnxGraph } from '../onnx/decode.js';
import { loadOnnx } from '../onnx/index.js';
import { summarize, type LayerSummary, type ModelSummary } from '../layers/summary.js';
import { Tensor, formatShape } from '../tensor.js';
import { composeFeatureMaps, type FeatureMapOptions } from './render.js';
import type { Composition } from './compose.js';

/** A node of the graph as the visualiser names it. */
export interface GraphNode {
  /** The node's name ('<opType>_<index>' for unnamed nodes, as the ONNX importer names them). */
  readonly name: string;
  readonly opType: string;
  /** Position in the graph's node list (0-based). */
  readonly index: number;
  /** Its first output value: the feature maps that are drawn. */
  readonly output: string;
}

/** A layer whose output is a feature map, numbered as `--layer N` counts them. */
export interface FeatureMapLayer {
  readonly number: number;
  readonly node: GraphNode;
  /** Its output shape for the input the list was made for. */
  readonly shape: readonly number[];
}

export interface ModelLayerMaps {
  readonly node: GraphNode;
  /** Its number among the feature-map layers (undefined when its output is not one). */
  readonly layerNumber: number | undefined;
  /** The tensor fed to the model. */
  readonly input: Tensor;
  /** The node's output. */
  readonly maps: Tensor;
  /** The node's planner row (shape, receptive field, jump); undefined for a node folded at load. */
  readonly row: LayerSummary | undefined;
  /** The whole unfused model's planner table for this input. */
  readonly summary: ModelSummary;
}

async function modelBytes(model: string | Uint8Array): Promise<{ bytes: Uint8Array; source: string }> {
  if (model instanceof Uint8Array) return { bytes: model, source: 'model bytes' };
  if (typeof model !== 'string') throw new ParameterError(`model must be an .onnx path or its bytes, got ${model === null ? 'null' : typeof model}`);
  try {
    return { bytes: await readFile(model), source: `'${model}'` };
  } catch (error) {
    throw new ParameterError(`cannot read ONNX model '${model}': ${(error as Error).message}`);
  }
}

/** Every node of the model, in graph order. */
export function listGraphNodes(bytes: Uint8Array, source = 'model bytes'): GraphNode[] {
  return graphNodes(decodeModel(bytes, source));
}

function graphNodes(graph: OnnxGraph): GraphNode[] {
  return graph.nodes.map((n, index) => ({ name: n.name, opType: n.opType, index, output: n.outputs[0] ?? '' }));
}

/** The model's first declared input shape (symbolic dims as names, unknown as -1), or null. */
export function declaredInputShape(bytes: Uint8Array, source = 'model bytes'): readonly (number | string)[] | null {
  return decodeModel(bytes, source).inputs[0]?.shape ?? null;
}

const NOT_LAYERS = new Set(['Identity', 'Dropout', 'Constant']);

function featureMapLayers(nodes: readonly GraphNode[], rows: readonly LayerSummary[]): FeatureMapLayer[] {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const layers: FeatureMapLayer[] = [];
  for (const node of nodes) {
    const row = NOT_LAYERS.has(node.opType) ? undefined : byName.get(node.name);
    if (row && row.outputShape.length === 4) layers.push({ number: layers.length, node, shape: row.outputShape });
  }
  return layers;
}

/** The model's feature-map layers for an input of `inputShape` (N x C x H x W), numbered. */
export async function listFeatureMapLayers(model: string | Uint8Array, inputShape: readonly number[]): Promise<FeatureMapLayer[]> {
  const { bytes, source } = await modelBytes(model);
  const loaded = await loadOnnx(bytes, { fuse: false });
  return featureMapLayers(graphNodes(decodeModel(bytes, source)), loaded.summaryRows([...inputShape]));
}

/** A feature-map layer by number; the error says how many there are. */
export function selectLayer(layers: readonly FeatureMapLayer[], layer: number): FeatureMapLayer {
  if (!Number.isInteger(layer) || layer < 0 || layer >= layers.length) {
    throw new ParameterError(
      `layer number must be an integer from 0 to ${layers.length - 1} (the model has ${layers.length} layers whose output is a feature map; --layer list prints them), got ${layer}`,
    );
  }
  return layers[layer];
}

/** A node by index, node name or output value name; the error lists what exists. */
export function selectNode(nodes: readonly GraphNode[], layer: string | number): GraphNode {
  if (typeof layer === 'number') {
    if (!Number.isInteger(layer) || layer < 0 || layer >= nodes.length) {
      throw new ParameterError(`layer index must be an integer from 0 to ${nodes.length - 1} (the model has ${nodes.length} nodes), got ${layer}`);
    }
    return nodes[layer];
  }
  if (typeof layer !== 'string' || layer === '') throw new ParameterError(`layer must be a node name, an output name or an index, got ${JSON.stringify(layer)}`);
  const found = nodes.find((n) => n.name === layer) ?? nodes.find((n) => n.output === layer);
  if (!found) {
    const names = nodes.slice(0, 12).map((n) => `${n.index}: ${n.name} (${n.opType})`);
    throw new ParameterError(
      `layer '${layer}' is not a node or output name of this model; its nodes are ${names.join(', ')}${nodes.length > 12 ? `, ... (${nodes.length} in all)` : ''}`,
    );
  }
  return found;
}

/**
 * Runs the model on `input` and returns the chosen layer's output with its planner row. A number
 * picks among the feature-map layers (see the file comment); a string is a node or output name.
 */
export async function modelLayerMaps(model: string | Uint8Array, input: Tensor, layer: string | number): Promise<ModelLayerMaps> {
  if (!(input instanceof Tensor)) throw new ParameterError(`input must be a Tensor, got ${input === null ? 'null' : typeof input}`);
  const { bytes, source } = await modelBytes(model);
  const graph = decodeModel(bytes, source);
  const loaded = await loadOnnx(bytes, { fuse: false });
  if (loaded.inputNames.length !== 1) {
    throw new ParameterError(`the model has ${loaded.inputNames.length} inputs (${loaded.inputNames.join(', ')}); the visualiser feeds one image`);
  }
  const summary = summarize(loaded, input.shape);
  const layers = featureMapLayers(graphNodes(graph), summary.layers);
  const node = typeof layer === 'number' ? selectLayer(layers, layer).node : selectNode(graphNodes(graph), layer);
  if (node.output === '') throw new ParameterError(`layer '${node.name}' (${node.opType}) has no output to draw`);
  const outputs = await loaded.run({ [loaded.inputNames[0]]: input }, { outputs: [node.output] });
  const maps = outputs[node.output];
  if (maps.rank !== 4) {
    throw new ShapeError(
      `layer '${node.name}' (${node.opType}) outputs ${formatShape(maps.shape)}, not N x C x H x W feature maps; pick a layer before the flatten/classifier`,
    );
  }
  const layerNumber = layers.find((l) => l.node.index === node.index)?.number;
  return { node, layerNumber, input, maps, row: summary.layers.find((r) => r.name === node.name), summary };
}

/** The layer's maps as a grid, one normalised tile per channel, captioned with shape and receptive field. */
export async function composeModelLayer(result: ModelLayerMaps, options: FeatureMapOptions & { modelName?: string } = {}): Promise<Composition> {
  const { node, row, maps, input } = result;
  const field = row?.receptiveField
    ? `receptive field ${row.receptiveField[0]}x${row.receptiveField[1]}, jump ${row.jump?.[0]}x${row.jump?.[1]} on the ${input.shape[2]}x${input.shape[3]} input`
    : 'receptive field not defined for this layer';
  const title = [
    `${options.modelName ? `${options.modelName}: ` : ''}${layerLabel(result)} '${node.name}' (${node.opType}) -> ${formatShape(maps.shape)}`,
    field,
  ];
  const { modelName: _ignored, ...rest } = options;
  return composeFeatureMaps(maps, { ...rest, title: options.title ?? title });
}

/** 'layer 3' (its feature-map number), or 'node #12' for a node picked by name that is not one. */
export function layerLabel(result: Pick<ModelLayerMaps, 'node' | 'layerNumber'>): string {
  return result.layerNumber === undefined ? `node #${result.node.index}` : `layer ${result.layerNumber}`;
}
