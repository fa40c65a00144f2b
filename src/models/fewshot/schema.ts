// What a few-shot checkpoint says about a prediction's images (metadata key `schema`): the side
// the drawings were resized to, the filter, and whether the pixels were binary (0 or 255), so
// that new PNGs go through the same preprocessing as the training set's. Browser-safe.
import type { OmniglotSet, ResizeFilter } from '../../data/omniglot-set.ts';
import { CheckpointError, type CheckpointFile } from '../../graph/checkpoint.ts';
import type { FewshotConfig } from './config.ts';
import type { InputPath } from './model.ts';

export interface FewshotSchema {
  /** Images are side×side. */
  side: number;
  /** How drawings were resized to side×side (nearest: the course's binary set). */
  filter: ResizeFilter;
  /** Every training pixel was 0 or 255: new images are binarized too. */
  binary: boolean;
}

export function schemaOfSet(set: OmniglotSet): FewshotSchema {
  return { side: set.side, filter: set.filter, binary: set.binary };
}

/** The first layer's input path a config takes on a set: the embedding bag for binary images unless told otherwise. */
export function inputPathOf(config: Pick<FewshotConfig, 'input'>, binary: boolean): InputPath {
  return config.input === 'auto' ? (binary ? 'bags' : 'dense') : config.input;
}

/** The image schema of a few-shot checkpoint, or a sentence saying what is missing. */
export function fewshotSchemaFrom(file: CheckpointFile): FewshotSchema {
  const s = file.schema as Partial<FewshotSchema> | undefined;
  if (!s) {
    throw new CheckpointError(
      `${file.source} has no image schema (the side, resize filter and binary flag of its training images; it was written before few-shot checkpoints described their images); resume it with --resume and --checkpoint for one more step to write one that does`,
    );
  }
  const missing = (['side', 'filter', 'binary'] as const).filter((k) => s[k] === undefined);
  if (missing.length) throw new CheckpointError(`${file.source}'s image schema lacks ${missing.join(', ')}; write the checkpoint again with this version of shadertrain`);
  return s as FewshotSchema;
}
