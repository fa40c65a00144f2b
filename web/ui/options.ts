// The experiments' options as form fields: the CLI's flags with the CLI's defaults (taken from
// the same config modules), each a labelled input; parsing gives one sentence per bad value,
// naming the field as the page labels it.
import { FEWSHOT_DEFAULTS, FEWSHOT_EVAL_EVERY, FEWSHOT_STEPS, checkFewshotConfig, type FewshotConfig } from '../../src/models/fewshot/config.ts';
import { RECOMMENDER_DEFAULTS, checkConfig, type RecommenderConfig } from '../../src/models/recommender/config.ts';
import type { FewshotRunSpec, RecommenderRunSpec } from '../protocol.ts';
import { el } from './dom.ts';

type Kind = 'int' | 'number' | 'bool' | 'list' | 'choice';

interface Field {
  key: string;
  /** The CLI flag, shown as a hint and used to name the field in the engine's messages. */
  flag: string;
  label: string;
  kind: Kind;
  value: number | boolean | string;
  min?: number;
  choices?: readonly string[];
  /** Under "More options". */
  more?: boolean;
  hint?: string;
}

const R = RECOMMENDER_DEFAULTS;
const F = FEWSHOT_DEFAULTS;

export const RECOMMENDER_FIELDS: Field[] = [
  { key: 'factorizationWeight', flag: 'factorization_weight', label: 'Factorization weight', kind: 'number', value: R.factorizationWeight, min: 0 },
  { key: 'regressionWeight', flag: 'regression_weight', label: 'Regression weight', kind: 'number', value: R.regressionWeight, min: 0 },
  { key: 'sharedEmbeddings', flag: 'no_shared_embeddings', label: 'Shared embeddings', kind: 'bool', value: R.sharedEmbeddings, hint: 'unchecked is --no_shared_embeddings: a user and an item table per head' },
  { key: 'clipPredictedRating', flag: 'clip_predicted_rating', label: 'Clip predicted rating', kind: 'bool', value: R.clipPredictedRating, hint: '--clip_predicted_rating: sigmoid × 5' },
  { key: 'epochs', flag: 'epochs', label: 'Epochs', kind: 'int', value: R.epochs, min: 1 },
  { key: 'batchSize', flag: 'batch_size', label: 'Batch size', kind: 'int', value: R.batchSize, min: 1 },
  { key: 'lr', flag: 'lr', label: 'Learning rate', kind: 'number', value: R.lr },
  { key: 'seed', flag: 'seed', label: 'Seed', kind: 'int', value: R.seed, min: 0 },
  { key: 'embeddingDim', flag: 'embedding_dim', label: 'Embedding size', kind: 'int', value: R.embeddingDim, min: 1, more: true },
  { key: 'layerSizes', flag: 'layer_sizes', label: 'MLP layer sizes', kind: 'list', value: R.layerSizes.join(','), more: true, hint: 'the first is 3 × embedding size' },
  { key: 'testFraction', flag: 'test_fraction', label: 'Test fraction', kind: 'number', value: R.testFraction, more: true },
  { key: 'sparseAdam', flag: 'sparse_adam', label: 'Row-sparse Adam on the tables', kind: 'bool', value: R.sparseAdam, more: true },
];

export const FEWSHOT_FIELDS: Field[] = [
  { key: 'numClasses', flag: 'num_classes', label: 'Classes per episode (N)', kind: 'int', value: F.numClasses, min: 2 },
  { key: 'numShot', flag: 'num_shot', label: 'Examples per class (K)', kind: 'int', value: F.numShot, min: 1 },
  { key: 'hidden', flag: 'hidden_size', label: 'Hidden size', kind: 'int', value: F.hidden, min: 1 },
  { key: 'steps', flag: 'steps', label: 'Training steps', kind: 'int', value: FEWSHOT_STEPS, min: 1 },
  { key: 'evalEvery', flag: 'eval_every', label: 'Evaluate every (steps)', kind: 'int', value: FEWSHOT_EVAL_EVERY, min: 1 },
  { key: 'seed', flag: 'seed', label: 'Seed', kind: 'int', value: F.seed, min: 0 },
  { key: 'metaBatch', flag: 'meta_batch_size', label: 'Episodes per step', kind: 'int', value: F.metaBatch, min: 1, more: true },
  { key: 'evalBatch', flag: 'eval_batch_size', label: 'Episodes per evaluation', kind: 'int', value: F.evalBatch, min: 1, more: true },
  { key: 'learningRate', flag: 'learning_rate', label: 'Learning rate', kind: 'number', value: F.learningRate, more: true },
  { key: 'input', flag: 'input', label: 'First layer input', kind: 'choice', value: F.input, choices: ['auto', 'bags', 'dense'], more: true },
];

export class OptionsError extends Error {
  override name = 'OptionsError';
  constructor(
    message: string,
    /** The input to focus. */
    readonly input?: HTMLElement,
  ) {
    super(message);
  }
}

/** A rendered set of fields: the inputs by key. */
export class OptionsForm {
  private readonly inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();

  constructor(
    readonly prefix: string,
    private readonly fields: Field[],
    container: HTMLElement,
  ) {
    const main = el('div', { class: 'fields' });
    const moreBody = el('div', { class: 'fields' });
    for (const f of fields) (f.more ? moreBody : main).append(this.field(f));
    const more = el('details', { class: 'more' }, el('summary', {}, 'More options'), moreBody);
    container.append(main, more);
  }

