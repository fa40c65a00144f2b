// Rows given for prediction, as text: a CSV file with a header, JSON Lines (one object per line),
// or one row typed as `x1=5.62,x2=1.26,...`; then encoded as training encoded its rows (each
// categorical value's vocabulary index, 0 for a value not seen in training; each continuous
// value standardized with the training statistics). Every problem is one sentence naming the
// row and the column. Browser-safe.
import { DataError } from '../../data/errors.ts';
import { fileText, textLines } from '../../data/tabular/table.ts';
import { readCsv } from '../../data/tabular/csv.ts';
import type { TabularRows } from '../../data/tabular.ts';
import type { PredictFile } from '../../experiments/types.ts';
import type { MultitaskSchema } from './schema.ts';

/** Rows of named cells; a cell a row lacks is undefined. */
export interface InputRows {
  /** Names the input in errors: a file, standard input, or --row. */
  source: string;
  columns: string[];
  /** cells[r][c] for columns[c]. */
  cells: (string | undefined)[][];
  /** " row 3 (line 4)": where row r is in the source, for errors (empty for a single --row). */
  where(r: number): string;
}

/** A CSV file with a header, or JSON Lines when its first character is `{`. */
export function readInputFile(file: PredictFile): InputRows {
  const text = fileText(file.name, file.bytes);
  if (text.trimStart().startsWith('{')) return readJsonLines(file.name, text);
  const t = readCsv({ name: file.name, bytes: new TextEncoder().encode(text) });
  return { source: file.name, columns: t.header, cells: t.rows, where: (r) => ` row ${r + 1} (line ${t.lines[r]})` };
}

function readJsonLines(name: string, text: string): InputRows {
  const { lines, numbers } = textLines(text);
  const columns: string[] = [];
  const index = new Map<string, number>();
  const cells = lines.map((line, r) => {
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      throw new DataError(`${name} row ${r + 1} (line ${numbers[r]}) is not valid JSON; give one JSON object per line.`);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new DataError(`${name} row ${r + 1} (line ${numbers[r]}) is not a JSON object; give one object of column: value per line.`);
    const row: (string | undefined)[] = [];
    for (const [k, v] of Object.entries(o)) {
      if (typeof v !== 'string' && typeof v !== 'number') throw new DataError(`${name} row ${r + 1} (line ${numbers[r]}): column ${k} holds ${JSON.stringify(v)}; give a number or a string.`);
      let c = index.get(k);
      if (c === undefined) index.set(k, (c = columns.push(k) - 1));
      row[c] = String(v);
    }
    return row;
  });
  return { source: name, columns, cells, where: (r) => ` row ${r + 1} (line ${numbers[r]})` };
}

/** One row typed on the command line: `name=value` pairs separated by commas. */
export function readRowText(text: string): InputRows {
  const columns: string[] = [];
  const row: string[] = [];
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new DataError(`--row: "${pair.trim()}" is not name=value; write --row 'x1=5.62,x2=1.26,...'.`);
    const name = pair.slice(0, eq).trim();
    if (columns.includes(name)) throw new DataError(`--row: column ${name} is given twice; give it once.`);
    columns.push(name);
    row.push(pair.slice(eq + 1).trim());
  }
  return { source: '--row', columns, cells: [row], where: () => '' };
}

/** The rows as the model reads them, and a note per column that had values unseen in training. */
export function encodeRows(schema: MultitaskSchema, input: InputRows, note: (line: string) => void): Pick<TabularRows, 'count' | 'categorical' | 'continuous'> {
  const known = new Set([...schema.categorical.map((c) => c.name), ...schema.continuous.map((c) => c.name), ...schema.ignored]);
  const reads = [...schema.continuous.map((c) => c.name), ...schema.categorical.map((c) => c.name)];
  for (const c of input.columns) {
    if (!known.has(c)) throw new DataError(`${input.source}: column ${c} is not one the model reads; drop it (the model reads ${reads.join(', ')}).`);
  }
  const at = (name: string): number => {
    const c = input.columns.indexOf(name);
    if (c < 0) throw new DataError(`${input.source}: column ${name} is missing; every row needs ${reads.join(', ')}.`);
    return c;
  };
  const n = input.cells.length;
  const F = schema.categorical.length;
  const C = schema.continuous.length;
  const categorical = new Uint32Array(n * F);
  const continuous = new Float32Array(n * C);
  const cell = (r: number, c: number, name: string): string => {
    const v = input.cells[r][c];
    if (v === undefined) throw new DataError(`${input.source}${input.where(r)}: column ${name} is missing; give it a value.`);
    return v.trim();
  };
  schema.continuous.forEach(({ name, mean, std }, j) => {
    const c = at(name);
    for (let r = 0; r < n; r++) {
      const s = cell(r, c, name);
      const x = s === '' ? NaN : Number(s);
      if (!Number.isFinite(x)) throw new DataError(`${input.source}${input.where(r)}: column ${name} "${s}" is not a number; give a number.`);
      // As training standardized it (table.ts assemble): in float64, then stored as float32.
      continuous[r * C + j] = (x - mean) / std;
    }
  });
  schema.categorical.forEach(({ name, vocab }, j) => {
    const c = at(name);
    const index = new Map(vocab.map((v, i) => [v, i]));
    index.delete(vocab[0]); // the unknown row is not a value a row can name
    const unseen = new Map<string, number>();
    for (let r = 0; r < n; r++) {
      const s = cell(r, c, name);
      const i = index.get(s);
      if (i === undefined && !unseen.has(s)) unseen.set(s, r);
      categorical[r * F + j] = i ?? 0;
    }
    if (unseen.size) {
      const shown = [...unseen].slice(0, 3).map(([v, r]) => input.where(r) ? `"${v}" (first in${input.where(r)})` : `"${v}"`);
      const more = unseen.size > 3 ? ` and ${unseen.size - 3} more` : '';
      note(`${input.source}: column ${name}: ${shown.join(', ')}${more} ${unseen.size === 1 ? 'was' : 'were'} not seen in training and ${unseen.size === 1 ? 'maps' : 'map'} to the unknown row.`);
    }
  });
  return { count: n, categorical, continuous };
}
