// The package as npm publishes it: `npm pack` (which builds it through `prepare`) gives a tarball
// with the command, both library builds, their types, the shaders, the embedded Omniglot set, the
// examples and the license, and no tests or MovieLens. Installed into an empty folder, its
// command, its example and its types work there.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let dir = '';
let app = '';
let files: string[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-pack-'));
  const [packed] = JSON.parse(execFileSync(NPM, ['pack', '--json', '--pack-destination', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { filename: string; files: { path: string }[] }[];
  files = packed.files.map((f) => f.path);
  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  execFileSync(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, packed.filename)], { cwd: app, stdio: 'ignore' });
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('holds the command, the library and its types, shaders, data it needs, examples and the license; no tests or MovieLens', () => {
    for (const f of ['dist/cli.js', 'dist/node.js', 'dist/browser.js', 'dist/types/index.d.ts', 'dist/types/node.d.ts', 'shaders/matmul.wgsl', 'assets/omniglot/omniglot28.bin', 'assets/omniglot/LICENSE', 'examples/mlp.js', 'LICENSE', 'README.md', 'package.json']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^(test|src|cli|web|bench)\//.test(f) || /u\.data|ratings\.(dat|csv)|ml-\d/i.test(f))).toEqual([]);
  });

  it('installed into an empty folder: `npx shadertrain --help` and the example run there', () => {
    const help = spawnSync('npx', ['shadertrain', '--help'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^usage: shadertrain COMMAND/);
    const example = spawnSync(process.execPath, ['node_modules/shadertrain/examples/node.mjs'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    expect(example.status, example.stderr).toBe(0);
    expect(Number(/^test accuracy (\S+)/m.exec(example.stdout)?.[1])).toBeGreaterThanOrEqual(0.9);
  });

  it('types `import … from "shadertrain"` for a TypeScript user', () => {
    writeFileSync(join(app, 'use.ts'), "import { AdamOptimizer, Gpu, Graph, MLP, Rng, loadEmbeddedOmniglot } from 'shadertrain';\nconst gpu: Promise<Gpu> = Gpu.create();\nexport const made = [gpu, new Graph(), new MLP(new Rng(0), [2, 1]), new AdamOptimizer({ lr: 0.01 }), loadEmbeddedOmniglot];\n");
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'nodenext', strict: true, noEmit: true, types: [] }, files: ['use.ts'] }));
    const tsc = createRequire(resolve('package.json')).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', app], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stdout).toBe(0);
  });
});
