// The classifier end to end against an independent runtime: onnxruntime-node on the same
// preprocessed batch, and PyTorch's predictions recorded at training time.
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { BUILTIN_MODEL_PATH, readBuiltinMetadata } from '../lib/image/builtin.js';
import { ImageClassifier } from '../lib/image/classifier.js';
import { imagesToBatch } from '../lib/image/index.js';
import { softmax } from '../lib/image/predictions.js';

const meta = readBuiltinMetadata() as ReturnType<typeof readBuiltinMetadata> & {
  samples: { file: string; label: string; torchPrediction: string }[];
};
const files = meta.samples.map((s) => new URL(`../samples/${s.file}`, import.meta.url).pathname);

describe('ImageClassifier with the built-in model', () => {
  it('gives the probabilities onnxruntime gives for the same images', async () => {
    const classifier = await ImageClassifier.load();
    const results = await classifier.classify(files, 10);
    const batch = await imagesToBatch(files, classifier.image);
    const session = await ort.InferenceSession.create(BUILTIN_MODEL_PATH);
    const { logits } = await session.run({ input: new ort.Tensor('float32', batch.tensor.data, [...batch.tensor.shape]) });
    results.forEach((result, n) => {
      if (!result.ok) throw new Error(result.error);
      const reference = softmax((logits.data as Float32Array).subarray(n * 10, n * 10 + 10));
      for (const p of result.top) expect(p.probability).toBeCloseTo(reference[p.index], 4);
    });
  });

  it("agrees with PyTorch's predictions on the samples (recorded when the model was trained)", async () => {
    const classifier = await ImageClassifier.load();
    const results = await classifier.classify(files, 1);
    expect(results.map((r) => (r.ok ? r.top[0].label : r.error))).toEqual(meta.samples.map((s) => s.torchPrediction));
  });

  it('accepts image bytes with a name and reports a bad one by that name', async () => {
    const classifier = await ImageClassifier.load();
    const [good, bad] = await classifier.classify([{ name: 'bag', data: readFileSync(files[8]) }, { name: 'junk.png', data: Buffer.from('junk') }], 3);
    expect(good.ok && good.top.map((p) => p.label)[0]).toBe(meta.samples[8].torchPrediction);
    expect(bad).toMatchObject({ ok: false, source: 'junk.png', error: expect.stringMatching(/junk\.png.*cannot be decoded/) });
  });
});
