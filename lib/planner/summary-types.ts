/** One row of the planner table: what a layer (or an ONNX node) costs and produces. */
export interface LayerSummary {
  /** The layer's name ('conv1', or an ONNX node name). */
  readonly name: string;
  /** The layer's type ('Conv2d', 'MaxPool2d', or an ONNX op type). */
  readonly type: string;
  /** Output shape for the whole batch, e.g. [N, C, H, W]. */
  readonly outputShape: readonly number[];
  /** Learnable parameters (weights + biases). */
  readonly params: number;
  /** Multiply-adds for the whole batch (the lecture's "FLOPs": Cout*H'*W'*Cin*KH*KW/groups per image, times N). */
  readonly multiplyAdds: number;
  /**
   * Receptive field [h, w] of one output pixel on the network input, and the jump [h, w]
   * (input pixels between neighbouring outputs). null where spatial structure is gone
   * (after Flatten/Linear) or not defined.
   */
  readonly receptiveField: readonly [number, number] | null;
  readonly jump: readonly [number, number] | null;
  /** Bytes of this layer's float32 output activation. */
  readonly activationBytes: number;
}

/** A model that can describe itself row by row (Sequential, a loaded ONNX model). */
export interface Summarizable {
  summaryRows(inputShape: readonly number[]): LayerSummary[];
  /** Peak bytes of live activations under the model's own memory plan, where it has one. */
  peakActivationBytes?(inputShape: readonly number[]): number;
}
