// The page's rough edges, looked at as a new user meets them (issue 22): Start in reach at
// 1280×800, compile progress, charts with chance lines, one x range and legends that show the
// latest values, no stale views after switching experiments, and nothing wider than 400 px.
// Screenshots go to test-artifacts/e2e/layout-*.png.
import { join } from 'node:path';
import type { Page } from 'playwright';
import { describe, expect, test } from 'vitest';
import { ARTIFACTS, fillFewshot, usePage, waitForState } from './support.ts';

const site = usePage();

const shot = (page: Page, name: string, fullPage = false): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });

describe('the page at 1280×800 and at 400 px', () => {
  test('Start in reach, compile progress, honest charts, no stale views, no sideways scrolling', async () => {
    const { page, errors } = await site.open('', { width: 1280, height: 800 });
    for (const ex of ['recommender', 'fewshot', 'multitask']) {
      await page.check(`#exp-${ex}`);
      const box = await page.locator('#start').boundingBox();
      expect(box, `Start for ${ex}`).not.toBeNull();
      expect((box?.y ?? 1e9) + (box?.height ?? 0), `Start for ${ex} is below the fold`).toBeLessThanOrEqual(800);
    }
    await page.check('#exp-recommender');
    await shot(page, 'layout-1280x800-start');

    await page.check('#exp-fewshot');
    await page.waitForFunction(() => /1,623 characters/.test(document.getElementById('omniglot-status')?.textContent ?? ''));
    await fillFewshot(page, { numClasses: 3, hidden: 32, steps: 40, evalEvery: 10, metaBatch: 16, evalBatch: 32 });
    // Every status line while the model compiles, as the page shows them.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const el = document.getElementById('run-status') as HTMLElement;
      new MutationObserver(() => seen.push(el.textContent ?? '')).observe(el, { childList: true, characterData: true, subtree: true });
    });
    await page.click('#start');
    await waitForState(page, 1, ['done', 'failed']);
    expect(await page.textContent('#run-error')).toBe('');
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen.some((t) => /compiling the model \(pipelines \d+\/\d+\)/.test(t)), seen.join('\n')).toBe(true);

    // The training loss streams between evaluations (every step here: pieces of evalEvery/10).
    expect(Number(await page.getAttribute('figure.chart[data-tag="Loss/train"]', 'data-points'))).toBe(40);
    // One x range for every chart of the run: its planned steps.
    const xs = await page.$$eval('figure.chart', (fs) => fs.map((f) => (f as HTMLElement).dataset.xRange));
    expect(xs.length).toBe(3);
    expect(new Set(xs)).toEqual(new Set(['0 40']));
    // Accuracy keeps chance (1/3) in view and is at least 0.1 tall; the losses start at zero and show ln 3.
    const [accLo, accHi] = ((await page.getAttribute('figure.chart[data-tag="Accuracy/test"]', 'data-y-range')) ?? '').split(' ').map(Number);
    expect(accLo).toBeLessThanOrEqual(1 / 3);
    expect(accHi).toBeGreaterThanOrEqual(1 / 3);
    expect(accHi - accLo).toBeGreaterThanOrEqual(0.1);
    const [lossLo, lossHi] = ((await page.getAttribute('figure.chart[data-tag="Loss/test"]', 'data-y-range')) ?? '').split(' ').map(Number);
    expect(lossLo).toBe(0);
    expect(lossHi).toBeGreaterThanOrEqual(Math.log(3));
    // Not hovered, the legends give the latest values, not "--".
    await page.mouse.move(0, 0);
    const legend = await page.$$eval('figure.chart .u-legend .u-value', (vs) => vs.map((v) => v.textContent));
    expect(legend.length).toBeGreaterThan(0);
    expect(legend.filter((v) => v === '--' || v === '–')).toEqual([]);
    await page.click('#inspect-episode-go');
    await page.waitForSelector('#inspect-out table.episode');
    await page.locator('#charts-panel').scrollIntoViewIfNeeded();
    await shot(page, 'layout-1280x800-fewshot-charts');

    // At 400 px nothing is wider than the window, the episode included.
    await page.setViewportSize({ width: 400, height: 800 });
    await page.waitForTimeout(300); // the charts resize on the next frame
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
    await shot(page, 'layout-400-fewshot', true);
    await page.setViewportSize({ width: 1280, height: 800 });

    // Another experiment: the few-shot episode and any error are gone.
    await page.check('#exp-recommender');
    expect(await page.locator('#inspect-out > *').count()).toBe(0);
    expect(await page.textContent('#run-error')).toBe('');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
