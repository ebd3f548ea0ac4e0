/**
 * The ONNX importer's public surface; lib/index.ts re-exports it.
 *
 *   const model = await loadOnnx('resnet18.onnx');           // parse, fold, fuse, pack weights
 *   const { output } = await model.run({ input: batch });    // any batch size, no reload
 *   model.peakActivationBytes([8, 3, 224, 224]);             // the static memory plan's arena
 *   summarize(model, [1, 3, 224, 224]);                      // per-op planner rows
 */
export { loadOnnx, loadOnnxSync, MAX_OPSET, MIN_OPSET, type LoadOnnxOptions } from './load.js';
export { DEFAULT_LIMITS, type LoadLimits } from './limits.js';
export { OnnxModel, type InputShapes, type RunOptions } from './model.js';
export type { StepTiming } from './plan.js';
export { OnnxError } from './errors.js';
export { SUPPORTED_OPS } from './ops/registry.js';
export type { DeclaredDim } from './decode.js';
