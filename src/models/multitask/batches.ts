// The host side of a step: which rows each step trains on, and the arrays fed for them. Three
// ways to draw rows, all from one generator so that a checkpoint resumes the same sequence:
//   rows         an epoch is the training rows shuffled, cut into batches (a smaller last one)
//   balanced     each batch takes equal rows from each task's labelled rows (each task's rows
//                cycle, reshuffled at each wrap); an epoch covers the largest task once
//   alternating  step s trains task s mod T on a full batch of its labelled rows (each task's
//                last partial batch of an epoch is dropped); an epoch covers every task once
// Each task's weight column is 1/(its labels present in the batch) where present and 0 where
// missing, so its loss is the mean over the labels present; a missing label is fed as 0.
import type { TabularData, TabularRows } from '../../data/tabular.ts';
import type { TypedData } from '../../graph/graph.ts';
import type { Rng } from '../../random.ts';
import { balanced, taskSpecs, type MultitaskConfig } from './config.ts';
import { lossLabels, type Layout } from './model.ts';

/** One step: its rows (indices into the split) and, in alternating training, its task. */
export interface StepPlan {
  rows: Uint32Array;
  task?: number;
}

/** Each task's labelled rows of a split. */
export function labelledRows(rows: TabularRows, tasks: number): Uint32Array[] {
  return Array.from({ length: tasks }, (_, t) => {
    const out: number[] = [];
    for (let r = 0; r < rows.count; r++) if (!Number.isNaN(rows.labels[r * tasks + t])) out.push(r);
    return Uint32Array.from(out);
  });
}

/** Rows of one task drawn in shuffled passes within an epoch (each epoch starts a fresh pass). */
class Cycle {
  private order: Uint32Array;
  private at = 0;
  constructor(
    private readonly rows: Uint32Array,
    private readonly rng: Rng,
  ) {
    this.order = rng.shuffle(Uint32Array.from(rows));
  }
  take(n: number, out: Uint32Array, from: number): void {
    for (let i = 0; i < n; i++) {
      if (this.at === this.order.length) {
        this.order = this.rng.shuffle(Uint32Array.from(this.rows));
        this.at = 0;
      }
      out[from + i] = this.order[this.at++];
    }
  }
}

/** The steps of one epoch, drawn from `rng` (the only draws an epoch makes besides dropout seeds). */
export function planEpoch(c: MultitaskConfig, train: TabularRows, labelled: Uint32Array[], rng: Rng): StepPlan[] {
  const B = Math.min(c.batchSize, train.count);
  const T = labelled.length;
  if (c.training === 'alternating') {
    const per = labelled.map((rows) => {
      const order = rng.shuffle(Uint32Array.from(rows));
      const size = Math.min(B, rows.length);
      return Array.from({ length: Math.floor(rows.length / size) }, (_, k) => order.subarray(k * size, (k + 1) * size));
    });
    const out: StepPlan[] = [];
    for (let k = 0; out.length < per.reduce((n, p) => n + p.length, 0); k++) {
      for (let t = 0; t < T; t++) if (k < per[t].length) out.push({ rows: per[t][k], task: t });
    }
    return out;
  }
  if (balanced(c)) {
    // Task t's share of a batch: B/T, the first B mod T tasks one more.
    const share = labelled.map((_, t) => Math.floor(B / T) + (t < B % T ? 1 : 0));
    const steps = Math.max(...labelled.map((rows, t) => Math.ceil(rows.length / share[t])));
    const cycles = labelled.map((rows) => new Cycle(rows, rng));
    return Array.from({ length: steps }, () => {
      const rows = new Uint32Array(B);
      let at = 0;
      cycles.forEach((cy, t) => {
        cy.take(share[t], rows, at);
        at += share[t];
      });
      return { rows };
    });
  }
  const order = rng.shuffle(Uint32Array.from({ length: train.count }, (_, i) => i));
  return Array.from({ length: Math.ceil(train.count / B) }, (_, k) => ({ rows: order.subarray(k * B, (k + 1) * B) }));
}

/** Steps in one epoch, without drawing (the progress bar's count). */
export function stepsPerEpoch(c: MultitaskConfig, train: TabularRows, labelled: Uint32Array[]): number {
  const B = Math.min(c.batchSize, train.count);
  const T = labelled.length;
  if (c.training === 'alternating') return labelled.reduce((n, rows) => n + Math.floor(rows.length / Math.min(B, rows.length)), 0);
  if (balanced(c)) return Math.max(...labelled.map((rows, t) => Math.ceil(rows.length / (Math.floor(B / T) + (t < B % T ? 1 : 0)))));
  return Math.ceil(train.count / B);
}

/** The feature arrays of `rows` (indices into `split`), padded to `size` rows by repeating the first. */
export function featureBatch(data: Pick<TabularData, 'categorical' | 'continuous'>, layout: Layout, split: TabularRows, rows: ArrayLike<number>, size = rows.length): Record<string, TypedData> {
  const F = data.categorical.length;
  const C = data.continuous.length;
  const out: Record<string, TypedData> = {};
  const pick = (i: number): number => (i < rows.length ? rows[i] : rows[0]);
  if (F) {
    const cat = new Uint32Array(size * F);
    for (let i = 0; i < size; i++) cat.set(split.categorical.subarray(pick(i) * F, pick(i) * F + F), i * F);
    out.categorical = cat;
  }
  const columns = (name: string, idx: number[]): void => {
    if (!idx.length) return;
    const a = new Float32Array(size * idx.length);
    for (let i = 0; i < size; i++) {
      const base = pick(i) * C;
      for (let j = 0; j < idx.length; j++) a[i * idx.length + j] = split.continuous[base + idx[j]];
    }
    out[name] = a;
  };
  columns('continuous', layout.shared);
  columns('private', layout.private);
  return out;
}

/** The label and weight columns of a training batch (see the file's head). */
export function labelBatch(c: MultitaskConfig, split: TabularRows, rows: ArrayLike<number>): Record<string, TypedData> {
  const T = taskSpecs(c).length;
  const n = rows.length;
  const value = (i: number, t: number): number => split.labels[rows[i] * T + t];
  const column = (get: (i: number) => number): { y: Float32Array; w: Float32Array } => {
    const y = new Float32Array(n);
    const w = new Float32Array(n);
    let present = 0;
    for (let i = 0; i < n; i++) if (!Number.isNaN(get(i))) present++;
    for (let i = 0; i < n; i++) {
      const v = get(i);
      if (Number.isNaN(v)) continue;
      y[i] = v;
      w[i] = 1 / present;
    }
    return { y, w };
  };
  const out: Record<string, TypedData> = {};
  const names = lossLabels(c);
  const columns =
    c.model === 'esmm'
      ? // ESMM trains on every impression: the click, and click AND conversion (a conversion is post-click; missing = not clicked = 0).
        [column((i) => value(i, 0)), column((i) => (value(i, 0) === 1 && value(i, 1) === 1 ? 1 : Number.isNaN(value(i, 0)) ? NaN : 0))]
      : names.map((_, t) => column((i) => value(i, t)));
  names.forEach((name, k) => {
    out[`label.${name}`] = columns[k].y;
    out[`weight.${name}`] = columns[k].w;
  });
  return out;
}
