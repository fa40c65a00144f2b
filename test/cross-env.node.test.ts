// The same training in Node (Dawn) and in headless Chromium (navigator.gpu) on the same
// kind of adapter: the loss curves must agree within 1e-6.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, chromiumWebGPUArgs } from '../scripts/chromium.ts';
import { trainSmall } from './fixtures/train-small.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();
let dir = '';
let server: Server | undefined;
let url = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-cross-'));
  await build({
    entryPoints: ['test/fixtures/cross-env-page.ts'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: join(dir, 'page.js'),
    loader: { '.wgsl': 'text' },
    logLevel: 'warning',
  });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="page.js"></script>');
  server = createServer((req, res) => {
    const name = req.url === '/page.js' ? 'page.js' : 'index.html';
    res.writeHead(200, { 'content-type': name.endsWith('.js') ? 'text/javascript' : 'text/html' });
    res.end(readFileSync(join(dir, name)));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
});

afterAll(() => {
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Node and Chromium', () => {
  it('train an MLP and an LSTM to the same losses within 1e-6', async () => {
    const node = await trainSmall(t.gpu);
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumWebGPUArgs(), headless: true });
    try {
      const page = await browser.newPage();
      await page.goto(url);
      await page.waitForFunction(() => typeof window.runTrainSmall === 'function');
      const web = await page.evaluate(() => window.runTrainSmall());
      let worst = 0;
      for (const key of ['mlp', 'lstm'] as const) {
        expect(web[key]).toHaveLength(node[key].length);
        node[key].forEach((v, i) => (worst = Math.max(worst, Math.abs(v - web[key][i]))));
      }
      console.log(`Node (${t.gpu.report.vendor} ${t.gpu.report.architecture}) vs Chromium (${web.adapter}): largest loss difference ${worst}`);
      expect(worst).toBeLessThanOrEqual(1e-6);
      expect(node.mlp[19]).toBeLessThan(node.mlp[0]);
    } finally {
      await browser.close();
    }
  });
});
