// A sweep's spec (YAML or JSON): the experiment, options every run shares, and axes whose
// product is the sweep's numbered list of configurations. Every option name and value is checked
// against the experiment's descriptor here, before anything runs; a mistake is one sentence
// naming the spec file and the key. Browser-safe.
import { parse as parseYaml } from 'yaml';
import { ConfigError, parseOption, type OptionSpec, type OptionValue } from '../experiments/options.ts';
import type { AnyExperiment } from '../experiments/types.ts';

/** Option flag (snake_case) → value, as a command line would give it. */
export type Settings = Record<string, OptionValue>;

/** How a random axis draws one option's value. */
export type Draw = { uniform: [number, number] } | { log_uniform: [number, number] } | { int: [number, number] } | { choice: OptionValue[] };

export type Axis =
  /** Every combination of the listed values, the first option outermost. */
  | { grid: Record<string, OptionValue[]> }
  /** Configurations in turn, each a set of options. */
  | { list: Settings[] }
  /** `count` draws from a generator seeded with `seed`, each option drawn in the order listed. */
  | { random: { seed: number; count: number; options: Record<string, Draw> } }
  /** The seed option: base seed + 0 … n-1, or the seeds listed. */
  | { seeds: number | number[] };

export interface SweepSpec {
  /** The spec's path, as errors name it. */
  file: string;
  experiment: AnyExperiment;
  fixed: Settings;
  axes: Axis[];
  /** A preset of the experiment whose table and chart --report writes (its runs must be the sweep's). */
  report?: string;
  /** Where the sweep's runs go (the --logdir flag wins). */
  logdir?: string;
}

const TOP_KEYS = ['experiment', 'fixed', 'axes', 'report', 'logdir'];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The spec's text parsed and checked. `options(ex)`: every option a run of `ex` takes (the
 * experiment's and its dataset's), by which keys and values are checked.
 */
