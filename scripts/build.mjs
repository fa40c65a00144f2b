// Bundles the Node entry points (and later the web page) with esbuild. WGSL is imported as
// text here, as in vitest (vitest.config.ts): one mechanism for shaders everywhere.
import { chmod } from 'node:fs/promises';
import { build } from 'esbuild';

const targets = {
  cli: { entryPoints: { cli: 'cli/main.ts' } },
  bench: { entryPoints: { bench: 'bench/main.ts' } },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: 'dist',
  sourcemap: 'linked',
  loader: { '.wgsl': 'text' },
  // The native Dawn addon cannot be bundled; cli-progress is CommonJS that requires Node built-ins at run time.
  external: ['webgpu', 'cli-progress'],
  // CommonJS packages bundled into ESM (TF.js) call require() for Node built-ins.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
};

const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : Object.keys(targets);
for (const name of names) {
  const t = targets[name];
  if (!t) {
    console.error(`build: unknown target "${name}"; known: ${Object.keys(targets).join(', ')}`);
    process.exit(2);
  }
  await build({ ...common, ...t });
}
// The `shadertrain` command (package.json's bin; its shebang comes from cli/main.ts).
if (names.includes('cli')) await chmod('dist/cli.js', 0o755);
