// A GPU device lost while the page trains (issue 18): the worker opens another, restores its last
// snapshot and trains on. The page says so, charts no point twice, and the checkpoint it saves is
// byte for byte that of the same run undisturbed. The loss is injected from the page's address
// (?fault_lose_device=N: the device is destroyed after the Nth step, src/experiments/fault.ts).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { describe, expect, test } from 'vitest';
import { chartPoints, fillFewshot, usePage, waitForState } from './support.ts';

const site = usePage();
const dir = mkdtempSync(join(tmpdir(), 'shadertrain-device-loss-e2e-'));

/** Few-shot, 2-way 1-shot, 8 hidden units, 20 steps with an evaluation every 5: its checkpoint's bytes, and what the page warned. */
async function trainFewshot(query: string): Promise<{ checkpoint: Buffer; warnings: string[]; page: Page; errors: string[] }> {
  const { page, errors } = await site.open(query);
  const warnings: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'warning') warnings.push(m.text());
  });
  await page.check('#exp-fewshot');
  await page.waitForFunction(() => /1,623 characters/.test(document.getElementById('omniglot-status')?.textContent ?? ''));
  await fillFewshot(page, { numClasses: 2, hidden: 8, steps: 20, evalEvery: 5, metaBatch: 4, evalBatch: 8 });
  await page.click('#start');
  await waitForState(page, 1, ['done', 'failed'], 180_000);
  expect(await page.textContent('#run-error')).toBe('');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-checkpoint')]);
  const path = join(dir, `${query ? 'lost' : 'straight'}-${dl.suggestedFilename()}`);
  await dl.saveAs(path);
  return { checkpoint: readFileSync(path), warnings, page, errors };
}

describe('a device lost in the page', () => {
  test('is survived: said once, no point charted twice, the checkpoint of an undisturbed run', async () => {
    const straight = await trainFewshot('');
    expect(straight.warnings.filter((w) => w.includes('device was lost'))).toEqual([]);
    await straight.page.context().close();
    // After step 8: mid-way between the evaluations at steps 5 and 10.
    const lost = await trainFewshot('?fault_lose_device=8');
    expect(lost.warnings.filter((w) => w.includes('device was lost'))).toEqual([
      expect.stringMatching(/^Run #1 N2 K1 H8 seed0: the GPU device was lost by step \d+ \(destroyed: Device was destroyed\); training went on from step 5 on a new device, which changes no result$/),
    ]);
    expect(await chartPoints(lost.page, 'Accuracy/test')).toBe(5); // steps 0, 5, …, 20
    expect(await chartPoints(lost.page, 'Loss/train')).toBe(20);
    expect(lost.checkpoint.equals(straight.checkpoint)).toBe(true);
    expect(lost.errors).toEqual([]);
    await lost.page.context().close();
  });
});
