// Placeholder until the native addon lands (owned by the native helper, who replaces this file).
import type { Backend } from './backend.js';

export function loadNativeBackend(): Backend | Error {
  return new Error('the native addon has not been built');
}
