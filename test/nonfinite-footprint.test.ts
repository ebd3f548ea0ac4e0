/**
 * A non-finite input value (NaN, +Inf, -Inf) may only reach the outputs whose window covers it:
 * its footprint, computed here from the lecture's formula, not from the planner. Swept over a
 * value at each corner, edge and the centre, for every conv form (dense direct / im2col, 1x1,
 * Winograd-sized 3x3, grouped, dilated, strided, depthwise) and every pool, on the js backend
 * and on the native backend at each ISA this CPU has.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../lib/backends/backend.js';
import { backendByName } from '../lib/backends/index.js';
import { availableIsas, getIsa, loadNativeBackend, setIsa, type IsaName } from '../lib/backends/native.js';
import type { ConvGeometry } from '../lib/planner/geometry.js';
import type { PoolGeometry } from '../lib/backends/backend.js';

interface Window {
  /** Input height and width (default SIZE). */
  readonly size?: number;
  readonly k: number;
  readonly stride: number;
  readonly dilation: number;
  readonly pad: number;
}

const SIZE = 10;

function outSize(w: Window): number {
  return Math.floor(((w.size ?? SIZE) - (w.dilation * (w.k - 1) + 1) + 2 * w.pad) / w.stride) + 1;
}

function windowFields(w: Window) {
  const out = outSize(w);
  const size = w.size ?? SIZE;
  return {
    inH: size, inW: size, kernelH: w.k, kernelW: w.k, strideH: w.stride, strideW: w.stride, dilationH: w.dilation, dilationW: w.dilation,
    pads: { top: w.pad, left: w.pad, bottom: w.pad, right: w.pad }, outH: out, outW: out,
    exact: (size - (w.dilation * (w.k - 1) + 1) + 2 * w.pad) % w.stride === 0,
  };
}

/** Output positions (oy, ox) one of whose taps is input (y, x). */
function footprint(w: Window, y: number, x: number): string[] {
  const out = outSize(w);
  const hits = new Set<string>();
  for (let oy = 0; oy < out; oy++)
    for (let ox = 0; ox < out; ox++)
      for (let ky = 0; ky < w.k; ky++)
        for (let kx = 0; kx < w.k; kx++)
          if (oy * w.stride + ky * w.dilation - w.pad === y && ox * w.stride + kx * w.dilation - w.pad === x) hits.add(`${oy},${ox}`);
  return [...hits].sort();
}

/** Corners, edges and inner points (inner points of Winograd tiles of every size too). */
function positions(size = SIZE): Array<[number, number]> {
  const last = size - 1;
  return [[0, 0], [0, last], [last, 0], [last, last], [0, 5], [5, 0], [last, 4], [4, last], [5, 5], [1, 2], [6, 9], [9, 6]];
}
const VALUES = [Number.NaN, Infinity, -Infinity];

interface ConvForm extends Window {
  readonly name: string;
  readonly cin: number;
  readonly cout: number;
  readonly groups: number;
}

const CONVS: ConvForm[] = [
  { name: '3x3 s1 p1, 16->16 (Winograd-sized)', k: 3, stride: 1, dilation: 1, pad: 1, cin: 16, cout: 16, groups: 1 },
  { name: '3x3 s1 p1, 32->32 @24 (large-tile Winograd-sized)', size: 24, k: 3, stride: 1, dilation: 1, pad: 1, cin: 32, cout: 32, groups: 1 },
  { name: '3x3 s2 p1, 8->12 (im2col)', k: 3, stride: 2, dilation: 1, pad: 1, cin: 8, cout: 12, groups: 1 },
  { name: '1x1, 8->6', k: 1, stride: 1, dilation: 1, pad: 0, cin: 8, cout: 6, groups: 1 },
  { name: '3x3 dilation 2 p2, 4->5', k: 3, stride: 1, dilation: 2, pad: 2, cin: 4, cout: 5, groups: 1 },
  { name: '5x5 s1 p2, 3->4', k: 5, stride: 1, dilation: 1, pad: 2, cin: 3, cout: 4, groups: 1 },
  { name: '3x3 groups 4, 8->8', k: 3, stride: 1, dilation: 1, pad: 1, cin: 8, cout: 8, groups: 4 },
  { name: 'depthwise 3x3 s2 p1', k: 3, stride: 2, dilation: 1, pad: 1, cin: 6, cout: 6, groups: 6 },
  { name: 'depthwise 5x5 s1 p2', k: 5, stride: 1, dilation: 1, pad: 2, cin: 6, cout: 6, groups: 6 },
];

