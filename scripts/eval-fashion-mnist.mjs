#!/usr/bin/env node
// Accuracy of the built-in model (models/lenet5-fashion.onnx) on the 10,000 Fashion-MNIST test
// images, measured by convnode itself: its idx reader, its preprocessing, its ONNX runtime.
//   npm run build && node scripts/eval-fashion-mnist.mjs [--json] [--limit N] [--dir PATH]
import { parseArgs } from 'node:util';
import { getBackend } from '../dist/backends/index.js';
import { ImageClassifier } from '../dist/image/classifier.js';
import { evaluateFashionMnist, fashionMnistMissing, FASHION_MNIST_DIR } from '../dist/image/fashion-mnist.js';
import { BUILTIN_LABELS_PATH, readBuiltinMetadata, readLabels } from '../dist/image/builtin.js';

const { values } = parseArgs({
  options: { json: { type: 'boolean' }, limit: { type: 'string' }, dir: { type: 'string' } },
});
const dir = values.dir ?? FASHION_MNIST_DIR;
const missing = fashionMnistMissing(dir);
if (missing) {
  console.error(`eval-fashion-mnist: ${missing}`);
  process.exit(3);
}
const limit = values.limit === undefined ? undefined : Number(values.limit);
if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
  console.error(`eval-fashion-mnist: --limit must be a positive whole number, got '${values.limit}'`);
  process.exit(2);
}

const classifier = await ImageClassifier.load();
const result = await evaluateFashionMnist(classifier, { dir, limit });
const backend = getBackend();
const torchAccuracy = readBuiltinMetadata().testAccuracyTorch;
if (values.json) {
  console.log(JSON.stringify({ ...result, backend, torchAccuracy }));
} else {
  const labels = readLabels(BUILTIN_LABELS_PATH);
  result.perClass.forEach(([ok, total], c) => console.log(`  ${labels[c].padEnd(12)} ${((100 * ok) / total).toFixed(1).padStart(5)}%  (${ok}/${total})`));
  console.log(
    `accuracy ${(100 * result.accuracy).toFixed(2)}% (${result.correct}/${result.images}) on the ${backend} backend in ${result.seconds.toFixed(2)}s; ` +
      `PyTorch measured ${(100 * torchAccuracy).toFixed(2)}% at training time`,
  );
}
