/**
 * loadOnnx: bytes -> decoded graph -> checked ops -> constants folded -> fused -> built (weights
 * packed by the backend) -> an OnnxModel. A model whose input shapes are declared is also
 * planned once at load (symbolic dims taken as 1) so shape errors surface here, not at run.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Backend, BackendName } from '../backends/backend.js';
import { activeBackend, backendByName } from '../backends/index.js';
import { ParameterError } from '../errors.js';
import { checkOptionNames, optionalBoolean } from '../options.js';
import { describeNode } from './attributes.js';
import type { ConstTensor } from './constant.js';
import { decodeModel, type OnnxGraph, type OnnxNode } from './decode.js';
import { OnnxError } from './errors.js';
import { fuseGraph } from './fusion/index.js';
import { fuseLayerNormPatterns } from './fusion-layernorm.js';
import { CHANNEL_LAYER_NORM, fuseChannelsLastBlocks } from './fusion-channels-last.js';
import { resolveLimits, type LoadLimits } from './limits.js';
import { OnnxModel } from './model.js';
import { ModelKernels } from './model-kernels.js';
import { DATA_TYPE_NAMES, DataType } from './schema.js';
import { buildBatchNormAffine } from './ops/channel-affine.js';
import { buildConv, compactConvBytes } from './ops/conv.js';
import { buildGemm, buildMatMul } from './ops/linear.js';
import { buildPool } from './ops/pool.js';
import { buildSqueezeExcite } from './ops/squeeze-excite.js';
import { builderFor, FOLDABLE_OPS, SUPPORTED_OPS } from './ops/registry.js';
import type { BuildContext, CompiledOp, PlanValue } from './ops/types.js';

/** The opsets whose operator forms convnode implements. */
export const MIN_OPSET = 7;
export const MAX_OPSET = 21;

export interface LoadOnnxOptions {
  /** The backend the model's kernels are prepared on. Default: the active backend (getBackend()). */
  readonly backend?: BackendName | Backend;
  /**
   * Fuse at load (lib/onnx/fusion/): BatchNormalization, residual Adds and activations into convs
   * and Gemms, a standalone BatchNormalization with its activation, squeeze-and-excitation blocks,
   * Pads into convs and pools; and Concats written in place by their producers (batch 1). false
   * runs every node on its own, for comparison. Default true.
   */
  readonly fuse?: boolean;
  /**
   * How many `run` calls per input shape may hold an activation arena at once; more wait their
   * turn, so a burst of requests cannot multiply memory. Default 4.
   */
  readonly maxConcurrentRuns?: number;
  /**
   * Bytes of packed conv weights the model may keep (default: no limit). Every conv keeps at
   * least its compact form (about its filters' size); the bytes left over go, in model order, to
   * convs whose faster form costs more (Winograd F(2x2) keeps 16/9 of the filters, F(4x4) 36/9),
   * each taking the fastest form that still fits. See lib/planner/conv-plan.ts.
   */
  readonly maxPackedWeightBytes?: number;
  /** Size limits checked before anything is allocated (see LoadLimits for the defaults). */
  readonly limits?: LoadLimits;
  /**
   * Value names fusion must leave observable, so run(feeds, { outputs }) can fetch them (an
   * embedding before a fused activation, say). Default none.
   */
  readonly keep?: readonly string[];
}

const LOAD_OPTIONS = ['backend', 'fuse', 'maxConcurrentRuns', 'limits', 'keep', 'maxPackedWeightBytes'] as const satisfies ReadonlyArray<keyof LoadOnnxOptions>;

export async function loadOnnx(pathOrBytes: string | Uint8Array, options: LoadOnnxOptions = {}): Promise<OnnxModel> {
  if (typeof pathOrBytes === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(pathOrBytes);
    } catch (error) {
      throw new OnnxError(`cannot read ONNX model '${pathOrBytes}': ${(error as Error).message}`);
    }
    return buildPacked(bytes, `'${pathOrBytes}'`, options, true);
  }
  return buildPacked(checkBytes(pathOrBytes), 'model bytes', options, false);
}

/**
 * The async load: the weights are packed off the JS thread (on the native backend), so the
 * event loop keeps running while a large model loads; the model is returned once they all are.
 */
