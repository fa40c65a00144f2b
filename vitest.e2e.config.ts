// End-to-end tests of the web page: Playwright drives Debian's Chromium (headless, WebGPU on
// SwiftShader) against the built page served on 127.0.0.1, and the CLI runs beside it for the
// Node-vs-browser comparison. `npm run test:e2e`; the files are test/e2e/*.e2e.ts so the main
// projects in vitest.config.ts never pick them up.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    // One browser, one server, tests in order: the machine has two cores and SwiftShader is slow.
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 150_000,
    hookTimeout: 180_000,
  },
});
