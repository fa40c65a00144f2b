// The Predict panel: what a checkpoint (the latest run's, or a file) predicts, through its
// experiment's predictor, the code `shadertrain predict` runs. Its fields are the predictor's
// flags; where the checkpoint describes its inputs (multi-task), a form with a field per
// feature gives one row. The worker predicts; the rows show in a table and download as the
// CLI's CSV.
import { parseOption, type OptionSpec } from '../../src/experiments/options.ts';
import { experimentOf, predictionCsv } from '../../src/experiments/predict.ts';
import type { PredictField, PredictFile, PredictFlag, PredictForm, Predictor, PredictValue } from '../../src/experiments/types.ts';
import { readCheckpoint, type CheckpointFile } from '../../src/graph/checkpoint.ts';
import type { FileBytes, ToWorker } from '../protocol.ts';
import { byId, download, el, fileBytes } from './dom.ts';
import { optionInput } from './options.ts';

/** Rows shown in the table; the CSV has them all. */
const SHOWN_ROWS = 50;

const sentence = (text: string): string => (/[.!?]$/.test(text) ? text : `${text}.`);

class FieldError extends Error {
  constructor(
    message: string,
    readonly input: HTMLElement,
  ) {
    super(message);
  }
}

/** A file input's files as a predictor reads them: a folder's named by their path inside it. */
async function filesOf(input: HTMLInputElement): Promise<PredictFile[]> {
  const files = [...(input.files ?? [])].sort((a, b) => (a.webkitRelativePath || a.name).localeCompare(b.webkitRelativePath || b.name));
  return Promise.all(
    files.map(async (f) => {
      const inside = f.webkitRelativePath ? f.webkitRelativePath.split('/').slice(1).join('/') : f.name;
      return { name: inside, bytes: new Uint8Array(await f.arrayBuffer()) };
    }),
  );
}

export class PredictPanel {
  private checkpoint: FileBytes | null = null;
  private predictor: Predictor | null = null;
  private form: PredictForm | null = null;
  private readonly flagInputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  private readonly fieldInputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  private result: { columns: string[]; rows: (string | number)[][] } | null = null;
  private pending = false;

  constructor(
    private readonly send: (msg: ToWorker) => void,
    /** Asks the worker for the latest run's checkpoint; it comes back through use(). */
    requestRun: () => void,
  ) {
    byId<HTMLInputElement>('predict-checkpoint').addEventListener('change', (ev) => {
      const f = (ev.target as HTMLInputElement).files?.[0];
      if (f) void fileBytes(f).then((file) => this.use(file, `${f.name}`));
    });
    byId('predict-run').addEventListener('click', () => {
      this.error('');
      requestRun();
    });
    byId('predict-csv').addEventListener('click', () => {
      if (this.result) download('predictions.csv', predictionCsv(this.result.columns, this.result.rows), 'text/csv');
    });
  }

  /** A checkpoint to predict from: its experiment's flags, and its form where it has one. */
  use(file: FileBytes, from: string): void {
    this.error('');
    this.result = null;
    byId('predict-out').replaceChildren();
    let parsed: CheckpointFile;
    try {
      parsed = readCheckpoint(file.bytes, file.name);
      const ex = experimentOf(parsed);
      this.predictor = ex.predictor;
      this.form = ex.predictor.form?.(parsed) ?? null;
      this.checkpoint = file;
      byId('predict-source').textContent = `${from}: a ${ex.name} checkpoint${parsed.data ? ` trained on ${parsed.data.name} (${parsed.data.source})` : ''}.`;
    } catch (err) {
      this.checkpoint = null;
      this.predictor = null;
      this.form = null;
      byId('predict-source').textContent = 'No model chosen yet.';
      this.render();
      return this.error(err instanceof Error ? err.message : String(err));
    }
    this.render();
  }

  /** The fields for the current predictor: the form's row first, then the predictor's flags. */
  private render(): void {
    const box = byId('predict-fields');
    this.flagInputs.clear();
    this.fieldInputs.clear();
    const p = this.predictor;
    if (!p) {
      box.replaceChildren();
      byId('predict-box').hidden = true;
      return;
    }
    const parts: HTMLElement[] = [];
    if (this.form) {
      const fields = el('div', { class: 'fields' }, ...this.form.fields.map((f) => this.field(f)));
      const go = el('button', { type: 'button', id: 'predict-row', class: 'primary' }, 'Predict this row');
      go.addEventListener('click', () => void this.predict('row'));
      parts.push(el('fieldset', { class: 'predict-row' }, el('legend', {}, 'One row'), fields, el('div', { class: 'buttons' }, go)));
    }
    const hidden = new Set(this.form?.replaces ?? []);
    const flags = p.flags.filter((f) => !hidden.has(f.key));
    const flagBox = el('div', { class: 'fields' }, ...flags.map((f) => this.flag(f, p.defaults[f.key])));
    const go = el('button', { type: 'button', id: 'predict-go', class: this.form ? '' : 'primary' }, this.form ? "Predict the file's rows" : 'Predict');
    go.addEventListener('click', () => void this.predict('flags'));
    parts.push(el('fieldset', { class: 'predict-flags' }, el('legend', {}, this.form ? 'Rows from a file, and settings' : 'Inputs'), flagBox, el('div', { class: 'buttons' }, go)));
    box.replaceChildren(...parts);
    byId('predict-box').hidden = false;
  }

