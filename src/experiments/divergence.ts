// A run that has diverged, said in the user's terms: the metric by its tag, when (the unit
// trained), the parameters no longer finite by their names in the model, and advice that fits
// the cause (a loss weight beyond 32-bit floats, a raised learning rate, or the input). Checked
// by the training loop on the values every evaluation reads anyway (the metric sums live on the
// GPU, where a NaN or an infinity in any step stays in the sum): no extra readback. Browser-safe.
import { formatValue } from './options.ts';
import { metricsOf, type AnyExperiment, type MetricSpec, type Trainer } from './types.ts';

export class DivergenceError extends Error {
  override name = 'DivergenceError';
}

/** A loss weight above this scales a loss toward the largest 32-bit float (Adam itself is blind to a loss's scale). */
const BIG_WEIGHT = 1e6;

/** "user_embeddings.adam_m" → the descriptor's name for `user_embeddings`, else "user embeddings". */
export function paramName(ex: AnyExperiment, tensor: string): string {
  const group = tensor.split('.')[0];
  return ex.paramNames?.[group] ?? group.replaceAll('_', ' ');
}

function list(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** A default worth quoting: "(the default is 0.001)", or nothing where there is none (task weights: 1 each). */
function defaultOf(v: unknown): string {
  return v === undefined || (Array.isArray(v) && v.length === 0) ? '' : ` (the default is ${formatValue(v)})`;
}

/**
 * What to change: a huge loss weight (any loss's: one loss's infinity reaches the shared weights
 * and then every loss), else a raised --lr, else the input.
 */
function advice(ex: AnyExperiment, config: object, untrained: boolean): string {
  const c = config as Record<string, unknown>;
  const d = ex.defaults as Record<string, unknown>;
  if (untrained) return 'the model had not trained yet, so look at the input for values far outside the usual range';
  const weights = new Set(metricsOf(ex, config).flatMap((m) => m.weights ?? []));
  for (const key of weights) {
    const o = ex.options.find((x) => x.key === key);
    const v = c[key];
    if (o && (Array.isArray(v) ? v : [v]).some((x) => typeof x === 'number' && x > BIG_WEIGHT)) {
      return `the loss weight --${o.flag} ${formatValue(v)} scales a loss toward the largest 32-bit float; use weights near 1${defaultOf(d[key])}`;
    }
  }
  const lr = ex.options.find((o) => o.flag === 'lr');
  if (!lr) return 'look at the input for values far outside the usual range';
  const [now, usual] = [c[lr.key] as number, d[lr.key] as number];
  if (now > usual) return `lower --lr (${formatValue(now)}; the default is ${formatValue(usual)})`;
  return `--lr is ${formatValue(now)}${now === usual ? ', the default' : defaultOf(usual)}, so look at the input for values far outside the usual range, or lower --lr`;
}

/** The first metric whose value is not finite, or beyond its `explodes` bound: a diverged run. */
export function divergedMetric(ex: AnyExperiment, config: object, values: Record<string, number | null>): MetricSpec | undefined {
  return metricsOf(ex, config).find((m) => {
    const v = values[m.key];
    return typeof v === 'number' && (!Number.isFinite(v) || (m.explodes !== undefined && Math.abs(v) > m.explodes));
  });
}

/**
 * Throws a DivergenceError when a value just read is not finite, or beyond its metric's
 * `explodes` bound. `at`: the units trained, or where in a unit ("step 64 of epoch 2");
 * `untrained`: values of the model before any step.
 */
export async function checkDivergence(ex: AnyExperiment, config: object, trainer: Trainer, values: Record<string, number | null>, at: number | string, untrained = false): Promise<void> {
  const m = divergedMetric(ex, config, values);
  if (m) {
    const v = values[m.key] as number;
    const finite = Number.isFinite(v);
    const what = finite ? `${m.tag} reached ${v.toPrecision(3)}, beyond the ${m.explodes} no working model reaches` : `${m.tag} became ${v}`;
    // Reading the weights costs nothing now: the run is over.
    const bad = finite ? [] : [...new Set((await trainer.nonFiniteParams?.()) ?? [])].map((t) => paramName(ex, t));
    const names = [...new Set(bad)];
    const params = names.length ? `; ${list(names)} ${names.length === 1 ? 'is' : 'are'} no longer finite` : '';
    throw new DivergenceError(`training diverged by ${typeof at === 'number' ? `${ex.unit} ${at}` : at}: ${what}${params}; ${advice(ex, config, untrained)}`);
  }
}
