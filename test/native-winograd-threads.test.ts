// Winograd convs give the same bits on every thread count (issue 13). The thread count decides
// how a run is cut into pool tasks (native/ops/winograd.cc, split_run): chunks of tiles, and
// output-channel parts. Each tile's products must still meet the same kernel in the same
// summation order whatever the cut: the full, narrow, column and GEMV kernels sum a column's
// products in different orders, so a chunk boundary off the 16-tile panel grid moved some tiles
// to another kernel and changed their last bits (16->48 @56: ~1.5% of outputs between 1-2 and
// 3-4 threads). Here: F(2x2), F(4x4), F(6x6); odd channel counts, odd maps, residual + relu,
// batch 1 and 2, one K block and several (Cin 200, 300); cases that cut by small chunks (Cout
// <= 48) and by output-channel parts (Cout >= 64, few chunks). Each is also checked against the
// pure-JS backend on 1 thread, so "equal" is not "equally wrong".
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend, ConvAlgorithm } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { setNumThreads } from '../lib/backends/native.js';
import { useNativeBackend } from './helpers/backends.js';
import { expectCloseToScale } from './helpers/numeric.js';
import { convCase, describeCase, runSeededConv, type ConvCase } from './native-support.js';

let native: Backend | undefined;
useNativeBackend((b) => (native = b));

afterAll(() => setNumThreads(2));

const THREADS = [1, 2, 3, 4, 8, 16];

/** Index of the first output whose bits differ, and how many differ; -1 when none. */
function bitDifferences(a: Float32Array, b: Float32Array): { first: number; count: number } {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let first = -1, count = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) {
      if (first < 0) first = i;
      count++;
    }
  }
  return { first, count };
}

const relu = { activation: { kind: 'relu' } as const, residual: true };
const CASES: ConvCase[] = [
  // Small Cout: cut into smaller chunks on more threads (the session 10 shape, and odd ones).
  convCase({ batch: 1, inChannels: 16, outChannels: 48, inH: 56, inW: 56, ...relu }),
  convCase({ batch: 1, inChannels: 7, outChannels: 13, inH: 37, inW: 41, ...relu }),
  convCase({ batch: 2, inChannels: 5, outChannels: 3, inH: 23, inW: 19, ...relu }),
  convCase({ batch: 1, inChannels: 33, outChannels: 17, inH: 29, inW: 31, padding: [1, 0, 2, 1], ...relu }),
  // Cout >= 64 on few chunks: cut into output-channel parts (whole row panels).
  convCase({ batch: 1, inChannels: 31, outChannels: 97, inH: 14, inW: 14, ...relu }),
  convCase({ batch: 1, inChannels: 64, outChannels: 64, inH: 13, inW: 15, ...relu }),
  // Several K blocks (the K-blocked point GEMMs and, on AVX-512, the prefetching tile).
  convCase({ batch: 1, inChannels: 200, outChannels: 40, inH: 17, inW: 17, ...relu }),
  convCase({ batch: 2, inChannels: 300, outChannels: 70, inH: 7, inW: 9, ...relu }),
  convCase({ batch: 1, inChannels: 200, outChannels: 24, inH: 31, inW: 27, ...relu }),
];

describe('Winograd convs: the same bits on 1, 2, 3, 4, 8 and 16 threads', () => {
  // F(4x4) and F(6x6) transforms scale values up: looser bounds against the JS reference.
  const tiles: [ConvAlgorithm, number][] = [
    ['winograd-f2x2-3x3', 2e-5], ['winograd-f4x4-3x3', 2e-4], ['winograd-f6x6-3x3', 2e-3],
  ];
  for (const [algorithm, relative] of tiles) {
    for (const [i, c] of CASES.entries()) {
      it(`${algorithm} ${describeCase(c)}`, () => {
        expect(native).toBeDefined();
        setNumThreads(1);
        const one = runSeededConv(native!, c, 70 + i, algorithm);
        expectCloseToScale(one, runSeededConv(jsBackend, c, 70 + i, 'im2col-gemm'), `${algorithm} ${describeCase(c)}`, relative);
        for (const threads of THREADS.slice(1)) {
          setNumThreads(threads);
          const d = bitDifferences(runSeededConv(native!, c, 70 + i, algorithm), one);
          expect(d, `${algorithm} ${describeCase(c)}: ${threads} threads vs 1: ${d.count} of ${one.length} outputs differ`)
            .toEqual({ first: -1, count: 0 });
        }
      });
    }
  }
});
