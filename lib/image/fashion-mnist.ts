/**
 * Accuracy of a classifier on the Fashion-MNIST test set (Debian's dataset-fashion-mnist), measured
 * through convnode's own preprocessing and inference, for the built-in model's accuracy claim.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ShapeError } from '../errors.js';
import { Tensor } from '../tensor.js';
import type { ImageClassifier } from './classifier.js';
import { readIdxFile } from './idx.js';
import { normalisationTables, writeCHW } from './pixels.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
const TEST_IMAGES = 't10k-images-idx3-ubyte.gz';
const TEST_LABELS = 't10k-labels-idx1-ubyte.gz';

/** Why the test set cannot be used here, or undefined when it is installed. */
export function fashionMnistMissing(dir = FASHION_MNIST_DIR): string | undefined {
  const missing = [TEST_IMAGES, TEST_LABELS].filter((f) => !existsSync(join(dir, f)));
  return missing.length ? `${missing.join(' and ')} not found in ${dir} (apt-get install dataset-fashion-mnist)` : undefined;
}

export interface Evaluation {
  readonly images: number;
  readonly correct: number;
  readonly accuracy: number;
  /** Per class: [correct, total]. */
  readonly perClass: readonly (readonly [number, number])[];
  readonly seconds: number;
}

export async function evaluateFashionMnist(classifier: ImageClassifier, options: { dir?: string; batch?: number; limit?: number } = {}): Promise<Evaluation> {
  const dir = options.dir ?? FASHION_MNIST_DIR;
  const images = readIdxFile(join(dir, TEST_IMAGES));
  const labels = readIdxFile(join(dir, TEST_LABELS));
  const [count, height, width] = images.shape;
  if (labels.shape[0] !== count) throw new ShapeError(`${count} test images but ${labels.shape[0]} labels`);
  const [channels, h, w] = classifier.inputShape;
  if (channels !== 1 || h !== height || w !== width) {
    throw new ShapeError(`the classifier takes ${channels}x${h}x${w} images; Fashion-MNIST is 1x${height}x${width}`);
  }
  const n = Math.min(count, options.limit ?? count);
  const batchSize = options.batch ?? 500;
  const tables = normalisationTables(classifier.image);
  const perClass = Array.from({ length: 10 }, () => [0, 0] as [number, number]);
  let correct = 0;
  const began = performance.now();
  for (let start = 0; start < n; start += batchSize) {
    const rows = Math.min(batchSize, n - start);
    const batch = new Tensor([rows, 1, height, width]);
    // The same pixel path decoded files take (writeCHW), fed with the idx bytes directly.
    for (let r = 0; r < rows; r++) {
      const pixels = images.data.subarray((start + r) * height * width, (start + r + 1) * height * width);
      writeCHW({ data: pixels, width, height, channels: 1 }, classifier.image, tables, batch.data, r * height * width);
    }
    const predictions = await classifier.predict(batch, 1);
    predictions.forEach(([best], r) => {
      const truth = labels.data[start + r];
      perClass[truth][1]++;
      if (best.index === truth) {
        correct++;
        perClass[truth][0]++;
      }
    });
  }
  return { images: n, correct, accuracy: correct / n, perClass, seconds: (performance.now() - began) / 1000 };
}