  private field(f: PredictField): HTMLElement {
    const id = `predict-field-${f.name}`;
    let input: HTMLInputElement | HTMLSelectElement;
    if (f.kind === 'choice') {
      input = el('select', { id, name: f.name });
      for (const c of f.choices) input.append(el('option', { value: c }, c));
    } else {
      input = el('input', { id, name: f.name, type: 'text', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false' });
    }
    input.value = f.value;
    this.fieldInputs.set(f.name, input);
    const hint = f.kind === 'number' ? el('span', { class: 'hint', id: `${id}-hint` }, f.hint) : null;
    if (hint) input.setAttribute('aria-describedby', hint.id);
    return el('div', { class: 'field' }, el('label', { for: id }, f.name), input, hint);
  }

  private flag(f: PredictFlag, value: PredictValue | undefined): HTMLElement {
    const id = `predict-flag-${f.key}`;
    let input: HTMLInputElement | HTMLSelectElement;
    if (f.type === 'file' || f.type === 'files') {
      input = el('input', { id, name: f.key, type: 'file' });
      // A `files` flag takes a folder (few-shot's support set: a sub-folder per class).
      if (f.type === 'files') input.setAttribute('webkitdirectory', '');
    } else if (f.type === 'text') {
      input = el('input', { id, name: f.key, type: 'text', autocomplete: 'off', spellcheck: 'false' });
    } else {
      input = optionInput(f as OptionSpec, id, value);
    }
    this.flagInputs.set(f.key, input);
    const hint = el('span', { class: 'hint', id: `${id}-hint` }, `${f.help}; --${f.flag}`);
    input.setAttribute('aria-describedby', hint.id);
    const label = el('label', { for: id }, f.label);
    return el('div', { class: f.type === 'bool' ? 'field check' : 'field' }, ...(f.type === 'bool' ? [input, label] : [label, input]), hint);
  }

  /** The flags' values as `shadertrain predict` would parse them; an empty field is a flag not given. */
  private async values(): Promise<Record<string, PredictValue | undefined>> {
    const p = this.predictor as Predictor;
    const values: Record<string, PredictValue | undefined> = { ...p.defaults };
    for (const f of p.flags) {
      const input = this.flagInputs.get(f.key);
      if (!input) continue;
      if (f.type === 'file' || f.type === 'files') {
        const files = await filesOf(input as HTMLInputElement);
        if (files.length) values[f.key] = f.type === 'file' ? files.slice(0, 1) : files;
      } else if (f.type === 'bool') {
        values[f.key] = (input as HTMLInputElement).checked;
      } else if (input.value.trim() !== '') {
        try {
          values[f.key] = f.type === 'text' ? input.value : parseOption(f as Exclude<OptionSpec, { type: 'bool' }>, input.value, f.label);
        } catch (err) {
          throw new FieldError(sentence(err instanceof Error ? err.message : String(err)), input);
        }
      }
    }
    return values;
  }

  /** The form's row as one JSON Lines row: numbers as typed, choices as chosen. */
  private rowFile(): PredictFile {
    const row: Record<string, string> = {};
    for (const [name, input] of this.fieldInputs) row[name] = input.value;
    return { name: 'the form', bytes: new TextEncoder().encode(`${JSON.stringify(row)}\n`) };
  }

  private async predict(what: 'row' | 'flags'): Promise<void> {
    if (!this.checkpoint || !this.predictor || this.pending) return;
    this.error('');
    let values: Record<string, PredictValue | undefined>;
    try {
      values = await this.values();
    } catch (err) {
      if (err instanceof FieldError) {
        err.input.focus();
        return this.error(err.message);
      }
      throw err;
    }
    if (what === 'row' && this.form) values[this.form.flag] = [this.rowFile()];
    if (what === 'flags' && this.form && values[this.form.flag] === undefined) {
      const input = this.flagInputs.get(this.form.flag);
      input?.focus();
      return this.error('Choose a file of rows first (CSV with a header, or JSON Lines), or predict the form\'s row.');
    }
    this.pending = true;
    byId('predict-status').textContent = 'Predicting…';
    this.send({ type: 'predict', checkpoint: { name: this.checkpoint.name, bytes: this.checkpoint.bytes.slice() }, values });
  }

  /** The worker's answer. */
  shown(result: { columns: string[]; rows: (string | number)[][]; notes: string[] } | { message: string }): void {
    this.pending = false;
    byId('predict-status').textContent = '';
    if ('message' in result) {
      this.result = null;
      byId('predict-out').replaceChildren();
      byId<HTMLButtonElement>('predict-csv').disabled = true;
      return this.error(result.message);
    }
    this.result = { columns: result.columns, rows: result.rows };
    const head = el('tr', {}, ...result.columns.map((c) => el('th', { scope: 'col' }, c)));
    const body = result.rows.slice(0, SHOWN_ROWS).map((r) => el('tr', {}, ...r.map((v) => el('td', {}, String(v)))));
    const count = result.rows.length > SHOWN_ROWS ? `The first ${SHOWN_ROWS} of ${result.rows.length} rows; the CSV has them all.` : `${result.rows.length} row${result.rows.length === 1 ? '' : 's'}.`;
    byId('predict-out').replaceChildren(
      ...result.notes.map((n) => el('p', { class: 'hint' }, n)),
      el('div', { class: 'table-scroll' }, el('table', { id: 'predict-table', class: 'runs' }, el('caption', {}, count), el('thead', {}, head), el('tbody', {}, ...body))),
    );
    byId<HTMLButtonElement>('predict-csv').disabled = false;
  }

  private error(message: string): void {
    byId('predict-error').textContent = message ? sentence(message) : '';
  }
}
