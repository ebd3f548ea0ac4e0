/**
 * Images in, labels out: an ONNX classifier with its labels and preprocessing. Used by
 * `convnode classify`, the HTTP example and the Fashion-MNIST evaluation.
 */
import { ParameterError } from '../errors.js';
import { checkOptionNames } from '../options.js';
import { loadOnnx, type OnnxModel } from '../onnx/index.js';
import type { Tensor } from '../tensor.js';
import { BUILTIN_LABELS_PATH, BUILTIN_MODEL_PATH, builtinImageOptions, readLabels } from './builtin.js';
import { imagesToBatch } from './index.js';
import type { ImageSource } from './decode.js';
import { resolveImageOptions, type ImageOptions, type ResolvedImageOptions } from './options.js';
import { topPredictions, type Prediction } from './predictions.js';

export interface ClassifierOptions {
  /** An .onnx path or its bytes. Default: the built-in Fashion-MNIST LeNet-5. */
  model?: string | Uint8Array;
  /** Labels, or a file with one per line. Default: the built-in model's; for other models, 'class 0', 'class 1', ... */
  labels?: readonly string[] | string;
  /**
   * Preprocessing. Default: the built-in model's; for other models the 'imagenet' preset at the
   * model's declared input size, or [0, 1] grayscale when it declares one channel.
   */
  image?: ImageOptions;
}

/** The result for one input image. */
export type Classification =
  | { readonly source: string; readonly ok: true; readonly top: readonly Prediction[] }
  | { readonly source: string; readonly ok: false; readonly error: string };

export class ImageClassifier {
  private constructor(
    private readonly model: OnnxModel,
    /** Labels by class index; empty until the first run for a model without labels. */
    private labels: readonly string[],
    readonly image: ResolvedImageOptions,
    readonly modelName: string,
  ) {}

  static async load(options: ClassifierOptions = {}): Promise<ImageClassifier> {
    if (options === null || typeof options !== 'object') {
      throw new ParameterError(`ImageClassifier.load: options must be an object, got ${options === null ? 'null' : typeof options}`);
    }
    checkOptionNames(options, ['model', 'labels', 'image'] satisfies Array<keyof ClassifierOptions>, 'ImageClassifier.load');
    const builtin = options.model === undefined;
    const modelSource = options.model ?? BUILTIN_MODEL_PATH;
    const model = await loadOnnx(modelSource);
    if (model.inputNames.length !== 1 || model.outputNames.length < 1) {
      throw new ParameterError(
        `model: a classifier needs one image input and a scores output; this one has inputs [${model.inputNames.join(', ')}] and outputs [${model.outputNames.join(', ')}]`,
      );
    }
    let labels: readonly string[] = [];
    if (typeof options.labels === 'string') labels = readLabels(options.labels);
    else if (options.labels !== undefined) labels = [...options.labels];
    else if (builtin) labels = readLabels(BUILTIN_LABELS_PATH);
    const modelDefaults: ImageOptions = builtin ? builtinImageOptions() : { preset: 'imagenet', ...declaredImageOptions(model) };
    // Options left undefined (e.g. flags not given) keep the model's defaults.
    const given: ImageOptions = Object.fromEntries(Object.entries(options.image ?? {}).filter(([, v]) => v !== undefined));
    // A preset the caller names replaces the model's default preprocessing (its channels, mean
    // and std were otherwise kept, so the preset changed nothing); the input size the model
    // declares stays, unless a size is given too.
    const defaults: ImageOptions = given.preset === undefined ? modelDefaults : { size: modelDefaults.size };
    const image = resolveImageOptions({ ...defaults, ...given });
    const name = typeof modelSource === 'string' ? modelSource : `<onnx bytes, ${modelSource.length}>`;
    return new ImageClassifier(model, labels, image, builtin ? 'built-in lenet5-fashion' : name);
  }

  /** The loaded ONNX model. */
  get onnx(): OnnxModel {
    return this.model;
  }

  /** [channels, height, width] of one preprocessed image. */
  get inputShape(): readonly [number, number, number] {
    return [this.image.channelCount, this.image.height, this.image.width];
  }

  /** Runs the model on an already preprocessed [N, C, H, W] batch. */
  async predict(batch: Tensor, top = 5): Promise<Prediction[][]> {
    if (!Number.isInteger(top) || top < 1) throw new ParameterError(`top must be a positive integer, got ${String(top)}`);
    if (batch.shape[0] === 0) return [];
    const outputs = await this.model.run({ [this.model.inputNames[0]]: batch });
    const scores = outputs[this.model.outputNames[0]];
    if (this.labels.length === 0) {
      const classes = scores.size / batch.shape[0];
      this.labels = Array.from({ length: classes }, (_, i) => `class ${i}`);
    }
    return topPredictions(scores, this.labels, Math.min(top, this.labels.length));
  }

  /** Decodes, preprocesses and classifies images in one forward pass; a bad image gets an error entry. */
  async classify(sources: readonly ImageSource[], top = 5): Promise<Classification[]> {
    const batch = await imagesToBatch(sources, this.image);
    const predictions = await this.predict(batch.tensor, top);
    return batch.items.map((item) =>
      item.ok ? { source: item.source, ok: true, top: predictions[item.batchIndex] } : { source: item.source, ok: false, error: item.error.message },
    );
  }
}

/** Size and channel count from the model's declared [N, C, H, W] input, where it states them. */
function declaredImageOptions(model: OnnxModel): ImageOptions {
  const shape = model.inputShapes[0];
  if (!shape || shape.length !== 4) return {};
  const [, c, h, w] = shape;
  const options: ImageOptions = {};
  if (typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0) options.size = [h, w];
  // ImageNet's statistics are per RGB channel; a one-channel model gets plain [0, 1] scaling.
  if (c === 1) Object.assign(options, { channels: 'grayscale', mean: 0, std: 1 });
  return options;
}
