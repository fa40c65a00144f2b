// The training worker: owns the GPU device, the user's data and the current run, so the page
// never waits on training. Files are parsed here by the same src/data code the CLI uses.
import { DataError } from '../src/data/errors.ts';
import { parseItemTitles, parseRatings, readMovieLensZip, type Ratings } from '../src/data/movielens.ts';
import { isZip } from '../src/data/zip.ts';
import { assembleOmniglot, decodePackedOmniglot, preprocessOmniglotArchive } from '../src/data/omniglot.ts';
import type { OmniglotSet } from '../src/data/omniglot-set.ts';
import { CollectedPrediction, experimentOf } from '../src/experiments/predict.ts';
import { DeviceHolder } from '../src/experiments/device-loss.ts';
import { deviceFault, LOSE_DEVICE_PARAM } from '../src/experiments/fault.ts';
import { experiment } from '../src/experiments/registry.ts';
import { adapterLine } from '../src/gpu/adapter-report.ts';
import { Gpu } from '../src/gpu/context.ts';
import { readCheckpoint } from '../src/graph/checkpoint.ts';
import type { RecommenderData } from '../src/models/recommender/split.ts';
import type { TabularFile } from '../src/data/tabular.ts';
import type { TabularSource } from '../src/models/multitask/source.ts';
import type { FileBytes, RunMode, RunSpec, ToWorker } from './protocol.ts';
import { PAGE_SUITES, runPageBench } from './worker/bench.ts';
import { CheckpointInputError, ExperimentRun, StopRun, type Post } from './worker/runs.ts';

const post: Post = (msg, transfer = []) => self.postMessage(msg, { transfer });

/** The worker's device; a run that loses it goes on with another (src/experiments/device-loss.ts). */
let devices: DeviceHolder | null = null;
let ratings: Ratings | null = null;
let titles: Map<number, string> | null = null;
let omniglot: OmniglotSet | null = null;
/** The multi-task data files (census-income, Ali-CCP, CSV); the generators need none. */
const tabularFiles: TabularFile[] = [];
let active: ExperimentRun | null = null;
let busy = false;

const text = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Errors whose message already tells the user what to do (as the CLI prints them). */
const USER_FACING = new Set(['DataError', 'ConfigError', 'CheckpointError', 'CheckpointInputError', 'SafetensorsError', 'NonFiniteError', 'DivergenceError', 'DeviceLostError', 'KernelError', 'RangeError']);

async function init(): Promise<void> {
  try {
    const gpu = await Gpu.create();
    devices = new DeviceHolder(gpu, () => Gpu.create());
    post({ type: 'ready', adapter: gpu.report, adapterLine: adapterLine(gpu.report), benchSuites: PAGE_SUITES });
  } catch (err) {
    post({ type: 'no-webgpu', message: text(err) });
  }
}

function loadRatings(file: FileBytes): void {
  try {
    let r: Ratings;
    let t: Map<number, string> | null = null;
    if (isZip(file.bytes)) {
      const zip = readMovieLensZip(file.bytes, file.name);
      r = zip.ratings;
      t = zip.titles ?? null;
    } else {
      r = parseRatings(file.bytes, file.name);
    }
    ratings = r;
    if (t) titles = t;
    post({ type: 'ratings', summary: { name: file.name, count: r.count, users: r.maxUser, items: r.maxItem, format: r.format, titles: titles?.size ?? 0 } });
  } catch (err) {
    ratings = null;
    post({ type: 'input-error', about: 'ratings', message: text(err) });
  }
}

function loadTitles(file: FileBytes): void {
  try {
    titles = parseItemTitles(file.bytes, file.name);
    post({ type: 'titles', name: file.name, count: titles.size });
  } catch (err) {
    post({ type: 'input-error', about: 'titles', message: text(err) });
  }
}

function loadOmniglot(msg: Extract<ToWorker, { type: 'omniglot' }>): void {
  try {
    let set: OmniglotSet;
    let source: string;
    if (msg.source === 'embedded') {
      set = decodePackedOmniglot(msg.file.bytes, msg.file.name);
      source = 'the embedded 28×28 set';
    } else {
      if (msg.files.length === 0) throw new DataError('choose images_background.zip and images_evaluation.zip (or the .npz files).');
      set = assembleOmniglot(msg.files.flatMap((f) => preprocessOmniglotArchive(f.bytes, f.name, { filter: msg.filter })), msg.filter);
      source = msg.files.map((f) => f.name).join(' + ');
    }
    omniglot = set;
    post({ type: 'omniglot', summary: { source, characters: set.characters, drawings: set.drawings, side: set.side, filter: set.filter, binary: set.binary } });
  } catch (err) {
    post({ type: 'input-error', about: 'omniglot', message: text(err) });
  }
}

/** A dataset's data as its experiments take it, once the page has given it. */
function dataset(name: string): unknown {
  switch (name) {
    case 'movielens': {
      if (!ratings) throw new DataError('Choose a MovieLens ratings file (u.data, ratings.dat, ratings.csv or a MovieLens zip) first.');
      const data: RecommenderData = { rows: ratings, titles };
      return data;
    }
    case 'omniglot':
      if (!omniglot) throw new DataError('The Omniglot images are not loaded yet.');
      return omniglot;
    case 'tabular': {
      const source: TabularSource = { files: tabularFiles };
      return source;
    }
    default:
      throw new Error(`the page cannot load dataset "${name}"`);
  }
}

