// A resumed run goes on with the settings its checkpoint was trained with: every option the
// checkpoint's config records against the one given now, before any GPU work. Only the run's
// length (--epochs, --steps) may change: resuming to train longer is what --resume is for.
import { formatValue, type OptionSpec } from '../src/experiments/options.ts';
import type { AnyExperiment } from '../src/experiments/types.ts';
import { checkpointConfig } from '../src/graph/checkpoint.ts';
import { UserError } from './errors.ts';

function list(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** How the flag was given for value `v`: "--lr 0.01", "--no_shared_embeddings" or "no --no_shared_embeddings". */
function given(o: OptionSpec, v: unknown): string {
  if (o.type === 'bool') return v === !o.negated ? `--${o.flag}` : `no --${o.flag}`;
  return `--${o.flag} ${Array.isArray(v) && v.length === 0 ? '(its default)' : formatValue(v)}`;
}

/** Refuses, unless `force`, a --resume checkpoint trained with other settings than `config`, naming each. */
export function checkResumeSettings(ex: AnyExperiment, config: object, resume: { bytes: Uint8Array; path: string }, force: boolean): void {
  if (force) return;
  const saved = checkpointConfig(resume.bytes, resume.path);
  const now = config as Record<string, unknown>;
  // Options added since the checkpoint was written are not in it: those are not compared.
  const differ = ex.options.filter((o) => o.flag !== ex.lengthFlag && o.key in saved && JSON.stringify(saved[o.key]) !== JSON.stringify(now[o.key]));
  if (differ.length === 0) return;
  const was = differ.map((o) => given(o, saved[o.key]));
  const is = differ.map((o) => given(o, now[o.key]));
  throw new UserError(`--resume ${resume.path} was trained with ${list(was)}, not ${list(is)}; give the same ${differ.length === 1 ? 'flag' : 'flags'}, or --force to continue with these`);
}
