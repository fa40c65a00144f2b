// The same GPU test files run twice: in Node on Dawn, and in headless Chromium through
// navigator.gpu. Files named *.node.test.ts need Node (fs, child processes) and run there only.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig, type Plugin } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { chromiumPath, chromiumWebGPUArgs } from './scripts/chromium.ts';

/** WGSL files import as their text, as esbuild's text loader does in the bundles. */
function wgslText(): Plugin {
  return {
    name: 'wgsl-text',
    transform(code, id) {
      if (!id.endsWith('.wgsl')) return null;
      return { code: `export default ${JSON.stringify(code)};`, map: null };
    },
  };
}

export default defineConfig({
  plugins: [wgslText()],
  test: {
    // SwiftShader runs every kernel on the CPU: give slow machines room.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          // Dawn's native addon is not safe to load in worker threads.
          pool: 'forks',
          // Autotune results and data caches go to a scratch folder, not the user's ~/.cache.
          env: { SHADERTRAIN_CACHE: join(tmpdir(), 'shadertrain-test-cache') },
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.node.test.ts'],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: { executablePath: chromiumPath(), args: chromiumWebGPUArgs() },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
