// The public surface of convnode.
export { Tensor, formatShape, type NestedArray } from './tensor.js';
export { ConvnodeError, ParameterError, ShapeError, BackendError, DisposedError, type ConvnodeErrorCode } from './errors.js';
export { setBackend, getBackend } from './backends/index.js';
export type { Activation, ActivationKind, BackendName } from './backends/backend.js';
export { Layer, type FieldState, type LayerPlan } from './layers/layer.js';
export { Conv2d, DepthwiseConv2d, type Conv2dOptions, type DepthwiseConv2dOptions } from './layers/conv.js';
export { SeparableConv2d, InvertedResidual, type SeparableConv2dOptions, type InvertedResidualOptions } from './layers/blocks.js';
export {
  MaxPool2d,
  AvgPool2d,
  GlobalAvgPool2d,
  GlobalMaxPool2d,
  type Pool2dOptions,
  type MaxPool2dOptions,
  type AvgPool2dOptions,
} from './layers/pool.js';
export { ReLU, ReLU6, LeakyReLU, Sigmoid, HardSwish, Softmax, ActivationLayer } from './layers/activations.js';
export { Linear, Flatten, type LinearOptions } from './layers/linear.js';
export { BatchNorm2d } from './layers/batchnorm.js';
export { Sequential } from './layers/sequential.js';
export { summarize, formatSummary, type ModelSummary, type LayerSummary, type Summarizable } from './layers/summary.js';
export {
  outputSize, planWindow, resolvePads, nextReceptiveField, type PaddingSpec, type Pads, type WindowGeometry, type ReceptiveField,
} from './planner/geometry.js';
export { lenet5, type LeNet5Options } from './zoo/lenet5.js';
export { getIsa, setIsa, availableIsas, measurePeakGflops, type IsaName } from './backends/native.js';
export { setNumThreads, getNumThreads } from './backends/threads.js';
export {
  loadOnnx,
  loadOnnxSync,
  OnnxModel,
  OnnxError,
  SUPPORTED_OPS,
  MIN_OPSET,
  MAX_OPSET,
  DEFAULT_LIMITS,
  type LoadLimits,
  type LoadOnnxOptions,
  type InputShapes,
  type DeclaredDim,
} from './onnx/index.js';
export {
  imageToTensor,
  imagesToBatch,
  writeImageInto,
  ImageError,
  PRESETS,
  resolveImageOptions,
  type ImageOptions,
  type ResolvedImageOptions,
  type PresetName,
  type ImageSource,
  type BatchItem,
  type ImageBatch,
} from './image/index.js';
export { ImageClassifier, type ClassifierOptions, type Classification } from './image/classifier.js';
export type { Prediction } from './image/predictions.js';
export {
  FILTERS,
  FILTER_NAMES,
  convReluPool,
  renderFeatureMaps,
  renderStages,
  composeStages,
  composeFeatureMaps,
  loadGrayscale,
  modelLayerMaps,
  composeModelLayer,
  buildHtmlReport,
  type FilterName,
  type ConvReluPoolOptions,
  type FeatureMapOptions,
  type StageOptions,
} from './visualize/index.js';
