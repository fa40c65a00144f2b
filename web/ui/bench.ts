// The bench view's table: the CLI's columns (bench/harness.ts formatTable), with the variant the
// autotuner picked on this adapter marked in its case.
import type { BenchJson } from '../../bench/report.ts';
import { el } from './dom.ts';

export function renderBench(container: HTMLElement, json: BenchJson, timing: string): void {
  const picked = json.picked ?? {};
  const rows = json.results.map((r) => {
    const pick = picked[r.case] === r.impl;
    return el(
      'tr',
      { 'data-case': r.case, 'data-impl': r.impl, ...(pick ? { 'data-picked': 'true' } : {}), class: r.ok ? '' : 'failed' },
      el('td', {}, r.case),
      el('th', { scope: 'row' }, r.impl, pick ? el('span', { class: 'pick', title: "The autotuner's choice on this adapter" }, ' ★ picked') : null),
      el('td', { class: 'num' }, Number.isFinite(r.median_ms) ? r.median_ms.toFixed(3) : '—'),
      el('td', { class: 'num' }, r.speedup === null ? '—' : `${r.speedup.toFixed(2)}×`),
      el('td', {}, r.ok ? 'yes' : `no: ${r.error ?? ''}`),
    );
  });
  const tunedCases = Object.keys(picked).length;
  container.replaceChildren(
    el(
      'table',
      { class: 'bench' },
      el('caption', {}, `Timing: ${timing}. "vs baseline" above 1× is faster than the case's baseline.`),
      el('thead', {}, el('tr', {}, ...['Case', 'Variant', 'median ms', 'vs baseline', 'Valid'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, ...rows),
    ),
    ...(tunedCases ? [el('p', { class: 'hint' }, `★ marks the autotuner's pick in ${tunedCases} tuned case${tunedCases === 1 ? '' : 's'} (kept in this browser's storage, measured once per adapter).`)] : []),
  );
}
