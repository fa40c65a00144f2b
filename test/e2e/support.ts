// What the end-to-end tests share: the static server, Chromium with WebGPU, made-up
// MovieLens-format data, the CLI, screenshots, and waiting on the page's run state.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type Page } from 'playwright';
import { afterAll, beforeAll } from 'vitest';
import { chromiumPath, chromiumWebGPUArgs } from '../../scripts/chromium.ts';

export const ARTIFACTS = join('test-artifacts', 'e2e');
mkdirSync(ARTIFACTS, { recursive: true });

export interface Server {
  url: string;
  /** Resolves when the server process has exited. */
  stop(): Promise<void>;
}

/** scripts/serve-web.mjs on a free port of 127.0.0.1, as `npm run web` starts it. */
export async function startServer(): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, ['scripts/serve-web.mjs', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('serve-web did not start within 10 s')), 10_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line);
      if (m) resolve(m[1]);
      else reject(new Error(`serve-web said: ${line}`));
    });
    child.once('exit', (code) => reject(new Error(`serve-web exited with ${code}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      return exited;
    },
  };
}

export async function launch(webgpu = true): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no Chromium found: apt-get install chromium (or set SHADERTRAIN_CHROMIUM)');
  const args = webgpu ? chromiumWebGPUArgs() : chromiumWebGPUArgs().filter((a) => !a.includes('webgpu'));
  return chromium.launch({ executablePath, args, headless: true });
}

/**
 * The page served and a Chromium with WebGPU for one test file (started before its tests, both
 * closed after): `open(query, viewport)` is openPage on the served address.
 */
export function usePage(): { open(query?: string, viewport?: { width: number; height: number }): ReturnType<typeof openPage> } {
  let server: Server | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await startServer();
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });
  return {
    open: (query = '', viewport) => {
      if (!server || !browser) throw new Error('usePage() must be called at the top of the test file');
      return openPage(browser, `${server.url}${query}`, viewport);
    },
  };
}

/** A page with the adapter found (or the no-WebGPU banner shown); console errors are collected. */
export async function openPage(browser: Browser, url: string, viewport = { width: 1280, height: 1000 }): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  await page.waitForFunction(() => /^(Adapter|No WebGPU)/.test(document.getElementById('adapter')?.textContent ?? ''), null, { timeout: 30_000 });
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Waits until run number `run` (the page counts from 1) is in one of `states`; returns the state. */
export async function waitForState(page: Page, run: number, states: string[], timeout = 120_000): Promise<string> {
  const handle = await page.waitForFunction(
    ([n, wanted]) => {
      const el = document.getElementById('run-status');
      const s = el?.dataset.state ?? '';
      return el?.dataset.run === String(n) && (wanted as string[]).includes(s) ? s : false;
    },
    [run, states] as const,
    { timeout, polling: 50 },
  );
  return (await handle.jsonValue()) as string;
}

/** The few-shot form's sizes: the fields a short test run sets (metaBatch and evalBatch sit under "options"). */
export interface FewshotForm {
  numClasses: number;
  hidden: number;
  steps: number;
  evalEvery: number;
  metaBatch: number;
  evalBatch: number;
}

/** Fills the few-shot form (the experiment chosen already) with a short run's sizes. */
export async function fillFewshot(page: Page, f: FewshotForm): Promise<void> {
  for (const key of ['numClasses', 'hidden', 'steps', 'evalEvery'] as const) await page.fill(`#fewshot-${key}`, String(f[key]));
  await page.click('#fewshot-options summary');
  for (const key of ['metaBatch', 'evalBatch'] as const) await page.fill(`#fewshot-${key}`, String(f[key]));
}

/** Points charted so far for a tag (the chart's figure counts them). */
export async function chartPoints(page: Page, tag: string): Promise<number> {
  return Number(await page.getAttribute(`figure.chart[data-tag="${tag}"]`, 'data-points'));
}

/**
 * Made-up ratings in MovieLens 100K's u.data format (user, item, rating, timestamp; tabs): not
 * MovieLens, just its shape, from a fixed linear congruential sequence.
 */
export function writeSmallRatings(path: string, users = 60, items = 90, count = 1500): void {
  let s = 12345;
  const rnd = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const seen = new Set<number>();
  const lines: string[] = [];
  while (lines.length < count) {
    const u = 1 + Math.floor(rnd() * users);
    const i = 1 + Math.floor(rnd() * items);
    if (seen.has(u * 100_000 + i)) continue;
    seen.add(u * 100_000 + i);
    // Some structure to learn: users and items each lean high or low.
    const r = Math.min(5, Math.max(1, Math.round(3 + (u % 3) - 1 + ((i % 4) - 1.5) * 0.6 + (rnd() - 0.5) * 2)));
    lines.push(`${u}\t${i}\t${r}\t${881250949 + lines.length}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

export function writeSmallTitles(path: string, items = 90): void {
  const lines = Array.from({ length: items }, (_, k) => `${k + 1}|Made-up Movie ${k + 1} (1999)|01-Jan-1999||http://example.invalid/|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0`);
  writeFileSync(path, `${lines.join('\n')}\n`);
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[]): CliResult {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, SHADERTRAIN_CACHE: join(ARTIFACTS, 'cache') } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