interface PoolForm extends Window {
  readonly name: string;
  readonly kind: 'max' | 'avg';
}

const POOLS: PoolForm[] = [
  { name: 'max 3x3 s2 p1', kind: 'max', k: 3, stride: 2, dilation: 1, pad: 1 },
  { name: 'max 2x2 s2', kind: 'max', k: 2, stride: 2, dilation: 1, pad: 0 },
  { name: 'avg 3x3 s1 p1', kind: 'avg', k: 3, stride: 1, dilation: 1, pad: 1 },
];

/** Channel 0 of image 0 holds the non-finite value; every weight is positive and finite. */
function checkConv(backend: Backend, form: ConvForm): void {
  const weight = Float32Array.from({ length: form.cout * (form.cin / form.groups) * form.k * form.k }, (_, i) => 0.25 + (i % 5) * 0.1);
  const conv = backend.prepareConv2d({
    inChannels: form.cin, outChannels: form.cout, groups: form.groups, kernelH: form.k, kernelW: form.k, weight, bias: null, activation: { kind: 'none' },
    stride: [form.stride, form.stride], dilation: [form.dilation, form.dilation], inputSize: [form.size ?? SIZE, form.size ?? SIZE],
  });
  const g: ConvGeometry = { batch: 1, inChannels: form.cin, outChannels: form.cout, groups: form.groups, ...windowFields(form) };
  const outPlane = g.outH * g.outW;
  const size = form.size ?? SIZE;
  // Output channels that read input channel 0: those of group 0.
  const readers = form.cout / form.groups;
  for (const value of VALUES) {
    for (const [y, x] of positions(form.size)) {
      const input = new Float32Array(form.cin * size * size).fill(1);
      input[y * size + x] = value;
      const output = new Float32Array(form.cout * outPlane).fill(Number.NaN);
      conv.runSync(input, g, output);
      const want = footprint(form, y, x);
      for (let oc = 0; oc < form.cout; oc++) {
        const got: string[] = [];
        for (let i = 0; i < outPlane; i++) if (!Number.isFinite(output[oc * outPlane + i])) got.push(`${Math.floor(i / g.outW)},${i % g.outW}`);
        expect(got.sort(), `${value} at (${y}, ${x}), output channel ${oc}`).toEqual(oc < readers ? want : []);
      }
    }
  }
}

function checkPool(backend: Backend, form: PoolForm): void {
  const g: PoolGeometry = { batch: 1, channels: 2, kind: form.kind, countIncludePad: false, ...windowFields(form) };
  const outPlane = g.outH * g.outW;
  for (const value of VALUES) {
    for (const [y, x] of positions()) {
      const input = new Float32Array(2 * SIZE * SIZE).fill(1);
      input[y * SIZE + x] = value;
      const output = new Float32Array(2 * outPlane).fill(Number.NaN);
      backend.pool2dSync(input, g, output);
      const got: string[] = [];
      for (let i = 0; i < outPlane; i++) if (!Number.isFinite(output[i])) got.push(`${Math.floor(i / g.outW)},${i % g.outW}`);
      // A max pool over a -Inf keeps the finite 1s of the rest of its window.
      const want = form.kind === 'max' && value === -Infinity ? [] : footprint(form, y, x);
      expect(got.sort(), `${value} at (${y}, ${x})`).toEqual(want);
      expect(output.subarray(outPlane).every(Number.isFinite), 'channel 1').toBe(true);
    }
  }
}

const targets: Array<{ label: string; isa?: IsaName }> = [{ label: 'js' }];
if (!(loadNativeBackend() instanceof Error)) for (const isa of availableIsas()) targets.push({ label: `native ${isa}`, isa });

describe.each(targets)('non-finite inputs stay inside their footprint ($label)', ({ isa }) => {
  const startIsa = isa ? getIsa() : undefined;
  afterAll(() => {
    if (startIsa) setIsa(startIsa);
  });
  const backendFor = (): Backend => {
    if (!isa) return backendByName('js');
    setIsa(isa);
    return backendByName('native');
  };
  it.each(CONVS)('conv $name', (form) => checkConv(backendFor(), form));
  it.each(POOLS)('pool $name', (form) => checkPool(backendFor(), form));
});
