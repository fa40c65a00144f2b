// The steps every multi-task loader shares: text from plain or gzip bytes, numbers that fail with
// the file/line/column, seeded splits, and the assembly of raw columns into a TabularData
// (vocabularies and standardization from the training rows only). Browser-safe.
import { gunzipSync } from 'fflate';
import { Rng } from '../../random.ts';
import { DataError, lineError } from '../errors.ts';
import type { ContinuousColumn, TabularData, TabularRows, TaskSpec } from '../tabular.ts';

/** A categorical cell with no value (a field absent from a row): always vocabulary index 0. */
export const MISSING = '\u0000';

/** Raw columns before splitting: cat[column][row], cont[column][row], labels[task][row] (NaN = missing). */
export interface RawTable {
  catNames: string[];
  cat: string[][];
  contNames: string[];
  cont: Float64Array[];
  tasks: TaskSpec[];
  labels: Float32Array[];
}

/** Row indices of each split into a RawTable. */
export interface SplitRows {
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
}

/** The bytes as text, gunzipped first when they start with gzip's magic number. */
export function fileText(name: string, bytes: Uint8Array): string {
  let raw = bytes;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      raw = gunzipSync(bytes);
    } catch {
      throw new DataError(`${name} is not a valid gzip file; pass it unpacked or re-download it.`);
    }
  }
  const text = new TextDecoder().decode(raw);
  if (text.trim() === '') throw new DataError(`${name} is empty; pass a file with rows.`);
  return text;
}

/** The non-empty lines of a text (a trailing newline and CR line ends allowed), with their 1-based line numbers. */
export function textLines(text: string): { lines: string[]; numbers: number[] } {
  const all = text.split('\n');
  const lines: string[] = [];
  const numbers: number[] = [];
  for (let i = 0; i < all.length; i++) {
    const l = all[i].endsWith('\r') ? all[i].slice(0, -1) : all[i];
    if (l.trim() === '') continue;
    lines.push(l);
    numbers.push(i + 1);
  }
  return { lines, numbers };
}

export function parseNumber(s: string, file: string, line: number, column: number, name: string): number {
  const t = s.trim();
  const v = t === '' ? NaN : Number(t);
  if (!Number.isFinite(v)) throw lineError(file, line, `column ${column} (${name}) "${t}" is not a number; fix the value or list the column as categorical.`);
  return v;
}

/** A binary label 0/1, or NaN for the missing marks -1 and empty. */
export function parseBinaryLabel(s: string, file: string, line: number, column: number, name: string): number {
  const t = s.trim();
  if (t === '' || t === '-1') return NaN;
  if (t === '0' || t === '1') return Number(t);
  throw lineError(file, line, `column ${column} (${name}) label "${t}" is not 0 or 1; write 0, 1, or -1 or nothing for a missing label.`);
}

/** A seeded shuffle of 0..n-1 cut into fractions (train, val; test the rest). */
export function shuffledSplit(n: number, rng: Rng, train = 0.8, val = 0.1): SplitRows {
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const nTrain = Math.round(n * train);
  const nVal = Math.round(n * val);
  return { train: order.slice(0, nTrain), val: order.slice(nTrain, nTrain + nVal), test: order.slice(nTrain + nVal) };
}

/** Rows [from, to) in order. */
export function range(from: number, to: number): Int32Array {
  return Int32Array.from({ length: to - from }, (_, i) => from + i);
}

export interface AssembleOptions {
  dataset: string;
  source: string;
  /** Continuous features standardized with the training rows (loaders); false: kept raw with mean 0, std 1 (generators, whose features are drawn standard already and whose truth is in raw units). */
  standardize: boolean;
  privateColumns?: Record<string, string>;
  /** The files' columns that are neither features nor tasks (TabularData.otherColumns). */
  otherColumns?: string[];
  /** Named in the "no labels" error. */
  files: string;
}