export function parseSweep(text: string, file: string, experiments: readonly AnyExperiment[], options: (ex: AnyExperiment) => readonly OptionSpec[]): SweepSpec {
  let raw: unknown;
  try {
    raw = parseYaml(text); // JSON is YAML too
  } catch (err) {
    throw new ConfigError(`${file} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(raw)) throw new ConfigError(`${file} must be a mapping with experiment, fixed and axes`);
  for (const k of Object.keys(raw)) if (!TOP_KEYS.includes(k)) throw new ConfigError(`${file}: "${k}" is not a sweep key; the keys are ${TOP_KEYS.join(', ')}`);
  const name = raw.experiment;
  const ex = experiments.find((e) => e.name === name);
  if (!ex) throw new ConfigError(`${file}: experiment must be ${experiments.map((e) => e.name).join(', ')}, not ${JSON.stringify(name)}`);
  const known = options(ex);
  const check = new OptionChecker(file, ex.name, known);
  const fixed = raw.fixed === undefined ? {} : check.settings(raw.fixed, 'fixed');
  if (raw.axes !== undefined && !Array.isArray(raw.axes)) throw new ConfigError(`${file}: axes must be a list of axes (grid, list, random or seeds)`);
  const axes = ((raw.axes as unknown[] | undefined) ?? []).map((a, i) => axis(a, `axes[${i}]`, check, ex));
  const report = raw.report;
  if (report !== undefined && !ex.presets.some((p) => p.name === report)) {
    throw new ConfigError(`${file}: report must name a preset of ${ex.name} (${ex.presets.map((p) => p.name).join(', ')}), not ${JSON.stringify(report)}`);
  }
  if (raw.logdir !== undefined && (typeof raw.logdir !== 'string' || raw.logdir === '')) throw new ConfigError(`${file}: logdir must be a path`);
  return { file, experiment: ex, fixed, axes, report: report as string | undefined, logdir: raw.logdir as string | undefined };
}

/** Checks option names and values against the experiment's option specs. */
export class OptionChecker {
  private readonly byFlag = new Map<string, OptionSpec>();

  constructor(
    readonly file: string,
    readonly experiment: string,
    readonly options: readonly OptionSpec[],
  ) {
    for (const o of options) {
      for (const name of [o.flag, ...(o.aliases ?? [])]) {
        this.byFlag.set(name, o);
        this.byFlag.set(name.replaceAll('_', '-'), o);
      }
    }
  }

  option(key: string, where: string): OptionSpec {
    const o = this.byFlag.get(key);
    if (!o) throw new ConfigError(`${this.file}: ${where}: "${key}" is not an option of ${this.experiment} (see shadertrain ${this.experiment} --help)`);
    return o;
  }

  /** One value, as the option's flag would take it. */
  value(o: OptionSpec, v: unknown, where: string): OptionValue {
    const name = `${this.file}: ${where}`;
    if (o.type === 'bool') {
      if (typeof v !== 'boolean') throw new ConfigError(`${name} must be true or false, not ${JSON.stringify(v)}`);
      return v;
    }
    const text = Array.isArray(v) ? v.join(',') : typeof v === 'number' || typeof v === 'string' ? String(v) : undefined;
    if (text === undefined) throw new ConfigError(`${name} must be a value of --${o.flag}, not ${JSON.stringify(v)}`);
    return parseOption(o, text, name);
  }

  /** A mapping of options to values; keys come back in snake_case. */
  settings(v: unknown, where: string): Settings {
    if (!isRecord(v)) throw new ConfigError(`${this.file}: ${where} must be a mapping of options to values`);
    const out: Settings = {};
    for (const [k, x] of Object.entries(v)) {
      const o = this.option(k, where);
      out[o.flag] = this.value(o, x, `${where}.${k}`);
    }
    return out;
  }
}

function axis(a: unknown, where: string, check: OptionChecker, ex: AnyExperiment): Axis {
  const file = check.file;
  if (!isRecord(a) || Object.keys(a).length !== 1) throw new ConfigError(`${file}: ${where} must have one key: grid, list, random or seeds`);
  const [kind, body] = Object.entries(a)[0];
  const at = `${where}.${kind}`;
  switch (kind) {
    case 'grid': {
      if (!isRecord(body) || Object.keys(body).length === 0) throw new ConfigError(`${file}: ${at} must map options to lists of values`);
      const grid: Record<string, OptionValue[]> = {};
      for (const [k, xs] of Object.entries(body)) {
        const o = check.option(k, at);
        if (!Array.isArray(xs) || xs.length === 0) throw new ConfigError(`${file}: ${at}.${k} must be a non-empty list of values`);
        grid[o.flag] = xs.map((x, i) => check.value(o, x, `${at}.${k}[${i}]`));
      }
      return { grid };
    }
    case 'list': {
      if (!Array.isArray(body) || body.length === 0) throw new ConfigError(`${file}: ${at} must be a non-empty list of option mappings`);
      return { list: body.map((s, i) => check.settings(s, `${at}[${i}]`)) };
    }
    case 'random': {
      if (!isRecord(body)) throw new ConfigError(`${file}: ${at} must have seed, count and options`);
      for (const k of Object.keys(body)) if (!['seed', 'count', 'options'].includes(k)) throw new ConfigError(`${file}: ${at}: "${k}" is not a key of a random axis (seed, count, options)`);
      const { seed, count } = body;
      if (!Number.isSafeInteger(seed)) throw new ConfigError(`${file}: ${at}.seed must be an integer`);
      if (!Number.isSafeInteger(count) || (count as number) < 1) throw new ConfigError(`${file}: ${at}.count must be an integer from 1 up`);
      if (!isRecord(body.options) || Object.keys(body.options).length === 0) throw new ConfigError(`${file}: ${at}.options must map options to draws (uniform, log_uniform, int or choice)`);
      const options: Record<string, Draw> = {};
      for (const [k, d] of Object.entries(body.options)) {
        const o = check.option(k, `${at}.options`);
        options[o.flag] = draw(d, `${at}.options.${k}`, o, check);
      }
      return { random: { seed: seed as number, count: count as number, options } };
    }
    case 'seeds': {
      const seedOption = ex.options.find((o) => o.flag === 'seed');
      if (!seedOption) throw new ConfigError(`${file}: ${at}: ${ex.name} has no --seed option`);
      if (Number.isSafeInteger(body) && (body as number) >= 1) return { seeds: body as number };
      if (Array.isArray(body) && body.length > 0) return { seeds: body.map((s, i) => check.value(seedOption, s, `${at}[${i}]`) as number) };
      throw new ConfigError(`${file}: ${at} must be a count from 1 up or a list of seeds`);
    }
    default:
      throw new ConfigError(`${file}: ${where}: "${kind}" is not an axis; the axes are grid, list, random and seeds`);
  }
}

function draw(d: unknown, at: string, o: OptionSpec, check: OptionChecker): Draw {
  const file = check.file;
  if (!isRecord(d) || Object.keys(d).length !== 1) throw new ConfigError(`${file}: ${at} must be one of uniform: [a, b], log_uniform: [a, b], int: [a, b] or choice: [values]`);
  const [kind, body] = Object.entries(d)[0];
  if (kind === 'choice') {
    if (!Array.isArray(body) || body.length === 0) throw new ConfigError(`${file}: ${at}.choice must be a non-empty list of values`);
    return { choice: body.map((x, i) => check.value(o, x, `${at}.choice[${i}]`)) };
  }
  const pair = Array.isArray(body) && body.length === 2 && body.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (body as [number, number]) : undefined;
  if (!pair || pair[0] > pair[1]) throw new ConfigError(`${file}: ${at}.${kind} must be [low, high] with low <= high`);
  // Both ends must be values the option takes, so every draw between them is checked too.
  for (const x of pair) check.value(o, x, `${at}.${kind}`);
  if (kind === 'uniform') return { uniform: pair };
  if (kind === 'log_uniform') {
    if (pair[0] <= 0) throw new ConfigError(`${file}: ${at}.log_uniform needs low > 0`);
    return { log_uniform: pair };
  }
  if (kind === 'int') {
    if (!pair.every(Number.isSafeInteger)) throw new ConfigError(`${file}: ${at}.int must be two integers`);
    return { int: pair };
  }
  throw new ConfigError(`${file}: ${at}: "${kind}" is not a draw; use uniform, log_uniform, int or choice`);
}
