/**
 * A non-finite input value may only reach the outputs whose window covers it (its footprint).
 * The pure-JS depthwise kernel once gave padded border rows zero weights over a stand-in row, so
 * 0 * NaN spread a NaN at (0, 0) to output (8, 1) of a 9x9 map. Geometry here comes from the
 * lecture's formula O = floor((W - K_eff + P_before + P_after) / S) + 1, not from the planner.
 */
import { describe, expect, it } from 'vitest';
import { backendByName } from '../lib/backends/index.js';
import type { ConvGeometry } from '../lib/planner/geometry.js';
import { availableBackends } from './helpers/backends.js';

interface Case {
  readonly k: number;
  readonly stride: number;
  readonly dilation: number;
  readonly pad: number;
}

function geometryOf(c: Case, size: number, channels: number): ConvGeometry {
  const kEff = c.dilation * (c.k - 1) + 1;
  const out = Math.floor((size - kEff + 2 * c.pad) / c.stride) + 1;
  return {
    batch: 1, inChannels: channels, outChannels: channels, groups: channels,
    inH: size, inW: size, kernelH: c.k, kernelW: c.k, strideH: c.stride, strideW: c.stride,
    dilationH: c.dilation, dilationW: c.dilation, pads: { top: c.pad, left: c.pad, bottom: c.pad, right: c.pad },
    outH: out, outW: out, exact: (size - kEff + 2 * c.pad) % c.stride === 0,
  };
}

/** Outputs (oy, ox) one of whose taps lands on input (y, x). */
function footprint(c: Case, g: ConvGeometry, y: number, x: number): Set<string> {
  const hits = new Set<string>();
  for (let oy = 0; oy < g.outH; oy++)
    for (let ox = 0; ox < g.outW; ox++)
      for (let kh = 0; kh < c.k; kh++)
        for (let kw = 0; kw < c.k; kw++)
          if (oy * c.stride + kh * c.dilation - c.pad === y && ox * c.stride + kw * c.dilation - c.pad === x) hits.add(`${oy},${ox}`);
  return hits;
}

const CASES: Case[] = [
  { k: 3, stride: 1, dilation: 1, pad: 1 },
  { k: 3, stride: 2, dilation: 1, pad: 1 },
  { k: 3, stride: 1, dilation: 2, pad: 2 },
  { k: 5, stride: 1, dilation: 1, pad: 2 },
  { k: 5, stride: 2, dilation: 1, pad: 2 },
  { k: 7, stride: 1, dilation: 1, pad: 3 },
];

describe.each(availableBackends())('depthwise conv keeps a non-finite input inside its footprint (%s)', (name) => {
  const backend = backendByName(name);
  const size = 9;
  const channels = 2;
  it.each(CASES)('k$k s$stride d$dilation p$pad', (c) => {
    const weight = Float32Array.from({ length: channels * c.k * c.k }, (_, i) => 0.5 + (i % 7) * 0.1);
    const conv = backend.prepareConv2d({
      inChannels: channels, outChannels: channels, groups: channels, kernelH: c.k, kernelW: c.k,
      weight, bias: null, activation: { kind: 'none' }, stride: [c.stride, c.stride], dilation: [c.dilation, c.dilation],
    });
    const g = geometryOf(c, size, channels);
    for (const value of [Number.NaN, Infinity]) {
      for (const [y, x] of [[0, 0], [0, size - 1], [size - 1, 0], [size - 1, size - 1], [0, 4], [4, 0], [4, 4]]) {
        const input = new Float32Array(channels * size * size).fill(1);
        input[y * size + x] = value; // channel 0 only
        const output = new Float32Array(channels * g.outH * g.outW).fill(Number.NaN);
        conv.runSync(input, g, output);
        const want = footprint(c, g, y, x);
        const got = new Set<string>();
        for (let i = 0; i < g.outH * g.outW; i++) if (!Number.isFinite(output[i])) got.add(`${Math.floor(i / g.outW)},${i % g.outW}`);
        expect([...got].sort(), `${value} at (${y}, ${x})`).toEqual([...want].sort());
        // Channel 1 saw no non-finite input at all.
        expect(output.subarray(g.outH * g.outW).every(Number.isFinite)).toBe(true);
      }
    }
  });
});
