/**
 * The ONNX model builder the importer's tests use: scripts/onnx-model-builder.mjs (shared with
 * the benches that time one layer on onnxruntime too), with its types
 * (scripts/onnx-model-builder.d.ts). It writes the protobuf bytes by hand, not with convnode's own
 * schema; every model that should be valid is also loaded by onnxruntime, which checks it
 * independently.
 */
export * from '../scripts/onnx-model-builder.mjs';
