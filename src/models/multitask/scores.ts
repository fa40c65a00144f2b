// A split's metrics from its predictions, on the host over the whole split (AUC needs every
// score at once): per binary task AUC, log loss and accuracy over the rows with its label; per
// regression task MSE. Click/conversion data adds the ESMM paper's views: CTCVR (click AND
// conversion against pCTR·pCVR over every impression) and, where a generator knows it, CVR
// over every impression (against the conversion each impression would have had if clicked).
import type { TabularData, TabularRows } from '../../data/tabular.ts';
import { accuracy, auc, logLoss } from '../../metrics/binary.ts';
import { mse } from '../../metrics/regression.ts';
import { taskSpecs, type MultitaskConfig } from './config.ts';

export type Split = 'val' | 'test';

/** Metric key → value, keys `${split}_${task}_${metric}`. */
export type Scores = Record<string, number>;

/** What a split's predictions are, column by column. */
export interface Predictions {
  /** [rows × outputs] row-major. */
  values: Float32Array;
  outputs: number;
}

/** Whether the data are impressions with a click and a post-click conversion. */
export function clickConversion(c: MultitaskConfig): boolean {
  const names = taskSpecs(c).map((t) => t.name);
  return c.model === 'esmm' || (c.dataset !== 'csv' && names.join(',') === 'click,conversion');
}

const column = (p: Predictions, k: number, rows: number): Float32Array => {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = p.values[r * p.outputs + k];
  return out;
};

/** Each task's probability or value, and (click/conversion data) pCTCVR. */
export function taskColumns(c: MultitaskConfig, p: Predictions, rows: number): { tasks: Float32Array[]; ctcvr: Float32Array | null } {
  const T = taskSpecs(c).length;
  const tasks = Array.from({ length: T }, (_, t) => column(p, t, rows));
  if (!clickConversion(c)) return { tasks, ctcvr: null };
  if (c.model === 'esmm') return { tasks, ctcvr: column(p, 2, rows) };
  const ctcvr = new Float32Array(rows);
  for (let r = 0; r < rows; r++) ctcvr[r] = tasks[0][r] * tasks[1][r];
  return { tasks, ctcvr };
}

export function scoreSplit(c: MultitaskConfig, data: TabularData, split: Split, rows: TabularRows, p: Predictions): Scores {
  const specs = taskSpecs(c);
  const T = specs.length;
  const { tasks, ctcvr } = taskColumns(c, p, rows.count);
  const out: Scores = {};
  specs.forEach((task, t) => {
    const labels = new Float32Array(rows.count);
    for (let r = 0; r < rows.count; r++) labels[r] = rows.labels[r * T + t];
    const key = `${split}_${task.name}`;
    if (task.kind === 'binary') {
      out[`${key}_auc`] = auc(tasks[t], labels);
      out[`${key}_logloss`] = logLoss(tasks[t], labels);
      out[`${key}_accuracy`] = accuracy(tasks[t], labels);
    } else {
      out[`${key}_mse`] = mse(tasks[t], labels);
    }
  });
  if (ctcvr) {
    const labels = new Float32Array(rows.count);
    for (let r = 0; r < rows.count; r++) labels[r] = rows.labels[r * T] === 1 && rows.labels[r * T + 1] === 1 ? 1 : 0;
    out[`${split}_ctcvr_auc`] = auc(ctcvr, labels);
    const hidden = data.hidden?.conversion?.[split];
    if (hidden) out[`${split}_conversion_all_auc`] = auc(tasks[1], hidden);
  }
  return out;
}
