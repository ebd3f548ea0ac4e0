/**
 * The backends a test file should run on: always 'js', plus 'native' when its binary loads.
 * CI sets CONVNODE_REQUIRE_NATIVE=1 so a native build that silently failed cannot pass as a skip.
 */
import { afterAll, beforeAll } from 'vitest';
import { backendByName } from '../../lib/backends/index.js';
import type { Backend, BackendName } from '../../lib/backends/backend.js';
import { getIsa, getNumThreads, loadNativeBackend, setIsa, setNumThreads } from '../../lib/backends/native.js';

export function availableBackends(): BackendName[] {
  try {
    backendByName('native');
    return ['js', 'native'];
  } catch (error) {
    if (process.env.CONVNODE_REQUIRE_NATIVE === '1') throw error;
    console.warn(`native backend not available, testing 'js' only: ${(error as Error).message}`);
    return ['js'];
  }
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