async function start(runId: number, spec: RunSpec, mode: RunMode, checkpoint: FileBytes | undefined): Promise<void> {
  if (!devices) return post({ type: 'run-error', runId, message: 'WebGPU is not available, so nothing can be trained here.' });
  if (busy) return post({ type: 'run-error', runId, message: 'a run is still going: stop it first.' });
  busy = true;
  // One run's buffers at a time: the previous run's trainer (kept for its checkpoint and views) goes now.
  active?.destroy();
  active = null;
  post({ type: 'state', runId, state: 'starting' });
  try {
    const ex = experiment(spec.experiment);
    // Fault injection from the page's address (tests, or trying it by hand): a device lost after those steps.
    const fault = deviceFault(new URLSearchParams(self.location.search).get(LOSE_DEVICE_PARAM), `the page's ?${LOSE_DEVICE_PARAM}`);
    active = await ExperimentRun.create(devices, runId, ex, spec, dataset(ex.dataset), checkpoint, post, fault);
    await active.run(mode);
    post({ type: 'state', runId, state: 'done' });
  } catch (err) {
    if (err instanceof StopRun) {
      post({ type: 'state', runId, state: 'stopped' });
    } else {
      // One message, in one place: beside the checkpoint input when that file was the problem.
      if (err instanceof CheckpointInputError) post({ type: 'input-error', about: 'checkpoint', message: err.message });
      else post({ type: 'run-error', runId, message: text(err) });
      if (!USER_FACING.has(err instanceof Error ? err.name : '')) console.error(err);
      post({ type: 'state', runId, state: 'failed' });
    }
  } finally {
    busy = false;
  }
}

/** Requests about the current run's model; answered with request-error when there is none. */
async function request(msg: Extract<ToWorker, { type: 'checkpoint' | 'inspect' }>): Promise<void> {
  const run = active;
  if (!run) return post({ type: 'request-error', message: 'there is no trained model yet: start a run first.' });
  if (busy && !run.control.isPaused) return post({ type: 'request-error', message: 'the model is training: pause it first.' });
  try {
    if (msg.type === 'checkpoint') {
      const c = await run.checkpoint();
      post({ type: 'checkpoint', runId: run.runId, name: c.name, bytes: c.bytes, purpose: msg.purpose }, [c.bytes.buffer as ArrayBuffer]);
    } else {
      post({ type: 'inspect', runId: run.runId, view: msg.view, result: await run.inspect(msg.view, msg.input) });
    }
  } catch (err) {
    post({ type: 'request-error', message: text(err) });
  }
}

/**
 * A prediction, through the checkpoint's predictor as `shadertrain predict` runs it. Between
 * runs, or while one is paused (it submits nothing then).
 */
async function predict(msg: Extract<ToWorker, { type: 'predict' }>): Promise<void> {
  if (!devices) return post({ type: 'predict-error', message: 'WebGPU is not available, so nothing can be predicted here.' });
  const idle = !busy;
  if (!idle && !active?.control.isPaused) return post({ type: 'predict-error', message: 'a run or a bench is going: pause or stop it first.' });
  if (idle) busy = true;
  try {
    const file = readCheckpoint(msg.checkpoint.bytes, msg.checkpoint.name);
    const sink = new CollectedPrediction();
    await experimentOf(file).predictor.predict(devices.gpu, file, msg.values, sink);
    post({ type: 'predict-result', columns: sink.names, rows: sink.table, notes: sink.notes });
  } catch (err) {
    if (!USER_FACING.has(err instanceof Error ? err.name : '')) console.error(err);
    post({ type: 'predict-error', message: text(err) });
  } finally {
    if (idle) busy = false;
  }
}

async function bench(msg: Extract<ToWorker, { type: 'bench' }>): Promise<void> {
  if (!devices) return post({ type: 'bench-error', message: 'WebGPU is not available, so nothing can be measured here.' });
  if (busy) return post({ type: 'bench-error', message: 'a run or a bench is going: let it finish or stop it first, since the two would time each other.' });
  busy = true;
  try {
    const r = await runPageBench(devices.gpu, msg, (line) => post({ type: 'bench-log', line }));
    post({ type: 'bench-done', json: r.json, timing: r.timing });
  } catch (err) {
    if (!USER_FACING.has(err instanceof Error ? err.name : '')) console.error(err);
    post({ type: 'bench-error', message: text(err) });
  } finally {
    busy = false;
  }
}

self.addEventListener('message', (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'init':
      void init();
      break;
    case 'ratings':
      loadRatings(msg.file);
      break;
    case 'titles':
      loadTitles(msg.file);
      break;
    case 'omniglot':
      loadOmniglot(msg);
      break;
    case 'tabular':
      tabularFiles.splice(0, tabularFiles.length, ...msg.files.map((f) => ({ name: f.name, bytes: f.bytes })));
      break;
    case 'start':
      void start(msg.runId, msg.spec, msg.mode, msg.checkpoint);
      break;
    case 'pause':
      if (active && busy && !active.control.isStopped) {
        active.control.pause();
        post({ type: 'state', runId: active.runId, state: 'pausing' });
      }
      break;
    case 'resume':
      active?.control.resume();
      break;
    case 'stop':
      if (active && busy) {
        active.control.stop();
        post({ type: 'state', runId: active.runId, state: 'stopping' });
      }
      break;
    case 'checkpoint':
    case 'inspect':
      void request(msg);
      break;
    case 'bench':
      void bench(msg);
      break;
    case 'predict':
      void predict(msg);
      break;
  }
});
