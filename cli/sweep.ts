// `shadertrain sweep SPEC`: many runs of one experiment from a spec (src/sweep/spec.ts), every
// configuration checked before anything runs. --list prints the numbered configurations;
// --index I runs one (what a cluster schedules); --emit k8s|slurm writes the cluster's job;
// without those, the unfinished configurations run here, --parallel P at a time.
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { writeFileAtomic } from '../src/data/files-node.ts';
import { ConfigError, formatValue, parseOption, type OptionSpec } from '../src/experiments/options.ts';
import { EXPERIMENTS } from '../src/experiments/registry.ts';
import { metricsOf, type AnyExperiment, REPORT_FILES } from '../src/experiments/types.ts';
import { DATASET } from '../src/log/hparams.ts';
import { k8sYaml, slurmScript } from '../src/sweep/emit.ts';
import { describe, expand, type Configuration } from '../src/sweep/expand.ts';
import { sweepReport } from '../src/sweep/report.ts';
import { parseSweep, type Settings } from '../src/sweep/spec.ts';
import { DATASETS } from './datasets.ts';
import { UserError } from './errors.ts';
import { parseFlags, stringFlag, type FlagSpec, type Values } from './flags.ts';
import { GPU_HELP, GPU_OPTIONS } from './gpu-options.ts';
import { examplesHelp } from './help.ts';
import { configFromArgs, hparamValue, runExperiment } from './run-experiment.ts';
import { checkpointFile, evaluationsFile, finished, recordEvaluation, recoverFinished, resultFile, runDir, started, withHistory, writeExperiment } from './sweep-files.ts';
import { runLocal } from './sweep-local.ts';

const SWEEP_FLAGS = {
  list: { type: 'boolean' },
  report: { type: 'boolean' },
  index: { type: 'string' },
  parallel: { type: 'string' },
  emit: { type: 'string' },
  image: { type: 'string' },
  parallelism: { type: 'string' },
  claim: { type: 'string' },
  logdir: { type: 'string' },
  data: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...GPU_OPTIONS,
} as const satisfies FlagSpec;

const HELP = `usage: shadertrain sweep SPEC [options]
Many runs of one experiment: SPEC (YAML or JSON) names the experiment, the options every run
shares (fixed) and the axes (grid, list, random, seeds) whose product is the numbered list of
configurations. Every option is checked before anything runs. See docs/sweeps.md.

  --list               print the numbered configurations (and which have finished)
  --index I            run configuration I alone (what a cluster schedules)
  --parallel P         run the unfinished configurations here, P processes at a time (default 1)
  --report             write the finished runs' table (mean ± sd over seeds) and chart in the logdir
  --emit k8s|slurm     print a Kubernetes Indexed Job or a Slurm array script running each index
  --image IMAGE        the container image of --emit k8s (one with shadertrain and the spec)
  --parallelism N      tasks at once on the cluster (default: all)
  --claim NAME         --emit k8s: the PersistentVolumeClaim holding the logdir (default shadertrain-runs)
  --logdir DIR         where the runs go (default: the spec's logdir, else runs/sweep-<spec name>)
  --data PATH          the experiment's --data, for every run
  --<option> VALUE     any option of the experiment, for every run (a fixed option the spec leaves open)

${GPU_HELP}`;

const EXAMPLES = [
  { args: 'sweeps/synthetic.yaml --list', does: "the MMoE paper's comparison as a sweep: its 24 configurations" },
  { args: 'sweeps/synthetic.yaml --parallel 2', does: 'runs them here two at a time; run it again after a stop to continue' },
  { args: 'sweeps/synthetic.yaml --emit k8s --image registry/shadertrain:0.1 > job.yaml', does: 'a Kubernetes Indexed Job, one pod per configuration' },
];

/** Every option a run of the experiment takes: its own and its dataset's. */
function optionsOf(ex: AnyExperiment): readonly OptionSpec[] {
  return [...ex.options, ...(DATASETS[ex.dataset]?.options ?? [])];
}

function flagsOf(options: readonly OptionSpec[]): FlagSpec {
  return Object.fromEntries(options.map((o) => [o.flag, { type: o.type === 'bool' ? 'boolean' : 'string' }]));
}

/** The command line that gives these settings. */
export function argsOf(settings: Settings, options: readonly OptionSpec[]): string[] {
  return Object.entries(settings).flatMap(([flag, v]) => {
    const o = options.find((x) => x.flag === flag);
    if (o?.type === 'bool') return v ? [`--${flag}`] : [];
    return [`--${flag}`, formatValue(v)];
  });
}

/** Flags given on the sweep's command line, passed on to each run as they were given. */
function passOn(v: Values, names: readonly string[]): string[] {
  return names.flatMap((n) => (v[n] === true ? [`--${n}`] : typeof v[n] === 'string' ? [`--${n}`, v[n] as string] : []));
}

function count(v: Values, flag: string, fallback: number): number {
  const s = stringFlag(v[flag]);
  if (s === undefined) return fallback;
  if (!/^\d+$/.test(s.trim()) || Number(s) < 1) throw new UserError(`--${flag} must be an integer from 1 up, not "${s}"`);
  return Number(s);
}

