/**
 * ScatterND (opset 11; reduction from 16, max/min from 18): a copy of `data` in which the slices
 * addressed by the last axis of `indices` are replaced by (or combined with) `updates`.
 * torchvision's swin_t builds its shifted-window attention mask this way (mask[h, w] = count on
 * zeros), so the indices are known before the run: they must be. Data and updates may be runtime
 * tensors; with all three constant the op folds.
 */
import { ShapeError } from '../../errors.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { floatConst, intConst } from '../constant.js';
import { OnnxError } from '../errors.js';
import { constantIntsOf, numel, required, runtimeValue, stridesOf } from './shape-utils.js';
import { nodeBasics, type BuildContext, type CompiledOp } from './types.js';

const REDUCTIONS: Record<string, (old: number, update: number) => number> = {
  none: (_old, update) => update,
  add: (old, update) => old + update,
  mul: (old, update) => old * update,
  max: (old, update) => Math.max(old, update),
  min: (old, update) => Math.min(old, update),
};

export function buildScatterND(ctx: BuildContext): CompiledOp {
  const { node, opset } = ctx;
  const owner = describeNode(node);
  const reduction = new NodeAttributes(node).string('reduction', 'none');
  const allowed = opset >= 18 ? ['none', 'add', 'mul', 'max', 'min'] : opset >= 16 ? ['none', 'add', 'mul'] : ['none'];
  if (!allowed.includes(reduction)) {
    throw new OnnxError(`${owner}: reduction '${reduction}' is not one of ${allowed.join(', ')} at opset ${opset}`);
  }
  const combine = REDUCTIONS[reduction];
  return {
    ...nodeBasics(node, 3, 1),
    plan(inputs) {
      const data = required(inputs, 0, owner, 'data');
      const indicesValue = required(inputs, 1, owner, 'indices');
      const updates = required(inputs, 2, owner, 'updates');
      const indices = constantIntsOf(indicesValue, owner, 'indices')!;
      const iShape = indicesValue.shape;
      const k = iShape[iShape.length - 1];
      if (iShape.length < 1 || k < 1 || k > data.shape.length) {
        throw new ShapeError(`${owner}: indices' last axis (${k}) must be between 1 and the data's rank ${data.shape.length}`);
      }
      const wantUpdates = [...iShape.slice(0, -1), ...data.shape.slice(k)];
      if (wantUpdates.length !== updates.shape.length || wantUpdates.some((d, i) => d !== updates.shape[i])) {
        throw new ShapeError(`${owner}: updates have shape [${updates.shape.join(', ')}], indices and data need [${wantUpdates.join(', ')}]`);
      }
      const sliceLength = numel(data.shape.slice(k));
      const dataStrides = stridesOf(data.shape);
      const count = numel(iShape.slice(0, -1));
      // The element offset of each addressed slice, checked once per plan.
      const offsets = new Int32Array(count);
      for (let t = 0; t < count; t++) {
        let offset = 0;
        for (let a = 0; a < k; a++) {
          let index = indices[t * k + a];
          if (index < 0) index += data.shape[a];
          if (!Number.isInteger(index) || index < 0 || index >= data.shape[a]) {
            throw new ShapeError(`${owner}: index ${indices[t * k + a]} on axis ${a} is outside [${-data.shape[a]}, ${data.shape[a] - 1}]`);
          }
          offset += index * dataStrides[a];
        }
        offsets[t] = offset;
      }
      const scatter = (src: ArrayLike<number>, upd: ArrayLike<number>, out: Float32Array | number[]) => {
        for (let i = 0; i < src.length; i++) out[i] = src[i];
        for (let t = 0; t < count; t++) {
          const at = offsets[t];
          for (let j = 0; j < sliceLength; j++) out[at + j] = combine(out[at + j], upd[t * sliceLength + j]);
        }
        return out;
      };
      if (data.constant && updates.constant) {
        const integer = data.constant.kind === 'int' && updates.constant.kind === 'int';
        const total = numel(data.shape);
        const constant = integer
          ? intConst(data.shape, scatter(data.constant.data, updates.constant.data, new Array<number>(total).fill(0)) as number[])
          : floatConst(data.shape, scatter(data.constant.data, updates.constant.data, new Float32Array(total)) as Float32Array);
        return { outputs: [{ shape: data.shape, constant, field: null }], multiplyAdds: 0 };
      }
      return {
        outputs: [runtimeValue(data.shape, null)],
        multiplyAdds: 0,
        execution: { runSync: (ins, outs) => void scatter(ins[0], ins[2], outs[0]) },
      };
    },
  };
}
