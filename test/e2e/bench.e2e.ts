// The page's bench view: the CLI's kernel harness on the browser's adapter, filtered to one
// small case; its JSON download is the CLI's --json shape and prints through the CLI's report.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatTable } from '../../bench/harness.ts';
import { parseBenchJson } from '../../bench/report.ts';
import { screenshot, usePage } from './support.ts';

const site = usePage();
const dir = mkdtempSync(join(tmpdir(), 'shadertrain-e2e-bench-'));

describe('the bench view', () => {
  test('runs the kernel harness on a filter, shows its table, and downloads the CLI JSON', async () => {
    const { page, errors } = await site.open();
    await page.waitForFunction(() => !(document.getElementById('bench-go') as HTMLButtonElement).disabled);
    expect(await page.$$eval('#bench-suite option', (o) => o.map((x) => (x as HTMLOptionElement).value))).toEqual(['kernels', 'step']);
    // A name no case has: one sentence, nothing run.
    await page.fill('#bench-filter', 'no such case');
    await page.click('#bench-go');
    await page.waitForFunction(() => (document.getElementById('bench-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#bench-error')).toMatch(/^No bench case's name contains "no such case"/);

    await page.fill('#bench-filter', 'bias grad 768x512');
    await page.fill('#bench-reps', '3');
    await page.fill('#bench-warmup', '1');
    await page.click('#bench-go');
    await page.waitForFunction(() => /^Done/.test(document.getElementById('bench-status')?.textContent ?? ''), null, { timeout: 120_000 });
    expect(await page.textContent('#bench-error')).toBe('');
    const rows = await page.$$eval('#bench-out tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent ?? '')));
    expect(rows.map((r) => r[1])).toEqual(['column', 'split', 'chunked']);
    expect(rows.every((r) => r[0] === 'matmul bias grad 768x512' && r[4] === 'yes')).toBe(true);
    expect(rows[0][3]).toBe('1.00×'); // the baseline against itself
    await screenshot(page, 'bench-view');

    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#bench-json')]);
    const path = join(dir, dl.suggestedFilename());
    await dl.saveAs(path);
    const json = parseBenchJson(readFileSync(path, 'utf8'), path);
    expect(json.adapter.description + json.adapter.vendor).toMatch(/swiftshader|google/i);
    expect(json.results.map((r) => r.impl)).toEqual(['column', 'split', 'chunked']);
    expect(json.results.every((r) => r.ok && r.median_ms > 0)).toBe(true);
    // The CLI's report prints the page's file with the CLI's own table.
    const cli = spawnSync(process.execPath, ['dist/bench.js', 'report', path], { encoding: 'utf8' });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain(formatTable(json.results));
    expect(cli.stdout).toMatch(/^adapter: .*swiftshader/im);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