/** Vocabularies and statistics from the training rows, then every split in the shared shape. */
export function assemble(raw: RawTable, split: SplitRows, o: AssembleOptions): Omit<TabularData, 'truth' | 'hidden'> {
  const { train } = split;
  for (let t = 0; t < raw.tasks.length; t++) {
    const lab = raw.labels[t];
    let any = false;
    for (let i = 0; i < train.length && !any; i++) any = !Number.isNaN(lab[train[i]]);
    if (!any) throw new DataError(`${o.files}: no training row has a label for task ${raw.tasks[t].name}; give rows with that label or drop the task.`);
  }
  const maps = raw.cat.map((col) => {
    const m = new Map<string, number>();
    for (let i = 0; i < train.length; i++) {
      const v = col[train[i]];
      if (v !== MISSING && !m.has(v)) m.set(v, m.size + 1);
    }
    return m;
  });
  const stats: ContinuousColumn[] = raw.cont.map((col, c) => {
    if (!o.standardize) return { name: raw.contNames[c], mean: 0, std: 1 };
    let sum = 0;
    for (let i = 0; i < train.length; i++) sum += col[train[i]];
    const mean = train.length ? sum / train.length : 0;
    let sq = 0;
    for (let i = 0; i < train.length; i++) sq += (col[train[i]] - mean) ** 2;
    const std = train.length ? Math.sqrt(sq / train.length) : 0;
    return { name: raw.contNames[c], mean, std: std > 0 ? std : 1 };
  });
  const rows = (idx: Int32Array): TabularRows => {
    const n = idx.length;
    const nc = raw.cat.length;
    const nf = raw.cont.length;
    const nt = raw.tasks.length;
    const categorical = new Uint32Array(n * nc);
    const continuous = new Float32Array(n * nf);
    const labels = new Float32Array(n * nt);
    for (let c = 0; c < nc; c++) {
      const col = raw.cat[c];
      const m = maps[c];
      for (let i = 0; i < n; i++) categorical[i * nc + c] = m.get(col[idx[i]]) ?? 0;
    }
    for (let c = 0; c < nf; c++) {
      const col = raw.cont[c];
      const { mean, std } = stats[c];
      for (let i = 0; i < n; i++) continuous[i * nf + c] = (col[idx[i]] - mean) / std;
    }
    for (let t = 0; t < nt; t++) {
      const lab = raw.labels[t];
      for (let i = 0; i < n; i++) labels[i * nt + t] = lab[idx[i]];
    }
    return { count: n, categorical, continuous, labels };
  };
  return {
    dataset: o.dataset,
    source: o.source,
    tasks: raw.tasks,
    categorical: raw.catNames.map((name, c) => ({ name, vocab: ['<unknown>', ...maps[c].keys()] })),
    continuous: stats,
    privateColumns: o.privateColumns ?? {},
    ...(o.otherColumns?.length ? { otherColumns: o.otherColumns } : {}),
    train: rows(split.train),
    val: rows(split.val),
    test: rows(split.test),
  };
}

/** Concatenates raw tables with the same columns and tasks (several files of one data set). */
export function concatRaw(parts: RawTable[]): RawTable {
  const [first] = parts;
  return {
    catNames: first.catNames,
    cat: first.catNames.map((_, c) => parts.flatMap((p) => p.cat[c])),
    contNames: first.contNames,
    cont: first.contNames.map((_, c) => concatF64(parts.map((p) => p.cont[c]))),
    tasks: first.tasks,
    labels: first.tasks.map((_, t) => concatF32(parts.map((p) => p.labels[t]))),
  };
}

function concatF64(a: Float64Array[]): Float64Array {
  const out = new Float64Array(a.reduce((s, x) => s + x.length, 0));
  let o = 0;
  for (const x of a) out.set(x, (o += x.length) - x.length);
  return out;
}

function concatF32(a: Float32Array[]): Float32Array {
  const out = new Float32Array(a.reduce((s, x) => s + x.length, 0));
  let o = 0;
  for (const x of a) out.set(x, (o += x.length) - x.length);
  return out;
}

export function rowCount(raw: RawTable): number {
  return raw.labels[0]?.length ?? raw.cat[0]?.length ?? raw.cont[0]?.length ?? 0;
}
