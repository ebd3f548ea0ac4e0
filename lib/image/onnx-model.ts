/**
 * The part of lib/onnx a classifier uses. Loaded lazily, so `convnode summary lenet5` and the
 * image functions never pay for the protobuf decoder.
 */
import type { Tensor } from '../tensor.js';

/** What a classifier needs of a loaded ONNX model (lib/onnx's contract). */
export interface RunnableModel {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
}

// A specifier in a variable keeps the compiler from requiring lib/onnx/index.ts to exist yet
// (it is being written in parallel); the runtime import is the same.
const ONNX_MODULE = '../onnx/index.js';

export async function loadOnnxModel(source: string | Uint8Array): Promise<RunnableModel> {
  const onnx = (await import(ONNX_MODULE)) as { loadOnnx(source: string | Uint8Array): RunnableModel | Promise<RunnableModel> };
  return onnx.loadOnnx(source);
}
