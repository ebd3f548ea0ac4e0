/**
 * How ops split their work over the thread pool (issue 13: "servers have more than 2 cores").
 * The finiteness scan in front of a Winograd F(4x4) layer runs over the pool in runs of at least
 * 1 MiB: a NaN in any run, the last included, must send the layer to its im2col form, so the NaN
 * reaches only the outputs whose 3x3 window covers it (F(4x4) would spread it over a 6x6 tile),
 * at 1, 2, 8 and 16 threads. The pool's shared-work counters (bench/thread-share.mjs) count a
 * split job at 2 threads and none at 1.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../lib/backends/backend.js';
import { setNumThreads } from '../lib/backends/native.js';
import { useNativeBackend } from './helpers/backends.js';
import { randomFloats, seededRandom } from './helpers/numeric.js';
import { convCase, convGeometry } from './native-support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// 2 x 64 x 64 x 64 floats = 2 MiB of input: two or more scan runs at 2 threads and up.
const big = convCase({ batch: 2, inChannels: 64, outChannels: 8, inH: 64, inW: 64, bias: false });

let native: Backend;
useNativeBackend((b) => (native = b));

function f4x4Kernel() {
  const weight = randomFloats(8 * 64 * 9, seededRandom(5));
  const kernel = native.prepareConv2d({
    inChannels: 64, outChannels: 8, groups: 1, kernelH: 3, kernelW: 3, weight, bias: null, activation: { kind: 'none' },
    stride: [1, 1], dilation: [1, 1], padding: 1, inputSize: [64, 64], algorithm: 'winograd-f4x4-3x3',
  });
  expect(kernel.plan?.algorithm).toBe('winograd-f4x4-3x3');
  return kernel;
}

describe('the F(4x4) finiteness scan, split over the pool', () => {
  const plane = 64 * 64;
  // The first value, one in the middle image, and the very last one (the last scan run).
  const spots = [
    { n: 0, c: 0, y: 0, x: 0 },
    { n: 1, c: 17, y: 30, x: 41 },
    { n: 1, c: 63, y: 63, x: 63 },
  ];
  for (const threads of [1, 2, 8, 16]) {
    it(`finds a NaN wherever it lies and keeps it inside its footprint (${threads} threads)`, () => {
      setNumThreads(threads);
      const kernel = f4x4Kernel();
      const g = convGeometry(big);
      for (const spot of spots) {
        const input = randomFloats(2 * 64 * plane, seededRandom(9));
        input[(spot.n * 64 + spot.c) * plane + spot.y * 64 + spot.x] = Number.NaN;
        const output = new Float32Array(2 * 8 * plane);
        kernel.runSync(input, g, output, null);
        let outside = 0;
        let inside = 0;
        for (let n = 0; n < 2; n++) {
          for (let co = 0; co < 8; co++) {
            for (let oy = 0; oy < 64; oy++) {
              for (let ox = 0; ox < 64; ox++) {
                const covered = n === spot.n && Math.abs(oy - spot.y) <= 1 && Math.abs(ox - spot.x) <= 1;
                const nan = Number.isNaN(output[((n * 8 + co) * 64 + oy) * 64 + ox]);
                if (nan && !covered) outside++;
                if (nan && covered) inside++;
              }
            }
          }
        }
        expect(outside, `NaN at ${JSON.stringify(spot)}: outputs outside its footprint`).toBe(0);
        expect(inside, `NaN at ${JSON.stringify(spot)}: outputs inside its footprint`).toBeGreaterThan(0);
      }
      kernel.dispose?.();
    });
  }
});

describe("the pool's shared-work counters", () => {
  it('count the split jobs of a run at 2 threads, none at 1', () => {
    const addon = createRequire(import.meta.url)(path.join(ROOT, 'node_modules', 'node-gyp-build'))(ROOT) as {
      countSharedWork(on: boolean): void;
      sharedWork(): { cpuMs: number; jobs: number };
    };
    const kernel = f4x4Kernel();
    const g = convGeometry(big);
    const input = randomFloats(2 * 64 * 64 * 64, seededRandom(3));
    const output = new Float32Array(2 * 8 * 64 * 64);
    const count = (threads: number) => {
      setNumThreads(threads);
      addon.countSharedWork(true);
      kernel.runSync(input, g, output, null);
      const counted = addon.sharedWork();
      addon.countSharedWork(false);
      return counted;
    };
    expect(count(1).jobs).toBe(0);
    const two = count(2);
    // The scan and the Winograd layer itself.
    expect(two.jobs).toBeGreaterThanOrEqual(2);
    expect(two.cpuMs).toBeGreaterThan(0);
    expect(() => addon.countSharedWork('yes' as never)).toThrow('countSharedWork: on must be a boolean');
    kernel.dispose?.();
  });
});
