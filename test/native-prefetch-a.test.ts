// 1x1 convs whose weights (A) are at least 1 MiB request the next row panel's A block while a
// panel's tiles run, and the last panel of a K block requests the next K block's first panel
// (native/ops/gemm_driver.cc, kAPrefetchMinBytes). Prefetches never change a result, but the
// walk that finds "the next panel" (the panel after this one, the next K block's first of this
// task's rows, none after the last) is new code: these shapes take every branch of it, against
// the pure-JS backend, on 1, 2 and 8 threads (2 and 8 cut the rows, so a task's panels are a slice).
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
// 1024->256 @7 (exactly 1 MiB, 6 K blocks, 4 tiles a panel: a 1-column last tile) at batch 2 with a
// residual; 640->600 @5 (4 K blocks, a partial last row panel of 8 rows); 512->768 @9 (3 K blocks,
// 81 pixels); the 1x1/2 downsample 1024->520 @13 (subsampled rows, a partial last panel, relu).
const CASES: ConvCase[] = [
  convCase({ batch: 2, inChannels: 1024, outChannels: 256, inH: 7, inW: 7, ...pointwise, residual: true, activation: { kind: 'relu' } }),
  convCase({ batch: 1, inChannels: 640, outChannels: 600, inH: 5, inW: 5, ...pointwise }),
  convCase({ batch: 1, inChannels: 512, outChannels: 768, inH: 9, inW: 9, ...pointwise, residual: true }),
  convCase({ batch: 1, inChannels: 1024, outChannels: 520, inH: 13, inW: 13, ...pointwise, stride: [2, 2], activation: { kind: 'relu' } }),
];

describe('1x1 convs with weights of 1 MiB or more (the A-panel prefetch)', () => {
  for (const [i, c] of CASES.entries()) {
    it(`${describeCase(c)} matches the pure-JS backend on 1, 2 and 8 threads`, () => {
      const want = runSeededConv(jsBackend, c, 31 + i);
      for (const threads of [1, 2, 8]) {
        setNumThreads(threads);
        expectCloseToScale(runSeededConv(native, c, 31 + i), want, `${describeCase(c)} on ${threads} threads`, 1e-5);
      }
    });
  }
});
