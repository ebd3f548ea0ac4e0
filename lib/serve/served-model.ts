/**
 * One model as the server holds it: loaded, warmed, with its own dynamic batcher. Requests hand
 * it preprocessed rows (decoded images or a client's FP32 tensor); it concatenates the rows of
 * the requests in a batch, runs one forward pass, and gives each request its own rows back.
 */
import { BUILTIN_LABELS_PATH, readLabels } from '../image/builtin.js';
import { ImageClassifier } from '../image/classifier.js';
import { topPredictions, type Prediction } from '../image/predictions.js';
import { Tensor } from '../tensor.js';
import { DynamicBatcher, type BatchResult } from './batcher.js';
import { BUILTIN_MODEL, imageOptionsOf, type ModelConfig } from './config.js';

/** A request's rows: `rows` images of C x H x W floats, back to back. */
export interface RowsRequest {
  readonly rows: number;
  readonly data: Float32Array;
}

/** Every model output for a request's rows, by output name. */
export type RowsResult = Record<string, Tensor>;

export interface TensorSpec {
  readonly name: string;
  readonly datatype: 'FP32';
  /** -1 for the batch dimension. */
  readonly shape: readonly number[];
}

export class ServedModel {
  readonly batcher: DynamicBatcher<RowsRequest, RowsResult>;
  private labels: readonly string[] = [];
  private warmed = false;

  private constructor(
    readonly config: ModelConfig,
    readonly classifier: ImageClassifier,
    readonly inputs: readonly TensorSpec[],
    readonly outputs: readonly TensorSpec[],
  ) {
    this.batcher = new DynamicBatcher((items) => this.runBatch(items), config);
  }

  static async load(config: ModelConfig): Promise<ServedModel> {
    const builtin = config.model === BUILTIN_MODEL;
    const classifier = await ImageClassifier.load({
      model: builtin ? undefined : config.model,
      labels: config.labels,
      image: imageOptionsOf(config),
    });
    const [c, h, w] = classifier.inputShape;
    const onnx = classifier.onnx;
    const inputs: TensorSpec[] = [{ name: onnx.inputNames[0], datatype: 'FP32', shape: [-1, c, h, w] }];
    const shapes = onnx.outputShapes([1, c, h, w]);
    const outputs: TensorSpec[] = onnx.outputNames.map((name) => ({ name, datatype: 'FP32', shape: [-1, ...shapes[name].slice(1)] }));
    const served = new ServedModel(config, classifier, inputs, outputs);
    const classes = shapes[onnx.outputNames[0]].slice(1).reduce((a, b) => a * b, 1);
    if (config.labels !== undefined) served.labels = readLabels(config.labels);
    else if (builtin) served.labels = readLabels(BUILTIN_LABELS_PATH);
    else served.labels = Array.from({ length: classes }, (_, i) => `class ${i}`);
    if (served.labels.length !== classes) {
      throw new Error(`model '${config.name}': the model scores ${classes} classes but its labels file has ${served.labels.length}`);
    }
    return served;
  }

  get name(): string {
    return this.config.name;
  }

  /** Floats in one row (one image): C x H x W. */
  get rowSize(): number {
    const [c, h, w] = this.classifier.inputShape;
    return c * h * w;
  }

  get ready(): boolean {
    return this.warmed;
  }

  /**
   * Runs the model once at batch 1 and once at max batch, before readiness: the first runs plan
   * the memory, pack what is packed lazily and warm the JIT, so the first client is not the one
   * who pays for it.
   */
  async warmUp(): Promise<void> {
    for (const rows of new Set([1, this.config.maxBatch])) {
      await this.runBatch([{ rows, data: new Float32Array(rows * this.rowSize) }]);
    }
    this.warmed = true;
  }

  /** Queues a request's rows; see DynamicBatcher.submit for how it can fail. */
  submit(request: RowsRequest, signal?: AbortSignal): Promise<BatchResult<RowsResult>> {
    return this.batcher.submit(request, signal);
  }

  /** Ranked labels for each row of the first output. */
  top(result: RowsResult, k: number): Prediction[][] {
    const scores = result[this.outputs[0].name];
    return topPredictions(scores, this.labels, Math.min(k, this.labels.length));
  }

  get classCount(): number {
    return this.labels.length;
  }

  private async runBatch(items: readonly RowsRequest[]): Promise<RowsResult[]> {
    const rows = items.reduce((sum, item) => sum + item.rows, 0);
    const [c, h, w] = this.classifier.inputShape;
    let data: Float32Array;
    if (items.length === 1) data = items[0].data;
    else {
      data = new Float32Array(rows * this.rowSize);
      let offset = 0;
      for (const item of items) {
        data.set(item.data, offset);
        offset += item.data.length;
      }
    }
    const onnx = this.classifier.onnx;
    const outputs = await onnx.run({ [onnx.inputNames[0]]: new Tensor([rows, c, h, w], data) });
    // Each request gets views of its own rows; no copies.
    let first = 0;
    return items.map((item) => {
      const mine: RowsResult = {};
      for (const [name, tensor] of Object.entries(outputs)) {
        const perRow = tensor.size / rows;
        mine[name] = new Tensor([item.rows, ...tensor.shape.slice(1)], tensor.data.subarray(first * perRow, (first + item.rows) * perRow));
      }
      first += item.rows;
      return mine;
    });
  }
}
