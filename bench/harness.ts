// One harness for every kernel variant (as llm.c's dev/cuda): each variant is first run once
// and validated against the float64 reference, then timed on the same inputs; the table
// gives the median and the ratio to the case's baseline variant.
import type { Gpu } from '../src/gpu/context.ts';
import type { BufferScope } from '../src/gpu/buffers.ts';
import type { StagingRing } from '../src/gpu/readback.ts';
import { GpuTimer } from '../src/gpu/timing.ts';
import { encodeDispatch, type Dispatch } from '../src/kernels/kernel.ts';

export interface Prepared {
  /** Recorded into one compute pass per timed run. */
  dispatches: Dispatch[];
  /** After one run: null when the output matches the reference, else what differs. */
  check(ring: StagingRing): Promise<string | null>;
  /** Restores in-place inputs before the validation run (e.g. Adam's parameters). */
  reset?(): void;
}

export interface Variant {
  impl: string;
  prepare(gpu: Gpu, scope: BufferScope): Promise<Prepared>;
}

export interface BenchCase {
  case: string;
  /** The impl the others are compared with. */
  baseline: string;
  variants: Variant[];
  /** At most this many timed runs, for cases whose slow variants take seconds each. */
  reps?: number;
  /** For cases the engine autotunes: the variant the autotuner picks on this adapter (cached per adapter). */
  tuned?: (gpu: Gpu) => Promise<string>;
}

export interface BenchResult {
  case: string;
  impl: string;
  median_ms: number;
  ok: boolean;
  /** baseline median / this median: above 1 is faster than the baseline. */
  speedup: number | null;
  error?: string;
}

export interface RunOptions {
  reps: number;
  warmup: number;
  log?: (line: string) => void;
}

export async function runCase(gpu: Gpu, ring: StagingRing, c: BenchCase, opts: RunOptions): Promise<BenchResult[]> {
  const timer = new GpuTimer(gpu);
  const rows: BenchResult[] = [];
  try {
    for (const v of c.variants) {
      const scope = gpu.buffers.scope();
      try {
        const p = await v.prepare(gpu, scope);
        p.reset?.();
        await timer.time((pass) => p.dispatches.forEach((d) => encodeDispatch(pass, d)));
        const problem = await p.check(ring);
        const reps = Math.min(opts.reps, c.reps ?? Infinity);
        const stats = await timer.stats((pass) => p.dispatches.forEach((d) => encodeDispatch(pass, d)), reps, Math.min(opts.warmup, reps));
        rows.push({ case: c.case, impl: v.impl, median_ms: stats.median_ms, ok: problem === null, speedup: null, ...(problem ? { error: problem } : {}) });
      } catch (err) {
        rows.push({ case: c.case, impl: v.impl, median_ms: NaN, ok: false, speedup: null, error: (err as Error).message });
      } finally {
        scope.destroy();
      }
      const last = rows[rows.length - 1];
      opts.log?.(`  ${c.case} / ${v.impl}: ${last.ok ? `${last.median_ms.toFixed(3)} ms` : `FAILED: ${last.error}`}`);
    }
  } finally {
    timer.destroy();
  }
  const base = rows.find((r) => r.impl === c.baseline && r.ok);
  for (const r of rows) r.speedup = base && r.ok && r.median_ms > 0 ? base.median_ms / r.median_ms : null;
  return rows;
}

export function formatTable(rows: readonly BenchResult[]): string {
  const head = ['case', 'impl', 'median ms', 'vs baseline', 'ok'];
  const body = rows.map((r) => [
    r.case,
    r.impl,
    Number.isFinite(r.median_ms) ? r.median_ms.toFixed(3) : '-',
    r.speedup === null ? '-' : `${r.speedup.toFixed(2)}x`,
    r.ok ? 'yes' : `NO: ${r.error ?? ''}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

