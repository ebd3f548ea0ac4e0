/**
 * Backend selection. 'native' is the C++ addon; 'js' is the pure-JS path (the fallback where no
 * binary loads, and the oracle the native kernels are tested against). The environment variable
 * CONVNODE_BACKEND picks one at start; otherwise native is used when its binary loads.
 */
import { BackendError } from '../errors.js';
import type { Backend, BackendName } from './backend.js';
import { jsBackend } from './js.js';
import { loadNativeBackend } from './native.js';

const BACKEND_NAMES: readonly BackendName[] = ['js', 'native'];

let active: Backend | undefined;
let warnedAboutFallback = false;

function nativeOrError(): Backend {
  const loaded = loadNativeBackend();
  if (loaded instanceof Error) {
    throw new BackendError(`the native backend is not available: ${loaded.message}`);
  }
  return loaded;
}

function initialBackend(): Backend {
  const requested = process.env.CONVNODE_BACKEND;
  if (requested !== undefined && requested !== '') {
    if (!BACKEND_NAMES.includes(requested as BackendName)) {
      throw new BackendError(`CONVNODE_BACKEND must be 'js' or 'native', got '${requested}'`);
    }
    return requested === 'native' ? nativeOrError() : jsBackend;
  }
  const loaded = loadNativeBackend();
  if (loaded instanceof Error) {
    if (!warnedAboutFallback) {
      warnedAboutFallback = true;
      // The loader's message says why, and how to get the native path where a rebuild would help.
      process.emitWarning(`convnode: using the pure-JS backend: ${loaded.message}`, { code: 'CONVNODE_NATIVE_FALLBACK' });
    }
    return jsBackend;
  }
  return loaded;
}

/** The backend layers run on; chosen on first use. */
export function activeBackend(): Backend {
  active ??= initialBackend();
  return active;
}

export function getBackend(): BackendName {
  return activeBackend().name;
}

/** Switches every layer to a backend. Asking for 'native' when it cannot load is an error, not a silent fallback. */
export function setBackend(name: BackendName): void {
  active = backendByName(name, 'setBackend: name');
}

/**
 * A backend by name without making it the active one (loadOnnx's `backend` option; tests and
 * benchmarks compare them). An unknown name is an error: it used to fall through to 'js'.
 */
export function backendByName(name: BackendName, what = 'backend'): Backend {
  if (!BACKEND_NAMES.includes(name)) {
    throw new BackendError(`${what} must be 'js' or 'native', got ${JSON.stringify(name)}`);
  }
  return name === 'native' ? nativeOrError() : jsBackend;
}
