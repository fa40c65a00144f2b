// The page: choose an experiment and its data, start / pause / resume / stop a run in the
// training worker, chart every run, download results, and look at the trained model.
import { LOSE_DEVICE_PARAM } from '../src/experiments/fault.ts';
import { EXPERIMENTS, experiment as experimentNamed } from '../src/experiments/registry.ts';
import type { FileBytes, FromWorker, RunMode, RunState, ToWorker } from './protocol.ts';
import { ChartGrid } from './ui/charts.ts';
import { byId, download, el, fileBytes } from './ui/dom.ts';
import { VIEWS } from './ui/inspect.ts';
import { renderBench } from './ui/bench.ts';
import { PredictPanel } from './ui/predict.ts';
import { benchJsonText, type BenchJson } from '../bench/report.ts';
import { OptionsError, OptionsForm } from './ui/options.ts';
import { addEvaluated, addEvaluation, addTrained, fileStem, newRun, rewindRun, runCsv, runJson, type RunRecord } from './ui/runs.ts';

const EMBEDDED_OMNIGLOT = 'omniglot28.bin';
/** census-income's test split, served with the page: the multi-task data when no files are chosen, as the CLI's default. */
const EMBEDDED_CENSUS = 'census-income.test.gz';
const TITLE_FILES = /^(u\.item|movies\.dat|movies\.csv)(\.gz)?$/i;
const ACTIVE: readonly RunState[] = ['starting', 'running', 'pausing', 'paused', 'stopping'];
const INSPECTABLE: readonly RunState[] = ['paused', 'stopped', 'done'];

// A fault asked for in the page's address (src/experiments/fault.ts) goes to the worker in its own.
const fault = new URLSearchParams(location.search).get(LOSE_DEVICE_PARAM);
const worker = new Worker(new URL(`./worker.js${fault ? `?${LOSE_DEVICE_PARAM}=${encodeURIComponent(fault)}` : ''}`, import.meta.url), { type: 'module' });
const send = (msg: ToWorker, transfer: Transferable[] = []): void => worker.postMessage(msg, transfer);

// A choice and a form per experiment of the registry, from its descriptor.
const forms = new Map<string, OptionsForm>();
for (const ex of EXPERIMENTS) {
  const input = el('input', { type: 'radio', name: 'experiment', value: ex.name, id: `exp-${ex.name}` });
  byId('experiment-choice').append(el('label', {}, input, ` ${ex.title[0].toUpperCase()}${ex.title.slice(1)}`));
  const box = el('div', { id: `${ex.name}-options` });
  byId('options').append(box);
  forms.set(ex.name, new OptionsForm(ex, box));
}
const formOf = (name: string): OptionsForm => forms.get(name) as OptionsForm;
const charts = new ChartGrid(byId('charts'));
const predictPanel = new PredictPanel(send, () => {
  lastRequest = 'predict';
  send({ type: 'checkpoint', purpose: 'predict' });
});

let ready = false;
let adapterLine = '';
let experiment = EXPERIMENTS[0].name;
const runs: RunRecord[] = [];
let current: RunRecord | null = null;
let nextId = 1;
let checkpointFile: File | null = null;
let ratingsName: string | null = null;
let omniglotName: string | null = null;
/** Resolved when the worker answers a data message (true: loaded). */
const waiting: Partial<Record<'ratings' | 'omniglot', { promise: Promise<boolean>; resolve: (ok: boolean) => void }>> = {};

function expect(kind: 'ratings' | 'omniglot'): void {
  waiting[kind]?.resolve(false);
  let resolve: (ok: boolean) => void = () => undefined;
  const promise = new Promise<boolean>((r) => (resolve = r));
  waiting[kind] = { promise, resolve };
}

function answered(kind: 'ratings' | 'omniglot', ok: boolean): void {
  waiting[kind]?.resolve(ok);
  delete waiting[kind];
}

// ---- messages and errors ------------------------------------------------------------------

type ErrorSlot = 'ratings' | 'titles' | 'omniglot' | 'checkpoint' | 'options' | 'run' | 'results' | 'inspect' | 'predict';
const INPUT_OF: Partial<Record<ErrorSlot, string>> = { ratings: 'ratings-file', titles: 'titles-file', omniglot: 'omniglot-files', checkpoint: 'checkpoint-file' };

