/**
 * The backends a test file should run on: always 'js', plus 'native' when its binary loads, plus
 * 'wasm' when its module loads (scripts/build-wasm.mjs). CI sets CONVNODE_REQUIRE_NATIVE=1 and
 * CONVNODE_REQUIRE_WASM=1 so a build that silently failed cannot pass as a skip.
 */
import { afterAll, beforeAll } from 'vitest';
import { backendByName } from '../../lib/backends/index.js';
import type { Backend, BackendName } from '../../lib/backends/backend.js';
import { getIsa, getNumThreads, loadNativeBackend, setIsa, setNumThreads } from '../../lib/backends/native.js';

export function availableBackends(): BackendName[] {
  const names: BackendName[] = ['js'];
  for (const [name, required] of [['native', 'CONVNODE_REQUIRE_NATIVE'], ['wasm', 'CONVNODE_REQUIRE_WASM']] as const) {
    try {
      backendByName(name);
      names.push(name);
    } catch (error) {
      if (process.env[required] === '1') throw error;
      console.warn(`${name} backend not available, not tested: ${(error as Error).message}`);
    }
  }
  return names;
}

/**
 * For a file whose tests switch the native ISA or thread count: loads the native backend before
 * them (a binary that does not load fails the file) and hands it to `receive`, then puts the ISA
 * and thread count back as they were once the file's tests are done.
 */
export function useNativeBackend(receive: (native: Backend) => void): void {
  let startIsa: ReturnType<typeof getIsa>;
  let startThreads: number;
  beforeAll(() => {
    const loaded = loadNativeBackend();
    if (loaded instanceof Error) throw loaded;
    receive(loaded);
    startIsa = getIsa();
    startThreads = getNumThreads();
  });
  afterAll(() => {
    setIsa(startIsa);
    setNumThreads(startThreads);
  });
}