export async function sweep(args: string[]): Promise<number> {
  const [specPath, ...rest] = args;
  if (!specPath || specPath === '--help' || specPath === '-h') {
    console.log(`${HELP}${examplesHelp('sweep', EXAMPLES)}`);
    return specPath ? 0 : 2;
  }
  if (specPath.startsWith('-')) throw new UserError(`shadertrain sweep takes the spec file first, then options (shadertrain sweep SPEC ${specPath} ...)`);
  if (!existsSync(specPath)) throw new UserError(`${specPath}: no such sweep spec`);
  const spec = parseSweep(readFileSync(specPath, 'utf8'), specPath, EXPERIMENTS, optionsOf);
  const ex = spec.experiment;
  const options = optionsOf(ex);
  const v = parseFlags(rest, { ...flagsOf(options), ...SWEEP_FLAGS });
  if (v.help) {
    console.log(`${HELP}${examplesHelp('sweep', EXAMPLES)}`);
    return 0;
  }

  // Options on the command line join the spec's fixed ones; an option the axes sweep is refused.
  const overrides: Settings = {};
  for (const o of options) {
    const given = v[o.flag];
    if (given === undefined) continue;
    overrides[o.flag] = o.type === 'bool' ? given === true : parseOption(o, String(given));
  }
  const swept = new Set(spec.axes.flatMap((a) => ('grid' in a ? Object.keys(a.grid) : 'list' in a ? a.list.flatMap(Object.keys) : 'seeds' in a ? ['seed'] : Object.keys(a.random.options))));
  for (const flag of Object.keys(overrides)) if (swept.has(flag)) throw new UserError(`--${flag} cannot be given to the sweep: ${specPath}'s axes set it`);
  spec.fixed = { ...spec.fixed, ...overrides };

  const configs = expand(spec);
  // Each configuration's whole config, checked exactly as the experiment's command checks its flags.
  const full: object[] = [];
  for (const c of configs) {
    try {
      full.push(configFromArgs(ex, argsOf(c.settings, options)));
    } catch (err) {
      if (!(err instanceof ConfigError || err instanceof UserError)) throw err;
      throw new ConfigError(`${specPath}: configuration ${c.index} (${describe(c.swept) || 'the fixed options'}): ${err.message}`);
    }
  }
  const preset = spec.report === undefined ? undefined : ex.presets.find((p) => p.name === spec.report);
  const base = configFromArgs(ex, argsOf(spec.fixed, options));
  if (preset) checkPresetRuns(preset, base, full, configs, specPath);
  const logdir = stringFlag(v.logdir) ?? spec.logdir ?? join('runs', `sweep-${basename(specPath, extname(specPath))}`);
  // What every run gets besides its settings: the overrides, --data and the adapter flags.
  const common = [...argsOf(overrides, options), ...passOn(v, ['data', ...Object.keys(GPU_OPTIONS)])];

  const modes = (['list', 'index', 'emit', 'report'] as const).filter((m) => v[m] !== undefined);
  if (modes.length > 1) throw new UserError(`--${modes[0]} and --${modes[1]} cannot be combined`);
  if (v.list) {
    const width = String(configs.length - 1).length;
    for (const c of configs) {
      const state = finished(logdir, c) ? 'finished' : started(logdir, c) ? 'started' : '';
      console.log(`${String(c.index).padStart(width)}  ${describe(c.swept) || '(the fixed options)'}${state ? `  [${state}]` : ''}`);
    }
    return 0;
  }
  const emit = stringFlag(v.emit);
  if (emit !== undefined) {
    const o = { spec: specPath, count: configs.length, parallelism: count(v, 'parallelism', configs.length), logdir, args: common, name: `shadertrain-${basename(specPath, extname(specPath))}` };
    if (emit === 'k8s') {
      const image = stringFlag(v.image);
      if (!image) throw new UserError('--emit k8s needs --image, a container image with shadertrain and the spec in its working directory');
      // The volume is mounted at the logdir, given to the task as an absolute path (the image's working directory is its own).
      const mountPath = logdir.startsWith('/') ? logdir : `/work/${logdir}`;
      console.log(k8sYaml({ ...o, logdir: mountPath, image, claim: stringFlag(v.claim) ?? 'shadertrain-runs', mountPath }).trimEnd());
    } else if (emit === 'slurm') {
      console.log(slurmScript(o).trimEnd());
    } else throw new UserError(`--emit must be k8s or slurm, not "${emit}"`);
    return 0;
  }
  if (v.report) return report(ex, specPath, configs, logdir, preset && { preset, base });
  // The HParams table's columns: the options the axes set, and every metric the runs log.
  const hparams = [...swept].map((flag) => ({ flag, key: options.find((o) => o.flag === flag)?.key ?? flag }));
  await writeExperiment(
    logdir,
    hparams.map(({ flag, key }) => ({ name: flag, values: [...new Set(full.map((c) => hparamValue((c as Record<string, unknown>)[key])))] })),
    [...new Map(full.flatMap((c) => metricsOf(ex, c)).map((m) => [m.tag, { tag: m.tag, dataset: m.test ? DATASET.validation : DATASET.training }])).values()],
  );
  const index = stringFlag(v.index);
  if (index !== undefined) {
    const i = Number(index);
    if (!/^\d+$/.test(index.trim()) || i >= configs.length) throw new UserError(`--index must be an integer from 0 to ${configs.length - 1} (${specPath} has ${configs.length} configurations), not "${index}"`);
    return runIndex(ex, configs[i], full[i], logdir, options, common);
  }
  const parallel = count(v, 'parallel', 1);
  return runLocal(configs, { logdir, parallel, childArgs: (i) => ['sweep', specPath, '--index', String(i), '--logdir', logdir, ...common] });
}