function showError(slot: ErrorSlot, message: string, focus?: HTMLElement): void {
  byId(`${slot}-error`).textContent = message;
  const input = focus ?? (INPUT_OF[slot] ? byId(INPUT_OF[slot] as string) : undefined);
  if (input) {
    input.setAttribute('aria-invalid', message ? 'true' : 'false');
    if (message && focus) focus.focus();
  }
}

function clearErrors(...slots: ErrorSlot[]): void {
  for (const s of slots) showError(s, '');
  for (const i of document.querySelectorAll('[aria-invalid="true"]')) i.setAttribute('aria-invalid', 'false');
}

function showNoWebGPU(detail: string): void {
  const banner = byId('no-webgpu');
  const noApi = /does not provide WebGPU/.test(detail);
  banner.replaceChildren(
    el(
      'p',
      {},
      `This page trains with WebGPU, and ${noApi ? 'this browser does not provide it' : 'this browser found no usable WebGPU adapter'}. ` +
        'Use Chrome or Edge 113 or newer (on Linux, enable chrome://flags/#enable-unsafe-webgpu or start it with --enable-unsafe-webgpu), ' +
        'Safari 26 or newer, or Firefox 141 or newer on Windows; keep hardware acceleration on, and open the page from https:// or from localhost.',
    ),
    el('p', { class: 'hint' }, `The browser said: ${detail}`),
  );
  banner.hidden = false;
  byId('adapter').textContent = 'No WebGPU adapter: nothing can be trained in this browser.';
}

// ---- rendering ----------------------------------------------------------------------------

const num = (n: number): string => n.toLocaleString('en-US');

function latestText(run: RunRecord): string {
  const ex = experimentNamed(run.experiment);
  const e = run.evaluations[run.evaluations.length - 1];
  if (e) return `${ex.unit} ${num(e.at)}: ${ex.summary(e)}`;
  const x = run.evaluated[run.evaluated.length - 1];
  if (x) return `evaluated at ${ex.unit} ${x.at}: ${Object.entries(x.values).map(([k, val]) => `${k} ${val.toFixed(4)}`).join(', ')}`;
  return '—';
}

function statusText(run: RunRecord): string {
  const { done, total } = run.progress;
  const info = run.info;
  let where = '';
  if (info && info.unit === 'epoch') {
    const S = info.stepsPerUnit;
    where = `${num(info.start + Math.floor(done / S))} of ${num(info.length)} epochs done, ${num(done)} of ${num(total)} steps`;
  } else if (info && total > 0) {
    where = `${info.unit} ${num(info.start + done)} of ${num(info.length)}`;
  }
  // Runs wait only at evaluations: after each epoch, or every so many steps.
  const waits = experimentNamed(run.experiment).unit === 'epoch' ? 'at the end of this epoch' : 'at the next evaluation';
  const words: Record<RunState, string> = {
    starting: `compiling the model${run.compile && run.compile.asked > 0 ? ` (pipelines ${run.compile.ready}/${run.compile.asked})` : ''}`,
    running: `training${run.detail ? ` (${run.detail})` : ''}`,
    pausing: `pausing ${waits}`,
    paused: `paused ${run.detail}`,
    stopping: `stopping ${waits}`,
    stopped: 'stopped',
    done: run.mode === 'evaluate' ? 'evaluated' : 'finished',
    failed: 'failed',
  };
  return `Run ${run.label}: ${words[run.state]}${where && run.mode === 'train' ? ` — ${where}` : ''}.`;
}

function render(): void {
  const run = current;
  const status = byId('run-status');
  const progress = byId<HTMLProgressElement>('progress');
  if (run) {
    status.textContent = statusText(run);
    status.dataset.state = run.state;
    status.dataset.run = String(run.id);
    const { done, total } = run.progress;
    progress.max = Math.max(1, total);
    progress.value = run.state === 'done' && run.mode === 'train' ? progress.max : done;
    byId('fact-ms').textContent = run.msPerStep !== null ? run.msPerStep.toFixed(2) : '—';
    byId('fact-latest').textContent = latestText(run);
  }
  renderButtons();
  renderRuns();
  renderFinalCharts();
  charts.update(experiment, runs);
}

