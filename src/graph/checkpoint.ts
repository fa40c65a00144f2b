// Checkpoints: every persistent tensor of a compiled step (parameters, optimizer moments,
// metric accumulators) in safetensors, with the step count, the host RNG state and the
// model's config in the metadata, a CRC-32 of each tensor, and what a prediction needs besides
// the weights: the experiment, the data set with its fingerprint, and the experiment's schema of
// inputs and outputs. Loading checks names, shapes, dtypes and checksums and says what differs,
// so a run resumed from a checkpoint continues with the same bits. Checkpoints written before
// the self-describing keys or the checksums still load for training.
import CRC32 from 'crc-32';
import type { DataFingerprint } from '../data/fingerprint.ts';
import type { StagingRing } from '../gpu/readback.ts';
import { decodeSafetensors, encodeSafetensors, type StTensor } from '../log/safetensors.ts';
import type { CompiledStep } from './compile.ts';

export const CHECKPOINT_FORMAT = 'shadertrain-checkpoint-v1';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export interface CheckpointMeta {
  /** Optimizer steps taken. */
  step: number;
  /** The host generator's state (Rng.state()). */
  rng: Uint32Array;
  /** The model's configuration, as JSON-able values. */
  config: Record<string, unknown>;
  /** What the checkpoint says about itself (saved only; loading for training ignores it). */
  about?: CheckpointAbout;
}

/** The data set a model was trained on: metadata key `data`, as JSON. */
export interface CheckpointData {
  /** The data set's name (--dataset, or the experiment's data set). */
  name: string;
  /** Where it came from: the files, or the generator and its settings. */
  source: string;
  fingerprint: DataFingerprint;
}

/** The self-describing metadata keys: `experiment` (its name), `data` and `schema` (JSON). */
export interface CheckpointAbout {
  experiment: string;
  /** Absent where the trainer was not told (a library caller that gave no data description). */
  data?: CheckpointData;
  /** The experiment's own description of a prediction's inputs and outputs (multi-task: features and tasks). */
  schema?: unknown;
}

/** A checkpoint read without a GPU: its tensors and everything its metadata says. */
export interface CheckpointFile {
  source: string;
  tensors: Record<string, StTensor>;
  step: number;
  config: Record<string, unknown>;
  /** Absent in checkpoints written before these keys. */
  experiment?: string;
  data?: CheckpointData;
  schema?: unknown;
}

export async function saveCheckpoint(step: CompiledStep, ring: StagingRing, meta: CheckpointMeta): Promise<Uint8Array> {
  const tensors: Record<string, StTensor> = {};
  for (const t of step.graph.tensors) {
    if ((t.kind !== 'param' && t.kind !== 'state') || step.rebuilds(t)) continue;
    const data = (await step.read(ring, t)) as Float32Array;
    tensors[t.name] = { dtype: 'F32', shape: [...t.shape], data };
  }
  return encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    checksums: JSON.stringify(checksums(tensors)),
    step: String(meta.step),
    rng: JSON.stringify(Array.from(meta.rng)),
    config: JSON.stringify(meta.config),
    ...(meta.about ? { experiment: meta.about.experiment } : {}),
    ...(meta.about?.data ? { data: JSON.stringify(meta.about.data) } : {}),
    ...(meta.about?.schema !== undefined ? { schema: JSON.stringify(meta.about.schema) } : {}),
  });
}

/** Writes the checkpoint's tensors into `step` and returns its metadata. `source` names the file in errors. */
export function loadCheckpoint(bytes: Uint8Array, step: CompiledStep, source: string): CheckpointMeta {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  checkFormat(metadata, source);
  const wanted = step.graph.tensors.filter((t) => (t.kind === 'param' || t.kind === 'state') && !step.rebuilds(t));
  const problems: string[] = [];
  for (const t of wanted) {
    const c = tensors[t.name];
    if (!c) problems.push(`"${t.name}" [${t.shape.join(', ')}] is missing`);
    else if (c.dtype !== 'F32') problems.push(`"${t.name}" is ${c.dtype}, expected F32`);
    else if (c.shape.join() !== t.shape.join()) problems.push(`"${t.name}" is [${c.shape.join(', ')}], the model has [${t.shape.join(', ')}]`);
  }
  const known = new Set(wanted.map((t) => t.name));
  for (const name of Object.keys(tensors)) if (!known.has(name)) problems.push(`"${name}" is not in this model`);
  if (problems.length) throw new CheckpointError(`${source} does not fit this model: ${problems.join('; ')}`);
  verifyChecksums(metadata, tensors, source);
  let rng: number[];
  let config: Record<string, unknown>;
  const stepCount = Number(metadata.step);
  try {
    rng = JSON.parse(metadata.rng) as number[];
    config = JSON.parse(metadata.config) as Record<string, unknown>;
  } catch {
    throw new CheckpointError(`${source} has unreadable rng or config metadata`);
  }
  if (!Number.isInteger(stepCount) || stepCount < 0 || !Array.isArray(rng) || rng.length !== 4) throw new CheckpointError(`${source} has a bad step count or rng state`);
  for (const t of wanted) step.write(t, tensors[t.name].data as Float32Array);
  return { step: stepCount, rng: Uint32Array.from(rng), config };
}

