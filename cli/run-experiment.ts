// `shadertrain <experiment>`: one command for every experiment in the registry, made from its
// descriptor: the flags, --help and the checks of every value; training with TensorBoard and
// JSONL logs, progress, checkpoints and resuming; the --experiments presets and their reports;
// a summary (or --json) at the end.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readFileBytes, writeFileAtomic } from '../src/data/files-node.ts';
import { count, estimateLine, type Estimate } from '../src/experiments/estimate.ts';
import { formatValue, kebab, optionsHelp, parseOption, type OptionSpec, type OptionValue } from '../src/experiments/options.ts';
import { Best, metricNamed } from '../src/experiments/best.ts';
import { DeviceHolder, DeviceLossError, SurvivingTrainer } from '../src/experiments/device-loss.ts';
import { deviceFault, LOSE_DEVICE_ENV } from '../src/experiments/fault.ts';
import { chunks, loggedScalars } from '../src/experiments/loop.ts';
import { metricsOf, REPORT_FILES, type AnyExperiment, type Evaluation, type RunResult, type Trainer } from '../src/experiments/types.ts';
import { adapterLine } from '../src/gpu/adapter-report.ts';
import { Gpu } from '../src/gpu/context.ts';
import type { HParamValue } from '../src/log/hparams.ts';
import { CONFIG_TAG } from '../src/log/text-summary.ts';
import { RunLog } from '../src/log/run-log-node.ts';
import { DATASETS, type NodeDataset } from './datasets.ts';
import { UserError } from './errors.ts';
import { parseFlags, RUN_FLAGS, stringFlag, type FlagSpec, type Values } from './flags.ts';
import { GPU_HELP, gpuOptions } from './gpu-options.ts';
import { examplesHelp } from './help.ts';
import { Interrupt, resumeCommand } from './interrupt.ts';
import { writingOutput } from './output-errors.ts';
import { checkNotOverwriting, checkResumable, checkResumeExperiment, checkWritable, lockPath } from './output-paths.ts';
import { checkResumeData } from './resume-data.ts';
import { checkResumeSettings } from './resume-settings.ts';
import { Progress } from './progress.ts';
import { configMarkdown, RUN_FILE, runRecord, type RunContext } from './run-record.ts';

function dataset(ex: AnyExperiment): NodeDataset {
  const d = DATASETS[ex.dataset];
  if (!d) throw new Error(`experiment ${ex.name} trains on dataset "${ex.dataset}", which cli/datasets.ts does not load`);
  return d;
}

function help(ex: AnyExperiment, ds: NodeDataset): string {
  const rows: [string, string][] = [
    ...optionsHelp(ex.options, ex.defaults),
    ['--data PATH', ds.help],
    ...optionsHelp(ds.options, ds.defaults),
    ['--logdir DIR', `TensorBoard event file, metrics.jsonl, run.json and best.safetensors\n(default runs/${ex.name}/...)`],
    ['--checkpoint FILE', 'save a checkpoint (safetensors) at every evaluation'],
    ['--resume FILE', 'continue exactly from a checkpoint of the same settings'],
    ['--overwrite', 'replace an existing --checkpoint with a fresh run (refused without it)'],
    ['--force', 'continue a --resume checkpoint on other data or settings than it was trained with'],
    ['--keep_best METRIC', `keep the best evaluation's checkpoint by this metric's tag or key\n(default ${ex.metrics.find((m) => m.key === ex.mainMetric(ex.defaults))?.tag ?? ex.mainMetric(ex.defaults)}), as best.safetensors in the logdir\n(NAME.best.safetensors beside --checkpoint NAME.safetensors)`],
    ['--early_stop N', 'stop when the --keep_best metric has not improved for N evaluations'],
    ['--json', 'print a machine-readable summary on stdout'],
    ...ex.presets.map((p): [string, string] => [`--experiments ${p.name}`, p.help]),
  ];
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  const lines = rows.map(([l, text]) => `  ${l.padEnd(width)}${text.replaceAll('\n', `\n  ${' '.repeat(width)}`)}`);
  const snake = ex.options.find((o) => o.flag.includes('_'));
  const spellings = snake ? `\n  Kebab-case spellings (--${kebab(snake.flag)} ...) work too.` : '';
  return `usage: shadertrain ${ex.name} [options]\n${ex.about}\n\n${lines.join('\n')}${spellings}\n\n${GPU_HELP}${examplesHelp(ex.name, ex.examples ?? [])}`;
}

