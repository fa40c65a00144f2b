// `shadertrain predict --checkpoint FILE [flags]`: the checkpoint names its experiment, whose
// predictor (its descriptor's `predictor`) reads the flags and writes rows; this file does the
// Node side: reading the files and standard input the flags name, and writing the rows as CSV
// or JSON Lines on stdout (notes on stderr).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatValue, optionsHelp, parseOption, type OptionSpec } from '../src/experiments/options.ts';
import { csvLine, experimentOf } from '../src/experiments/predict.ts';
import { EXPERIMENTS } from '../src/experiments/registry.ts';
import type { PredictFile, PredictFlag, PredictSink, PredictValue, Predictor } from '../src/experiments/types.ts';
import { adapterLine } from '../src/gpu/adapter-report.ts';
import { Gpu } from '../src/gpu/context.ts';
import { readCheckpoint } from '../src/graph/checkpoint.ts';
import { UserError } from './errors.ts';
import { parseFlags, stringFlag, type FlagSpec } from './flags.ts';
import { GPU_HELP, GPU_OPTIONS, gpuOptions } from './gpu-options.ts';
import { examplesHelp } from './help.ts';

const COMMON = { checkpoint: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...GPU_OPTIONS } as const;

function flagRows(p: Predictor): [string, string][] {
  return p.flags.map((f): [string, string] => {
    if (f.type === 'text' || f.type === 'file' || f.type === 'files') return [`--${f.flag} ${f.arg ?? (f.type === 'text' ? 'TEXT' : 'FILE')}`, f.help];
    return optionsHelp([f as OptionSpec], p.defaults)[0];
  });
}

const EXAMPLES = [
  { args: '--checkpoint mmoe.safetensors --input rows.csv', does: "each row's task probabilities and decisions, as CSV" },
  { args: '--checkpoint mmoe.safetensors --input - --json < rows.jsonl', does: 'JSON Lines in from standard input, JSON Lines out' },
  { args: "--checkpoint mmoe.safetensors --row 'age=40,class_worker=Private,...'", does: 'one row typed on the command line' },
];

function help(): string {
  const rows: [string, string][] = [
    ['--checkpoint FILE', 'a checkpoint written by a training run (--checkpoint there)'],
    ['--json', 'JSON Lines on stdout instead of CSV'],
  ];
  const sections = EXPERIMENTS.map((ex) => {
    const p = ex.predictor;
    return { title: `${ex.name} checkpoints:`, about: p?.about ?? 'not predicted from yet', rows: p ? flagRows(p) : [] };
  });
  const width = Math.max(...[...rows, ...sections.flatMap((s) => s.rows)].map(([l]) => l.length)) + 2;
  const table = (rs: [string, string][]): string => rs.map(([l, t]) => `  ${l.padEnd(width)}${t.replaceAll('\n', `\n  ${' '.repeat(width)}`)}`).join('\n');
  const parts = sections.map((s) => `${s.title}\n  ${s.about.replaceAll('\n', '\n  ')}${s.rows.length ? `\n${table(s.rows)}` : ''}`);
  return `usage: shadertrain predict --checkpoint FILE [the experiment's flags] [--json]\nWhat a trained model predicts, from its checkpoint alone: the checkpoint names its experiment,\nits config and what its inputs are.\n\n${table(rows)}\n\n${parts.join('\n\n')}\n\n${GPU_HELP}${examplesHelp('predict', [...EXAMPLES, ...EXPERIMENTS.flatMap((ex) => ex.predictor?.examples ?? [])])}`;
}

function readStdin(): Uint8Array {
  try {
    return new Uint8Array(readFileSync(0));
  } catch (err) {
    throw new UserError(`cannot read standard input (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** A folder's files, recursively, sorted, named by their path inside it. */
function folderFiles(dir: string, under = dir): PredictFile[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? folderFiles(p, under) : [{ name: relative(under, p), bytes: new Uint8Array(readFileSync(p)) }];
    });
}

function readPaths(flag: string, text: string, many: boolean): PredictFile[] {
  if (!many && text === '-') return [{ name: 'standard input', bytes: readStdin() }];
  const paths = many ? text.split(',').map((p) => p.trim()).filter((p) => p !== '') : [text];
  return paths.flatMap((p) => {
    if (!existsSync(p)) throw new UserError(`--${flag} ${p}: no such file${many ? ' or folder' : ''}`);
    if (!statSync(p).isDirectory()) return [{ name: p, bytes: new Uint8Array(readFileSync(p)) }];
    if (!many) throw new UserError(`--${flag} ${p} is a folder; give a file`);
    return folderFiles(p);
  });
}

function valueOf(f: PredictFlag, given: string | boolean): PredictValue {
  if (f.type === 'file' || f.type === 'files') return readPaths(f.flag, String(given), f.type === 'files');
  if (f.type === 'text') return String(given);
  if (f.type === 'bool') return !!given;
  return parseOption(f as Exclude<OptionSpec, { type: 'bool' }>, String(given));
}

/** Rows to stdout as CSV or JSON Lines, a batch per write. */
function stdoutSink(json: boolean): PredictSink {
  let names: readonly string[] = [];
  return {
    columns(n) {
      names = n;
      if (!json) process.stdout.write(`${csvLine(n)}\n`);
    },
    rows(rows) {
      const lines = rows.map((r) => (json ? JSON.stringify(Object.fromEntries(names.map((n, i) => [n, r[i]]))) : csvLine(r)));
      if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
    },
    note(line) {
      console.error(line);
    },
  };
}

export async function predict(args: string[]): Promise<number> {
  // Output piped into `head` that stops reading: the rows it wanted are out; stop quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  // The experiment's flags are known once the checkpoint is read: first only the common flags.
  const loose = parseFlags(args.filter((a, i) => ['--checkpoint', '--help', '-h'].includes(a) || a.startsWith('--checkpoint=') || (args[i - 1] === '--checkpoint' && !a.startsWith('--'))), COMMON);
  if (loose.help) {
    console.log(help());
    return 0;
  }
  const path = stringFlag(loose.checkpoint);
  if (path === undefined) throw new UserError('predict needs --checkpoint FILE, a checkpoint a training run wrote; see shadertrain predict --help');
  if (!existsSync(path) || statSync(path).isDirectory()) throw new UserError(`--checkpoint ${path}: no such file`);
  const file = readCheckpoint(new Uint8Array(readFileSync(path)), path);
  const ex = experimentOf(file);
  const p = ex.predictor;
  const spec: FlagSpec = { ...COMMON, ...Object.fromEntries(p.flags.map((f) => [f.flag, { type: f.type === 'bool' ? 'boolean' : 'string' } as const])) };
  const v = parseFlags(args, spec);
  const values: Record<string, PredictValue | undefined> = { ...p.defaults };
  for (const f of p.flags) {
    const given = v[f.flag];
    if (given !== undefined) values[f.key] = valueOf(f, given);
  }
  const gpu = await Gpu.create(gpuOptions(v as Parameters<typeof gpuOptions>[0]));
  try {
    if (process.env.SHADERTRAIN_DEBUG) console.error(`adapter: ${adapterLine(gpu.report)}; ${ex.name} checkpoint${file.data ? ` of ${file.data.name} (${file.data.source}, sha256 ${file.data.fingerprint.sha256.slice(0, 12)})` : ''}; ${Object.entries(values).filter(([, x]) => x !== undefined && !Array.isArray(x)).map(([k, x]) => `${k} ${formatValue(x)}`).join(', ')}`);
    await p.predict(gpu, file, values, stdoutSink(!!v.json));
    return 0;
  } finally {
    gpu.destroy();
  }
}
