// The web page end to end, as a person uses it: Chromium with WebGPU on SwiftShader, the built
// page from scripts/serve-web.mjs, files chosen through the page's inputs, results through its
// download buttons. Screenshots go to test-artifacts/e2e/.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ARTIFACTS, chartPoints, cli, fillFewshot, launch, openPage, screenshot, startServer, waitForState, writeSmallRatings, writeSmallTitles, type Server } from './support.ts';

/** The official Omniglot PNG subset, where the shared data sits beside the repository (CI has it). */
const OFFICIAL_ZIP = join(process.env.OMNIGLOT_SHARED ?? join('..', 'shared', 'data', 'omniglot'), 'images_background_small1.zip');

const METRICS = ['factorizationLoss', 'trainMse', 'jointLoss', 'mrr', 'testMse'] as const;
type Epoch = Record<(typeof METRICS)[number] | 'epoch', number>;

let server: Server;
let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), 'shadertrain-e2e-'));
const ratingsPath = join(dir, 'u.data');
const titlesPath = join(dir, 'u.item');

beforeAll(async () => {
  writeSmallRatings(ratingsPath);
  writeSmallTitles(titlesPath);
  server = await startServer();
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function downloadText(page: Page, button: string): Promise<{ name: string; text: string; path: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  const path = join(dir, dl.suggestedFilename());
  await dl.saveAs(path);
  return { name: dl.suggestedFilename(), text: readFileSync(path, 'utf8'), path };
}

async function chooseRatings(page: Page, path: string): Promise<void> {
  await page.setInputFiles('#ratings-file', path);
  await page.waitForFunction(() => /ratings, user ids|No usable/.test(document.getElementById('ratings-status')?.textContent ?? ''));
}

async function setRecommender(page: Page, o: { epochs: number; batch: number; seed: number }): Promise<void> {
  await page.fill('#recommender-epochs', String(o.epochs));
  await page.fill('#recommender-batchSize', String(o.batch));
  await page.fill('#recommender-seed', String(o.seed));
}

/** Epochs the current run has reported, from its metrics download (the charts redraw a frame later). */
async function epochsDone(page: Page): Promise<number> {
  return (JSON.parse((await downloadText(page, '#download-json')).text) as { epochs: Epoch[] }).epochs.length;
}

describe('the web page', () => {
  test('few-shot on the embedded Omniglot set: accuracy and charts update while it trains, and an episode shows', async () => {
    const { page, errors } = await openPage(browser, server.url);
    expect(await page.textContent('#adapter')).toMatch(/^Adapter: .*swiftshader/i);
    await page.check('#exp-fewshot');
    await page.waitForFunction(() => /1,623 characters/.test(document.getElementById('omniglot-status')?.textContent ?? ''));
    // The CLI's defaults are in the form.
    expect(await page.inputValue('#fewshot-numClasses')).toBe('5');
    expect(await page.inputValue('#fewshot-steps')).toBe('25000');
    expect(await page.inputValue('#fewshot-evalEvery')).toBe('100');
    await fillFewshot(page, { numClasses: 3, hidden: 32, steps: 80, evalEvery: 10, metaBatch: 16, evalBatch: 32 });
    await page.click('#start');
    // Step 0's evaluation, then more as training goes: the chart grows while the run is live.
    await page.waitForFunction(() => Number(document.querySelector('figure.chart[data-tag="Accuracy/test"]')?.getAttribute('data-points')) >= 2, null, { timeout: 90_000 });
    // Paused at the next evaluation, the page shows the run as it was.
    await page.click('#pause');
    await waitForState(page, 1, ['paused']);
    expect(await page.textContent('#run-status')).toMatch(/paused at step ([1-7]0) — step \d+ of 80\.$/);
    const points = await chartPoints(page, 'Accuracy/test');
    expect(points).toBeGreaterThanOrEqual(2);
    expect(points).toBeLessThan(9);
    await screenshot(page, 'fewshot-paused');
    await page.click('#pause');
    await waitForState(page, 1, ['done', 'failed']);
    expect(await page.textContent('#run-error')).toBe('');
    expect(await page.getAttribute('#run-status', 'data-state')).toBe('done');
    expect(await chartPoints(page, 'Accuracy/test')).toBe(9); // steps 0, 10, …, 80
    // The training loss between evaluations too: here every step (pieces of evalEvery/10 steps).
    expect(await chartPoints(page, 'Loss/train')).toBe(80);
    expect(await page.textContent('#fact-latest')).toMatch(/^step 80: train loss \d\.\d{4}, test loss \d\.\d{4}, test accuracy 0\.\d{3}$/);
    expect(await page.textContent('figure.chart[data-tag="Accuracy/test"] figcaption')).toMatch(/Accuracy\/test — #1 N3 K1 H32 seed0: 0\.\d+ at step 80/);
    expect(Number(await page.textContent('#fact-ms'))).toBeGreaterThan(0);
    const json = JSON.parse((await downloadText(page, '#download-json')).text) as { evals: { step: number; test_accuracy: number }[] };
    expect(json.evals.map((e) => e.step)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);
    for (const e of json.evals) expect(e.test_accuracy).toBeGreaterThanOrEqual(0);
    await page.click('#inspect-episode-go');
    await page.waitForSelector('#inspect-out table.episode');
    expect(await page.locator('#inspect-out .queries figure').count()).toBe(3);
    expect(await page.textContent('#inspect-out h4')).toMatch(/^Queries: [0-3] of 3 right$/);
    await screenshot(page, 'fewshot-done');
    // The checkpoint, evaluated without training.
    const ckpt = await downloadText(page, '#download-checkpoint');
    expect(ckpt.name).toBe('fewshot-N3_K1_H32_seed0-step80.safetensors');
    await page.setInputFiles('#checkpoint-file', ckpt.path);
    await page.click('#evaluate');
    await waitForState(page, 2, ['done', 'failed']);
    expect(await page.textContent('#fact-latest')).toMatch(/^evaluated at step 80: Loss\/test \d\.\d{4}, Accuracy\/test 0\.\d{4}$/);
    expect(errors).toEqual([]);
    console.log(`few-shot: paused with ${points} evaluations charted; final ${await page.textContent('#fact-latest')}`);
    await page.context().close();
  });

  test('the recommender in the page gives the CLI per-epoch metrics for the same file, seed and settings', async () => {
    const o = { epochs: 2, batch: 64, seed: 3 };
    const node = cli(['recommender', '--data', ratingsPath, '--epochs', String(o.epochs), '--batch_size', String(o.batch), '--seed', String(o.seed), '--json', '--logdir', join(dir, 'cli-run')]);
    expect(node.stderr).not.toMatch(/shadertrain: /);
    expect(node.status).toBe(0);
    const nodeEpochs = (JSON.parse(node.stdout) as { epochs: Epoch[] }).epochs;

    const { page, errors } = await openPage(browser, server.url);
    // The CLI's defaults are in the form.
    expect(await page.inputValue('#recommender-epochs')).toBe('200');
    expect(await page.inputValue('#recommender-batchSize')).toBe('256');
    expect(await page.inputValue('#recommender-lr')).toBe('0.001');
    expect(await page.isChecked('#recommender-sharedEmbeddings')).toBe(true);
    await chooseRatings(page, ratingsPath);
    expect(await page.textContent('#ratings-status')).toBe('u.data: 1,500 ratings, user ids up to 60, item ids up to 90 (ml-100k format).');
    await page.setInputFiles('#titles-file', titlesPath);
    await page.waitForFunction(() => /90 titles/.test(document.getElementById('titles-status')?.textContent ?? ''));
    await setRecommender(page, o);
    await page.click('#start');
    await waitForState(page, 1, ['done', 'failed']);
    expect(await page.textContent('#run-error')).toBe('');
    const web = JSON.parse((await downloadText(page, '#download-json')).text) as { epochs: Epoch[]; config: unknown };
    expect(web.config).toEqual((JSON.parse(node.stdout) as { config: unknown }).config);
    expect(web.epochs.map((e) => e.epoch)).toEqual(nodeEpochs.map((e) => e.epoch));
    let largest = 0;
    for (const [i, e] of web.epochs.entries()) for (const k of METRICS) largest = Math.max(largest, Math.abs(e[k] - nodeEpochs[i][k]));
    writeFileSync(join(ARTIFACTS, 'node-vs-browser.json'), `${JSON.stringify({ largestDifference: largest, node: nodeEpochs, browser: web.epochs }, null, 2)}\n`);
    console.log(`recommender, Node (Dawn) vs Chromium, both SwiftShader: largest per-epoch metric difference ${largest}`);
    // Same engine, same adapter kind: the same bits.
    for (const [i, e] of web.epochs.entries()) for (const k of METRICS) expect(e[k], `epoch ${i} ${k}`).toBe(nodeEpochs[i][k]);

    const csv = (await downloadText(page, '#download-csv')).text.trim().split('\n');
    expect(csv[0]).toBe('epoch,training/Factorization Loss,training/MSE,training/Joint Loss,eval/Mean Reciprocal Rank,eval/MSE');
    expect(csv.slice(1).map((l) => Number(l.split(',')[4]))).toEqual(nodeEpochs.map((e) => e.mrr));
    // The CSV's epochs are the JSON's and the CLI's: counted from 1.
    expect(csv.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(nodeEpochs.map((e) => e.epoch));
    expect(nodeEpochs.map((e) => e.epoch)).toEqual([1, 2]);

    // A user's top 10 with titles, next to what they rated in the test split.
    await page.fill('#inspect-user', '7');
    await page.press('#inspect-user', 'Enter');
    await page.waitForSelector('#inspect-out table');
    const rows = await page.locator('#inspect-out table').first().locator('tbody tr').count();
    expect(rows).toBe(10);
    expect(await page.textContent('#inspect-out table tbody tr th')).toMatch(/^Made-up Movie \d+ \(1999\) \(#\d+\)$/);
    await screenshot(page, 'recommender-done');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  test('pause, resume and stop; the checkpoint continues exactly where the run stopped', async () => {
    const { page, errors } = await openPage(browser, server.url);
    await chooseRatings(page, ratingsPath);
    await setRecommender(page, { epochs: 40, batch: 16, seed: 5 });
    await page.click('#start');
    await page.waitForFunction(() => Number(document.querySelector('figure.chart[data-tag="training/Joint Loss"]')?.getAttribute('data-points')) >= 1, null, { timeout: 90_000 });
    await page.click('#pause');
    await waitForState(page, 1, ['paused']);
    expect(await page.textContent('#pause')).toBe('Resume');
    expect(await page.textContent('#run-status')).toMatch(/paused after epoch \d+/);
    const pausedAt = await epochsDone(page);
    await page.waitForTimeout(1500);
    expect(await epochsDone(page)).toBe(pausedAt); // nothing trains while paused
    await screenshot(page, 'recommender-paused');
    // A checkpoint can be taken while paused.
    const paused = await downloadText(page, '#download-checkpoint');
    expect(paused.name).toBe(`recommender-shared_fw0.5_rw0.5_seed5-epoch${pausedAt}.safetensors`);
    await page.click('#pause');
    await page.waitForFunction((n) => Number(document.querySelector('figure.chart[data-tag="training/Joint Loss"]')?.getAttribute('data-points')) > n, pausedAt, { timeout: 60_000 });
    await page.click('#stop');
    await waitForState(page, 1, ['stopped']);
    const stoppedAt = await epochsDone(page);
    expect(stoppedAt).toBeGreaterThan(pausedAt);
    expect(stoppedAt).toBeLessThan(40);
    const ckpt = await downloadText(page, '#download-checkpoint');

    // Continue from the checkpoint for two more epochs…
    const total = stoppedAt + 2;
    await page.fill('#recommender-epochs', String(total));
    await page.setInputFiles('#checkpoint-file', ckpt.path);
    await page.click('#start');
    await waitForState(page, 2, ['done', 'failed']);
    expect(await page.textContent('#run-error')).toBe('');
    const resumed = JSON.parse((await downloadText(page, '#download-json')).text) as { epochs: Epoch[] };
    expect(resumed.epochs.map((e) => e.epoch)).toEqual([stoppedAt + 1, stoppedAt + 2]);
    // …and the same number of epochs in one go: the same numbers.
    await page.setInputFiles('#checkpoint-file', []);
    await page.click('#start');
    await waitForState(page, 3, ['done', 'failed']);
    const straight = JSON.parse((await downloadText(page, '#download-json')).text) as { epochs: Epoch[] };
    expect(straight.epochs.slice(stoppedAt)).toEqual(resumed.epochs.map((e) => ({ ...e, trainMs: expect.any(Number), evalMs: expect.any(Number) })));
    // Three runs overlaid in the charts.
    expect(await page.locator('#runs tbody tr').count()).toBe(3);
    await screenshot(page, 'recommender-three-runs');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  test.skipIf(!existsSync(OFFICIAL_ZIP))('few-shot on an official Omniglot zip chosen from disk', async () => {
    const { page, errors } = await openPage(browser, server.url);
    await page.check('#exp-fewshot');
    await page.check('#omniglot-files-choice');
    await page.setInputFiles('#omniglot-files', OFFICIAL_ZIP);
    await page.waitForFunction(() => /images_background_small1\.zip: \d+ characters × 20 drawings, 28×28 nearest \(binary\)/.test(document.getElementById('omniglot-status')?.textContent ?? ''), null, { timeout: 60_000 });
    await fillFewshot(page, { numClasses: 2, hidden: 8, steps: 4, evalEvery: 2, metaBatch: 4, evalBatch: 8 });
    await page.click('#start');
    await waitForState(page, 1, ['done', 'failed']);
    expect(await page.textContent('#run-error')).toBe('');
    expect(await page.textContent('#fact-latest')).toMatch(/^step 4: /);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  test('a malformed ratings file shows one sentence naming the line, as the CLI does', async () => {
    const bad = join(dir, 'bad.data');
    writeFileSync(bad, '1\t2\t3\t881250949\n1\t3\t4\t881250950\n2\tfour\t5\t881250951\n');
    const { page } = await openPage(browser, server.url);
    await chooseRatings(page, bad);
    const message = (await page.textContent('#ratings-error')) ?? '';
    expect(message).toMatch(/^bad\.data line 3: /);
    expect(await page.getAttribute('#ratings-file', 'aria-invalid')).toBe('true');
    const node = cli(['recommender', '--data', bad, '--epochs', '1']);
    expect(node.status).not.toBe(0);
    // The same sentence; the CLI names the file by its full path.
    expect(node.stderr.trim()).toBe(`shadertrain: ${bad} line 3: ${message.replace(/^bad\.data line 3: /, '')}`);
    // Start without usable data says so instead of training.
    await page.click('#start');
    expect(await page.getAttribute('#run-status', 'data-state')).toBeNull();
    await screenshot(page, 'recommender-bad-file');
    // A bad option is named by its label.
    await chooseRatings(page, ratingsPath);
    await page.fill('#recommender-batchSize', '0');
    await page.click('#start');
    expect(await page.textContent('#options-error')).toBe('Batch size must be an integer from 1 up, not "0".');
    // The bad field has the focus; fixed and started from the keyboard.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('recommender-batchSize');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('128');
    await page.fill('#recommender-epochs', '1');
    await page.focus('#start');
    await page.keyboard.press('Enter');
    await waitForState(page, 1, ['done', 'failed']);
    expect(await page.textContent('#options-error')).toBe('');
    expect(await page.textContent('#fact-latest')).toMatch(/^epoch 1: /);
    // Every control has a name a screen reader can say.
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLButtonElement>('input, select, button')]
        .filter((e) => !((e.labels?.length ?? 0) > 0 || e.getAttribute('aria-label') || (e.tagName === 'BUTTON' && e.textContent?.trim())))
        .map((e) => e.id || e.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
    await page.context().close();
  });

  test('without WebGPU the page says which browsers and settings provide it', async () => {
    const plain = await launch(false);
    try {
      const { page } = await openPage(plain, server.url);
      await page.waitForSelector('#no-webgpu:not([hidden])');
      expect(await page.textContent('#no-webgpu')).toMatch(/Chrome or Edge 113 or newer.*Safari 26 or newer.*Firefox 141 or newer/);
      expect(await page.isDisabled('#start')).toBe(true);
      await screenshot(page, 'no-webgpu');
    } finally {
      await plain.close();
    }
  });

  // Last: it stops the server.
  test('multi-task: ESMM on a generator, then a CSV chosen from disk with a missing label; per-task AUC charts and --json epochs', async () => {
    const { page, errors } = await openPage(browser, server.url);
    await page.check('#exp-multitask');
    expect(await page.isVisible('#tabular-data')).toBe(true);
    expect(await page.inputValue('#multitask-model')).toBe('mmoe');
    await page.selectOption('#multitask-dataset', 'esmm-synthetic');
    await page.selectOption('#multitask-model', 'esmm');
    await page.fill('#multitask-epochs', '2');
    await page.click('#multitask-options summary');
    await page.fill('#multitask-rows', '4000');
    await page.fill('#multitask-batchSize', '256');
    await page.click('#start');
    await waitForState(page, 1, ['done', 'failed']);
    expect(await page.textContent('#run-error')).toBe('');
    expect(await chartPoints(page, 'val/click AUC')).toBe(2);
    expect(await chartPoints(page, 'val/ctcvr AUC')).toBe(2);
    const json = JSON.parse((await downloadText(page, '#download-json')).text) as { epochs: { epoch: number; test: Record<string, { auc: number }> }[] };
    expect(json.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(json.epochs[1].test.click.auc).toBeGreaterThan(0.5);
    // At its end, the run's ROC and precision-recall curves, made by the CLI's code.
    await page.waitForFunction(() => document.querySelectorAll('#final-charts figure img').length >= 2);
    const finals = await page.$$eval('#final-charts figure', (fs) => fs.map((f) => (f as HTMLElement).dataset.file));
    expect(finals).toEqual(expect.arrayContaining(['roc.svg', 'pr.svg']));
    expect(await page.$$eval('#final-charts img', (imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0))).toBe(true);
    await (await page.$('#charts-panel'))?.screenshot({ path: join(ARTIFACTS, 'multitask-roc.png') });
    // A CSV with a missing label (empty), as a user merges data sets.
    const rows = ['a,b,x,y'];
    for (let i = 0; i < 400; i++) rows.push(`${i % 3 === 0 ? '' : i % 2},${(i * 7) % 2},${(i % 11) / 10},c${i % 4}`);
    await page.setInputFiles('#tabular-files', { name: 'merged.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
    await page.waitForFunction(() => /1 file: merged\.csv/.test(document.getElementById('tabular-status')?.textContent ?? ''));
    await page.selectOption('#multitask-dataset', 'csv');
    await page.selectOption('#multitask-model', 'shared-bottom');
    await page.fill('#multitask-rows', '0');
    await page.fill('#multitask-labels', 'a,b');
    await page.fill('#multitask-bottomUnits', '8');
    await page.click('#start');
    await waitForState(page, 2, ['done', 'failed']);
    expect(await page.textContent('#run-error')).toBe('');
    expect(await chartPoints(page, 'val/a AUC')).toBe(2);
    expect(errors).toEqual([]);
  });

  test('works offline once loaded (the server gone), and reads on a narrow window', async () => {
    const { page } = await openPage(browser, server.url, { width: 390, height: 844 });
    // The service worker has every file and controls the page.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
    await server.stop();
    await page.reload();
    await page.waitForFunction(() => /^Adapter/.test(document.getElementById('adapter')?.textContent ?? ''), null, { timeout: 30_000 });
    await page.check('#exp-fewshot');
    await page.waitForFunction(() => /1,623 characters/.test(document.getElementById('omniglot-status')?.textContent ?? ''));
    // Nothing wider than the window: no sideways scrolling.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'narrow-offline');
    await page.context().close();
  });
});