/** Configuration `c` alone: skipped if it has finished, resumed from its checkpoint if it has started. */
async function runIndex(ex: AnyExperiment, c: Configuration, config: object, logdir: string, options: readonly OptionSpec[], common: string[]): Promise<number> {
  if (finished(logdir, c)) {
    console.error(`configuration ${c.index} (${describe(c.swept)}) has finished: ${resultFile(logdir, c)}`);
    return 0;
  }
  const checkpoint = checkpointFile(logdir, c);
  // Stopped after its final checkpoint, before its result: nothing is left to train.
  const recovered = existsSync(checkpoint) ? recoverFinished(logdir, c, config, ex.length(config)) : undefined;
  if (recovered) {
    await writeFileAtomic(resultFile(logdir, c), `${JSON.stringify({ index: c.index, settings: c.settings, swept: c.swept, result: recovered }, null, 1)}\n`);
    console.error(`configuration ${c.index} (${describe(c.swept)}) had finished training when it was stopped; its result is recovered from ${evaluationsFile(logdir, c)}`);
    return 0;
  }
  const resume = existsSync(checkpoint) ? ['--resume', checkpoint] : [];
  console.error(`configuration ${c.index}: ${describe(c.swept) || 'the fixed options'}${resume.length ? ` (resuming from ${checkpoint})` : ''}`);
  const args = [...argsOf(c.settings, options), ...common, '--logdir', runDir(logdir, c), '--checkpoint', checkpoint, ...resume];
  return runExperiment(ex, args, {
    evaluated: async (e) => recordEvaluation(logdir, c, e),
    finished: (r, adapter) => writeFileAtomic(resultFile(logdir, c), `${JSON.stringify({ index: c.index, settings: c.settings, swept: c.swept, adapter, result: withHistory(logdir, c, r) }, null, 1)}\n`),
  });
}

/** A config's fields in one order, to compare configs built in different ways. */
const canonical = (c: object): string => JSON.stringify(Object.entries(c).sort(([a], [b]) => (a < b ? -1 : 1)));

/** A spec that reports as a preset must run exactly the preset's runs, in its order (its report pairs them by position). */
function checkPresetRuns(preset: AnyExperiment['presets'][number], base: object, full: readonly object[], configs: readonly Configuration[], specPath: string): void {
  const runs = preset.runs(base);
  if (runs.length !== full.length) throw new ConfigError(`${specPath}: report ${preset.name} compares the ${runs.length} runs of --experiments ${preset.name}, but the axes give ${full.length} configurations`);
  const i = runs.findIndex((r, k) => canonical(r.config) !== canonical(full[k]));
  if (i >= 0) throw new ConfigError(`${specPath}: report ${preset.name} needs its runs in its order, but configuration ${i} (${describe(configs[i].swept)}) is not its run ${i} (${runs[i].label})`);
}


/** --report: the table and chart of the finished runs, the preset's own where the spec names one. */
async function report(ex: AnyExperiment, specPath: string, configs: readonly Configuration[], logdir: string, named?: { preset: AnyExperiment['presets'][number]; base: object }): Promise<number> {
  const done = configs.flatMap((c) => {
    const f = finished(logdir, c);
    return f ? [{ c, f }] : [];
  });
  if (done.length === 0) throw new UserError(`no configuration of ${specPath} has finished in ${logdir}; run the sweep first (or give its --logdir)`);
  const adapter = done.find((d) => d.f.adapter !== undefined)?.f.adapter ?? 'not recorded';
  let text: { table: string; chart: string };
  if (named) {
    const missing = configs.filter((c) => !done.some((d) => d.c === c)).map((c) => c.index);
    if (missing.length) throw new UserError(`--report ${named.preset.name} needs every configuration finished; ${missing.length} of ${configs.length} have not (${missing.join(', ')}): run the sweep again first`);
    const labels = named.preset.runs(named.base).map((r) => r.label);
    text = named.preset.report(named.base, done.map((d, i) => ({ label: labels[i], result: d.f.result })), adapter);
  } else {
    text = sweepReport(ex, basename(specPath), done.map((d) => ({ c: d.c, result: d.f.result })), configs.length, adapter);
  }
  const table = join(logdir, REPORT_FILES.table);
  const chart = join(logdir, REPORT_FILES.chart);
  await writeFileAtomic(table, text.table);
  await writeFileAtomic(chart, text.chart);
  console.error(`${done.length} of ${configs.length} configurations reported: wrote ${table} and ${chart}`);
  return 0;
}
