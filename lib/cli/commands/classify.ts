/** `convnode classify`: images in, top-k labels out, as a table or JSON. */
import { getBackend } from '../../backends/index.js';
import { getNumThreads, setNumThreads } from '../../backends/threads.js';
import type { ImageOptions, PresetName } from '../../image/options.js';
import { PRESETS } from '../../image/options.js';
import { imageSize, numberList, positiveInt } from '../args.js';
import { UsageError, type CliIO, type Command, type ParsedArgs } from '../command.js';
import { percent, table } from '../format.js';
import { expandImageArgs } from '../inputs.js';
import { progressBar } from '../progress.js';

interface FileResult {
  readonly file: string;
  readonly top?: readonly { label: string; index: number; probability: number }[];
  readonly error?: string;
}

function imageOptionsFrom(values: ParsedArgs['values']): ImageOptions {
  const image: ImageOptions = {};
  if (values.preset !== undefined) {
    const preset = String(values.preset);
    if (!Object.hasOwn(PRESETS, preset)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got '${preset}'`);
    image.preset = preset as PresetName;
  }
  image.size = imageSize('size', values.size);
  image.mean = numberList('mean', values.mean);
  image.std = numberList('std', values.std);
  if (values.grayscale === true) image.channels = 'grayscale';
  if (values.fit !== undefined) {
    if (values.fit !== 'crop' && values.fit !== 'stretch') throw new UsageError(`--fit must be crop or stretch, got '${String(values.fit)}'`);
    image.fit = values.fit;
  }
  if (image.std?.some((s) => s <= 0)) throw new UsageError(`--std values must be positive, got '${String(values.std)}'`);
  return image;
}

/**
 * --threads sizes the native kernels' pool or the wasm backend's worker threads (at most one per
 * core there: a note says when it took fewer); the pure-JS backend runs on the calling thread only.
 */
function applyThreads(threads: number, io: CliIO): void {
  if (getBackend() === 'js') {
    io.stderr.write(`convnode classify: --threads ${threads} has no effect on the js backend (it runs on one thread)\n`);
    return;
  }
  setNumThreads(threads);
  const got = getNumThreads();
  if (got !== threads) io.stderr.write(`convnode classify: --threads ${threads}: the ${getBackend()} backend runs on ${got} (one per core at most)\n`);
}

async function run({ values, positionals }: ParsedArgs, io: CliIO): Promise<number> {
  const top = positiveInt('top', values.top ?? '5', 1000)!;
  const batchSize = positiveInt('batch', values.batch ?? '32', 4096)!;
  const threads = positiveInt('threads', values.threads, 256);
  const image = imageOptionsFrom(values);
  if (values.model === undefined && values.labels !== undefined) {
    throw new UsageError('--labels needs --model (the built-in model brings its own labels)');
  }
  const files = expandImageArgs(positionals);
  if (threads !== undefined) applyThreads(threads, io);

  const { ImageClassifier } = await import('../../image/classifier.js');
  const classifier = await ImageClassifier.load({
    model: values.model === undefined ? undefined : String(values.model),
    labels: values.labels === undefined ? undefined : String(values.labels),
    image,
  });

  const results: FileResult[] = [];
  const progress = progressBar(io, files.length, 'images');
  for (let start = 0; start < files.length; start += batchSize) {
    const chunk = files.slice(start, start + batchSize);
    const classified = await classifier.classify(chunk, top);
    classified.forEach((c, i) => results.push(c.ok ? { file: chunk[i], top: c.top } : { file: chunk[i], error: c.error }));
    progress.advance(results.length);
  }
  progress.finish();

  const failed = results.filter((r) => r.error !== undefined);
  if (values.json === true) {
    const report = { model: classifier.modelName, input: classifier.inputShape, results };
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const rows = results.map((r) =>
      r.top
        ? [r.file, r.top[0].label, percent(r.top[0].probability), r.top.slice(1).map((p) => `${p.label} ${percent(p.probability)}`).join(', ')]
        : [r.file, 'error', '', ''],
    );
    io.stdout.write(table(['File', 'Prediction', 'Probability', top > 1 ? 'Runners-up' : ''], rows));
  }
  for (const f of failed) io.stderr.write(`convnode classify: ${f.error}\n`);
  return failed.length ? 1 : 0;
}

export const classify: Command = {
  name: 'classify',
  summary: 'Classify images with an ONNX model (default: the built-in Fashion-MNIST LeNet-5).',
  usage: 'classify <image|dir|glob...> [options]',
  minPositionals: 1,
  maxPositionals: Infinity,
  options: {
    model: { type: 'string', short: 'm', value: '<m.onnx>', help: 'ONNX classifier (default: built-in models/lenet5-fashion.onnx)' },
    labels: { type: 'string', short: 'l', value: '<file>', help: 'labels, one per line, in class order (default: class N)' },
    top: { type: 'string', short: 'k', value: '<k>', help: 'labels shown per image (default 5)' },
    preset: { type: 'string', value: '<name>', help: 'imagenet, unit, fashion-mnist or grayscale28 (default: the built-in model\'s; for --model, imagenet at its declared size, [0,1] if it has 1 channel)' },
    size: { type: 'string', value: '<s|HxW>', help: 'input size, e.g. 224 or 224x320 (overrides the preset)' },
    fit: { type: 'string', value: '<crop|stretch>', help: 'crop: shorter side then centre crop (default); stretch: ignore aspect ratio' },
    mean: { type: 'string', value: '<m[,m,m]>', help: 'per-channel mean in [0,1] units, e.g. 0.485,0.456,0.406' },
    std: { type: 'string', value: '<s[,s,s]>', help: 'per-channel standard deviation, e.g. 0.229,0.224,0.225' },
    grayscale: { type: 'boolean', help: 'feed one luminance channel' },
    batch: { type: 'string', short: 'b', value: '<n>', help: 'images per forward pass (default 32)' },
    threads: { type: 'string', short: 't', value: '<n>', help: 'threads for the native kernels (default: one per core)' },
    json: { type: 'boolean', help: 'print JSON instead of a table' },
  },
  examples: [
    'convnode classify samples/',
    "convnode classify 'photos/**/*.jpg' --model resnet18.onnx --labels imagenet.txt --top 3",
    'convnode classify cat.jpg --model net.onnx --size 32 --mean 0.49,0.48,0.45 --std 0.25,0.24,0.26 --json',
  ],
  run,
};
