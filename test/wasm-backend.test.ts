/**
 * The wasm backend (lib/backends/wasm.ts on the module scripts/build-wasm.mjs builds): its two
 * tiers (wasmsimd, scalar) against the pure-JS oracle over sweeps of the shapes its vector
 * kernels specialise (depthwise K x K stride S, 3x3 stride-2 max pool, the GEMM's edge tiles),
 * its errors, and its memory. Skipped when the module is not built, unless
 * CONVNODE_REQUIRE_WASM=1 (CI), where a missing module fails.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { jsBackend } from '../lib/backends/js.js';
import { loadWasmBackend, setWasmIsa, wasmModuleInfo } from '../lib/backends/wasm.js';
import type { Backend } from '../lib/backends/backend.js';
import { planMatMul } from '../lib/kernels/matmul.js';
import { planConv, planWindow } from '../lib/planner/geometry.js';
import { expectClose, randomFloats, seededRandom } from './helpers/numeric.js';

const loaded = loadWasmBackend();
if (loaded instanceof Error && process.env.CONVNODE_REQUIRE_WASM === '1') throw loaded;
const wasm = loaded instanceof Error ? null : loaded;

describe.skipIf(wasm === null)('wasm backend', () => {
  const backend = wasm as Backend;
  afterAll(() => {
    setWasmIsa('wasmsimd');
  });

  it('runs the wasmsimd tier by default', () => {
    expect(wasmModuleInfo().isa).toBe('wasmsimd');
  });

  /** One conv on wasm and on the JS oracle, same weights and input. */
  function compareConv(random: () => number, c: {
    cin: number; cout: number; groups: number; k: number; s: number; d: number; pad: number; h: number; w: number;
    batch: number; act: 'none' | 'relu' | 'hardSwish' | 'sigmoid' | 'relu6' | 'silu' | 'leakyRelu'; residual: boolean;
  }, label: string): void {
    const weights = {
      inChannels: c.cin, outChannels: c.cout, groups: c.groups, kernelH: c.k, kernelW: c.k,
      weight: randomFloats((c.cout * c.cin * c.k * c.k) / c.groups, random), bias: randomFloats(c.cout, random),
      activation: { kind: c.act } as const, stride: [c.s, c.s] as [number, number], dilation: [c.d, c.d] as [number, number],
    };
    const g = planConv(label, [c.batch, c.cin, c.h, c.w], {
      inChannels: c.cin, outChannels: c.cout, groups: c.groups, kernel: [c.k, c.k], stride: [c.s, c.s],
      dilation: [c.d, c.d], padding: c.pad,
    });
    const input = randomFloats(c.batch * c.cin * c.h * c.w, random);
    const n = c.batch * c.cout * g.outH * g.outW;
    const residual = c.residual ? randomFloats(n, random) : null;
    const expected = new Float32Array(n);
    jsBackend.prepareConv2d(weights).runSync(input, g, expected, residual);
    const actual = new Float32Array(n);
    const kernel = backend.prepareConv2d(weights);
    kernel.runSync(input, g, actual, residual);
    kernel.dispose?.();
    expectClose(actual, expected, label, 1e-4);
  }

  describe.each(['wasmsimd', 'scalar'] as const)('the %s tier against the JS oracle', (tier) => {
    it('depthwise K x K stride S (the wasmsimd row kernels), any padding, dilation, width and fused epilogue', () => {
      setWasmIsa(tier);
      const random = seededRandom(17);
      const acts = ['none', 'relu', 'hardSwish', 'sigmoid'] as const;
      let cases = 0;
      for (const k of [3, 5, 7]) {
        for (const s of [1, 2]) {
          for (const [h, w] of [[7, 7], [12, 19], [30, 9]]) {
            const d = (cases % 3 === 2 && h > 2 * k) ? 2 : 1;
            const pad = cases % 2 === 0 ? (k >> 1) * d : cases % 5;
            const multiplier = cases % 4 === 3 ? 2 : 1;
            if (h + 2 * pad < (k - 1) * d + 1 || w + 2 * pad < (k - 1) * d + 1) continue;
            compareConv(random, {
              cin: 3, cout: 3 * multiplier, groups: 3, k, s, d, pad, h, w, batch: 2, act: acts[cases % 4], residual: cases % 3 === 0,
            }, `${tier} dw ${k}x${k}/${s} d${d} p${pad} ${h}x${w} x${multiplier}`);
            cases++;
          }
        }
      }
      expect(cases).toBeGreaterThanOrEqual(16);
    });

    it('depthwise 3x3/2 with left padding 1 (the direct wasmsimd kernel): even widths (overlapping last block), odd widths (zeroed tail), tiny maps, fused residual and activations', () => {
      setWasmIsa(tier);
      const random = seededRandom(23);
      const acts = ['none', 'relu6', 'silu', 'leakyRelu'] as const;
      let cases = 0;
      for (const [h, w] of [[56, 56], [14, 14], [8, 8], [10, 16], [6, 12], [9, 7], [5, 15], [4, 4], [3, 2], [2, 9], [13, 33]]) {
        compareConv(random, {
          cin: 4, cout: 4, groups: 4, k: 3, s: 2, d: 1, pad: 1, h, w, batch: 1, act: acts[cases % 4], residual: cases % 2 === 0,
        }, `${tier} dw 3x3/2 p1 ${h}x${w}`);
        cases++;
      }
      expect(cases).toBe(11);
    });

    it('GEMM convs (im2col, 1x1, Winograd, grouped) over edge tiles of the 4x8 tile', () => {
      setWasmIsa(tier);
      const random = seededRandom(5);
      for (const [cin, cout, k, s, groups, h] of [
        [3, 7, 3, 1, 1, 9], [5, 13, 1, 1, 1, 11], [16, 17, 3, 1, 1, 10], [8, 12, 3, 2, 2, 13], [32, 40, 3, 1, 1, 8], [6, 9, 7, 2, 3, 15],
      ]) {
        compareConv(random, { cin, cout, groups, k, s, d: 1, pad: k >> 1, h, w: h + 3, batch: 3, act: 'relu', residual: true },
          `${tier} conv ${cin}->${cout} ${k}x${k}/${s} g${groups} @${h}`);
      }
    });

    it('Cin-3 stems 3x3/2 and 7x7/2 (the wasmsimd im2col packer\'s stride-2 shuffles): widths whose panels start inside, touch the padding and wrap rows', () => {
      setWasmIsa(tier);
      const random = seededRandom(23);
      for (const [k, w] of [[3, 16], [3, 17], [3, 33], [3, 40], [7, 16], [7, 29], [7, 45], [3, 71]]) {
        for (const act of ['relu6', 'hardSwish', 'silu'] as const) {
          compareConv(random, { cin: 3, cout: 8, groups: 1, k, s: 2, d: 1, pad: k >> 1, h: 9, w, batch: 2, act, residual: act === 'relu6' },
            `${tier} stem 3->8 ${k}x${k}/2 @9x${w} ${act}`);
        }
      }
    });

    it('max pool 3x3 stride 2 (the wasmsimd kernel) and other windows, NaN kept', () => {
      setWasmIsa(tier);
      const random = seededRandom(9);
      for (const [k, s, pad, h, w] of [[3, 2, 1, 112, 112], [3, 2, 0, 9, 17], [3, 2, 1, 10, 33], [2, 2, 0, 8, 8], [3, 1, 1, 6, 7]]) {
        const window = planWindow('pool', h, w, { kernel: [k, k], stride: [s, s], dilation: [1, 1], padding: pad });
        const g = { ...window, batch: 2, channels: 3, kind: 'max' as const, countIncludePad: false };
        const input = randomFloats(2 * 3 * h * w, random);
        input[5 * w + 7] = Number.NaN;
        const expected = new Float32Array(2 * 3 * g.outH * g.outW);
        const actual = new Float32Array(expected.length);
        jsBackend.pool2dSync(input, g, expected);
        backend.pool2dSync(input, g, actual);
        for (let i = 0; i < expected.length; i++) {
          if (Number.isNaN(expected[i])) expect(actual[i], `${tier} pool ${k}/${s} ${h}x${w} [${i}]`).toBeNaN();
          else if (actual[i] !== expected[i]) expect.fail(`${tier} pool ${k}/${s} p${pad} ${h}x${w}: [${i}] ${actual[i]} != ${expected[i]}`);
        }
      }
    });
  });

  it('element-wise ops, linear and global pools agree with the JS oracle', () => {
    const random = seededRandom(3);
    const a = randomFloats(2 * 5 * 7, random);
    const b = randomFloats(5, random);
    const check = (run: (be: Backend, out: Float32Array) => void, n: number, label: string, tolerance = 1e-5) => {
      const expected = new Float32Array(n);
      const actual = new Float32Array(n);
      run(jsBackend, expected);
      run(backend, actual);
      expectClose(actual, expected, label, tolerance);
    };
    check((be, out) => be.unarySync(a, out, { kind: 'silu' }), a.length, 'unary silu');
    check((be, out) => be.binarySync('mul', a, [2, 5, 7], b, [5, 1], out, [2, 5, 7], { kind: 'relu' }), a.length, 'binary mul');
    check((be, out) => be.channelAffineSync(a, { batch: 2, channels: 5, plane: 7, scale: b, shift: b, activation: { kind: 'none' } }, out),
      a.length, 'affine');
    check((be, out) => be.globalPool2dSync(a, 'avg', 10, 7, out), 10, 'global avg');
    const weights = { inFeatures: 7, outFeatures: 11, weight: randomFloats(77, random), bias: randomFloats(11, random), activation: { kind: 'tanh' } as const };
    check((be, out) => be.prepareLinear(weights).runSync(a, 10, out), 110, 'linear');
    // Batch 1 and 2 take the GEMV (f32_gemv_4x1__wasmsimd): K with and without a tail of 4,
    // outputs past the last full 4-row panel. 1e-4 as the convs: float sums of 1280 products in
    // another order than the oracle's differ by ~1e-5 of values ~1.
    for (const [inFeatures, outFeatures] of [[1280, 1001], [37, 6], [4, 3]]) {
      const linear = { inFeatures, outFeatures, weight: randomFloats(inFeatures * outFeatures, random), bias: randomFloats(outFeatures, random), activation: { kind: 'relu' } as const };
      for (const batch of [1, 2]) {
        const x = randomFloats(batch * inFeatures, random);
        check((be, out) => be.prepareLinear(linear).runSync(x, batch, out), batch * outFeatures, `linear ${inFeatures}->${outFeatures} batch ${batch}`, 1e-4);
      }
    }
  });

  describe.each(['wasmsimd', 'scalar'] as const)('matMul, layerNorm and softmax in the module, the %s tier', (tier) => {
    // Attention's shapes: batched heads, broadcast batch dims, a rank-2 operand, odd sizes for
    // the GEMM's edge tiles; groups of values in rows (inner 1) and in columns (inner > 1).
    const MATMULS: [number[], number[]][] = [
      [[5, 7], [7, 9]], [[2, 3, 17, 8], [2, 3, 8, 17]], [[4, 1, 6, 5], [3, 5, 10]], [[1, 33, 64], [64, 33]],
    ];
    const GROUPS = [{ outer: 6, length: 7, inner: 1 }, { outer: 2, length: 96, inner: 1 }, { outer: 3, length: 5, inner: 9 }];

    it('give the JS oracle\'s answers, fused activation, in place and async', async () => {
      setWasmIsa(tier);
      const random = seededRandom(23);
      for (const [aShape, bShape] of MATMULS) {
        const a = randomFloats(aShape.reduce((x, y) => x * y, 1), random);
        const b = randomFloats(bShape.reduce((x, y) => x * y, 1), random);
        const plan = planMatMul('test', aShape, bShape);
        const n = plan.aIndex.length * plan.m * plan.n;
        const expected = new Float32Array(n);
        jsBackend.matMulSync(a, aShape, b, bShape, expected, { kind: 'relu' });
        const actual = new Float32Array(n).fill(Number.NaN);
        backend.matMulSync(a, aShape, b, bShape, actual, { kind: 'relu' });
        expectClose(actual, expected, `${tier} matMul [${aShape}] x [${bShape}]`, 1e-4);
        const later = new Float32Array(n).fill(Number.NaN);
        await backend.matMul(a, aShape, b, bShape, later, { kind: 'relu' });
        expectClose(later, expected, `${tier} async matMul [${aShape}] x [${bShape}]`, 1e-4);
      }
      for (const [i, shape] of GROUPS.entries()) {
        const total = shape.outer * shape.length * shape.inner;
        const input = randomFloats(total, random).map((v) => v * 3 + 2);
        const params = { ...shape, scale: randomFloats(shape.length, random), bias: i % 2 === 0 ? randomFloats(shape.length, random) : null, epsilon: 1e-5 };
        const expectedNorm = new Float32Array(total);
        jsBackend.layerNormSync(input, expectedNorm, params);
        const norm = new Float32Array(total).fill(Number.NaN);
        backend.layerNormSync(input, norm, params);
        expectClose(norm, expectedNorm, `${tier} layerNorm [${shape.outer}, ${shape.length}, ${shape.inner}]`, 1e-4);
        const inPlace = input.slice();
        await backend.layerNorm(inPlace, inPlace, params);
        expectClose(inPlace, expectedNorm, `${tier} layerNorm in place`, 1e-4);
        const expectedSoft = new Float32Array(total);
        jsBackend.softmaxSync(input, expectedSoft, shape);
        const soft = new Float32Array(total).fill(Number.NaN);
        backend.softmaxSync(input, soft, shape);
        expectClose(soft, expectedSoft, `${tier} softmax [${shape.outer}, ${shape.length}, ${shape.inner}]`, 1e-5);
        const softInPlace = input.slice();
        await backend.softmax(softInPlace, softInPlace, shape);
        expectClose(softInPlace, expectedSoft, `${tier} softmax in place`, 1e-5);
      }
    });

    it('refuse bad input with the JS backend\'s typed errors', () => {
      setWasmIsa(tier);
      const a = new Float32Array(24), b = new Float32Array(40), out = new Float32Array(30);
      const x = new Float32Array(12), y = new Float32Array(12), scale = new Float32Array(4);
      const calls: [(be: Backend) => void, RegExp][] = [
        [(be) => be.matMulSync(a, [2, 3, 4], b, [2, 5, 4], out), /inner dimensions differ/],
        [(be) => be.matMulSync(a, [2, 3, 4], b, [2, 4, 5], out.subarray(1)), /output has 29 elements/],
        [(be) => be.softmaxSync(x.subarray(1), y, { outer: 3, length: 4, inner: 1 }), /input has 11 elements/],
        [(be) => be.layerNormSync(x, y, { outer: 3, length: 4, inner: 1, scale: scale.subarray(1), bias: null, epsilon: 0 }), /scale has 3 elements/],
        [(be) => be.layerNormSync(x, y, { outer: 3, length: 4, inner: 1, scale, bias: null, epsilon: -1 }), /epsilon must be a finite non-negative/],
      ];
      for (const [call, message] of calls) {
        let jsError: unknown;
        try {
          call(jsBackend);
        } catch (error) {
          jsError = error;
        }
        expect(jsError, String(message)).toBeInstanceOf(Error);
        expect(() => call(backend)).toThrowError(expect.objectContaining({ code: (jsError as { code: string }).code }));
        expect(() => call(backend)).toThrow(message);
      }
    });
  });

  it('refuses bad arguments with typed errors, and keeps working after thousands of them (its stack put back)', () => {
    const weights = { inChannels: 1, outChannels: 1, groups: 1, kernelH: 3, kernelW: 3, weight: new Float32Array(9).fill(1), bias: null, activation: { kind: 'none' } as const };
    const kernel = backend.prepareConv2d(weights);
    const g = planConv('t', [1, 1, 5, 5], { inChannels: 1, outChannels: 1, groups: 1, kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padding: 0 });
    const input = new Float32Array(25).fill(1);
    // Each refusal unwinds the wasm frames from a JS import: the loader must put the shadow
    // stack pointer back, or they would run the 1 MiB stack into the heap.
    const stackTop = wasmModuleInfo().stackPointer;
    for (let i = 0; i < 2000; i++) {
      expect(() => kernel.runSync(input, g, new Float32Array(8))).toThrow(/output/);
      // Refused inside the Conv2d constructor, a frame deep in the shadow stack (~1 KiB).
      if (i % 10 === 0) expect(() => backend.prepareConv2d({ ...weights, weight: new Float32Array(8) })).toThrow(/weight has 8 elements/);
    }
    expect(wasmModuleInfo().stackPointer).toBe(stackTop);
    const out = new Float32Array(9);
    kernel.runSync(input, g, out);
    expect([...out]).toEqual(new Array(9).fill(9));
    expect(() => kernel.runSync(input, { ...g, inChannels: 2 }, out)).toThrowError(expect.objectContaining({ code: 'ERR_CONVNODE_SHAPE' }));
    expect(() => backend.prepareConv2d({ ...weights, weight: new Float32Array(8) })).toThrowError(expect.objectContaining({ code: 'ERR_CONVNODE_SHAPE' }));
    kernel.dispose?.();
    expect(() => kernel.runSync(input, g, out)).toThrowError(expect.objectContaining({ code: 'ERR_CONVNODE_DISPOSED' }));
  });

  it('dispose() gives the packed weights back to the module: its memory stops growing', () => {
    const random = seededRandom(1);
    const weights = { inChannels: 256, outChannels: 256, groups: 1, kernelH: 3, kernelW: 3, weight: randomFloats(256 * 256 * 9, random), bias: null, activation: { kind: 'none' } as const };
    backend.prepareConv2d(weights).dispose?.();
    const before = wasmModuleInfo().memoryBytes;
    // 30 x 2.4 MB of weights (more in packed form): without the frees the memory would grow by 70 MB+.
    for (let i = 0; i < 30; i++) backend.prepareConv2d(weights).dispose?.();
    expect(wasmModuleInfo().memoryBytes - before).toBeLessThan(8 * 1024 * 1024);
  });

  it("CONVNODE_BACKEND=wasm makes it the active backend; getBackend() says 'wasm'", () => {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e',
      "const c = await import('./dist/index.js'); console.log(c.getBackend());"],
    { env: { ...process.env, CONVNODE_BACKEND: 'wasm' }, encoding: 'utf8' });
    expect(child.stderr).not.toMatch(/CONVNODE_NATIVE_FALLBACK/);
    expect(child.stdout.trim()).toBe('wasm');
  });
});
