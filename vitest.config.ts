import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Native kernels use their own thread pool; running test files in forks keeps
    // one addon instance per process, the way users load it.
    pool: 'forks',
  },
});
