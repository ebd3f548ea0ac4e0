/**
 * The squeeze-and-excitation kernel (Backend.prepareSqueezeExcite): the pure-JS reference
 * against hand-worked values, the native kernel (every ISA the CPU has) and the wasm module's
 * (both tiers) against the reference on random blocks, their typed errors, and a model with an SE block against onnxruntime on
 * every backend (the ONNX step runs as this one kernel where the backend has it).
 */
import * as ort from 'onnxruntime-node';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Activation } from '../lib/activation.js';
import { backendByName } from '../lib/backends/index.js';
import type { Backend, SqueezeExciteWeights } from '../lib/backends/backend.js';
import { availableIsas, setIsa } from '../lib/backends/native.js';
import { loadWasmBackend, setWasmIsa } from '../lib/backends/wasm.js';
import { ParameterError, ShapeError, DisposedError } from '../lib/errors.js';
import { prepareSqueezeExcite } from '../lib/kernels/squeeze-excite.js';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { availableBackends, useNativeBackend } from './helpers/backends.js';
import { expectClose, randomFloats, randomInput, seededRandom } from './helpers/numeric.js';

const NONE: Activation = { kind: 'none' };

const loadedWasm = loadWasmBackend();
if (loadedWasm instanceof Error && process.env.CONVNODE_REQUIRE_WASM === '1') throw loadedWasm;
const wasm = loadedWasm instanceof Error ? null : loadedWasm;

function randomBlock(channels: number, hidden: number, seed: number, act1: Activation, act2: Activation): SqueezeExciteWeights {
  const random = seededRandom(seed);
  const values = (n: number, scale: number) => randomFloats(n, () => (random() - 0.5) * scale);
  return {
    channels,
    hidden,
    reduce: { weight: values(hidden * channels, 4 / Math.sqrt(channels)), bias: values(hidden, 1), activation: act1 },
    expand: { weight: values(channels * hidden, 4 / Math.sqrt(hidden)), bias: seed % 2 ? null : values(channels, 1), activation: act2 },
  };
}

// (channels, hidden, plane): EfficientNet-like 7x7 and 14x14 maps, odd sizes for the vector tails.
const SHAPES = [[32, 8, 112], [96, 4, 49], [67, 5, 13], [240, 10, 196], [3, 1, 1]] as const;
const GATES: Array<[Activation, Activation]> = [
  [{ kind: 'silu' }, { kind: 'sigmoid' }],
  [{ kind: 'relu' }, { kind: 'hardSigmoid', alpha: 1 / 6, beta: 0.5 }],
  [NONE, NONE],
];

/** A backend's kernel against the pure-JS reference over SHAPES x GATES, batches 1 and 3, separate output and in place. */
function sweepAgainstReference(backend: Backend, name: string): void {
  let seed = 1;
  for (const [channels, hidden, plane] of SHAPES) {
    for (const [act1, act2] of GATES) {
      const block = randomBlock(channels, hidden, seed++, act1, act2);
      const kernel = backend.prepareSqueezeExcite!(block);
      const reference = prepareSqueezeExcite(block);
      for (const batch of [1, 3]) {
        const x = randomInput([batch, channels, plane], seed++);
        const expected = new Float32Array(x.length);
        reference.runSync(x, batch, plane, expected);
        const out = new Float32Array(x.length);
        kernel.runSync(x, batch, plane, out);
        const label = `${name} C${channels} hidden ${hidden} plane ${plane} batch ${batch} ${act1.kind}/${act2.kind}`;
        expectClose(out, expected, label, 2e-5);
        kernel.runSync(x, batch, plane, x);
        expectClose(x, expected, `${label} in place`, 2e-5);
      }
      kernel.dispose?.();
    }
  }
}

/** The typed errors every backend's kernel gives (the pure-JS kernel's rules). */
async function expectRefusals(backend: Backend): Promise<void> {
  const block = randomBlock(8, 2, 11, { kind: 'relu' }, { kind: 'sigmoid' });
  expect(() => backend.prepareSqueezeExcite!({ ...block, hidden: 3 })).toThrow(ShapeError);
  expect(() => backend.prepareSqueezeExcite!({ ...block, hidden: 3 })).toThrow(/reduce\.weight/);
  expect(() => backend.prepareSqueezeExcite!({ ...block, channels: 0 })).toThrow(ParameterError);
  const kernel = backend.prepareSqueezeExcite!(block);
  expect(() => kernel.runSync(new Float32Array(8 * 5), 1, 4, new Float32Array(8 * 4))).toThrow(/input/);
  expect(() => kernel.runSync(new Float32Array(8 * 4), 1, 4, new Float32Array(8 * 5))).toThrow(ShapeError);
  const shared = new Float32Array(8 * 4 + 1);
  expect(() => kernel.runSync(shared.subarray(0, 32), 1, 4, shared.subarray(1, 33))).toThrow(/overlap|share/);
  await expect(kernel.run(new Float32Array(3), 1, 4, new Float32Array(32))).rejects.toThrow(ShapeError);
  kernel.dispose?.();
  expect(() => kernel.runSync(new Float32Array(32), 1, 4, new Float32Array(32))).toThrow(DisposedError);
}