/** The finished run's own charts (ROC, PR), as the CLI writes them to its log folder. */
let finalShown: RunRecord | null = null;
function renderFinalCharts(): void {
  const run = current && current.experiment === experiment && Object.keys(current.artifacts).length ? current : null;
  const box = byId('final-charts');
  box.hidden = run === null;
  if (run === finalShown) return;
  finalShown = run;
  if (!run) return box.replaceChildren();
  box.replaceChildren(
    el('h3', {}, `Run ${run.label} at its end`),
    ...Object.entries(run.artifacts).map(([name, svg]) => {
      const src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
      return el('figure', { class: 'final-chart', 'data-file': name }, el('img', { src, alt: `${name} of run ${run.label}` }), el('figcaption', {}, el('a', { href: src, download: `${fileStem(run)}-${name}` }, `Download ${name}`)));
    }),
  );
}

function renderButtons(): void {
  const state = current?.state;
  const active = state !== undefined && ACTIVE.includes(state);
  const start = byId<HTMLButtonElement>('start');
  const pause = byId<HTMLButtonElement>('pause');
  start.disabled = !ready || active;
  pause.disabled = !(state === 'running' || state === 'paused');
  pause.textContent = state === 'paused' ? 'Resume' : state === 'pausing' ? 'Pausing…' : 'Pause';
  byId<HTMLButtonElement>('stop').disabled = !(state === 'running' || state === 'pausing' || state === 'paused');
  byId<HTMLButtonElement>('evaluate').disabled = !ready || active || !checkpointFile;
  const hasMetrics = !!current && current.series.size > 0;
  byId<HTMLButtonElement>('download-csv').disabled = !hasMetrics;
  byId<HTMLButtonElement>('download-json').disabled = !hasMetrics;
  const inspectable = !!current && state !== undefined && INSPECTABLE.includes(state);
  byId<HTMLButtonElement>('download-checkpoint').disabled = !inspectable;
  byId<HTMLButtonElement>('predict-run').disabled = !inspectable;
  const views = current ? experimentNamed(current.experiment).inspect.map((v) => v.name) : [];
  byId<HTMLButtonElement>('inspect-user-go').disabled = !(inspectable && views.includes('top-items'));
  byId<HTMLButtonElement>('inspect-episode-go').disabled = !(inspectable && views.includes('episode'));
  byId<HTMLButtonElement>('bench-go').disabled = !ready || active || benchRunning;
  byId<HTMLButtonElement>('bench-json').disabled = benchRunning || !benchResult;
}

function renderRuns(): void {
  const body = byId('runs').querySelector('tbody') as HTMLTableSectionElement;
  const shown = runs.filter((r) => r.experiment === experiment);
  body.replaceChildren(
    ...shown.map((r) => {
      const box = el('input', { type: 'checkbox', 'aria-label': `Show run ${r.label} on the charts` });
      box.checked = r.visible;
      box.addEventListener('change', () => {
        r.visible = box.checked;
        charts.update(experiment, runs);
      });
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.background = r.color;
      return el(
        'tr',
        { 'data-run': String(r.id) },
        el('td', {}, box),
        el('th', { scope: 'row' }, swatch, r.label),
        el('td', {}, r.state),
        el('td', {}, r.msPerStep !== null ? r.msPerStep.toFixed(2) : '—'),
        el('td', {}, latestText(r)),
      );
    }),
  );
  if (shown.length === 0) body.replaceChildren(el('tr', {}, el('td', { colspan: '5', class: 'empty' }, 'No runs yet.')));
}

// ---- the worker's messages -------------------------------------------------------------------

const trainedSteps = new Map<number, { ms: number; steps: number }>();

function runOf(id: number): RunRecord | undefined {
  return runs.find((r) => r.id === id);
}

worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'ready':
      ready = true;
      adapterLine = msg.adapterLine;
      byId('adapter').textContent = `Adapter: ${msg.adapterLine}${msg.adapter.software ? ' — a CPU implementation: expect it to be slow' : ''}.`;
      byId('fact-adapter').textContent = msg.adapterLine;
      byId('bench-suite').replaceChildren(...msg.benchSuites.map((s) => el('option', { value: s }, s)));
      break;
    case 'no-webgpu':
      showNoWebGPU(msg.message);
      break;
    case 'ratings': {
      const s = msg.summary;
      ratingsName = s.name;
      byId('ratings-status').textContent = `${s.name}: ${num(s.count)} ratings, user ids up to ${num(s.users)}, item ids up to ${num(s.items)} (${s.format} format)${s.titles ? `; ${num(s.titles)} titles` : ''}.`;
      answered('ratings', true);
      break;
    }
    case 'titles':
      byId('titles-status').textContent = `${msg.name}: ${num(msg.count)} titles.`;
      break;
    case 'omniglot': {
      const s = msg.summary;
      omniglotName = s.source;
      byId('omniglot-status').textContent = `${s.source}: ${num(s.characters)} characters × ${s.drawings} drawings, ${s.side}×${s.side} ${s.filter}${s.binary ? ' (binary)' : ''}.`;
      answered('omniglot', true);
      break;
    }
    case 'input-error':
      if (msg.about === 'ratings') {
        ratingsName = null;
        byId('ratings-status').textContent = 'No usable ratings file.';
        answered('ratings', false);
      }
      if (msg.about === 'omniglot') {
        omniglotName = null;
        answered('omniglot', false);
      }
      showError(msg.about === 'config' ? 'options' : msg.about, msg.message);
      break;
    case 'state': {
      const run = runOf(msg.runId);
      if (!run) break;
      run.state = msg.state;
      run.detail = msg.detail ?? '';
      break;
    }
    case 'compile': {
      const run = runOf(msg.runId);
      if (run) run.compile = { ready: msg.ready, asked: msg.asked };
      break;
    }
    case 'run-info': {
      const run = runOf(msg.runId);
      if (run) run.info = { unit: msg.unit, start: msg.start, length: msg.length, stepsPerUnit: msg.stepsPerUnit, facts: msg.facts };
      break;
    }
    case 'progress': {
      const run = runOf(msg.runId);
      if (!run) break;
      run.progress = { done: msg.done, total: msg.total };
      // A live estimate until the first epoch or evaluation gives the measured one.
      if (msg.msPerStep !== null && !trainedSteps.has(run.id)) run.msPerStep = msg.msPerStep;
      break;
    }
    case 'evaluation': {
      const run = runOf(msg.runId);
      if (!run) break;
      addEvaluation(run, msg.evaluation);
      if (msg.evaluation.steps > 0) measured(run, msg.evaluation.trainMs, msg.evaluation.steps);
      break;
    }
    case 'trained': {
      const run = runOf(msg.runId);
      if (run) addTrained(run, msg.at, msg.values);
      break;
    }
    case 'evaluated': {
      const run = runOf(msg.runId);
      if (run) addEvaluated(run, msg.at, msg.values);
      break;
    }
    case 'artifacts': {
      const run = runOf(msg.runId);
      if (run) run.artifacts = msg.files;
      break;
    }
    case 'device-lost': {
      const run = runOf(msg.runId);
      if (!run) break;
      rewindRun(run, msg.from);
      run.detail = msg.message;
      // Kept where a developer looks too: the status line changes with the run's state.
      console.warn(`Run ${run.label}: ${msg.message}`);
      break;
    }
    case 'run-error': {
      // The engine names options by their CLI flags; the page by their labels.
      showError('run', formOf(runOf(msg.runId)?.experiment ?? experiment).explain(msg.message).message);
      break;
    }
    case 'checkpoint':
      if (msg.purpose === 'predict') {
        predictPanel.use({ name: msg.name, bytes: msg.bytes }, `Run ${runOf(msg.runId)?.label ?? msg.runId}'s model`);
      } else {
        download(msg.name, msg.bytes, 'application/octet-stream');
        byId('results-error').textContent = '';
      }
      break;
    case 'predict-result':
      predictPanel.shown(msg);
      break;
    case 'predict-error':
      predictPanel.shown({ message: msg.message });
      break;
    case 'inspect':
      VIEWS[msg.view](byId('inspect-out'), msg.result);
      break;
    case 'request-error':
      showError(lastRequest, msg.message);
      break;
    case 'bench-log':
      byId('bench-status').textContent = msg.line.trim();
      break;
    case 'bench-done':
      benchRunning = false;
      benchResult = msg.json;
      byId('bench-status').textContent = `Done: ${msg.json.results.length} rows, ${msg.json.results.filter((r) => !r.ok).length} failed.`;
      renderBench(byId('bench-out'), msg.json, msg.timing);
      break;
    case 'bench-error':
      benchRunning = false;
      byId('bench-status').textContent = '';
      byId('bench-error').textContent = msg.message;
      break;
  }
  render();
});

