/**
 * f32-maxpool, f32-avgpool and the global pools, on N x C x H x W planes.
 *
 * A window is separable into a row range and a column range, so each axis is planned once:
 * for every output index, which taps land on real input (those are read) and how many land
 * inside input + pads (the PyTorch countIncludePad divisor). Under ceilMode the last window
 * may hang past the padded input; those taps count for nothing, as in PyTorch.
 * Padded cells never take part in a max: a max is over real input cells only.
 */
import type { PoolGeometry, PoolKind } from '../planner/geometry.js';
import { ParameterError } from '../errors.js';
import { checkWindowGeometry, expectCount, expectLength } from './checks.js';

const OWNER = 'pool2d';

/** Per output index along one axis: the taps [first, end) on real input and the padded-window count. */
interface AxisPlan {
  readonly first: Int32Array;
  readonly end: Int32Array;
  readonly padded: Int32Array;
}

function planAxis(axis: 'height' | 'width', inSize: number, outSize: number, kernel: number, stride: number,
  dilation: number, padBefore: number, padAfter: number): AxisPlan {
  const first = new Int32Array(outSize);
  const end = new Int32Array(outSize);
  const padded = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const start = o * stride - padBefore; // input position of tap 0
    let realCount = 0;
    let paddedCount = 0;
    first[o] = kernel;
    for (let t = 0; t < kernel; t++) {
      const pos = start + t * dilation;
      if (pos >= -padBefore && pos < inSize + padAfter) paddedCount++;
      if (pos >= 0 && pos < inSize) {
        if (realCount === 0) first[o] = t;
        end[o] = t + 1;
        realCount++;
      }
    }
    if (realCount === 0) {
      throw new ParameterError(
        `${OWNER}: output ${axis === 'height' ? 'row' : 'column'} ${o}'s window (kernel ${kernel}, stride ${stride}, dilation ${dilation}, padding ${padBefore}/${padAfter}) covers only padding; padding must be small enough that every window overlaps the input (PyTorch requires padding <= kernelSize / 2)`,
      );
    }
    padded[o] = paddedCount;
  }
  return { first, end, padded };
}

/** Max or average pooling of a batch; checks buffer lengths against the geometry. */
export function pool2d(input: Float32Array, g: PoolGeometry, output: Float32Array): void {
  checkWindowGeometry(OWNER, g, true);
  if (g.kind !== 'max' && g.kind !== 'avg') {
    throw new ParameterError(`${OWNER}: geometry.kind must be 'max' or 'avg', got ${JSON.stringify(g.kind)}`);
  }
  expectCount(OWNER, 'geometry.batch', g.batch);
  expectCount(OWNER, 'geometry.channels', g.channels);
  const planes = g.batch * g.channels;
  const plane = g.inH * g.inW;
  const outPlane = g.outH * g.outW;
  expectLength(OWNER, 'input', input, planes * plane, `N x C x H x W = ${g.batch}x${g.channels}x${g.inH}x${g.inW}`);
  expectLength(OWNER, 'output', output, planes * outPlane, `N x C x outH x outW = ${g.batch}x${g.channels}x${g.outH}x${g.outW}`);
  const rows = planAxis('height', g.inH, g.outH, g.kernelH, g.strideH, g.dilationH, g.pads.top, g.pads.bottom);
  const cols = planAxis('width', g.inW, g.outW, g.kernelW, g.strideW, g.dilationW, g.pads.left, g.pads.right);
  if (g.kind === 'max') maxPool(input, g, rows, cols, planes, output);
  else avgPool(input, g, rows, cols, planes, output);
}

function maxPool(input: Float32Array, g: PoolGeometry, rows: AxisPlan, cols: AxisPlan, planes: number, output: Float32Array): void {
  const { inH, inW, outH, outW, strideH, strideW, dilationH, dilationW } = g;
  let out = 0;
  for (let p = 0; p < planes; p++) {
    const planeAt = p * inH * inW;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * strideH - g.pads.top;
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * strideW - g.pads.left;
        let best = -Infinity;
        for (let ty = rows.first[oy]; ty < rows.end[oy]; ty++) {
          const rowAt = planeAt + (y0 + ty * dilationH) * inW + x0;
          for (let tx = cols.first[ox]; tx < cols.end[ox]; tx++) {
            const v = input[rowAt + tx * dilationW];
            // A NaN wins and then sticks (NaN > x is false), so NaN propagates as in PyTorch.
            if (v > best || v !== v) best = v;
          }
        }
        output[out++] = best;
      }
    }
  }
}

function avgPool(input: Float32Array, g: PoolGeometry, rows: AxisPlan, cols: AxisPlan, planes: number, output: Float32Array): void {
  const { inH, inW, outH, outW, strideH, strideW, dilationH, dilationW } = g;
  let out = 0;
  for (let p = 0; p < planes; p++) {
    const planeAt = p * inH * inW;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * strideH - g.pads.top;
      const realRows = rows.end[oy] - rows.first[oy];
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * strideW - g.pads.left;
        let sum = 0;
        for (let ty = rows.first[oy]; ty < rows.end[oy]; ty++) {
          const rowAt = planeAt + (y0 + ty * dilationH) * inW + x0;
          for (let tx = cols.first[ox]; tx < cols.end[ox]; tx++) sum += input[rowAt + tx * dilationW];
        }
        const divisor = g.countIncludePad ? rows.padded[oy] * cols.padded[ox] : realRows * (cols.end[ox] - cols.first[ox]);
        output[out++] = sum / divisor;
      }
    }
  }
}

/** Reduces each of `planes` planes of `plane` values to its mean or max. */
export function globalPool2d(input: Float32Array, kind: PoolKind, planes: number, plane: number, output: Float32Array): void {
  const owner = 'globalPool2d';
  if (kind !== 'max' && kind !== 'avg') throw new ParameterError(`${owner}: kind must be 'max' or 'avg', got ${JSON.stringify(kind)}`);
  expectCount(owner, 'planes', planes);
  expectCount(owner, 'plane', plane, 1);
  expectLength(owner, 'input', input, planes * plane, `planes x plane = ${planes}x${plane}`);
  expectLength(owner, 'output', output, planes, `planes = ${planes}`);
  for (let p = 0; p < planes; p++) {
    const start = p * plane;
    const end = start + plane;
    if (kind === 'max') {
      let best = -Infinity;
      for (let i = start; i < end; i++) if (input[i] > best || input[i] !== input[i]) best = input[i];
      output[p] = best;
    } else {
      let sum = 0;
      for (let i = start; i < end; i++) sum += input[i];
      output[p] = sum / plane;
    }
  }
}
