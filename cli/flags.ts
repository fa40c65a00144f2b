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
    throw new UserError(`${(err as Error).message.replace(/\. To specify a positional.*$/s, '')}; see --help`);
  }
  const out: Record<string, string | boolean | undefined> = {};
  for (const name of Object.keys(spec)) {
    const other = kebab(name);
    if (name !== other && values[name] !== undefined && values[other] !== undefined) throw new UserError(`--${name} and --${other} are the same flag; give it once`);
    out[name] = values[name] ?? values[other];
  }
  return out;
}

export function stringFlag(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
