// Few-shot prediction from a checkpoint alone: new characters classified from a few examples.
// Each query gets one episode of the checkpoint's N-way K-shot shape: the support images in the
// training's order (shot-major, classes in order) with their labels, then the query in the first
// query position. The LSTMs are causal, so what fills the later query positions (the query
// again) cannot change its logits. Batches of evaluation's size run through the evaluation's own
// graph (buildFewshotGraph, forward only), so a query's logits are what evaluation computes for
// the same episode, bit for bit, on the same adapter. Browser-safe: `shadertrain predict` and
// the page both call it.
import type { OmniglotSet } from '../../data/omniglot-set.ts';
import { DataError } from '../../data/errors.ts';
import type { PredictFile, Predictor, PredictSink } from '../../experiments/types.ts';
import type { Gpu } from '../../gpu/context.ts';
import { StagingRing } from '../../gpu/readback.ts';
import { loadWeights, type CheckpointFile } from '../../graph/checkpoint.ts';
import { CompiledStep } from '../../graph/compile.ts';
import type { Tensor } from '../../graph/graph.ts';
import { Rng } from '../../random.ts';
import { FEWSHOT_DEFAULTS, type FewshotConfig } from './config.ts';
import { episodeWords, ImageBank, type EpisodeShape } from './episodes.ts';
import { buildFewshotGraph, FewshotNet } from './model.ts';
import { ImagePreprocessor, readQueries, readSupport } from './predict-input.ts';
import { fewshotSchemaFrom, inputPathOf, type FewshotSchema } from './schema.ts';

/** A few-shot checkpoint's network compiled over one support set and its queries. */
export class FewshotPredictor {
  private constructor(
    readonly config: FewshotConfig,
    private readonly shape: EpisodeShape,
    private readonly queries: number,
    private readonly step: CompiledStep,
    private readonly logitsTensor: Tensor,
    private readonly ring: StagingRing,
  ) {}

  /**
   * `support[c][k]`: class c's k-th image, `queries`: the images to classify, each side×side ink
   * (0..255) preprocessed as the schema says (see ImagePreprocessor).
   */
  static async open(gpu: Gpu, file: CheckpointFile, support: readonly (readonly Uint8Array[])[], queries: readonly Uint8Array[]): Promise<FewshotPredictor> {
    const schema = fewshotSchemaFrom(file);
    const config = { ...FEWSHOT_DEFAULTS, ...file.config } as FewshotConfig;
    const { numClasses: N, numShot: K, hidden: H, evalBatch: B } = config;
    const P = schema.side * schema.side;
    if (support.length !== N || support.some((s) => s.length !== K)) throw new DataError(`the support set must hold ${N} classes of ${K} images each, as the model was trained`);
    if (queries.length === 0) throw new DataError('there are no query images to classify');
    const images = [...support.flat(), ...queries];
    if (images.some((im) => im.length !== P)) throw new DataError(`every image must be ${schema.side}×${schema.side} after preprocessing`);
    // The images as a set of one character with a drawing per image: the bank the graph reads.
    const pixels = new Uint8Array(images.length * P);
    images.forEach((im, i) => pixels.set(im, i * P));
    const set: OmniglotSet = { characters: 1, drawings: images.length, side: schema.side, filter: schema.filter, binary: schema.binary, pixels, names: [] };
    const bank = new ImageBank(set);
    // The initial weights are drawn only to be overwritten by the checkpoint's.
    const net = new FewshotNet(new Rng(0), N, H, P);
    const shape = { numClasses: N, numShot: K, hidden: H, batch: B };
    const fg = buildFewshotGraph(shape, bank, net, inputPathOf(config, schema.binary), false);
    const logits = fg.g.keep(fg.logits);
    const ring = new StagingRing(gpu);
    let step: CompiledStep | undefined;
    try {
      step = await CompiledStep.create(gpu, fg.g);
      loadWeights(file, step);
      return new FewshotPredictor(config, shape, queries.length, step, logits, ring);
    } catch (err) {
      step?.destroy();
      ring.destroy();
      throw err;
    }
  }