describe('squeeze-and-excitation reference (lib/kernels/squeeze-excite.ts)', () => {
  it('matches a block worked by hand', () => {
    // x: channel 0 = [1, 3] (mean 2), channel 1 = [2, 6] (mean 4).
    // reduce: relu(0.5 * 2 - 0.25 * 4 + 1) = 1; expand: [2 * 1 + 0, -1 * 1 + 1] = [2, 0];
    // hardSigmoid(0.2 v + 0.5): [0.9, 0.5]; out = [0.9, 2.7, 1, 3].
    const block: SqueezeExciteWeights = {
      channels: 2,
      hidden: 1,
      reduce: { weight: Float32Array.of(0.5, -0.25), bias: Float32Array.of(1), activation: { kind: 'relu' } },
      expand: { weight: Float32Array.of(2, -1), bias: Float32Array.of(0, 1), activation: { kind: 'hardSigmoid' } },
    };
    for (const name of availableBackends()) {
      const backend = backendByName(name);
      if (!backend.prepareSqueezeExcite) continue;
      const out = new Float32Array(4);
      backend.prepareSqueezeExcite(block).runSync(Float32Array.of(1, 3, 2, 6), 1, 2, out);
      expectClose(out, [0.9, 2.7, 1, 3], `${name} backend`, 1e-6);
    }
  });

  it('scales in place when output is input', () => {
    const block = randomBlock(5, 2, 3, { kind: 'silu' }, { kind: 'sigmoid' });
    const x = randomInput([2, 5, 3, 3], 4);
    const expected = new Float32Array(x.length);
    prepareSqueezeExcite(block).runSync(x, 2, 9, expected);
    prepareSqueezeExcite(block).runSync(x, 2, 9, x);
    expectClose(x, expected, 'in place', 1e-6);
  });
});

describe('native squeeze-and-excitation kernel vs the pure-JS reference', () => {
  let native: Backend;
  useNativeBackend((loaded) => {
    native = loaded;
  });

  it.each(availableIsas())('%s: batches 1 and 3, every gate kind, separate output and in place', (isa) => {
    setIsa(isa);
    sweepAgainstReference(native, isa);
  });

  it('runs asynchronously and queues after the call that writes its input', async () => {
    const block = randomBlock(40, 6, 9, { kind: 'relu' }, { kind: 'sigmoid' });
    const kernel = native.prepareSqueezeExcite!(block);
    const x = randomInput([2, 40, 50], 10);
    const doubled = new Float32Array(x.length);
    const expected = new Float32Array(x.length);
    prepareSqueezeExcite(block).runSync(x.map((v) => 2 * v), 2, 50, expected);
    const out = new Float32Array(x.length);
    // Not awaited in between: the addon orders the SE call after the affine that writes `doubled`.
    const affine = native.channelAffine(x, { batch: 2, channels: 40, plane: 50, scale: new Float32Array(40).fill(2), shift: null, activation: NONE }, doubled);
    const se = kernel.run(doubled, 2, 50, out);
    await Promise.all([affine, se]);
    expectClose(out, expected, 'queued after its producer', 2e-5);
  });

  it('refuses bad calls with typed errors that name the argument', async () => {
    await expectRefusals(native);
  });
});

describe.skipIf(wasm === null)('wasm squeeze-and-excitation kernel vs the pure-JS reference', () => {
  afterAll(() => {
    setWasmIsa('wasmsimd');
  });

  it.each(['wasmsimd', 'scalar'] as const)('%s tier: batches 1 and 3, every gate kind, separate output and in place', (tier) => {
    setWasmIsa(tier);
    sweepAgainstReference(wasm as Backend, `wasm ${tier}`);
  });

  it('refuses bad calls with typed errors that name the argument', async () => {
    await expectRefusals(wasm as Backend);
  });
});

describe('an ONNX squeeze-and-excitation block against onnxruntime', () => {
  const fixture = fileURLToPath(new URL('./fixtures/zoo/efficientnet_b0_mini.onnx', import.meta.url));

  it.each(availableBackends())('efficientnet_b0_mini on %s: one SE step per block, outputs within 1e-4 of max |output|', async (name) => {
    const model = await loadOnnx(fixture, { backend: name });
    const shape = [3, ...model.inputShapes[0].slice(1)] as number[];
    const types = model.summaryRows(shape).map((r) => r.type);
    expect(types.filter((t) => t.startsWith('GlobalAveragePool+Conv+')).length).toBeGreaterThan(0);
    const data = randomInput(shape, 21);
    const ours = (await model.run({ [model.inputNames[0]]: new Tensor(shape, data) }))[model.outputNames[0]].data;
    const session = await ort.InferenceSession.create(fixture);
    const theirs = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, shape) }))[session.outputNames[0]].data as Float32Array;
    const scale = Math.max(...theirs.map(Math.abs));
    const worst = Math.max(...Array.from(ours, (v, i) => Math.abs(v - theirs[i])));
    expect(worst).toBeLessThanOrEqual(1e-4 * scale);
    await session.release();
    model.dispose();
  });
});
