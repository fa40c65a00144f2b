// Flags as the course's scripts spell them (snake_case), kebab-case accepted too, parsed with
// node:util's parseArgs; every bad value is one sentence naming the flag.
import { parseArgs } from 'node:util';
import { kebab } from '../src/experiments/options.ts';
import { UserError } from './errors.ts';
import { GPU_OPTIONS } from './gpu-options.ts';

export type Values = Record<string, string | boolean | undefined>;

/** What every training command takes besides its model's options: data, logs, checkpoints, output, the adapter. */
export const RUN_FLAGS = {
  data: { type: 'string' },
  logdir: { type: 'string' },
  checkpoint: { type: 'string' },
  resume: { type: 'string' },
  overwrite: { type: 'boolean' },
  force: { type: 'boolean' },
  keep_best: { type: 'string' },
  early_stop: { type: 'string' },
  json: { type: 'boolean' },
  experiments: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...GPU_OPTIONS,
} as const;

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** parseArgs over both spellings of every snake_case flag; values come back under the snake_case name. */
export function parseFlags(args: string[], spec: FlagSpec): Record<string, string | boolean | undefined> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, o] of Object.entries(spec)) {
    options[name] = o;
    if (name.includes('_')) options[kebab(name)] = { type: o.type };
  }
  // parseArgs takes "-1" after a string flag for another flag; a negative number is a value.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : '';
    if (options[name]?.type === 'string' && i + 1 < args.length && /^-\d|^-\.\d/.test(args[i + 1])) joined.push(`${args[i]}=${args[++i]}`);
    else joined.push(args[i]);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: joined, options, strict: true, allowPositionals: false }) as { values: Record<string, string | boolean | undefined> });
  } catch (err) {
    const missing = valueMissing(err as Error, joined);
    if (missing) throw new UserError(missing);
    const message = (err as Error).message.replace(/\. To specify a positional.*$/s, '');
    const unknown = /^Unknown option '--?([^']+)'/.exec(message)?.[1];
    const near = unknown === undefined ? undefined : nearest(unknown, Object.keys(options));
    throw new UserError(near ? `${message}; did you mean --${near}? (see --help)` : `${message}; see --help`);
  }
  const out: Record<string, string | boolean | undefined> = {};
  for (const name of Object.keys(spec)) {
    const other = kebab(name);
    if (name !== other && values[name] !== undefined && values[other] !== undefined) throw new UserError(`--${name} and --${other} are the same flag; give it once`);
    out[name] = values[name] ?? values[other];
  }
  return out;
}

/**
 * parseArgs' three-line "argument is ambiguous" (a flag followed by another flag) and its
 * "argument missing" (a flag last) as one sentence: `--epochs needs a value (it was followed by --logdir)`.
 */
function valueMissing(err: Error, args: readonly string[]): string | undefined {
  const m = /^Option '(--?[^' ]+)(?: <value>)?' argument (is ambiguous|missing)/.exec(err.message);
  if (!m) return undefined;
  const at = args.indexOf(m[1]);
  const next = m[2] === 'missing' || at < 0 ? undefined : args[at + 1];
  return `${m[1]} needs a value${next === undefined ? '' : ` (it was followed by ${next})`}; see --help`;
}

/** Levenshtein distance: insertions, deletions and substitutions, one each. */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** The known flag a mistyped one most likely meant: the closest within a third of its length (at least 2 edits), if one is. */
export function nearest(typed: string, known: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(typed.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(typed.toLowerCase(), k.toLowerCase());
    if (d < bestD && d <= limit) [best, bestD] = [k, d];
  }
  return best;
}

export function stringFlag(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
