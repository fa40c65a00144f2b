// Where Chromium is and how to start it with WebGPU on a machine without a GPU. Used by
// vitest's browser mode and the end-to-end tests.
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** SHADERTRAIN_CHROMIUM, or the first Chromium found in the usual places. */
export function chromiumPath(): string | undefined {
  const fromEnv = process.env.SHADERTRAIN_CHROMIUM;
  if (fromEnv) return fromEnv;
  return CANDIDATES.find((p) => existsSync(p));
}

export function chromiumWebGPUArgs(): string[] {
  const args = [
    '--enable-unsafe-webgpu',
    // SwiftShader unless told otherwise: CI and most servers have no GPU.
    `--use-webgpu-adapter=${process.env.SHADERTRAIN_BROWSER_ADAPTER ?? 'swiftshader'}`,
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
  ];
  // Chromium refuses to run as root without this; CI runs as root.
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return args;
}
