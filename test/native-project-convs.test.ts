// MobileNetV2's 1x1 "project" convs (few outputs, many inputs, no activation): on one thread, maps
// from 28x28 with at most two weight panels now read the input rows in place
// (native/ops/pointwise_few.cc); on 2 and 8 threads maps under 56x56 keep the packed GEMM. This
// pins both sides of that choice, and the 7x7 / 5x5 project shapes of the packed GEMM (K blocks, a
// partial last row panel), against the pure-JS backend. Maps from 8x8 to 14x14 on one thread (on
// avx512) read the input rows in place over several K blocks (pointwise_few.cc's run_small_map):
// MobileNetV2's 384->64 and 576->96 @14 with residuals at batch 2, a 14x14 expansion with relu6
// (24 panels: past the form's 8, the packed GEMM),
// and last tiles of 9, 15 and 0 columns (13x13, 13x11, 8x8) with part-filled panels.
import { afterAll, describe, it } from 'vitest';
import type { Backend } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { setNumThreads } from '../lib/backends/native.js';
import { useNativeBackend } from './helpers/backends.js';
import { expectCloseToScale } from './helpers/numeric.js';
import { convCase, describeCase, runSeededConv, type ConvCase } from './native-support.js';

let native: Backend;
useNativeBackend((b) => (native = b));

afterAll(() => setNumThreads(2));

const pointwise = { kernel: [1, 1] as [number, number], padding: 0 };
// 192->32 @28 (in place, K = one whole K block), 144->24 @28x29 (in place, a partial second panel,
// 812 pixels: a 12-pixel last tile), 100->17 @28 (17 rows: a 1-row second panel); 960->48 @7 (5 K
// blocks, 3 panels), 400->40 @5 (2 tiles a panel, a partial last panel, 3 K blocks), 576->160 @7
// with a residual, 3x3 64->40 @7 through im2col with relu.
const CASES: ConvCase[] = [
  convCase({ batch: 1, inChannels: 192, outChannels: 32, inH: 28, inW: 28, ...pointwise }),
  convCase({ batch: 2, inChannels: 144, outChannels: 24, inH: 28, inW: 29, ...pointwise, residual: true }),
  convCase({ batch: 1, inChannels: 100, outChannels: 17, inH: 28, inW: 28, ...pointwise, activation: { kind: 'relu6' } }),
  convCase({ batch: 1, inChannels: 960, outChannels: 48, inH: 7, inW: 7, ...pointwise }),
  convCase({ batch: 2, inChannels: 400, outChannels: 40, inH: 5, inW: 5, ...pointwise }),
  convCase({ batch: 1, inChannels: 576, outChannels: 160, inH: 7, inW: 7, ...pointwise, residual: true }),
  convCase({ batch: 1, inChannels: 64, outChannels: 40, inH: 7, inW: 7, activation: { kind: 'relu' } }),
  convCase({ batch: 2, inChannels: 384, outChannels: 64, inH: 14, inW: 14, ...pointwise, residual: true }),
  convCase({ batch: 2, inChannels: 576, outChannels: 96, inH: 14, inW: 14, ...pointwise, residual: true }),
  convCase({ batch: 1, inChannels: 64, outChannels: 384, inH: 14, inW: 14, ...pointwise, activation: { kind: 'relu6' } }),
  convCase({ batch: 1, inChannels: 200, outChannels: 33, inH: 13, inW: 13, ...pointwise }),
  convCase({ batch: 2, inChannels: 300, outChannels: 20, inH: 13, inW: 11, ...pointwise, residual: true }),
  convCase({ batch: 1, inChannels: 193, outChannels: 16, inH: 8, inW: 8, ...pointwise, activation: { kind: 'silu' } }),
];

describe('1x1 project convs: in place from 28x28 (and 8x8 to 14x14) on 1 thread, the packed GEMM otherwise', () => {
  for (const [i, c] of CASES.entries()) {
    it(`${describeCase(c)} matches the pure-JS backend on 1, 2 and 8 threads`, () => {
      const want = runSeededConv(jsBackend, c, 7 + i);
      for (const threads of [1, 2, 8]) {
        setNumThreads(threads);
        expectCloseToScale(runSeededConv(native, c, 7 + i), want, `${describeCase(c)} on ${threads} threads`, 1e-5);
      }
    });
  }
});
