// Ali-CCP impressions for ESMM, in two published forms (detected per file):
// - torch-rechub's CSV: `click,purchase`, then label-encoded sparse fields, then dense fields
//   whose names start with D (continuous). purchase is click AND conversion.
// - PaddleRec's lines: `id,click,ctcvr,field:feature,...`. A field may carry many features; each
//   field becomes one categorical column holding the row's FIRST feature of that field (the rest
//   are dropped: an honest, simple reading; a field absent from a row is the unknown value).
// Either way the tasks are click and conversion, conversion NaN where click = 0 (post-click).
// Files: names holding train/val/test pick the splits (train+test: the test file is shuffled with
// the seed and cut 1:1 into val and test); one file: shuffled, 80/10/10.
import { Rng } from '../../random.ts';
import { DataError, lineError } from '../errors.ts';
import type { TabularData, TabularFile, TabularSettings } from '../tabular.ts';
import { readCsv } from './csv.ts';
import { assemble, concatRaw, fileText, MISSING, parseBinaryLabel, parseNumber, range, shuffledSplit, textLines, type RawTable, type SplitRows } from './table.ts';

const TASKS = [{ name: 'click', kind: 'binary' as const }, { name: 'conversion', kind: 'binary' as const }];

/** conversion from click and click-AND-conversion, checking that no unclicked impression converts. */
function conversionOf(click: number, ctcvr: number, file: string, line: number, column: number): number {
  if (click === 0 && ctcvr === 1) throw lineError(file, line, `column ${column} marks a conversion without a click; fix the row (a conversion follows a click).`);
  return click === 1 ? ctcvr : NaN;
}

function rechubRaw(file: TabularFile): RawTable {
  const t = readCsv(file);
  if (t.header[0] !== 'click' || t.header[1] !== 'purchase') throw new DataError(`${file.name} line 1: the header must start with click,purchase; pass torch-rechub's Ali-CCP CSV.`);
  const features = t.header.slice(2);
  const contNames = features.filter((h) => h.startsWith('D'));
  const catNames = features.filter((h) => !h.startsWith('D'));
  const n = t.rows.length;
  const click = new Float32Array(n);
  const conversion = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const row = t.rows[r];
    const c = parseBinaryLabel(row[0], file.name, t.lines[r], 1, 'click');
    const p = parseBinaryLabel(row[1], file.name, t.lines[r], 2, 'purchase');
    if (Number.isNaN(c) || Number.isNaN(p)) throw lineError(file.name, t.lines[r], `column ${Number.isNaN(c) ? 1 : 2} has no label; Ali-CCP rows carry both click and purchase.`);
    click[r] = c;
    conversion[r] = conversionOf(c, p, file.name, t.lines[r], 2);
  }
  const cat = catNames.map((h) => {
    const c = t.header.indexOf(h);
    return t.rows.map((row) => row[c]);
  });
  const cont = contNames.map((h) => {
    const c = t.header.indexOf(h);
    return Float64Array.from(t.rows, (row, r) => parseNumber(row[c], file.name, t.lines[r], c + 1, h));
  });
  return { catNames, cat, contNames, cont, tasks: TASKS, labels: [click, conversion] };
}

/** PaddleRec lines of one file: labels and each field's first feature. */
function paddleRows(file: TabularFile): { click: Float32Array; conversion: Float32Array; fields: Map<string, string>[] } {
  const { lines, numbers } = textLines(fileText(file.name, file.bytes));
  const n = lines.length;
  const click = new Float32Array(n);
  const conversion = new Float32Array(n);
  const fields: Map<string, string>[] = [];
  for (let r = 0; r < n; r++) {
    const f = lines[r].split(',');
    const line = numbers[r];
    if (f.length < 3) throw lineError(file.name, line, `has ${f.length} fields where PaddleRec's Ali-CCP lines have id,click,conversion,field:feature...; pass the file unchanged.`);
    const c = parseBinaryLabel(f[1], file.name, line, 2, 'click');
    const p = parseBinaryLabel(f[2], file.name, line, 3, 'conversion');
    if (Number.isNaN(c) || Number.isNaN(p)) throw lineError(file.name, line, `column ${Number.isNaN(c) ? 2 : 3} has no label; Ali-CCP lines carry both click and conversion.`);
    click[r] = c;
    conversion[r] = conversionOf(c, p, file.name, line, 3);
    const m = new Map<string, string>();
    for (let k = 3; k < f.length; k++) {
      const colon = f[k].indexOf(':');
      if (colon <= 0) throw lineError(file.name, line, `column ${k + 1} "${f[k]}" is not field:feature; pass the file unchanged.`);
      const field = f[k].slice(0, colon);
      if (!m.has(field)) m.set(field, f[k].slice(colon + 1));
    }
    fields.push(m);
  }
  return { click, conversion, fields };
}

