import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default (cores − 1) runs files one at a time on a 2-core machine; much of the suite waits on Chromium,
    // SwiftShader and the Hub mirror, so two files at once nearly halve the run there (442 s → 245 s measured).
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
