// A resumed run goes on with the data its checkpoint was trained on: the checkpoint's recorded
// fingerprint against the data given now, before any GPU work. Checkpoints from before the
// fingerprint, and experiments that record none, are not checked.
import type { AnyExperiment } from '../src/experiments/types.ts';
import { readCheckpoint, type CheckpointData } from '../src/graph/checkpoint.ts';
import { UserError } from './errors.ts';

const described = (d: CheckpointData): string => `${d.name} from ${d.source} (sha256 ${d.fingerprint.sha256.slice(0, 12)})`;

/** Refuses, unless `force`, a --resume checkpoint trained on other data than `data`. */
export async function checkResumeData(ex: AnyExperiment, data: unknown, config: object, resume: { bytes: Uint8Array; path: string }, force: boolean): Promise<void> {
  if (force || !ex.origin) return;
  const saved = readCheckpoint(resume.bytes, resume.path).data;
  if (!saved) return;
  const now = await ex.origin(data, config);
  if (!now || now.fingerprint.sha256 === saved.fingerprint.sha256) return;
  throw new UserError(`--resume ${resume.path} was trained on ${described(saved)}, not on this --data, ${described(now)}; give the same --data, or --force to continue on this data`);
}
