/**
 * The summary: what a network costs before it runs. Per layer: output shape, parameters,
 * multiply-adds, receptive field and jump, activation memory; plus totals and warnings. It
 * knows layers (and, through Summarizable, anything else that yields rows, like a loaded ONNX
 * model), so it stands above them; the planner it reads from is the ground floor.
 */
import { ParameterError } from '../errors.js';
import { INPUT_FIELD } from '../planner/geometry.js';
import type { LayerSummary, Summarizable } from '../planner/summary-types.js';
import { formatShape, shapeSize } from '../tensor.js';
import { Layer } from './layer.js';

export type { LayerSummary, Summarizable } from '../planner/summary-types.js';

export interface ModelSummary {
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly layers: readonly LayerSummary[];
  readonly totals: {
    readonly params: number;
    /** Bytes of float32 weights and biases. */
    readonly paramBytes: number;
    readonly multiplyAdds: number;
    readonly inputBytes: number;
    /** Sum of every layer's output activation (what a naive runtime keeps alive). */
    readonly activationBytes: number;
    /**
     * Largest input + output pair that must be alive at once when layers run one after another
     * (a lower bound for any runtime that keeps a layer's input until its output is written).
     */
    readonly peakActivationBytes: number;
  };
  /** Advice, e.g. a stride that does not divide the padded input exactly. */
  readonly warnings: readonly string[];
}

/** Summarises a layer, a Sequential or a loaded ONNX model for one input shape (N x C x H x W). */
export function summarize(model: Layer | Summarizable, inputShape: readonly number[]): ModelSummary {
  shapeSize(inputShape, 'inputShape');
  let layers: LayerSummary[];
  let warnings: string[] = [];
  if (model instanceof Layer) {
    const plan = model.plan(inputShape, INPUT_FIELD);
    layers = plan.rows;
    warnings = plan.warnings;
  } else if (model && typeof (model as Summarizable).summaryRows === 'function') {
    layers = model.summaryRows(inputShape);
  } else {
    throw new ParameterError('summarize: model must be a Layer (e.g. a Sequential) or a loaded ONNX model');
  }
  const inputBytes = shapeSize(inputShape) * 4;
  let peak = 0;
  let previous = inputBytes;
  for (const row of layers) {
    peak = Math.max(peak, previous + row.activationBytes);
    previous = row.activationBytes;
  }
  // A graph with branches knows its own peak from its memory plan; the chain estimate above
  // only describes layers that run one after another.
  if (!(model instanceof Layer) && typeof model.peakActivationBytes === 'function') {
    peak = model.peakActivationBytes(inputShape);
  }
  const params = layers.reduce((s, r) => s + r.params, 0);
  return {
    inputShape: [...inputShape],
    outputShape: layers.length ? [...layers[layers.length - 1].outputShape] : [...inputShape],
    layers,
    totals: {
      params,
      paramBytes: params * 4,
      multiplyAdds: layers.reduce((s, r) => s + r.multiplyAdds, 0),
      inputBytes,
      activationBytes: layers.reduce((s, r) => s + r.activationBytes, 0),
      peakActivationBytes: peak,
    },
    warnings,
  };
}

/** Renders a summary as an aligned text table. */
export function formatSummary(summary: ModelSummary): string {
  if (summary === null || typeof summary !== 'object' || !Array.isArray(summary.layers) || !summary.totals) {
    throw new ParameterError('formatSummary: summary must be what summarize(model, inputShape) returned');
  }
  const header = ['Layer', 'Type', 'Output shape', 'Params', 'Mult-adds', 'RF', 'Jump', 'Activations'];
  const body = summary.layers.map((r) => [
    r.name,
    r.type,
    formatShape(r.outputShape),
    formatCount(r.params),
    formatCount(r.multiplyAdds),
    r.receptiveField ? pairText(r.receptiveField) : '-',
    r.jump ? pairText(r.jump) : '-',
    formatBytes(r.activationBytes),
  ]);
  const numeric = new Set([3, 4, 5, 6, 7]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  const rule = '-'.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
  const t = summary.totals;
  const lines = [
    `Input: ${formatShape(summary.inputShape)}`,
    rule,
    line(header),
    rule,
    ...body.map(line),
    rule,
    `Total params:        ${formatCount(t.params)} (${formatBytes(t.paramBytes)})`,
    `Total mult-adds:     ${formatCount(t.multiplyAdds)} (${(t.multiplyAdds / 1e6).toFixed(2)} M)`,
    `Input size:          ${formatBytes(t.inputBytes)}`,
    `Activations (sum):   ${formatBytes(t.activationBytes)}`,
    `Activations (peak):  ${formatBytes(t.peakActivationBytes)}`,
    `Output: ${formatShape(summary.outputShape)}`,
  ];
  if (summary.warnings.length) lines.push('Warnings:', ...summary.warnings.map((w) => `  - ${w}`));
  return lines.join('\n');
}

function pairText(pair: readonly [number, number]): string {
  return pair[0] === pair[1] ? String(pair[0]) : `${pair[0]}x${pair[1]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}