async function buildPacked(bytes: Uint8Array, source: string, options: LoadOnnxOptions, ownsBytes: boolean): Promise<OnnxModel> {
  const kernels = new ModelKernels(true);
  let built: BuiltModel;
  try {
    built = buildModel(bytes, source, options, kernels, ownsBytes);
  } catch (error) {
    kernels.dispose(); // what was prepared before the failure is released now, not at GC
    throw error;
  }
  await kernels.loaded();
  kernels.settle(built.constants);
  return built.model;
}

export function loadOnnxSync(pathOrBytes: string | Uint8Array, options: LoadOnnxOptions = {}): OnnxModel {
  if (typeof pathOrBytes === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(pathOrBytes);
    } catch (error) {
      throw new OnnxError(`cannot read ONNX model '${pathOrBytes}': ${(error as Error).message}`);
    }
    return buildInline(bytes, `'${pathOrBytes}'`, options, true);
  }
  return buildInline(checkBytes(pathOrBytes), 'model bytes', options, false);
}

function buildInline(bytes: Uint8Array, source: string, options: LoadOnnxOptions, ownsBytes: boolean): OnnxModel {
  const kernels = new ModelKernels(false);
  try {
    const built = buildModel(bytes, source, options, kernels, ownsBytes);
    kernels.settle(built.constants);
    return built.model;
  } catch (error) {
    kernels.dispose();
    throw error;
  }
}

function checkBytes(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new ParameterError(`loadOnnx: pathOrBytes must be a file path or a Uint8Array, got ${value === null ? 'null' : typeof value}`);
  }
  return value;
}

function resolveBackend(choice: LoadOnnxOptions['backend']): Backend {
  if (choice === undefined) return activeBackend();
  if (typeof choice === 'string') return backendByName(choice, 'loadOnnx: options.backend');
  if (choice && typeof choice === 'object' && typeof choice.prepareConv2d === 'function') return choice;
  throw new ParameterError(`loadOnnx: options.backend must be 'js', 'native', 'wasm' or a Backend, got ${JSON.stringify(choice)}`);
}

interface BuiltModel {
  readonly model: OnnxModel;
  /** The constants the model keeps: weight arrays among them are never freed. */
  readonly constants: ReadonlyMap<string, ConstTensor>;
}

/**
 * ownsBytes: `bytes` were read from the model's file here, so nothing else can read them once
 * decoded (the decoder copies every tensor out): they are freed then, not at a later GC.
 */
