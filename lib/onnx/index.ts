/** The ONNX importer's public surface; lib/index.ts re-exports it. */
export { loadOnnx, loadOnnxSync, MAX_OPSET, MIN_OPSET, type LoadOnnxOptions } from './load.js';
export { OnnxModel, type InputShapes } from './model.js';
export { OnnxError } from './errors.js';
export { SUPPORTED_OPS } from './ops/registry.js';
export type { DeclaredDim } from './decode.js';
