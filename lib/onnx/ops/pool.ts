/** MaxPool, AveragePool and the global pools, run by the backend's pooling kernels. */
import { expectNCHW, nextReceptiveField, planWindow, type PoolGeometry, type PoolKind } from '../../planner/geometry.js';
import { ShapeError } from '../../errors.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { OnnxError } from '../errors.js';
import { numel, required, runtimeValue } from './shape-utils.js';
import { nodeBasics, type BuildContext, type CompiledOp } from './types.js';
import { kernelShapeOf, windowSpecOf, withExtraPads } from './window.js';
import type { PoolPadFusion } from '../fusion/pad-pool.js';

/**
 * A MaxPool or AveragePool; with `padFusion`, the Pad in front of it (see
 * lib/onnx/fusion/pad-pool.ts for the forms that may be fused) adds its sides to the pool's pads
 * and, for an average, its zeros count in the divisor.
 */
export function buildPool(ctx: BuildContext, padFusion?: PoolPadFusion): CompiledOp {
  const { node, backend } = ctx;
  const owner = describeNode(node);
  const attrs = new NodeAttributes(node);
  const kind: PoolKind = node.opType === 'MaxPool' ? 'max' : 'avg';
  if (node.outputs.length > 1 && node.outputs[1] !== '') {
    throw new OnnxError(`${owner}: the Indices output is not supported`);
  }
  attrs.rejectUnless('storage_order', (v) => v.value === 0, 'only row-major storage_order 0');
  const own = windowSpecOf(node, kernelShapeOf(node), { ceilMode: attrs.int('ceil_mode', 0) === 1 });
  const spec = padFusion ? { ...own, padding: withExtraPads(own.padding, padFusion.pads) } : own;
  const countIncludePad = padFusion !== undefined || attrs.int('count_include_pad', 0) === 1;
  const basics = nodeBasics(node, 1, 1);
  return {
    ...basics,
    ...(padFusion ? { type: `Pad+${node.opType}`, inputs: [padFusion.node.inputs[0]] } : {}),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'X');
      const [batch, channels, inH, inW] = expectNCHW(owner, x.shape);
      const window = planWindow(owner, inH, inW, spec);
      const geometry: PoolGeometry = { ...window, batch, channels, kind, countIncludePad };
      return {
        outputs: [runtimeValue([batch, channels, window.outH, window.outW], nextReceptiveField(x.field, spec.kernel, spec.dilation, spec.stride))],
        multiplyAdds: 0,
        execution: {
          runSync: (ins, outs) => backend.pool2dSync(ins[0], geometry, outs[0]),
          run: (ins, outs) => backend.pool2d(ins[0], geometry, outs[0]),
          queuesOneCall: true,
        },
      };
    },
  };
}

export function buildGlobalPool(ctx: BuildContext): CompiledOp {
  const { node, backend } = ctx;
  const owner = describeNode(node);
  const kind: PoolKind = node.opType === 'GlobalMaxPool' ? 'max' : 'avg';
  return {
    ...nodeBasics(node),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'X');
      if (x.shape.length < 3) {
        throw new ShapeError(`${owner}: expected input of shape N x C x H x W, got [${x.shape.join(', ')}] (rank ${x.shape.length})`);
      }
      const planes = x.shape[0] * x.shape[1];
      const plane = numel(x.shape.slice(2));
      const shape = x.shape.map((d, i) => (i < 2 ? d : 1));
      return {
        outputs: [runtimeValue(shape, null)],
        multiplyAdds: 0,
        execution: {
          runSync: (ins, outs) => backend.globalPool2dSync(ins[0], kind, planes, plane, outs[0]),
          run: (ins, outs) => backend.globalPool2d(ins[0], kind, planes, plane, outs[0]),
          queuesOneCall: true,
        },
      };
    },
  };
}