/** The config stored in a checkpoint, read without touching any step (to compare settings first). */
export function checkpointConfig(bytes: Uint8Array, source: string): Record<string, unknown> {
  const { metadata } = decodeSafetensors(bytes, source);
  checkFormat(metadata, source);
  try {
    return JSON.parse(metadata.config) as Record<string, unknown>;
  } catch {
    throw new CheckpointError(`${source} has unreadable config metadata`);
  }
}

/** CRC-32 of each tensor's bytes, as unsigned hex: a flipped or overwritten byte is caught on load. */
function checksums(tensors: Record<string, StTensor>): Record<string, string> {
  return Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, crcOf(t.data)]));
}

function crcOf(data: StTensor['data']): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return (CRC32.buf(bytes) >>> 0).toString(16).padStart(8, '0');
}

/** Checkpoints written before checksums existed carry none and load as they did. */
function verifyChecksums(metadata: Record<string, string>, tensors: Record<string, StTensor>, source: string): void {
  if (metadata.checksums === undefined) return;
  let sums: Record<string, string>;
  try {
    sums = JSON.parse(metadata.checksums) as Record<string, string>;
  } catch {
    throw new CheckpointError(`${source} has unreadable checksums; the file is damaged, so resume from another checkpoint`);
  }
  for (const [name, t] of Object.entries(tensors)) {
    if (sums[name] !== undefined && sums[name] !== crcOf(t.data)) throw new CheckpointError(`${source} is damaged: tensor "${name}" does not match its checksum; use another checkpoint, or train afresh`);
  }
}

/** Every key of a checkpoint, for prediction: no step to fit, the self-describing keys parsed where present. */
export function readCheckpoint(bytes: Uint8Array, source: string): CheckpointFile {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  checkFormat(metadata, source);
  // A prediction from damaged weights would be wrong without a word: checked as a resume is.
  verifyChecksums(metadata, tensors, source);
  const json = (key: string): unknown => {
    if (metadata[key] === undefined) return undefined;
    try {
      return JSON.parse(metadata[key]) as unknown;
    } catch {
      throw new CheckpointError(`${source} has unreadable ${key} metadata`);
    }
  };
  return {
    source,
    tensors,
    step: Number(metadata.step),
    config: (json('config') ?? {}) as Record<string, unknown>,
    experiment: metadata.experiment,
    data: json('data') as CheckpointData | undefined,
    schema: json('schema'),
  };
}

/**
 * Writes a checkpoint's parameters into a step that holds only parameters (a forward-only step
 * for prediction); the optimizer's moments and metric sums are not read. Says what does not fit.
 */
export function loadWeights(file: CheckpointFile, step: CompiledStep): void {
  const problems: string[] = [];
  const params = step.graph.tensors.filter((t) => t.kind === 'param');
  for (const t of params) {
    const c = file.tensors[t.name];
    if (!c) problems.push(`"${t.name}" [${t.shape.join(', ')}] is missing`);
    else if (c.dtype !== 'F32') problems.push(`"${t.name}" is ${c.dtype}, expected F32`);
    else if (c.shape.join() !== t.shape.join()) problems.push(`"${t.name}" is [${c.shape.join(', ')}], the model has [${t.shape.join(', ')}]`);
  }
  if (problems.length) throw new CheckpointError(`${file.source} does not fit the model its config describes: ${problems.join('; ')}`);
  for (const t of params) step.write(t, file.tensors[t.name].data as Float32Array);
}

function checkFormat(metadata: Record<string, string>, source: string): void {
  if (metadata.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${source} is not a shadertrain checkpoint (format "${metadata.format ?? 'none'}", expected "${CHECKPOINT_FORMAT}")`);
}