worker.addEventListener('error', (ev) => {
  showError('run', `The training worker could not run (${ev.message || 'no message'}); reload the page.`);
});

/** Wall time per training step over the whole run, as the CLI reports it. */
function measured(run: RunRecord, ms: number, steps: number): void {
  const t = trainedSteps.get(run.id) ?? { ms: 0, steps: 0 };
  t.ms += ms;
  t.steps += steps;
  trainedSteps.set(run.id, t);
  run.msPerStep = t.steps > 0 ? t.ms / t.steps : null;
}

// ---- data inputs -----------------------------------------------------------------------------

async function sendRatings(f: File): Promise<void> {
  clearErrors('ratings');
  expect('ratings');
  byId('ratings-status').textContent = `Reading ${f.name}…`;
  const file = await fileBytes(f);
  send({ type: 'ratings', file }, [file.bytes.buffer]);
}

async function sendTitles(f: File): Promise<void> {
  clearErrors('titles');
  byId('titles-status').textContent = `Reading ${f.name}…`;
  const file = await fileBytes(f);
  send({ type: 'titles', file }, [file.bytes.buffer]);
}

async function loadEmbeddedOmniglot(): Promise<void> {
  expect('omniglot');
  byId('omniglot-status').textContent = 'Loading the embedded Omniglot set…';
  try {
    const res = await fetch(EMBEDDED_OMNIGLOT);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const file = { name: EMBEDDED_OMNIGLOT, bytes: new Uint8Array(await res.arrayBuffer()) };
    send({ type: 'omniglot', source: 'embedded', file }, [file.bytes.buffer]);
  } catch (err) {
    answered('omniglot', false);
    showError('omniglot', `The embedded Omniglot set could not be loaded (${err instanceof Error ? err.message : String(err)}); reload the page, or choose the official zips.`);
  }
}

async function sendOmniglotFiles(list: FileList | null): Promise<void> {
  clearErrors('omniglot');
  if (!list || list.length === 0) return;
  expect('omniglot');
  byId('omniglot-status').textContent = `Reading and resizing ${list.length} file${list.length > 1 ? 's' : ''} (this takes a while)…`;
  const files: FileBytes[] = await Promise.all([...list].map(fileBytes));
  const filter = byId<HTMLSelectElement>('omniglot-filter').value as 'nearest' | 'area' | 'lanczos';
  send({ type: 'omniglot', source: 'files', files, filter }, files.map((f) => f.bytes.buffer));
}

byId<HTMLInputElement>('ratings-file').addEventListener('change', (ev) => {
  const f = (ev.target as HTMLInputElement).files?.[0];
  if (f) void sendRatings(f);
});
byId<HTMLInputElement>('titles-file').addEventListener('change', (ev) => {
  const f = (ev.target as HTMLInputElement).files?.[0];
  if (f) void sendTitles(f);
});
const drop = byId('ratings-drop');
drop.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  const files = [...(ev.dataTransfer?.files ?? [])];
  const titles = files.find((f) => TITLE_FILES.test(f.name));
  const ratings = files.find((f) => f !== titles);
  if (titles) void sendTitles(titles);
  if (ratings) void sendRatings(ratings);
});
byId<HTMLInputElement>('omniglot-files').addEventListener('change', (ev) => void sendOmniglotFiles((ev.target as HTMLInputElement).files));
byId<HTMLSelectElement>('omniglot-filter').addEventListener('change', () => void sendOmniglotFiles(byId<HTMLInputElement>('omniglot-files').files));
for (const r of document.querySelectorAll<HTMLInputElement>('input[name="omniglot-source"]')) {
  r.addEventListener('change', () => {
    const files = r.value === 'files';
    byId('omniglot-files-box').hidden = !files;
    clearErrors('omniglot');
    if (files) void sendOmniglotFiles(byId<HTMLInputElement>('omniglot-files').files);
    else void loadEmbeddedOmniglot();
  });
}
let tabularNames: string[] = [];
/** The worker holds the embedded census file, not the user's. */
let tabularEmbedded = false;