function buildModel(bytes: Uint8Array, source: string, options: LoadOnnxOptions, kernels: ModelKernels, ownsBytes: boolean): BuiltModel {
  if (options === null || typeof options !== 'object') {
    throw new ParameterError(`loadOnnx: options must be an object, got ${String(options)}`);
  }
  checkOptionNames(options, LOAD_OPTIONS, 'loadOnnx');
  const modelBackend = resolveBackend(options.backend);
  // The ops prepare their kernels through this one, so the model can release them all.
  const backend = kernels.wrap(modelBackend);
  const maxConcurrentRuns = options.maxConcurrentRuns ?? 4;
  if (!Number.isInteger(maxConcurrentRuns) || maxConcurrentRuns < 1) {
    throw new ParameterError(`loadOnnx: options.maxConcurrentRuns must be a positive integer, got ${String(options.maxConcurrentRuns)}`);
  }
  const limits = resolveLimits(options.limits);
  // Initializers are checked against the limits from their declared dims, before decoding.
  const graph = decodeModel(bytes, source, limits);
  if (ownsBytes) backend.freeArray?.(bytes);
  checkOpsetAndInputs(graph, source);
  checkDomains(graph, source);
  checkDataflow(graph, source);
  const constants = new Map<string, ConstTensor>(graph.initializers);
  const fuse = optionalBoolean(options.fuse, true, 'fuse', 'loadOnnx');
  const observed = new Set([...graph.outputs.map((o) => o.name), ...keptValues(options.keep)]);
  const layerNorms = fuseLayerNormPatterns({ nodes: foldConstants(graph, constants, backend), graphOutputs: observed, constantOf: (n) => constants.get(n) }, fuse);
  const nodes = fuseChannelsLastBlocks({ nodes: layerNorms, graphOutputs: observed, constants }, fuse);
  const constantOf = (name: string) => constants.get(name);
  const items = fuseGraph({ nodes, graphOutputs: observed, opset: graph.opset, constantOf }, fuse);
  // Checked after fusion: a node absorbed into a fused form (the Erf of an exported GELU) needs no kernel of its own.
  checkOperators(items.map((item) => item.node), graph.opset, source);
  const limit = options.maxPackedWeightBytes;
  if (limit !== undefined && !(typeof limit === 'number' && Number.isFinite(limit) && limit >= 0)) {
    throw new ParameterError(`loadOnnx: options.maxPackedWeightBytes must be a non-negative number of bytes, got ${String(limit)}`);
  }
  // The bytes beyond every conv's compact form that faster forms may spend.
  const weightBudget = limit === undefined ? undefined : {
    extraBytes: limit - items.reduce((sum, item) => sum + (item.kind === 'conv' ? compactConvBytes(item.node, constantOf) : 0), 0),
  };
  const packed: string[] = [];
  const ops: CompiledOp[] = items.map((item) => {
    const ctx: BuildContext = {
      node: item.node, opset: graph.opset, backend, constantOf, limits, weightBudget, unreadWeights: (...arrays) => kernels.unreadWeights(...arrays),
      packedInitializers: (...names) => names.forEach((name) => name && packed.push(name)),
      keepsWeights: (...arrays) => kernels.keepsWeights(...arrays),
    };
    switch (item.kind) {
      case 'conv':
        return buildConv(ctx, item.fusion);
      case 'linear':
        return item.node.opType === 'Gemm' ? buildGemm(ctx, item.fusion) : buildMatMul(ctx, item.fusion);
      case 'affine':
        return buildBatchNormAffine(ctx, item.fusion);
      case 'squeezeExcite':
        return buildSqueezeExcite(ctx, item.fusion);
      case 'pool':
        return buildPool(ctx, item.pad);
      case 'plain':
        return builderFor(item.node.opType)!(ctx);
    }
  });
  // The linear ops' arrays are freed once packed (kernels.settle), unless an op reads them again.
  kernels.unreadWeights(...dropPackedInitializers(items, packed, nodes, [...observed], constants));
  const model = new OnnxModel({
    opset: graph.opset, producer: graph.producer, backend: modelBackend, kernels, ops, constants, maxConcurrentRuns, limits, concatInPlace: fuse, inputs: graph.inputs, outputs: graph.outputs,
  });
  // Plan once now when only the batch may vary, so a model that cannot run fails at load.
  const declared = model.inputShapes;
  if (declared.every((shape) => shape && shape.every((d, axis) => typeof d === 'number' ? d > 0 : axis === 0))) {
    const shapes = Object.fromEntries(model.inputNames.map((name, i) => [name, declared[i]!.map((d) => (typeof d === 'number' ? d : 1))]));
    model.outputShapes(shapes);
  }
  return { model, constants };
}

function keptValues(keep: unknown): string[] {
  if (keep === undefined) return [];
  if (!Array.isArray(keep) || keep.some((n) => typeof n !== 'string')) {
    throw new ParameterError(`loadOnnx: options.keep must be an array of value names, got ${JSON.stringify(keep)}`);
  }
  return keep;
}

/**
 * Conv filters (and the statistics of a BatchNormalization folded into them), and the weights
 * the Gemm / MatMul / squeeze-excitation ops named as packed, were read by their builders and
 * live on packed in the prepared kernels: the model keeps no second copy. Only initializers no
 * other node reads are dropped.
 */
function dropPackedInitializers(
  items: ReturnType<typeof fuseGraph>, packed: readonly string[], nodes: readonly OnnxNode[], graphOutputs: readonly string[],
  constants: Map<string, ConstTensor>,
): Float32Array[] {
  const uses = new Map<string, number>();
  for (const node of nodes) for (const name of node.inputs) uses.set(name, (uses.get(name) ?? 0) + 1);
  for (const name of graphOutputs) uses.set(name, (uses.get(name) ?? 0) + 1);
  const drop = (name: string | undefined): Float32Array | undefined => {
    const constant = name && uses.get(name) === 1 ? constants.get(name) : undefined;
    if (!constant) return undefined;
    constants.delete(name!);
    return constant.data instanceof Float32Array ? constant.data : undefined;
  };
  for (const item of items) {
    if (item.kind !== 'conv') continue;
    // Not returned: a conv may prepare its kernel at its first plan, after the load settles; it
    // gives its arrays up itself (ctx.unreadWeights) once they are packed.
    for (const name of [item.node.inputs[1], item.node.inputs[2], ...(item.fusion.batchNorm?.inputs.slice(1) ?? [])]) drop(name);
  }
  // Gemm / MatMul / gate weights were packed at build: unread from now on.
  return packed.map(drop).filter((data): data is Float32Array => data !== undefined);
}

