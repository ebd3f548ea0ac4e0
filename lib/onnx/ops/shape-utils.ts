/** Small shape helpers shared by the operator implementations. */
import { INPUT_FIELD } from '../../planner/geometry.js';
import { OnnxError } from '../errors.js';
import type { FieldInfo, PlanValue } from './types.js';

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export { stridesOf } from '../../kernels/broadcast.js';

/** Resolves a possibly negative axis against a rank, or fails naming the node. */
export function normalizeAxis(axis: number, rank: number, owner: string, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new OnnxError(`${owner}: ${what} ${axis} is outside [${-rank}, ${rank - 1}] for a rank-${rank} input`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** The input is required here; an omitted optional input is an OnnxError. */
export function required(inputs: ReadonlyArray<PlanValue | null>, index: number, owner: string, what: string): PlanValue {
  const value = inputs[index];
  if (!value) throw new OnnxError(`${owner}: input ${index} (${what}) is required but missing`);
  return value;
}

/** A field for an image-like value; spatial structure is assumed for rank-4 NCHW values only. */
export function inputField(shape: readonly number[]): FieldInfo | null {
  return shape.length === 4 ? INPUT_FIELD : null;
}

/** The field of a value computed element-wise from several: the widest of them. */
export function mergeFields(fields: ReadonlyArray<FieldInfo | null>): FieldInfo | null {
  let merged: FieldInfo | null = null;
  for (const f of fields) {
    if (!f) continue;
    merged = merged
      ? {
          size: [Math.max(merged.size[0], f.size[0]), Math.max(merged.size[1], f.size[1])],
          jump: [Math.max(merged.jump[0], f.jump[0]), Math.max(merged.jump[1], f.jump[1])],
        }
      : f;
  }
  return merged;
}

/** A runtime value (not a constant) in its plan form. */
export function runtimeValue(shape: readonly number[], field: FieldInfo | null): PlanValue {
  return { shape: [...shape], field };
}

/**
 * Integers from an input the op needs before the run (split sizes, axes ...): undefined when the
 * optional input is omitted, an OnnxError naming the node when it is computed from tensor data.
 */
export function constantIntsOf(value: PlanValue | null, owner: string, what: string): number[] | undefined {
  if (!value) return undefined;
  if (!value.constant) {
    throw new OnnxError(`${owner}: ${what} must be known before the run (an initializer, a Constant or a shape computation), but it is computed from tensor data`);
  }
  return Array.from(value.constant.data);
}