  /** Each query's logits [queries × N]: one upload, one submission and one readback per batch of evaluation's size. */
  async logits(): Promise<Float32Array> {
    const { numClasses: N, numShot: K, batch: B } = this.shape;
    const S = N * K;
    const Q = this.queries;
    const out = new Float32Array(Q * N);
    const words = new Uint32Array(episodeWords(this.shape));
    const first = K * N * B; // the first query position's rows
    for (let at = 0; at < Q; at += B) {
      const n = Math.min(B, Q - at);
      for (let b = 0; b < B; b++) {
        // Past the last query, the batch's first again (a full batch, as evaluation runs).
        const query = S + at + (b < n ? b : 0);
        for (let k = 0; k < K; k++) {
          for (let c = 0; c < N; c++) {
            const r = (k * N + c) * B + b;
            words[2 * r] = c * K + k;
            words[2 * r + 1] = c;
          }
        }
        for (let j = 0; j < N; j++) {
          const r = (K * N + j) * B + b;
          words[2 * r] = query;
          words[2 * r + 1] = 0;
        }
      }
      this.step.feed({ episodes: words });
      this.step.run();
      const l = (await this.step.read(this.ring, this.logitsTensor, first * N, n * N)) as Float32Array;
      out.set(l, at * N);
    }
    return out;
  }

  destroy(): void {
    this.step.destroy();
    this.ring.destroy();
  }
}

/** A softmax over one query's logits, in float64 (printed as float32): the class probabilities. */
export function probabilities(logits: ArrayLike<number>): number[] {
  const row = Array.from(logits);
  const max = Math.max(...row);
  const exp = row.map((v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((v) => Math.fround(v / sum));
}

/** The class with the largest logit (the lower class on a tie). */
export function predictedClass(logits: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < logits.length; c++) if (logits[c] > logits[best]) best = c;
  return best;
}

/** The checkpoint's image schema and episode shape, for the front end's messages and the page's form. */
export function fewshotShape(file: CheckpointFile): { schema: FewshotSchema; numClasses: number; numShot: number } {
  const config = { ...FEWSHOT_DEFAULTS, ...file.config } as FewshotConfig;
  return { schema: fewshotSchemaFrom(file), numClasses: config.numClasses, numShot: config.numShot };
}

export const FEWSHOT_PREDICTOR: Predictor = {
  about:
    "Classifies new drawings from a few labelled examples: --support DIR holds one sub-folder\nper class (its name is the class) with K PNG images each, for the checkpoint's N-way K-shot;\n--query gives the images to classify. Any PNG size: each goes through training's preprocessing\n(resized to the training side, binarized if training's images were). One row per query: its\nclass and each class's probability, CSV on stdout or JSON Lines with --json.",
  examples: [
    { args: '--checkpoint fs.safetensors --support letters/ --query new/', does: 'each image in new/ classified among the sub-folders of letters/' },
  ],
  flags: [
    { key: 'support', flag: 'support', type: 'files', arg: 'DIR', help: 'one sub-folder per class, K PNG images in each (files sorted by name\nare shots 1..K)', label: 'Support set (a folder of class folders)' },
    { key: 'query', flag: 'query', type: 'files', arg: 'FILES', help: 'PNG images to classify: files, comma-separated, or a folder', label: 'Query images' },
  ],
  defaults: {},
  async predict(gpu: Gpu, file: CheckpointFile, values: Record<string, unknown>, out: PredictSink): Promise<void> {
    const { schema, numClasses: N, numShot: K } = fewshotShape(file);
    const supportFiles = values.support as PredictFile[] | undefined;
    const queryFiles = values.query as PredictFile[] | undefined;
    if (!supportFiles) throw new DataError(`predict needs --support DIR: a folder with ${N} sub-folders (one per class) of ${K} PNG image${K === 1 ? '' : 's'} each.`);
    if (!queryFiles) throw new DataError('predict needs --query FILES: the PNG images to classify (files, comma-separated, or a folder).');
    const prep = new ImagePreprocessor(schema);
    const support = readSupport(supportFiles, prep, N, K);
    const queries = readQueries(queryFiles, prep);
    const p = await FewshotPredictor.open(gpu, file, support.images, queries);
    try {
      const logits = await p.logits();
      out.columns(['query', 'class', ...support.classes.map((c) => `${c}_probability`)]);
      out.rows(queryFiles.map((f, q) => {
        const row = logits.subarray(q * N, (q + 1) * N);
        return [f.name, support.classes[predictedClass(row)], ...probabilities(row)];
      }));
    } finally {
      p.destroy();
    }
  },
};