function sendTabular(files: FileBytes[], embedded: boolean): void {
  tabularNames = files.map((f) => f.name);
  tabularEmbedded = embedded;
  byId('tabular-status').textContent = embedded
    ? `${EMBEDDED_CENSUS}: the census-income test split served with this page (99,762 rows; CC BY 4.0, see census-income-README.md).`
    : files.length ? `${files.length} file${files.length === 1 ? '' : 's'}: ${tabularNames.join(', ')}` : 'No files chosen.';
  send({ type: 'tabular', files }, files.map((f) => f.bytes.buffer));
}

/** The embedded census split, fetched (the service worker keeps it offline) and given to the worker. */
async function loadEmbeddedCensus(): Promise<boolean> {
  byId('tabular-status').textContent = `Loading ${EMBEDDED_CENSUS}…`;
  try {
    const res = await fetch(EMBEDDED_CENSUS);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    sendTabular([{ name: EMBEDDED_CENSUS, bytes: new Uint8Array(await res.arrayBuffer()) }], true);
    return true;
  } catch (err) {
    showError('options', `The embedded census-income split could not be loaded (${err instanceof Error ? err.message : String(err)}); reload the page, or choose census-income.data and .test.`);
    return false;
  }
}
byId<HTMLInputElement>('tabular-files').addEventListener('change', (ev) => {
  void (async () => {
    const files = await Promise.all([...((ev.target as HTMLInputElement).files ?? [])].map(fileBytes));
    sendTabular(files, false);
  })();
});
byId<HTMLInputElement>('checkpoint-file').addEventListener('change', (ev) => {
  checkpointFile = (ev.target as HTMLInputElement).files?.[0] ?? null;
  clearErrors('checkpoint');
  render();
});

function chooseExperiment(name: string): void {
  // What belonged to the previous experiment goes: its model's views and its errors.
  if (name !== experiment) {
    byId('inspect-out').replaceChildren();
    clearErrors('options', 'run', 'results', 'inspect', 'checkpoint');
  }
  experiment = name;
  const ex = experimentNamed(name);
  for (const d of ['movielens', 'omniglot', 'tabular']) byId(`${d}-data`).hidden = ex.dataset !== d;
  for (const e of EXPERIMENTS) byId(`${e.name}-options`).hidden = e.name !== name;
  for (const v of Object.keys(VIEWS)) byId(`inspect-${v}`).hidden = !ex.inspect.some((i) => i.name === v);
  if (ex.dataset === 'omniglot' && !omniglotName && !waiting.omniglot && byId<HTMLInputElement>('omniglot-embedded').checked) void loadEmbeddedOmniglot();
  render();
}
for (const r of document.querySelectorAll<HTMLInputElement>('input[name="experiment"]')) {
  r.addEventListener('change', () => chooseExperiment(r.value));
}

// ---- run controls ----------------------------------------------------------------------------

async function start(mode: RunMode): Promise<void> {
  clearErrors('options', 'run', 'checkpoint', 'results', 'inspect');
  let spec;
  try {
    spec = formOf(experiment).spec();
  } catch (err) {
    if (err instanceof OptionsError) return showError('options', err.message, err.input);
    throw err;
  }
  if (mode === 'evaluate' && !checkpointFile) return showError('checkpoint', 'Choose a checkpoint to evaluate.', byId('checkpoint-file'));
  let data: string;
  if (experimentNamed(experiment).dataset === 'tabular') {
    const dataset = String((spec.config as { dataset?: string }).dataset);
    // census-income without files trains on the embedded split, as the CLI does without --data; other data sets never see it.
    if (dataset === 'census-income' && tabularNames.length === 0 && !(await loadEmbeddedCensus())) return;
    if (dataset !== 'census-income' && tabularEmbedded) sendTabular([], false);
    data = tabularNames.length ? tabularNames.join(', ') : `the ${dataset} generator`;
  } else if (experimentNamed(experiment).dataset === 'movielens') {
    const ok = waiting.ratings ? await waiting.ratings.promise : !!ratingsName;
    if (!ok || !ratingsName) {
      if (!byId('ratings-error').textContent) showError('ratings', 'Choose a MovieLens ratings file first (u.data, ratings.dat, ratings.csv or a MovieLens zip).', byId('ratings-file'));
      else byId('ratings-file').focus();
      return;
    }
    data = ratingsName;
  } else {
    if (!omniglotName && !waiting.omniglot && byId<HTMLInputElement>('omniglot-embedded').checked) void loadEmbeddedOmniglot();
    const ok = waiting.omniglot ? await waiting.omniglot.promise : !!omniglotName;
    if (!ok || !omniglotName) {
      if (!byId('omniglot-error').textContent) showError('omniglot', 'Choose the Omniglot zips first, or use the set served with this page.');
      return;
    }
    data = omniglotName;
  }
  const checkpoint = checkpointFile ? await fileBytes(checkpointFile) : undefined;
  const run = newRun(nextId++, spec, mode, data, checkpoint?.name ?? null, adapterLine);
  runs.push(run);
  current = run;
  byId('inspect-out').replaceChildren();
  send({ type: 'start', runId: run.id, spec, mode, ...(checkpoint ? { checkpoint } : {}) }, checkpoint ? [checkpoint.bytes.buffer] : []);
  render();
}

