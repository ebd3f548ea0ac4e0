/**
 * Small-width modern blocks exported by Debian's torch at opset 17
 * (scripts/onnx-fixtures/export_coverage_fixtures.py -> test/fixtures/coverage/): a ConvNeXt
 * block stack, a Swin-like shifted-window block, a ViT-like encoder block, a UNet-like
 * encoder/decoder (ConvTranspose + bilinear Resize), an FPN neck (nearest 2x Resize + Concat)
 * and an LRASPP-like head. Each must match onnxruntime-node within 1e-4 x max|output| at batch
 * 1 and 3 on both backends. A fixture that fails to load for an unsupported operator is skipped
 * with the ops named (the gap shows in the test output; the test turns on once they land).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadOnnx, loadOnnxSync, OnnxError } from '../lib/onnx/index.js';
import { SUPPORTED_OPS } from '../lib/onnx/ops/registry.js';
import { decodeModel } from '../lib/onnx/decode.js';
import { Tensor } from '../lib/tensor.js';
import { availableBackends } from './helpers/backends.js';
import { randomInput } from './helpers/numeric.js';

const FIXTURES: Array<[string, number[]]> = [
  ['convnext_stack', [3, 32, 32]],
  ['swin_block', [3, 32, 32]],
  ['vit_block', [3, 32, 32]],
  ['unet', [3, 16, 16]],
  ['fpn_neck', [3, 16, 16]],
  ['lraspp_head', [3, 32, 32]],
];

const bytesOf = (name: string) => readFileSync(fileURLToPath(new URL(`./fixtures/coverage/${name}.onnx`, import.meta.url)));

/**
 * Ops convnode cannot run in this file after fusion (which absorbs e.g. the Erf of a GELU), as
 * the loader's 'unsupported operator' error names them; [] when the file loads.
 */
function missingOps(bytes: Uint8Array): string[] {
  try {
    loadOnnxSync(bytes, { backend: 'js' });
    return [];
  } catch (error) {
    if (!(error instanceof OnnxError) || !/unsupported operator/.test(error.message)) throw error;
    const ops = new Set(decodeModel(bytes, 'fixture').nodes.map((n) => n.opType));
    return [...ops].filter((op) => !SUPPORTED_OPS.includes(op)).sort();
  }
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

describe.each(availableBackends())('torch-exported coverage fixtures vs onnxruntime-node (%s)', (backend) => {
  for (const [name, chw] of FIXTURES) {
    const bytes = bytesOf(name);
    const missing = missingOps(bytes);
    it.skipIf(missing.length > 0)(`${name}${missing.length ? ` (needs ${missing.join(', ')})` : ''}`, async () => {
      const session = await ort.InferenceSession.create(bytes);
      const model = await loadOnnx(bytes, { backend });
      for (const n of [1, 3]) {
        const shape = [n, ...chw];
        const data = randomInput(shape, 31 + n);
        const want = (await session.run({ x: new ort.Tensor('float32', data.slice(), shape) })).y;
        const got = (await model.run({ x: new Tensor(shape, data) })).y;
        expect(got.shape, `batch ${n}`).toEqual(want.dims);
        const expected = want.data as Float32Array;
        let worst = 0;
        for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - expected[i]));
        expect(worst / maxAbs(expected), `batch ${n}: worst |error| / max |output|`).toBeLessThanOrEqual(1e-4);
      }
    });
  }
});

it('the coverage fixtures stay small (< 1.5 MB together)', () => {
  const total = FIXTURES.reduce((sum, [name]) => sum + bytesOf(name).length, 0);
  expect(total).toBeLessThan(1.5 * 1024 * 1024);
});
