// A sweep's axes expanded into its numbered configurations: the product of the axes, the first
// outermost, so the list (and what index I means) depends on nothing but the spec. Browser-safe.
import { formatValue, type OptionValue } from '../experiments/options.ts';
import { Rng } from '../random.ts';
import type { Axis, Draw, Settings, SweepSpec } from './spec.ts';

export interface Configuration {
  index: number;
  /** Every option the spec sets for it: fixed ones, then the axes'. */
  settings: Settings;
  /** Only the axes' options: what tells it from the others (its HParams, its row). */
  swept: Settings;
  /** Its folder in the sweep's logdir: `003-model=mmoe_rho=0.5_seed=1`. */
  dir: string;
}

/** The points of one axis, each the options it sets. */
function points(a: Axis, fixed: Settings, defaultSeed: number): Settings[] {
  if ('grid' in a) {
    let out: Settings[] = [{}];
    for (const [flag, values] of Object.entries(a.grid)) out = out.flatMap((s) => values.map((v) => ({ ...s, [flag]: v })));
    return out;
  }
  if ('list' in a) return a.list;
  if ('seeds' in a) {
    const base = typeof fixed.seed === 'number' ? fixed.seed : defaultSeed;
    const seeds = typeof a.seeds === 'number' ? Array.from({ length: a.seeds }, (_, k) => base + k) : a.seeds;
    return seeds.map((seed) => ({ seed }));
  }
  const rng = new Rng(a.random.seed);
  return Array.from({ length: a.random.count }, () => Object.fromEntries(Object.entries(a.random.options).map(([flag, d]) => [flag, drawValue(rng, d)])));
}

/** One draw; floats keep 4 significant digits, so they read well in lists, folders and tables. */
function drawValue(rng: Rng, d: Draw): OptionValue {
  if ('choice' in d) return d.choice[rng.int(d.choice.length)];
  if ('int' in d) return d.int[0] + rng.int(d.int[1] - d.int[0] + 1);
  const u = rng.uniform();
  const x = 'uniform' in d ? d.uniform[0] + u * (d.uniform[1] - d.uniform[0]) : Math.exp(Math.log(d.log_uniform[0]) + u * (Math.log(d.log_uniform[1]) - Math.log(d.log_uniform[0])));
  return Number(x.toPrecision(4));
}

/** A folder-safe name of the swept settings. */
export function describe(swept: Settings, sep = ' '): string {
  return Object.entries(swept)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(sep);
}

export function expand(spec: SweepSpec): Configuration[] {
  const seedDefault = (spec.experiment.defaults as Record<string, unknown>).seed;
  const defaultSeed = typeof seedDefault === 'number' ? seedDefault : 0;
  let swept: Settings[] = [{}];
  for (const a of spec.axes) {
    const ps = points(a, spec.fixed, defaultSeed);
    swept = swept.flatMap((s) => ps.map((p) => ({ ...s, ...p })));
  }
  const width = String(Math.max(0, swept.length - 1)).length;
  return swept.map((s, index) => ({
    index,
    settings: { ...spec.fixed, ...s },
    swept: s,
    dir: `${String(index).padStart(width, '0')}${Object.keys(s).length ? '-' : ''}${describe(s, '_').replace(/[^A-Za-z0-9._=-]+/g, '-')}`,
  }));
}