byId('start').addEventListener('click', () => void start('train'));
byId('evaluate').addEventListener('click', () => void start('evaluate'));
byId('pause').addEventListener('click', () => {
  if (current?.state === 'paused') send({ type: 'resume' });
  else send({ type: 'pause' });
});
byId('stop').addEventListener('click', () => send({ type: 'stop' }));

// ---- results and inspection --------------------------------------------------------------------

let lastRequest: ErrorSlot = 'results';

byId('download-csv').addEventListener('click', () => current && download(`${fileStem(current)}.csv`, runCsv(current), 'text/csv'));
byId('download-json').addEventListener('click', () => current && download(`${fileStem(current)}.json`, runJson(current), 'application/json'));
byId('download-checkpoint').addEventListener('click', () => {
  lastRequest = 'results';
  send({ type: 'checkpoint', purpose: 'download' });
});
function showUser(): void {
  lastRequest = 'inspect';
  clearErrors('inspect');
  const input = byId<HTMLInputElement>('inspect-user');
  const raw = input.value.trim();
  if (!/^\d+$/.test(raw)) return showError('inspect', `User id must be a whole number, not "${input.value}".`, input);
  send({ type: 'inspect', view: 'top-items', input: Number(raw) });
}
byId('inspect-user-go').addEventListener('click', showUser);
byId('inspect-user').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') showUser();
});
let episodeSeed = 1;
byId('inspect-episode-go').addEventListener('click', () => {
  lastRequest = 'inspect';
  clearErrors('inspect');
  send({ type: 'inspect', view: 'episode', input: episodeSeed++ });
});

// ---- the bench view ------------------------------------------------------------------------------

let benchRunning = false;
let benchResult: BenchJson | null = null;

function startBench(): void {
  byId('bench-error').textContent = '';
  const count = (id: string, what: string, min: number): number | null => {
    const input = byId<HTMLInputElement>(id);
    const n = Number(input.value.trim());
    if (input.value.trim() === '' || !Number.isInteger(n) || n < min) {
      byId('bench-error').textContent = `${what} must be a whole number of at least ${min}, not "${input.value}".`;
      input.focus();
      return null;
    }
    return n;
  };
  const reps = count('bench-reps', 'Timed runs', 1);
  const warmup = reps === null ? null : count('bench-warmup', 'Warm-up runs', 0);
  if (reps === null || warmup === null) return;
  benchRunning = true;
  benchResult = null;
  byId('bench-out').replaceChildren();
  byId('bench-status').textContent = 'Starting…';
  send({ type: 'bench', suite: byId<HTMLSelectElement>('bench-suite').value, filter: byId<HTMLInputElement>('bench-filter').value.trim(), reps, warmup });
  render();
}
byId('bench-go').addEventListener('click', startBench);
byId('bench-json').addEventListener('click', () => {
  if (benchResult) download(`shadertrain-bench-${byId<HTMLSelectElement>('bench-suite').value}.json`, benchJsonText(benchResult), 'application/json');
});

// ---- start-up ------------------------------------------------------------------------------------

send({ type: 'init' });
byId<HTMLInputElement>(`exp-${experiment}`).checked = true;
chooseExperiment(experiment);
// Every file of the page is kept for offline use (not from file://, where service workers do not run).
if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  navigator.serviceWorker.register('sw.js').catch(() => undefined);
}
