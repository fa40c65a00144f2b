// Builds the web page into dist/web/: static files with relative paths only, so the folder can be
// served from any path of any static host. Scripts are bundled (nothing is loaded from another
// origin), the Omniglot set is copied beside them, and a service worker keeps every file for
// offline use; the page's Content-Security-Policy is in index.html (and sent as a header by
// scripts/serve-web.mjs).
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');

/** The page's policy: its own files only; blob: and data: images for downloads and drawings. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "connect-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');

const common = {
  bundle: true,
  platform: 'browser',
  target: ['chrome113', 'firefox141', 'safari18'],
  outdir: out,
  sourcemap: 'linked',
  minify: true,
  loader: { '.wgsl': 'text' },
  logLevel: 'warning',
  legalComments: 'linked',
};

async function listFiles(dir) {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) files.push(...(await listFiles(p)));
    else files.push(p);
  }
  return files;
}

export async function buildWeb() {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  // The page and the worker as ES modules (the worker is started with { type: 'module' }).
  await build({ ...common, format: 'esm', entryPoints: { main: join(root, 'web/main.ts'), worker: join(root, 'web/worker.ts'), styles: join(root, 'web/styles.css') } });
  const html = (await readFile(join(root, 'web/index.html'), 'utf8')).replace('%CSP%', CSP);
  await writeFile(join(out, 'index.html'), html);
  await copyFile(join(root, 'assets/omniglot/omniglot28.bin'), join(out, 'omniglot28.bin'));
  await copyFile(join(root, 'assets/omniglot/LICENSE'), join(out, 'omniglot-LICENSE.txt'));
  // census-income's test split, the multi-task experiment's data when no files are chosen (CC BY 4.0).
  await copyFile(join(root, 'assets/census-income/census-income.test.gz'), join(out, 'census-income.test.gz'));
  await copyFile(join(root, 'assets/census-income/README.md'), join(out, 'census-income-README.md'));
  await copyFile(join(root, 'web/icon.svg'), join(out, 'icon.svg'));
  // The service worker precaches every file of this build, under a name that changes with its content.
  const files = (await listFiles(out)).filter((f) => !f.endsWith('.map')).sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(relative(out, f)).update(await readFile(f));
  const version = hash.digest('hex').slice(0, 16);
  const precache = ['./', ...files.map((f) => `./${relative(out, f).split('\\').join('/')}`)];
  await build({
    ...common,
    format: 'iife',
    entryPoints: { sw: join(root, 'web/sw.ts') },
    define: { __PRECACHE__: JSON.stringify(precache), __VERSION__: JSON.stringify(version) },
  });
  return { out, version, files: precache };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await buildWeb();
  console.error(`build:web: ${r.files.length} files in ${relative(process.cwd(), r.out) || '.'} (version ${r.version})`);
}
