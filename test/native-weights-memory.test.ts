/**
 * A native conv is planned once (lib/planner/conv-plan.ts) and packs its forms at prepare: 9/9
 * of the filters for im2col + GEMM, 16/9 for Winograd F(2x2), 36/9 + 9/9 for F(4x4) (U, and the
 * im2col form its runs with non-finite inputs take), plus MR row padding and the bias. The bytes reported to V8 are those, from construction on, and no run changes
 * them. A run with another stride or dilation than the planned one is refused (never answered
 * with the wrong algorithm, never repacked); runs at other map sizes use the same plan.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, ConvAlgorithm, ConvKernel } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { availableIsas, getIsa, loadNativeBackend, setIsa, type IsaName } from '../lib/backends/native.js';
import { ERROR_MODEL_C, measuredC } from './helpers/error-model.js';
import { expectClose, randomFloats, seededRandom } from './helpers/numeric.js';
import { type ConvCase, convCase, convGeometry, outputLength } from './native-support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOAD_ADDON = `const addon = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'node-gyp-build'))})(${JSON.stringify(ROOT)});`;

const base = convCase({ batch: 2, inChannels: 64, outChannels: 64, inH: 22, inW: 21, bias: false });

let native: Backend;
let isaBefore: IsaName;
beforeAll(() => {
  const loaded = loadNativeBackend();
  if (loaded instanceof Error) throw loaded;
  native = loaded;
  isaBefore = getIsa();
});
afterAll(() => setIsa(isaBefore));

const weight = randomFloats(64 * 64 * 9, seededRandom(1));

function prepare(backend: Backend, c: ConvCase, algorithm?: ConvAlgorithm): ConvKernel {
  return backend.prepareConv2d({
    inChannels: 64, outChannels: 64, groups: 1, kernelH: 3, kernelW: 3, weight, bias: null, activation: c.activation,
    stride: c.stride, dilation: c.dilation, padding: c.padding, inputSize: [c.inH, c.inW], algorithm,
  });
}

describe('native convs are planned once', () => {
  for (const isa of availableIsas()) {
    it(`plans F(4x4) for a 64->64 3x3 conv on a 22x21 map, and runs it at any map size within the error model (${isa})`, async () => {
      setIsa(isa);
      const kernel = prepare(native, base);
      expect(kernel.plan?.algorithm).toBe('winograd-f4x4-3x3');
      // A smaller input plans F(2x2); the planned conv still runs it, as F(4x4).
      expect(prepare(native, { ...base, inH: 9, inW: 9 }).plan?.algorithm).toBe('winograd-f2x2-3x3');
      for (const [i, c] of [base, { ...base, inH: 5, inW: 7 }, { ...base, batch: 1, inH: 30, inW: 13 }].entries()) {
        const g = convGeometry(c);
        const input = randomFloats(c.batch * 64 * c.inH * c.inW, seededRandom(10 + i));
        const out = new Float32Array(outputLength(g)).fill(Number.NaN);
        if (i % 2 === 0) kernel.runSync(input, g, out, null);
        else await kernel.run(input, g, out, null);
        expect(measuredC(out, input, g, weight), `${isa} ${c.inH}x${c.inW}`).toBeLessThanOrEqual(ERROR_MODEL_C);
        const js = new Float32Array(out.length);
        prepare(jsBackend, c).runSync(input, g, js, null);
        expectClose(out, js, `${isa} vs js ${c.inH}x${c.inW}`, 1e-3);
      }
    });

    it(`refuses runs with another stride or dilation, sync and async, naming the field (${isa})`, async () => {
      setIsa(isa);
      const kernel = prepare(native, base);
      for (const other of [{ ...base, stride: [2, 2] as const }, { ...base, dilation: [1, 2] as const, padding: 2 }]) {
        const g = convGeometry(other);
        const input = new Float32Array(2 * 64 * 22 * 21);
        const out = new Float32Array(outputLength(g));
        const message = other.stride[0] === 2
          ? 'geometry.strideH is 2 but the conv was planned (winograd-f4x4-3x3) for strideH 1: prepare one conv per window'
          : 'geometry.dilationW is 2 but the conv was planned (winograd-f4x4-3x3) for dilationW 1: prepare one conv per window';
        expect(() => kernel.runSync(input, g, out, null)).toThrow(message);
        await expect(kernel.run(input, g, out, null)).rejects.toThrow(message);
      }
      // A conv planned for stride 2 takes im2col and runs stride 2.
      const strided = { ...base, stride: [2, 2] as const, activation: { kind: 'relu' as const } };
      const kernel2 = prepare(native, strided);
      expect(kernel2.plan?.algorithm).toBe('im2col-gemm');
      const g = convGeometry(strided);
      const input = randomFloats(2 * 64 * 22 * 21, seededRandom(3));
      const out = new Float32Array(outputLength(g));
      const js = new Float32Array(out.length);
      kernel2.runSync(input, g, out, null);
      prepare(jsBackend, strided).runSync(input, g, js, null);
      expectClose(out, js, `${isa} stride 2`);
    });
  }

  it('holds and reports exactly the one form it packed, before and after runs of every kind', () => {
    // A child process, so no other test's objects come and go in the external memory count.
    // Cout 48 is a multiple of every ISA's MR (4, 6, 8): no row padding in the packed sizes.
    const script = `
      ${LOAD_ADDON}
      const cin = 64, cout = 48;
      const weight = new Float32Array(cout * cin * 9).map((_, i) => Math.sin(i)), bias = new Float32Array(cout);
      const geometry = (size) => ({ batch: 1, inChannels: cin, outChannels: cout, groups: 1, inH: size, inW: size,
        kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1,
        pads: { top: 1, left: 1, bottom: 1, right: 1 }, outH: size, outW: size });
      const arrays = [16, 5].map((size) => [new Float32Array(cin * size * size), new Float32Array(cout * size * size)]);
      (async () => {
        const steps = [];
        for (const algorithm of ['im2col-gemm', 'winograd-f2x2-3x3', 'winograd-f4x4-3x3']) {
          const before = addon.externalMemory();
          const conv = new addon.Conv2d(weight, bias, { inChannels: cin, outChannels: cout, groups: 1, kernelH: 3, kernelW: 3, activation: 'relu', algorithm });
          const prepared = addon.externalMemory() - before;
          conv.runSync(arrays[0][0], geometry(16), arrays[0][1], null);
          await conv.run(arrays[1][0], geometry(5), arrays[1][1], null);
          steps.push({ algorithm: conv.describe().algorithm, packed: conv.describe().packedBytes, prepared, after: addon.externalMemory() - before });
        }
        console.log(JSON.stringify(steps));
      })();
    `;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    const steps = JSON.parse(out.trim().split('\n').pop() ?? '[]') as unknown[];
    const filters = 48 * 64 * 9 * 4;
    const bias = 48 * 4;
    const form = (algorithm: string, bytes: number) => ({ algorithm, packed: bytes, prepared: bytes, after: bytes });
    expect(steps).toEqual([
      form('im2col-gemm', filters + bias),
      form('winograd-f2x2-3x3', (16 / 9) * filters + bias),
      form('winograd-f4x4-3x3', (45 / 9) * filters + bias), // U, and the im2col form for non-finite inputs
    ]);
  });
});
