// Bundles the command, the benches and the library (Node and browser builds) with esbuild, and
// the library's type declarations with tsc. WGSL is imported as text here, as in vitest
// (vitest.config.ts): one mechanism for shaders everywhere.
import { execFileSync } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const targets = {
  cli: { entryPoints: { cli: 'cli/main.ts' } },
  bench: { entryPoints: { bench: 'bench/main.ts' } },
  // The library (package.json's exports): Node leaves its dependencies to npm; the browser
  // build is one self-contained module (a page can import it without a bundler).
  lib: { entryPoints: { node: 'src/node.ts' }, packages: 'external', external: [], banner: {} },
  'lib-browser': { entryPoints: { browser: 'src/index.ts' }, platform: 'browser', target: 'es2022', external: [], banner: {} },
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

/** The library's type declarations (dist/types/, tsconfig.lib.json): tsc, not esbuild. */
function types() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.lib.json'], { stdio: 'inherit' });
}

const known = [...Object.keys(targets), 'types'];
const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : known;
for (const name of names) {
  if (!known.includes(name)) {
    console.error(`build: unknown target "${name}"; known: ${known.join(', ')}`);
    process.exit(2);
  }
  if (name === 'types') types();
  else await build({ ...common, ...targets[name] });
}
// The `shadertrain` command (package.json's bin; its shebang comes from cli/main.ts).
if (names.includes('cli')) await chmod('dist/cli.js', 0o755);
