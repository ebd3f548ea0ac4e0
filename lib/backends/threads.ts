/**
 * setNumThreads / getNumThreads for whichever backend runs the layers: the native addon's thread
 * pool, or the wasm backend's worker threads (lib/backends/wasm.ts). The pure-JS backend has one
 * thread; there, as before, the calls go to the addon when it loads and are a BackendError when
 * it does not.
 */
import { ParameterError } from '../errors.js';
import { activeBackend } from './index.js';
import { getNumThreads as nativeGetNumThreads, setNumThreads as nativeSetNumThreads } from './native.js';
import { getWasmThreads, setWasmThreads } from './wasm.js';

/**
 * Threads the kernels use (process-wide). Native: the addon's pool (default
 * os.availableParallelism()). Wasm: min(n, the host's cores) threads of the threaded module
 * (default: one per core, at most 16); 1 ends its worker threads.
 */
export function setNumThreads(n: number): void {
  if (activeBackend().name !== 'wasm') {
    nativeSetNumThreads(n);
    return;
  }
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1024) {
    throw new ParameterError(`setNumThreads: n must be an integer between 1 and 1024, got ${String(n)}`);
  }
  setWasmThreads(n);
}

/** Threads the kernels of the active backend split their work over. */
export function getNumThreads(): number {
  return activeBackend().name === 'wasm' ? getWasmThreads() : nativeGetNumThreads();
}