  private field(f: Field): HTMLElement {
    const id = `${this.prefix}-${f.key}`;
    let input: HTMLInputElement | HTMLSelectElement;
    if (f.kind === 'choice') {
      input = el('select', { id, name: f.key });
      for (const c of f.choices ?? []) input.append(el('option', { value: c }, c));
      input.value = String(f.value);
    } else if (f.kind === 'bool') {
      input = el('input', { id, name: f.key, type: 'checkbox' });
      input.checked = f.value === true;
    } else {
      input = el('input', { id, name: f.key, type: 'text', inputmode: f.kind === 'list' ? 'text' : f.kind === 'int' ? 'numeric' : 'decimal', autocomplete: 'off', spellcheck: 'false' });
      input.value = String(f.value);
    }
    input.dataset.flag = f.flag;
    this.inputs.set(f.key, input);
    const hintText = f.kind === 'bool' ? (f.hint ?? `--${f.flag}`) : `default ${String(f.value)}; --${f.flag}${f.hint ? `; ${f.hint}` : ''}`;
    const hint = el('span', { class: 'hint', id: `${id}-hint` }, hintText);
    input.setAttribute('aria-describedby', hint.id);
    const label = el('label', { for: id }, f.label);
    return el('div', { class: f.kind === 'bool' ? 'field check' : 'field' }, ...(f.kind === 'bool' ? [input, label] : [label, input]), hint);
  }

  input(key: string): HTMLInputElement | HTMLSelectElement {
    const i = this.inputs.get(key);
    if (!i) throw new Error(`no field ${key}`);
    return i;
  }

  /** Sets fields by key (tests and "same settings again"). */
  set(values: Record<string, number | boolean | string>): void {
    for (const [k, v] of Object.entries(values)) {
      const i = this.input(k);
      if (i instanceof HTMLInputElement && i.type === 'checkbox') i.checked = v === true;
      else i.value = String(v);
    }
  }

  /** Every field's value, checked on its own; throws OptionsError naming the field. */
  values(): Record<string, number | boolean | string | number[]> {
    const out: Record<string, number | boolean | string | number[]> = {};
    for (const f of this.fields) {
      const input = this.input(f.key);
      const raw = input.value.trim();
      const bad = (what: string): never => {
        throw new OptionsError(`${f.label} must be ${what}, not "${input.value}".`, input);
      };
      if (f.kind === 'bool') out[f.key] = (input as HTMLInputElement).checked;
      else if (f.kind === 'choice') out[f.key] = raw;
      else if (f.kind === 'list') {
        const parts = raw.split(',').map((s) => s.trim());
        if (!parts.every((s) => /^\d+$/.test(s) && Number(s) >= 1)) bad('a comma-separated list of positive integers');
        out[f.key] = parts.map(Number);
      } else {
        const n = raw === '' ? NaN : Number(raw);
        if (f.kind === 'int') {
          if (!(Number.isSafeInteger(n) && n >= (f.min ?? -Infinity))) bad(`an integer from ${f.min ?? 0} up`);
          if (f.key === 'seed' && n >= 2 ** 32) bad('an integer below 2^32');
        } else if (!Number.isFinite(n) || (f.min !== undefined && n < f.min)) {
          bad(f.min !== undefined ? `a number >= ${f.min}` : 'a number');
        }
        out[f.key] = n;
      }
    }
    return out;
  }

  /** Rewrites the engine's "--flag" in a message as the field's label, and finds the field. */
  explain(message: string): OptionsError {
    let input: HTMLElement | undefined;
    let text = message;
    for (const f of this.fields) {
      const flag = `--${f.flag}`;
      if (text.includes(flag)) {
        input ??= this.input(f.key);
        text = text.split(flag).join(f.label);
      }
    }
    return new OptionsError(/[.!?]$/.test(text) ? text : `${text}.`, input);
  }
}

export function recommenderSpec(form: OptionsForm): RecommenderRunSpec {
  const v = form.values();
  const config: RecommenderConfig = {
    factorizationWeight: v.factorizationWeight as number,
    regressionWeight: v.regressionWeight as number,
    sharedEmbeddings: v.sharedEmbeddings as boolean,
    clipPredictedRating: v.clipPredictedRating as boolean,
    epochs: v.epochs as number,
    batchSize: v.batchSize as number,
    lr: v.lr as number,
    embeddingDim: v.embeddingDim as number,
    layerSizes: v.layerSizes as number[],
    testFraction: v.testFraction as number,
    seed: v.seed as number,
    sparseAdam: v.sparseAdam as boolean,
  };
  try {
    checkConfig(config);
  } catch (err) {
    throw form.explain(err instanceof Error ? err.message : String(err));
  }
  return { experiment: 'recommender', config };
}

export function fewshotSpec(form: OptionsForm): FewshotRunSpec {
  const v = form.values();
  const config: FewshotConfig = {
    numClasses: v.numClasses as number,
    numShot: v.numShot as number,
    metaBatch: v.metaBatch as number,
    hidden: v.hidden as number,
    learningRate: v.learningRate as number,
    seed: v.seed as number,
    evalBatch: v.evalBatch as number,
    input: v.input as FewshotConfig['input'],
    splitSeed: F.splitSeed,
  };
  try {
    checkFewshotConfig(config);
  } catch (err) {
    throw form.explain(err instanceof Error ? err.message : String(err));
  }
  return { experiment: 'fewshot', config, steps: v.steps as number, evalEvery: v.evalEvery as number };
}