/** The opset must be one convnode implements and every graph input a float tensor. */
function checkOpsetAndInputs(graph: OnnxGraph, source: string): void {
  if (graph.opset < MIN_OPSET || graph.opset > MAX_OPSET) {
    throw new OnnxError(`${source}: the model uses ONNX opset ${graph.opset}; convnode supports opsets ${MIN_OPSET} to ${MAX_OPSET}`);
  }
  for (const input of graph.inputs) {
    if (input.elemType !== DataType.FLOAT && input.elemType !== 0) {
      throw new OnnxError(
        `${source}: input '${input.name}' has element type ${DATA_TYPE_NAMES[input.elemType] ?? input.elemType}; convnode feeds float32 tensors only`,
      );
    }
  }
}

/** Every node must be in the default domain; the error lists them all. */
function checkDomains(graph: OnnxGraph, source: string): void {
  // The channel LayerNorm op type is convnode's own, made by fusion: a model cannot name it.
  const foreign = graph.nodes.filter((n) => (n.domain !== '' && n.domain !== 'ai.onnx') || n.opType === CHANNEL_LAYER_NORM);
  if (foreign.length > 0) throw unsupportedOperators(foreign, graph.opset, source);
}

/** Every node left to run on its own must be an op convnode implements; the error lists them all. */
function checkOperators(nodes: readonly OnnxNode[], opset: number, source: string): void {
  const unsupported = nodes.filter((n) => !builderFor(n.opType));
  if (unsupported.length > 0) throw unsupportedOperators(unsupported, opset, source);
}

function unsupportedOperators(unsupported: readonly OnnxNode[], opset: number, source: string): OnnxError {
  const described = unsupported
    .slice(0, 5)
    .map((n) => `${n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.` : ''}${n.opType} (node '${n.name}')`)
    .join(', ');
  const more = unsupported.length > 5 ? ` and ${unsupported.length - 5} more` : '';
  return new OnnxError(
    `${source}: unsupported operator ${described}${more} at opset ${opset}; convnode supports: ${SUPPORTED_OPS.join(', ')}`,
  );
}

/** Each node may only read graph inputs, initializers and outputs of earlier nodes. */
function checkDataflow(graph: OnnxGraph, source: string): void {
  const known = new Set<string>([...graph.inputs.map((v) => v.name), ...graph.initializers.keys()]);
  for (const node of graph.nodes) {
    for (const name of node.inputs) {
      if (name !== '' && !known.has(name)) {
        throw new OnnxError(
          `${source}: ${describeNode(node)} reads '${name}', which is not a graph input, an initializer or the output of an earlier node (missing initializer?)`,
        );
      }
    }
    for (const name of node.outputs) if (name !== '') known.add(name);
  }
  for (const output of graph.outputs) {
    if (!known.has(output.name)) throw new OnnxError(`${source}: graph output '${output.name}' is not produced by any node`);
  }
}

/**
 * Evaluates, once, every node whose inputs are all constants (Constant nodes, arithmetic on
 * initializers, shape chains that never touch the input); returns the nodes that remain.
 */
function foldConstants(graph: OnnxGraph, constants: Map<string, ConstTensor>, backend: Backend): OnnxNode[] {
  const remaining: OnnxNode[] = [];
  for (const node of graph.nodes) {
    const inputs = node.inputs.filter((n) => n !== '');
    // A folded value that is also a graph output stays a constant (its readers, a conv's bias
    // say, need it as one) and the plan copies it out, as onnxruntime returns it.
    const foldable = FOLDABLE_OPS.has(node.opType) && inputs.every((n) => constants.has(n));
    if (!foldable) {
      remaining.push(node);
      continue;
    }
    const op = builderFor(node.opType)!({ node, opset: graph.opset, backend, constantOf: (n) => constants.get(n) });
    const planned = op.plan(op.inputs.map((name): PlanValue | null => {
      const c = name === '' ? undefined : constants.get(name);
      return c ? { shape: c.dims, constant: c, field: null } : null;
    }));
    if (planned.execution || planned.outputs.some((o) => !o.constant)) {
      remaining.push(node);
      continue;
    }
    op.outputs.forEach((name, i) => constants.set(name, planned.outputs[i].constant!));
  }
  return remaining;
}
