// CSV with a header: the reader every CSV-shaped data set shares, and the `csv` data set itself.
// Labels: one task per --labels column (kinds from --task_kinds, default binary); -1 or empty is a
// missing label. Features: --categorical and --continuous as listed, or, when both are empty,
// inferred: every non-label column present in all files, continuous where every value parses as
// a number, categorical otherwise. Several files become one table: a label column a file lacks is
// missing (NaN) on its rows; a listed feature column a file lacks is an error (no honest value
// exists for it). The table is shuffled with the seed and cut 80/10/10.
import { Rng } from '../../random.ts';
import { DataError, lineError } from '../errors.ts';
import type { TabularData, TabularFile, TabularSettings, TaskKind } from '../tabular.ts';
import { assemble, concatRaw, fileText, parseBinaryLabel, parseNumber, shuffledSplit, textLines, type RawTable } from './table.ts';

export interface CsvTable {
  file: string;
  header: string[];
  /** rows[r][c], trimmed. */
  rows: string[][];
  /** Each row's 1-based line in the file. */
  lines: number[];
}

/** Fields of one line; double quotes group a field that holds commas ("" is a quote). */
function splitLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',').map((f) => f.trim());
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') out.push(cur.trim()), (cur = '');
    else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

export function readCsv(file: TabularFile): CsvTable {
  const { lines, numbers } = textLines(fileText(file.name, file.bytes));
  const header = splitLine(lines[0]);
  const rows: string[][] = [];
  for (let r = 1; r < lines.length; r++) {
    const f = splitLine(lines[r]);
    if (f.length !== header.length) {
      throw lineError(file.name, numbers[r], `has ${f.length} fields where the header has ${header.length} (column ${Math.min(f.length, header.length) + 1} is where it differs); give every row one value per header column.`);
    }
    rows.push(f);
  }
  if (rows.length === 0) throw new DataError(`${file.name} has a header but no rows; pass a file with rows.`);
  return { file: file.name, header, rows, lines: numbers.slice(1) };
}

/** Raw columns of one CSV table: named label, categorical and continuous columns (absent labels are NaN). */
export function csvRaw(t: CsvTable, labels: string[], kinds: TaskKind[], catNames: string[], contNames: string[]): RawTable {
  const index = (name: string): number => {
    const c = t.header.indexOf(name);
    if (c < 0) throw new DataError(`${t.file} line 1: column ${name} is missing from the header; add it or leave it out of the column lists.`);
    return c;
  };
  const n = t.rows.length;
  const cat = catNames.map((name) => {
    const c = index(name);
    return t.rows.map((row) => row[c]);
  });
  const cont = contNames.map((name) => {
    const c = index(name);
    return Float64Array.from(t.rows, (row, r) => parseNumber(row[c], t.file, t.lines[r], c + 1, name));
  });
  const lab = labels.map((name, k) => {
    const c = t.header.indexOf(name);
    if (c < 0) return new Float32Array(n).fill(NaN);
    return Float32Array.from(t.rows, (row, r) => {
      if (kinds[k] === 'binary') return parseBinaryLabel(row[c], t.file, t.lines[r], c + 1, name);
      const v = row[c];
      return v === '' || v === '-1' ? NaN : parseNumber(v, t.file, t.lines[r], c + 1, name);
    });
  });
  return { catNames, cat, contNames, cont, tasks: labels.map((name, k) => ({ name, kind: kinds[k] })), labels: lab };
}

export function buildCsv(s: TabularSettings, files: readonly TabularFile[]): TabularData {
  if (s.labels.length === 0) throw new DataError('The csv data set needs its label columns; pass --labels a,b.');
  if (files.length === 0) throw new DataError('The csv data set needs files; pass --data a.csv[,b.csv].');
  if (s.taskKinds.length > 0 && s.taskKinds.length !== s.labels.length) {
    throw new DataError(`--task_kinds names ${s.taskKinds.length} kinds for ${s.labels.length} labels; give one kind per label.`);
  }
  const kinds = s.labels.map((_, k) => s.taskKinds[k] ?? 'binary');
  const tables = files.map(readCsv);
  const names = files.map((f) => f.name).join(', ');
  for (const label of s.labels) {
    if (!tables.some((t) => t.header.includes(label))) throw new DataError(`${names}: no file has the label column ${label}; check --labels against the headers.`);
  }
  let catNames = s.categorical;
  let contNames = s.continuous;
  if (catNames.length === 0 && contNames.length === 0) {
    const features = tables[0].header.filter((h) => !s.labels.includes(h) && tables.every((t) => t.header.includes(h)));
    const numeric = (h: string): boolean =>
      tables.every((t) => {
        const c = t.header.indexOf(h);
        return t.rows.every((row) => row[c] !== '' && Number.isFinite(Number(row[c])));
      });
    contNames = features.filter(numeric);
    catNames = features.filter((h) => !contNames.includes(h));
  }
  const raw = concatRaw(tables.map((t) => csvRaw(t, s.labels, kinds, catNames, contNames)));
  const split = shuffledSplit(raw.labels[0].length, new Rng(s.seed));
  const read = new Set([...catNames, ...contNames]);
  const otherColumns = [...new Set(tables.flatMap((t) => t.header))].filter((h) => !read.has(h));
  return assemble(raw, split, { dataset: 'csv', source: names, standardize: true, files: names, otherColumns });
}
