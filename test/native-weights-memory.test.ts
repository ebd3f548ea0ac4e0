/**
 * Packed weights of convs that qualify for native Winograd (3x3, groups 1, Cin >= 24, Cout >= 16):
 * only the 16 U matrices (16/9 of the filters) are packed at prepare; the im2col + GEMM form is
 * packed, from U, by the first run that needs it (stride 2, dilation, a map under 6x6), and U is
 * dropped if no Winograd run came before (rebuilt should one come). Results must match the
 * pure-JS path, also when the first runs of both kinds are concurrent, and the bytes reported to
 * V8 must follow the packing: once a sync run returns, or an async one settles.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, ConvKernel } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { availableIsas, getIsa, loadNativeBackend, setIsa, type IsaName } from '../lib/backends/native.js';
import type { ConvGeometry } from '../lib/planner/geometry.js';
import { expectClose, randomFloats, seededRandom } from './helpers/numeric.js';
import { type ConvCase, convGeometry, outputLength } from './native-support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOAD_ADDON = `const addon = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'node-gyp-build'))})(${JSON.stringify(ROOT)});`;

const winograd: ConvCase = {
  batch: 2,
  inChannels: 40,
  outChannels: 24,
  groups: 1,
  inH: 12,
  inW: 13,
  kernel: [3, 3],
  stride: [1, 1],
  dilation: [1, 1],
  padding: 1,
  activation: { kind: 'relu6' },
  bias: true,
  residual: true,
};
// Geometries of the same conv that cannot take Winograd.
const stride2: ConvCase = { ...winograd, stride: [2, 2] };
const smallMap: ConvCase = { ...winograd, inH: 5, inW: 5 };
const dilated: ConvCase = { ...winograd, dilation: [2, 2], padding: 2 };

let native: Backend;
let isaBefore: IsaName;
beforeAll(() => {
  const loaded = loadNativeBackend();
  if (loaded instanceof Error) throw loaded;
  native = loaded;
  isaBefore = getIsa();
});
afterAll(() => setIsa(isaBefore));

const weight = randomFloats(24 * 40 * 9, seededRandom(1));
const bias = randomFloats(24, seededRandom(2));

function prepare(backend: Backend): ConvKernel {
  return backend.prepareConv2d({ inChannels: 40, outChannels: 24, groups: 1, kernelH: 3, kernelW: 3, weight, bias, activation: winograd.activation });
}

interface Run {
  c: ConvCase;
  g: ConvGeometry;
  input: Float32Array;
  residual: Float32Array;
  expected: Float32Array;
}

const jsKernel = prepare(jsBackend);
function makeRun(c: ConvCase, seed: number): Run {
  const g = convGeometry(c);
  const random = seededRandom(seed);
  const input = randomFloats(c.batch * c.inChannels * c.inH * c.inW, random);
  const residual = randomFloats(outputLength(g), random);
  const expected = new Float32Array(outputLength(g));
  jsKernel.runSync(input, g, expected, residual);
  return { c, g, input, residual, expected };
}

const label = (isa: string, c: ConvCase) => `${isa} s${c.stride[0]} d${c.dilation[0]} ${c.inH}x${c.inW}`;

describe('native Winograd convs pack their im2col weights on first need', () => {
  for (const isa of availableIsas()) {
    it(`gives the pure-JS results on every geometry, in any order, sync and async (${isa})`, async () => {
      setIsa(isa);
      const sequence = [winograd, stride2, winograd, smallMap, dilated, stride2].map((c, i) => makeRun(c, 10 + i));
      const syncKernel = prepare(native);
      for (const r of sequence) {
        const out = new Float32Array(r.expected.length).fill(Number.NaN);
        syncKernel.runSync(r.input, r.g, out, r.residual);
        expectClose(out, r.expected, `sync ${label(isa, r.c)}`);
      }
      // Async, starting with an im2col run: the packing happens on a libuv worker.
      const asyncKernel = prepare(native);
      for (const r of [sequence[3], ...sequence]) {
        const out = new Float32Array(r.expected.length).fill(Number.NaN);
        await asyncKernel.run(r.input, r.g, out, r.residual);
        expectClose(out, r.expected, `async ${label(isa, r.c)}`);
      }
    });

    it(`gives each of concurrent first runs of both kinds its correct result (${isa})`, async () => {
      setIsa(isa);
      const kernel = prepare(native);
      const runs = Array.from({ length: 8 }, (_, i) => makeRun([stride2, winograd, smallMap, dilated][i % 4], 30 + i));
      const outputs = runs.map((r) => new Float32Array(r.expected.length).fill(Number.NaN));
      await Promise.all(runs.map((r, i) => kernel.run(r.input, r.g, outputs[i], r.residual)));
      runs.forEach((r, i) => expectClose(outputs[i], r.expected, `concurrent ${i} ${label(isa, r.c)}`));
    });
  }

  it('holds and reports 16/9 of the filters (plus bias) until a run needs im2col, then adds them (or swaps U for them)', () => {
    // A child process, so no other test's objects come and go in the external memory count.
    // Cout 48 is a multiple of every ISA's MR (4, 6, 8): no row padding in the packed sizes.
    const script = `
      ${LOAD_ADDON}
      const cin = 64, cout = 48;
      const weight = new Float32Array(cout * cin * 9).map((_, i) => Math.sin(i)), bias = new Float32Array(cout);
      const options = { inChannels: cin, outChannels: cout, groups: 1, kernelH: 3, kernelW: 3, activation: 'relu' };
      const geometry = (size, stride) => {
        const out = Math.floor((size + 2 - 3) / stride) + 1;
        return { batch: 1, inChannels: cin, outChannels: cout, groups: 1, inH: size, inW: size, kernelH: 3, kernelW: 3,
          strideH: stride, strideW: stride, dilationH: 1, dilationW: 1, pads: { top: 1, left: 1, bottom: 1, right: 1 }, outH: out, outW: out };
      };
      // Typed arrays count as external memory too: all are made before the count starts.
      const arrays = [16, 20, 5].map((size) => [new Float32Array(cin * size * size), new Float32Array(cout * size * size)]);
      const run = (conv, g, sync) => {
        const [input, output] = arrays[[16, 20, 5].indexOf(g.inH)];
        const args = [input, g, output.subarray(0, cout * g.outH * g.outW), null];
        return sync ? conv.runSync(...args) : conv.run(...args);
      };
      (async () => {
        const base = addon.externalMemory();
        const steps = [];
        const note = (step, conv) => steps.push({ step, packed: conv.describe().packedBytes, external: addon.externalMemory() - base });
        const a = new addon.Conv2d(weight, bias, options);
        note('prepared', a);
        run(a, geometry(16, 1), true);
        await run(a, geometry(20, 1), false);
        note('winograd runs', a);
        const pending = run(a, geometry(16, 2), false);
        await pending;
        // describe() would itself report; read V8's count first.
        steps.push({ step: 'async stride 2', external: addon.externalMemory() - base });
        note('async stride 2', a);
        // A conv whose first run needs im2col drops U (a stride-2 conv never uses it) and
        // rebuilds it if a Winograd run comes after all.
        const b = new addon.Conv2d(weight, bias, options);
        const external = addon.externalMemory() - base;
        run(b, geometry(5, 1), true);
        steps.push({ step: 'sync 5x5 first', external: addon.externalMemory() - base - external });
        note('sync 5x5 first', b);
        run(b, geometry(16, 1), true);
        note('then winograd', b);
        console.log(JSON.stringify(steps));
      })();
    `;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    const steps = JSON.parse(out.trim().split('\n').pop() ?? '[]') as { step: string; packed?: number; external: number }[];
    const filters = 48 * 64 * 9 * 4;
    const winogradBytes = (16 / 9) * filters + 48 * 4;
    const gemmBytes = filters + 48 * 4;
    const both = winogradBytes + filters;
    expect(steps).toEqual([
      { step: 'prepared', packed: winogradBytes, external: winogradBytes },
      { step: 'winograd runs', packed: winogradBytes, external: winogradBytes },
      { step: 'async stride 2', external: both },
      { step: 'async stride 2', packed: both, external: both },
      { step: 'sync 5x5 first', external: gemmBytes - winogradBytes },
      { step: 'sync 5x5 first', packed: gemmBytes, external: both + gemmBytes },
      { step: 'then winograd', packed: both, external: 2 * both },
    ]);
  });
});
