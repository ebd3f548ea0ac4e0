/**
 * Backend selection. 'native' is the C++ addon; 'wasm' the same C++ ops compiled to WebAssembly
 * (where the addon does not load); 'js' is the pure-JS path (the last fallback, and the oracle
 * the other two are tested against). The environment variable CONVNODE_BACKEND picks one at
 * start; otherwise native when its binary loads, else wasm when its module loads, else js.
 */
import { BackendError } from '../errors.js';
import type { Backend, BackendName } from './backend.js';
import { jsBackend } from './js.js';
import { loadNativeBackend } from './native.js';
import { loadWasmBackend, wasmModuleInfo } from './wasm.js';

const BACKEND_NAMES: readonly BackendName[] = ['js', 'native', 'wasm'];

let active: Backend | undefined;
let warnedAboutFallback = false;

function nativeOrError(): Backend {
  const loaded = loadNativeBackend();
  if (loaded instanceof Error) {
    throw new BackendError(`the native backend is not available: ${loaded.message}`);
  }
  return loaded;
}

function wasmOrError(): Backend {
  const loaded = loadWasmBackend();
  if (loaded instanceof Error) {
    throw new BackendError(`the wasm backend is not available: ${loaded.message}`);
  }
  return loaded;
}

function initialBackend(): Backend {
  const requested = process.env.CONVNODE_BACKEND;
  if (requested !== undefined && requested !== '') {
    if (!BACKEND_NAMES.includes(requested as BackendName)) {
      throw new BackendError(`CONVNODE_BACKEND must be 'js', 'native' or 'wasm', got '${requested}'`);
    }
    return byName(requested as BackendName);
  }
  const loaded = loadNativeBackend();
  if (loaded instanceof Error) {
    const wasm = loadWasmBackend();
    if (!warnedAboutFallback) {
      warnedAboutFallback = true;
      // The loader's message says why, and how to get the native path where a rebuild would help.
      const message = wasm instanceof Error
        ? `using the pure-JS backend: ${loaded.message}; the wasm module did not load either: ${wasm.message}`
        : `using the wasm backend (the native kernels compiled to WebAssembly, on ${wasmThreadsNote()}; about 3-6x slower than native): ${loaded.message}`;
      process.emitWarning(`convnode: ${message}`, { code: 'CONVNODE_NATIVE_FALLBACK' });
    }
    return wasm instanceof Error ? jsBackend : wasm;
  }
  return loaded;
}

/** "2 threads" or "1 thread (why not more)", for the fallback warning. */
function wasmThreadsNote(): string {
  const { threads, oneThreadReason } = wasmModuleInfo();
  return threads > 1 ? `${threads} threads` : `1 thread${oneThreadReason === null ? '' : ` (${oneThreadReason})`}`;
}

/** The backend layers run on; chosen on first use. */
export function activeBackend(): Backend {
  active ??= initialBackend();
  return active;
}

export function getBackend(): BackendName {
  return activeBackend().name;
}

/** Switches every layer to a backend. Asking for 'native' or 'wasm' when it cannot load is an error, not a silent fallback. */
export function setBackend(name: BackendName): void {
  active = backendByName(name, 'setBackend: name');
}

/**
 * A backend by name without making it the active one (loadOnnx's `backend` option; tests and
 * benchmarks compare them). An unknown name is an error: it used to fall through to 'js'.
 */
export function backendByName(name: BackendName, what = 'backend'): Backend {
  if (!BACKEND_NAMES.includes(name)) {
    throw new BackendError(`${what} must be 'js', 'native' or 'wasm', got ${JSON.stringify(name)}`);
  }
  return byName(name);
}

function byName(name: BackendName): Backend {
  if (name === 'native') return nativeOrError();
  return name === 'wasm' ? wasmOrError() : jsBackend;
}
