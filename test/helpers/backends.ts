/**
 * The backends a test file should run on: always 'js', plus 'native' when its binary loads.
 * CI sets CONVNODE_REQUIRE_NATIVE=1 so a native build that silently failed cannot pass as a skip.
 */
import { backendByName } from '../../lib/backends/index.js';
import type { BackendName } from '../../lib/backends/backend.js';

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