/** Every file's raw columns: PaddleRec files share one column per field seen in any of them. */
function aliRaw(files: readonly TabularFile[]): RawTable[] {
  const csv = files.map((f) => fileText(f.name, f.bytes).startsWith('click,'));
  if (csv.some((c) => c !== csv[0])) throw new DataError(`${files.map((f) => f.name).join(', ')} mix torch-rechub CSV and PaddleRec text; pass files of one form.`);
  if (csv[0]) {
    const raws = files.map(rechubRaw);
    const columns = (r: RawTable): string => [...r.catNames, ...r.contNames].join(',');
    const odd = raws.findIndex((r) => columns(r) !== columns(raws[0]));
    if (odd >= 0) throw new DataError(`${files[odd].name} line 1: its columns differ from ${files[0].name}'s; pass files of one export.`);
    return raws;
  }
  const parsed = files.map(paddleRows);
  const fieldNames: string[] = [];
  const seen = new Set<string>();
  for (const p of parsed) for (const m of p.fields) for (const k of m.keys()) if (!seen.has(k)) seen.add(k), fieldNames.push(k);
  return parsed.map((p) => ({
    catNames: fieldNames,
    cat: fieldNames.map((name) => p.fields.map((m) => m.get(name) ?? MISSING)),
    contNames: [],
    cont: [],
    tasks: TASKS,
    labels: [p.click, p.conversion],
  }));
}

export function buildAliCcp(s: TabularSettings, files: readonly TabularFile[]): TabularData {
  if (files.length === 0) throw new DataError('ali-ccp needs files; pass --data with torch-rechub CSVs or PaddleRec text files.');
  const names = files.map((f) => f.name).join(', ');
  const rng = new Rng(s.seed);
  const options = { dataset: 'ali-ccp', source: names, standardize: true, files: names };
  if (files.length === 1) {
    const [raw] = aliRaw(files);
    return assemble(raw, shuffledSplit(raw.labels[0].length, rng), options);
  }
  const role = (f: TabularFile): string | undefined => {
    const base = (f.name.split(/[\\/]/).pop() ?? f.name).toLowerCase();
    return ['train', 'val', 'test'].find((r) => base.includes(r));
  };
  const roles = files.map(role);
  const at = (r: string): number => roles.indexOf(r);
  const ok = at('train') >= 0 && at('test') >= 0 && new Set(roles).size === files.length && (files.length === 2 || at('val') >= 0);
  if (!ok) throw new DataError(`ali-ccp reads one file, or files named train and test (and val), not ${names}; name them so or pass one file.`);
  const ordered = (files.length === 2 ? ['train', 'test'] : ['train', 'val', 'test']).map((r) => files[at(r)]);
  const raws = aliRaw(ordered);
  const counts = raws.map((r) => r.labels[0].length);
  let split: SplitRows;
  if (files.length === 3) {
    split = { train: range(0, counts[0]), val: range(counts[0], counts[0] + counts[1]), test: range(counts[0] + counts[1], counts[0] + counts[1] + counts[2]) };
  } else {
    const order = rng.shuffle(range(counts[0], counts[0] + counts[1]));
    const half = Math.floor(counts[1] / 2);
    split = { train: range(0, counts[0]), val: order.slice(0, half), test: order.slice(half) };
  }
  return assemble(concatRaw(raws), split, options);
}
