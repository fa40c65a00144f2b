// The Predict panel end to end (issue 19): census MMoE trained for one epoch in the page, a row
// typed into the form generated from the checkpoint's feature schema, and the page's predictions
// compared with `shadertrain predict` on the downloaded checkpoint: the same CSV, byte for byte.
// Screenshots of the form and the ROC chart go to test-artifacts/e2e/predict-*.png.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { describe, expect, test } from 'vitest';
import { ARTIFACTS, cli, waitForState, usePage } from './support.ts';

const site = usePage();
const dir = mkdtempSync(join(tmpdir(), 'shadertrain-predict-e2e-'));

async function download(page: Page, button: string): Promise<{ name: string; path: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  const path = join(dir, dl.suggestedFilename());
  await dl.saveAs(path);
  return { name: dl.suggestedFilename(), path };
}

/** Predicts with the button and waits for the table (or an error); returns the CSV download's text. */
async function predictCsv(page: Page, button: string): Promise<string> {
  await page.evaluate(() => document.getElementById('predict-out')?.replaceChildren());
  await page.click(button);
  await page.waitForFunction(() => document.getElementById('predict-table') !== null || (document.getElementById('predict-error')?.textContent ?? '') !== '', null, { timeout: 60_000 });
  expect(await page.textContent('#predict-error')).toBe('');
  return readFileSync((await download(page, '#predict-csv')).path, 'utf8');
}

describe('the Predict panel', () => {
  test('census MMoE trained one epoch in the page predicts a form row and a file of rows exactly as shadertrain predict does', async () => {
    const { page, errors } = await site.open('', { width: 1280, height: 800 });
    await page.check('#exp-multitask');
    expect(await page.inputValue('#multitask-model')).toBe('mmoe');
    expect(await page.inputValue('#multitask-dataset')).toBe('census-income');
    await page.fill('#multitask-epochs', '1');
    await page.click('#start');
    await waitForState(page, 1, ['done', 'failed'], 240_000);
    expect(await page.textContent('#run-error')).toBe('');
    await page.waitForFunction(() => document.querySelectorAll('#final-charts figure img').length >= 2);
    await (await page.$('#final-charts figure[data-file="roc.svg"]'))?.screenshot({ path: join(ARTIFACTS, 'predict-roc.png') });

    // The run's model in the panel: a field per feature of the census schema.
    await page.click('#predict-run');
    await page.waitForFunction(() => /^Run #1 mmoe census-income seed0's model: a multitask checkpoint trained on census-income \(census-income\.test\.gz\)\.$/.test(document.getElementById('predict-source')?.textContent ?? ''), null, { timeout: 60_000 }).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; the panel says: ${await page.textContent('#predict-source')} / ${await page.textContent('#predict-error')}`);
    });
    const fields = await page.$$eval('#predict-fields .predict-row [name]', (els) => els.map((e) => ({ name: (e as HTMLInputElement).name, tag: e.tagName, value: (e as HTMLInputElement).value })));
    expect(fields.filter((f) => f.tag === 'INPUT').length).toBe(10); // census's continuous columns
    expect(fields.filter((f) => f.tag === 'SELECT').length).toBe(28); // and its categorical ones
    expect(await page.inputValue('#predict-field-age')).toMatch(/^\d+(\.\d+)?$/); // starts at the training mean
    expect(await page.textContent('#predict-field-age-hint')).toMatch(/^training mean [\d.]+, standard deviation [\d.]+$/);

    // A person's row: a few values changed from the form's starting ones.
    await page.fill('#predict-field-age', '52');
    const workers = await page.$$eval('#predict-field-class_worker option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(workers).toEqual(expect.arrayContaining(['Private', 'Self-employed-not incorporated']));
    await page.selectOption('#predict-field-class_worker', 'Self-employed-not incorporated');
    await page.fill('#predict-flag-threshold', '0.3');
    await (await page.$('#predict-panel'))?.screenshot({ path: join(ARTIFACTS, 'predict-form-1280.png') });
    const pageCsv = await predictCsv(page, '#predict-row');
    expect(pageCsv.split('\n')[0]).toBe('income_probability,income_decision,marital_probability,marital_decision');
    expect(pageCsv.trim().split('\n')).toHaveLength(2);
    await (await page.$('#predict-panel'))?.screenshot({ path: join(ARTIFACTS, 'predict-result-1280.png') });

    // The same row through the CLI, on the checkpoint the page saves.
    const ckpt = await download(page, '#download-checkpoint');
    const row = await page.$$eval('#predict-fields .predict-row [name]', (els) => els.map((e) => `${(e as HTMLInputElement).name}=${(e as HTMLInputElement).value}`));
    expect(row.every((pair) => !pair.slice(pair.indexOf('=') + 1).includes(','))).toBe(true);
    const r = cli(['predict', '--checkpoint', ckpt.path, '--row', row.join(','), '--threshold', '0.3']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(pageCsv);

    // A file of rows, and the checkpoint loaded from disk: again the CLI's bytes.
    const rowsPath = join(dir, 'rows.jsonl');
    const named = Object.fromEntries(row.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
    const lines = [20, 35, 52, 70].map((age, i) => JSON.stringify({ ...named, age: String(age), sex: i % 2 ? 'Male' : 'Female' }));
    writeFileSync(rowsPath, `${lines.join('\n')}\n`);
    await page.setInputFiles('#predict-checkpoint', ckpt.path);
    await page.waitForFunction(() => /^[^:]+\.safetensors: a multitask checkpoint/.test(document.getElementById('predict-source')?.textContent ?? ''));
    await page.setInputFiles('#predict-flag-input', rowsPath);
    const batchCsv = await predictCsv(page, '#predict-go');
    expect(batchCsv.trim().split('\n')).toHaveLength(5);
    const b = cli(['predict', '--checkpoint', ckpt.path, '--input', rowsPath]);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toBe(batchCsv);

    // A bad value is one sentence naming the row and column, as the CLI says it.
    await page.fill('#predict-field-age', 'forty');
    await page.click('#predict-row');
    await page.waitForFunction(() => (document.getElementById('predict-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#predict-error')).toBe('the form row 1 (line 1): column age "forty" is not a number; give a number.');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 480_000);

  test('at 400 px the form fits the window', async () => {
    const { page } = await site.open('', { width: 400, height: 900 });
    const ckpt = readdirCheckpoint();
    await page.setInputFiles('#predict-checkpoint', ckpt);
    await page.waitForFunction(() => /a multitask checkpoint/.test(document.getElementById('predict-source')?.textContent ?? ''));
    await page.click('#predict-row');
    await page.waitForFunction(() => document.getElementById('predict-table') !== null, null, { timeout: 60_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
    await (await page.$('#predict-panel'))?.screenshot({ path: join(ARTIFACTS, 'predict-form-400.png') });
    await page.context().close();
  });
});

/** The checkpoint the first test downloaded. */
function readdirCheckpoint(): string {
  const name = readdirSync(dir).find((f) => f.endsWith('.safetensors'));
  if (!name) throw new Error('the first test saved no checkpoint');
  return join(dir, name);
}