function flagSpec(options: readonly OptionSpec[]): FlagSpec {
  return Object.fromEntries(options.flatMap((o) => [o.flag, ...(o.aliases ?? [])].map((f) => [f, { type: o.type === 'bool' ? 'boolean' : 'string' }])));
}

/** The options' values from the flags, the defaults where a flag is not given. */
function valuesFrom(options: readonly OptionSpec[], defaults: object, v: Values): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const o of options) {
    const spellings = [o.flag, ...(o.aliases ?? [])].filter((f) => v[f] !== undefined);
    if (spellings.length > 1) throw new UserError(`${spellings.map((f) => `--${f}`).join(' and ')} are the same flag; give it once`);
    const given = spellings.length ? v[spellings[0]] : undefined;
    if (given === undefined) continue;
    if (o.type === 'bool') out[o.key] = o.negated ? !given : !!given;
    else out[o.key] = parseOption(o, String(given));
  }
  return out;
}

/** A run's id in its log lines: when it started, and a random tail for runs started in the same second. */
function runId(): string {
  return `${stamp()}-${randomBytes(3).toString('hex')}`;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

interface RunOptions {
  logdir: string;
  checkpoint?: string;
  resume?: { bytes: Uint8Array; path: string };
  /** Progress and per-evaluation lines go to stderr unless quiet. */
  quiet: boolean;
  label?: string;
  /** The adapter as the estimate names it: "google swiftshader (software)". */
  adapter: string;
  /** --keep_best's metric (a key or tag; the descriptor's main metric when absent) and --early_stop's patience. */
  keepBest?: string;
  earlyStop?: number;
  /** What run.json says of the command, the adapter and the data. */
  context: RunContext;
  /** A user's Ctrl-C: the run ends at the next step (step-counted) or after the evaluation in progress (epoch-counted). */
  interrupt?: Interrupt;
  /** Told each checkpoint written, for the message of an immediate stop. */
  onCheckpoint?(): void;
  evaluated?: RunHooks['evaluated'];
}

/** Where the best checkpoint goes: beside --checkpoint (a.safetensors → a.best.safetensors), else in the logdir. */
export function bestPath(logdir: string, checkpoint?: string): string {
  return checkpoint ? checkpoint.replace(/(\.safetensors)?$/, '.best.safetensors') : join(logdir, 'best.safetensors');
}

/** A finished run and its best evaluation by the --keep_best metric. */
interface Trained {
  result: RunResult<object>;
  best: Best;
  bestFile: string;
  /** The evaluation early stopping ended the run at, if it did. */
  stoppedAt?: number;
  /** The units trained when a Ctrl-C ended the run, if one did. */
  interruptedAt?: number;
}

/** Steps timed at the start of a run for its estimate: enough to average out a first step's extra cost, few enough to say it early. */
const WARMUP_STEPS = 20;
/** The warm-up goes on in pieces of WARMUP_STEPS until this long (within the first round): load on a shared machine comes and goes. */
const WARMUP_SECONDS = 30;

/** Trains one configuration, logging every evaluation. The GPU work is all set up before the first file is written. */
async function trainRun(devices: DeviceHolder, ex: AnyExperiment, data: unknown, config: object, o: RunOptions): Promise<Trained> {
  const started = new Date();
  const create = (gpu: Gpu): Promise<Trainer> => ex.create(gpu, data, config);
  const first = await create(devices.gpu);
  const resume = o.resume;
  try {
    if (resume) first.restore(resume.bytes, resume.path);
  } catch (err) {
    first.destroy();
    throw err;
  }
  // Owns the trainer from here: after a device loss, the one on the new device.
  const run = new SurvivingTrainer({ ex, config, devices, create }, first, resume?.bytes);
  const log = new RunLog(o.logdir, { run: runId() });
  let progress: Progress | undefined;
  let ok = false;
  try {
    const start = first.done;
    if (resume) {
      const dropped = log.resumeAfter(start); // steps are logged as the units trained (loggedScalars)
      if (dropped > 0) console.error(`metrics.jsonl: dropped ${dropped} line${dropped === 1 ? '' : 's'} logged after the checkpoint, which this run logs again`);
    }
    const length = ex.length(config);
    if (start >= length) throw new UserError(`the checkpoint has already trained ${count(start, ex.unit)}; ask for more with --${ex.lengthFlag}`);
    const every = ex.evalEvery(config);
    const plan = chunks(start, length, every);
    // Each evaluation ends a round of the bar: an epoch, or the steps between two evaluations.
    const round = every === 1 ? ex.unit : 'eval';
    // Epochs are numbered as in every log (a resumed run's first is done + 1); rounds from 1.
    const label = `${o.label ? `${o.label} ` : ''}${round}${start && round !== ex.unit ? ` (from ${ex.unit} ${start})` : ''}`;
    const bar = new Progress({ epochs: plan.length, first: round === ex.unit ? start : 0, stepsPerEpoch: first.stepsIn(Math.max(...plan)), silent: o.quiet, label });
    progress = bar;
    const metrics = metricsOf(ex, config);
    const best = new Best(metricNamed(metrics, o.keepBest ?? ex.mainMetric(config)));
    const bestFile = bestPath(o.logdir, o.checkpoint);
    let stoppedAt: number | undefined;
    let estimated: Estimate | undefined;
    // A resumed run's hyperparameters were logged when it started.
    let hparamsLogged = resume !== undefined;
    // Every event file (a resumed run's too) says what it was run with.
    let configLogged = false;
    // The evaluation whose hook returned last: a Ctrl-C since ends an epoch-counted run after the next evaluation, one before after the evaluation in progress.
    let hooked = start;
    const done = (): number => run.trainer.done;
    if (o.interrupt) o.interrupt.stopsAfter = () => Math.min(length, done() > hooked ? Math.ceil(done() / every) * every : (Math.floor(done() / every) + 1) * every);
    const fault = deviceFault(process.env[LOSE_DEVICE_ENV], LOSE_DEVICE_ENV);
    const result = await run.train({
      interrupted: () => o.interrupt?.requested === true,
      stop: () => {
        if (o.earlyStop === undefined || best.since < o.earlyStop) return false;
        stoppedAt = run.trainer.done;
        return true;
      },
      warmup: {
        steps: WARMUP_STEPS,
        seconds: WARMUP_SECONDS,
        onEstimate: (e) => {
          estimated = e;
          bar.log(estimateLine(e, o.adapter, ex.lengthFlag, ex.unit, every));
        },
      },
      onStep: () => {
        bar.step();
        fault?.(devices.gpu);
      },
      onLoss: (loss) => {
        // Nothing after the snapshot was logged: each evaluation's lines and files follow its snapshot.
        const rounds = loss.kept.filter((e) => e.steps > 0);
        bar.rewind(rounds.length, rounds.reduce((n, e) => n + e.steps, 0));
        bar.log(`the GPU device was lost by ${ex.unit} ${loss.lostAt} (${loss.why}); went on from ${loss.from === start ? 'the start' : `${ex.unit} ${loss.from}`} on a new device, which changes no result`);
      },
      onEvaluation: async (e: Evaluation, bytes: Uint8Array) => {
        const { step, scalars } = loggedScalars(ex, config, e);
        await writingOutput('logdir', o.logdir, o.logdir, () => {
          if (!hparamsLogged) log.hparamsStart(hparamsOf(ex, config));
          hparamsLogged = true;
          if (!configLogged) log.text(CONFIG_TAG, configMarkdown(ex.options, config));
          configLogged = true;
          log.scalars(step, scalars);
          log.flush();
        });
        // Before the checkpoint: a run resumed from it has every evaluation up to it on record.
        await o.evaluated?.(e);
        const improved = best.offer(e);
        if (o.checkpoint || improved) {
          if (o.checkpoint) {
            const file = o.checkpoint;
            await writingOutput('checkpoint', file, file, () => writeFileAtomic(file, bytes));
            o.onCheckpoint?.();
          }
          if (improved) await writingOutput(o.checkpoint ? 'checkpoint' : 'logdir', o.checkpoint ?? o.logdir, bestFile, () => writeFileAtomic(bestFile, bytes));
        }
        // The live bar shows this evaluation's figures (the training loss read for its round) until the next.
        bar.show(Object.fromEntries(metrics.filter((m) => m.bar && typeof e.values[m.key] === 'number').map((m) => [m.bar, e.values[m.key] as number])), `${ex.unit} ${e.at}`);
        const line = `${round === ex.unit ? '' : `${ex.unit} ${e.at}: `}${ex.summary(e)}${e.steps > 0 ? ` | ${(e.trainMs / e.steps).toFixed(2)} ms/step` : ''}`;
        if (e.steps === 0) bar.log(line); // the evaluation before any training
        else bar.endEpoch(line);
        hooked = e.at;
      },
    });
    const interruptedAt = o.interrupt?.requested ? run.trainer.done : undefined;
    // Stopped between two evaluations (a step-counted run): its checkpoint is where training stopped, with no evaluation or log line.
    if (o.checkpoint && interruptedAt !== undefined && interruptedAt !== result.evaluations.at(-1)?.at) {
      const file = o.checkpoint;
      const bytes = await run.trainer.checkpoint();
      await writingOutput('checkpoint', file, file, () => writeFileAtomic(file, bytes));
      o.onCheckpoint?.();
    }
    for (const [name, text] of Object.entries((await ex.artifacts?.(run.trainer, result)) ?? {})) {
      const file = join(o.logdir, name);
      await writingOutput('logdir', o.logdir, file, () => writeFileAtomic(file, new TextEncoder().encode(text)));
    }
    const end = { result, best, bestFile, stoppedAt, interruptedAt, estimate: estimated };
    const record = runRecord(ex, config, o.context, end, { started, ended: new Date() }, { checkpoint: o.checkpoint, resumedFrom: resume?.path }, await ex.origin?.(data, config));
    const recordFile = join(o.logdir, RUN_FILE);
    await writingOutput('logdir', o.logdir, recordFile, () => writeFileAtomic(recordFile, new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`)));
    ok = true;
    log.hparamsEnd(true);
    return end;
  } finally {
    progress?.stop();
    if (!ok && log.files.length > 0) log.hparamsEnd(false);
    if (ok || log.files.length > 0) log.close(); // evaluations already logged are real results
    else log.abort();
    run.destroy();
  }
}

/** A run's options as TensorBoard's HParams table shows them, by flag (lists as the flag writes them). */
export function hparamsOf(ex: AnyExperiment, config: object): Record<string, HParamValue> {
  const c = config as Record<string, unknown>;
  return Object.fromEntries(ex.options.map((o) => [o.flag, hparamValue(c[o.key])]));
}

export function hparamValue(v: unknown): HParamValue {
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' ? v : formatValue(v);
}

/** A run in --json: where it logged, what the trainer reports, its speed, its best evaluation, and the experiment's own fields. */
function runJson(ex: AnyExperiment, t: Trained, logdir: string): Record<string, unknown> {
  const r = t.result;
  const best = { metric: t.best.metric.tag, [ex.unit]: t.best.at, value: t.best.value, file: t.best.at === null ? null : t.bestFile, stopped_early_at: t.stoppedAt ?? null };
  return { logdir, ...r.facts, ms_per_step: r.msPerStep, seconds: r.seconds, best, ...ex.json(r) };
}

const figure = (v: number | null | undefined): string => (typeof v === 'number' ? String(Number(v.toPrecision(4))) : '–');

/** "best eval/MSE 0.8443 at epoch 12 (final 2.517 at epoch 200), kept in runs/.../best.safetensors". */
function bestLine(ex: AnyExperiment, t: Trained, patience?: number): string {
  const m = t.best.metric;
  const last = t.result.evaluations[t.result.evaluations.length - 1];
  if (t.best.at === null || !last) return `no evaluation measured ${m.tag}, so no best checkpoint was kept`;
  const stopped = t.stoppedAt !== undefined && patience !== undefined ? `; stopped early at ${ex.unit} ${t.stoppedAt}, ${m.tag} not better for ${count(patience, 'evaluation')}` : '';
  return `best ${m.tag} ${figure(t.best.value)} at ${ex.unit} ${t.best.at} (final ${figure(last.values[m.key])} at ${ex.unit} ${last.at}), kept in ${t.bestFile}${stopped}`;
}

/** --early_stop's patience: a whole number of evaluations from 1. */
function patienceFlag(v: string | boolean | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UserError(`--early_stop must be a whole number of evaluations from 1, not "${String(v)}"`);
  return n;
}

/** Every flag an experiment's command takes. */
export function commandFlags(ex: AnyExperiment): FlagSpec {
  const ds = dataset(ex);
  return { ...flagSpec(ex.options), ...flagSpec(ds.options), ...RUN_FLAGS };
}

/** The config a command line gives, every check of it made (the sweep checks each configuration so). */
export function configFromArgs(ex: AnyExperiment, args: string[]): object {
  const config = valuesFrom(ex.options, ex.defaults, parseFlags(args, commandFlags(ex)));
  ex.checkConfig(config);
  return config;
}

/** What a caller (a sweep) learns of a finished single run, before the command returns. */
export interface RunHooks {
  /** Each evaluation of a single run, before the checkpoint taken with it is written. */
  evaluated?(e: Evaluation): Promise<void>;
  finished?(r: RunResult<object>, adapter: string): Promise<void>;
}

export async function runExperiment(ex: AnyExperiment, args: string[], hooks: RunHooks = {}): Promise<number> {
  const ds = dataset(ex);
  const v = parseFlags(args, commandFlags(ex));
  if (v.help) {
    console.log(help(ex, ds));
    return 0;
  }
  const presetName = stringFlag(v.experiments);
  const preset = presetName === undefined ? undefined : ex.presets.find((p) => p.name === presetName);
  if (presetName !== undefined && !preset) throw new UserError(`--experiments must be ${ex.presets.map((p) => p.name).join(' or ') || 'left out'}, not "${presetName}"`);
  if (preset) {
    for (const f of [...preset.sets, 'resume', 'checkpoint']) {
      if (v[f] !== undefined) throw new UserError(`--${f} cannot be combined with --experiments ${preset.name}, which ${preset.sets.includes(f) ? 'sets it for each run' : 'trains every run from scratch'}`);
    }
  }
  const config = valuesFrom(ex.options, ex.defaults, v);
  ex.checkConfig(config);
  const resumePath = stringFlag(v.resume);
  const checkpoint = stringFlag(v.checkpoint);
  const logdir = stringFlag(v.logdir) ?? (preset ? join('runs', `${ex.name}-${preset.name}-${stamp()}`) : join('runs', ex.name, `${stamp()}-${ex.runName(config)}`));
  // Every output is checked, and claimed, before the data is read and the GPU opened.
  if (resumePath !== undefined) checkResumable(resumePath);
  if (checkpoint !== undefined) {
    checkWritable('checkpoint', checkpoint, 'file');
    checkNotOverwriting(checkpoint, resumePath, !!v.overwrite);
  }
  checkWritable('logdir', logdir, 'dir');
  const release = [...(checkpoint !== undefined ? [lockPath('checkpoint', checkpoint)] : []), lockPath('logdir', logdir)];
  try {
    return await runClaimed(ex, v, { config, preset, resumePath, checkpoint, logdir, args }, hooks);
  } finally {
    for (const r of release.reverse()) r(); // the last claimed first: its folders may hold the earlier lock
  }
}

interface Claimed {
  config: Record<string, unknown>;
  preset: AnyExperiment['presets'][number] | undefined;
  resumePath: string | undefined;
  checkpoint: string | undefined;
  logdir: string;
  /** The command's arguments, to say how to resume. */
  args: readonly string[];
}

/** The run itself, once its outputs are checked and locked. */
async function runClaimed(ex: AnyExperiment, v: Values, { config, preset, resumePath, checkpoint, logdir, args }: Claimed, hooks: RunHooks): Promise<number> {
  const ds = dataset(ex);
  const dataOptions = valuesFrom(ds.options, ds.defaults, v) as Record<string, OptionValue>;
  const resume: RunOptions['resume'] = resumePath === undefined ? undefined : { bytes: await readFileBytes(resumePath), path: resumePath };
  if (resume) checkResumeExperiment(ex.name, resume.bytes, resume.path);
  if (resume) checkResumeSettings(ex, config, resume, !!v.force);
  const quiet = !!v.json;
  const keepBest = stringFlag(v.keep_best);
  const earlyStop = patienceFlag(v.early_stop);
  const say = (line: string): void => console.error(line);
  const loaded = await ds.load(stringFlag(v.data), dataOptions, say, config);
  // Every run's settings against the data, before the GPU is opened and anything is written.
  if (resume) await checkResumeData(ex, loaded.data, config, resume, !!v.force);
  const runs = preset ? preset.runs(config) : [];
  for (const c of preset ? runs.map((r) => r.config) : [config]) {
    ex.checkData?.(c, loaded.data);
    metricNamed(metricsOf(ex, c), keepBest ?? ex.mainMetric(c));
  }
  const open = (): Promise<Gpu> => Gpu.create(gpuOptions(v as Parameters<typeof gpuOptions>[0]));
  // A lost device is replaced by another opened the same way (src/experiments/device-loss.ts).
  const devices = new DeviceHolder(await open(), open);
  // The first device: its report and limits (one opened after a loss is of the same adapter).
  const gpu = devices.gpu;
  try {
    // The sizes against the adapter's limits, before any graph is built or buffer made.
    for (const c of preset ? runs.map((r) => r.config) : [config]) ex.checkLimits?.(c, loaded.data, gpu.device.limits);
    const adapter = adapterLine(gpu.report);
    const shortAdapter = `${[gpu.report.vendor, gpu.report.architecture].filter(Boolean).join(' ') || 'this adapter'}${gpu.report.software ? ' (software)' : ''}`;
    say(`adapter: ${adapter}`);
    say(`data: ${loaded.summary}`);
    const context: RunContext = { command: [ex.name, ...args], adapter: gpu.report, data: { source: loaded.source, summary: loaded.summary } };
    if (preset) {
      const results: { label: string; result: RunResult<object>; trained: Trained; logdir: string }[] = [];
      for (const [i, run] of runs.entries()) {
        const label = `[${i + 1}/${runs.length} ${run.label}]`;
        const dir = join(logdir, run.dir);
        const trained = await trainRun(devices, ex, loaded.data, run.config, { logdir: dir, quiet, label, adapter: shortAdapter, keepBest, earlyStop, context });
        results.push({ label: run.label, result: trained.result, trained, logdir: dir });
        say(`${label} ${ex.done(trained.result)}\n${label} ${bestLine(ex, trained, earlyStop)}`);
      }
      const report = preset.report(config, results, adapter);
      const table = join(logdir, REPORT_FILES.table);
      const chart = join(logdir, REPORT_FILES.chart);
      await writingOutput('logdir', logdir, table, () => writeFileAtomic(table, new TextEncoder().encode(report.table)));
      await writingOutput('logdir', logdir, chart, () => writeFileAtomic(chart, new TextEncoder().encode(report.chart)));
      if (v.json) {
        const runsJson = results.map((r) => ({ label: r.label, ...runJson(ex, r.trained, r.logdir) }));
        const files = preset.rows ? { table: preset.rows(config, results), table_file: table } : { table };
        console.log(JSON.stringify({ adapter: gpu.report, data: loaded.source, ...preset.json?.(config), ...files, chart, runs: runsJson }, null, 2));
      } else {
        say(`wrote ${table} and ${chart}`);
      }
      return 0;
    }
    const name = ex.runName(config);
    say(`training ${name} for ${count(ex.length(config), ex.unit)}; logs in ${logdir}`);
    // The newest checkpoint on disk this run can be continued from.
    let lastSaved = resume?.path;
    const whereSaved = (): string =>
      lastSaved !== undefined ? `checkpoint: ${lastSaved}; continue with:\n  ${resumeCommand(ex.name, args, lastSaved)}` : `nothing was saved${checkpoint !== undefined ? ' yet' : ' (no --checkpoint)'}`;
    const interrupt = new Interrupt(whereSaved, ex.unit, checkpoint !== undefined);
    let trained: Trained;
    try {
      trained = await trainRun(devices, ex, loaded.data, config, { logdir, checkpoint, resume, quiet, adapter: shortAdapter, keepBest, earlyStop, context, interrupt, onCheckpoint: () => (lastSaved = checkpoint), evaluated: hooks.evaluated });
    } catch (err) {
      if (err instanceof DeviceLossError) throw new UserError(`${err.message}; ${whereSaved()}`);
      throw err;
    } finally {
      interrupt.dispose();
    }
    const r = trained.result;
    if (interrupt.requested) {
      say(`stopped at ${ex.unit} ${trained.interruptedAt ?? r.evaluations.at(-1)?.at ?? r.start} of ${ex.length(config)}; ${whereSaved()}`);
      return 130;
    }
    await hooks.finished?.(r, adapter);
    if (v.json) console.log(JSON.stringify({ adapter: gpu.report, data: loaded.source, config, checkpoint: checkpoint ?? null, ...runJson(ex, trained, logdir) }, null, 2));
    else say(`${ex.done(r)}\n${bestLine(ex, trained, earlyStop)}\nlogs: ${logdir} (TensorBoard event file, metrics.jsonl and run.json)${checkpoint ? `; checkpoint: ${checkpoint}` : ''}`);
    return 0;
  } finally {
    devices.destroy();
  }
}
