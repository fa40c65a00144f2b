// One meta-test episode through the trained few-shot network (the page's "episode" view): a
// forward-only step with a batch of one episode, compiled once per run, whose weights are
// written from the trainer's checkpoint bytes each time (so the trainer, its generator and its
// buffers are not touched).
import type { OmniglotSet } from '../../data/omniglot-set.ts';
import type { CharacterSplit } from '../../data/omniglot-split.ts';
import type { InspectView } from '../../experiments/types.ts';
import type { Gpu } from '../../gpu/context.ts';
import { StagingRing } from '../../gpu/readback.ts';
import { CompiledStep } from '../../graph/compile.ts';
import type { Tensor } from '../../graph/graph.ts';
import { decodeSafetensors } from '../../log/safetensors.ts';
import { Rng } from '../../random.ts';
import type { FewshotConfig } from './config.ts';
import { ImageBank, sampleEpisodes, type EpisodeShape } from './episodes.ts';
import { FewshotNet, buildFewshotGraph, type InputPath } from './model.ts';
import type { FewshotTrainer } from './trainer.ts';

export interface EpisodeView {
  numClasses: number;
  numShot: number;
  side: number;
  /** Support images [K][N] (class c's k-th drawing), then queries [N], each side·side ink bytes. */
  support: Uint8Array[];
  queries: Uint8Array[];
  /** The true class of each query, the predicted class, and the predicted probabilities. */
  truth: number[];
  predicted: number[];
  probabilities: number[][];
  /** Character names, by class. */
  names: string[];
}

export const EPISODE: InspectView<FewshotTrainer, OmniglotSet> = {
  name: 'episode',
  open: async (gpu, trainer, set) => {
    const viewer = await EpisodeViewer.create(gpu, set, trainer.split, trainer.config, trainer.path);
    return { show: async (seed) => viewer.show(await trainer.checkpoint(), seed), close: () => viewer.destroy() };
  },
};

class EpisodeViewer {
  private constructor(
    private readonly set: OmniglotSet,
    private readonly split: CharacterSplit,
    private readonly shape: EpisodeShape,
    private readonly step: CompiledStep,
    private readonly params: Map<string, Tensor>,
    private readonly logits: Tensor,
    private readonly ring: StagingRing,
  ) {}

  static async create(gpu: Gpu, set: OmniglotSet, split: CharacterSplit, config: FewshotConfig, path: InputPath): Promise<EpisodeViewer> {
    const shape = { numClasses: config.numClasses, numShot: config.numShot, hidden: config.hidden, batch: 1 };
    const bank = new ImageBank(set);
    // Placeholder values with the right shapes: the trained ones are written before every run.
    const net = new FewshotNet(new Rng(0), config.numClasses, config.hidden, bank.pixels);
    const fg = buildFewshotGraph(shape, bank, net, path, false);
    const logits = fg.g.keep(fg.logits);
    const ring = new StagingRing(gpu);
    try {
      const step = await CompiledStep.create(gpu, fg.g);
      return new EpisodeViewer(set, split, shape, step, fg.params, logits, ring);
    } catch (err) {
      ring.destroy();
      throw err;
    }
  }

  /** A fresh meta-test episode (drawn from its own generator, seeded by `seed`) with the predictions of the checkpoint's weights. */
  async show(checkpoint: Uint8Array, seed: number): Promise<EpisodeView> {
    const { tensors } = decodeSafetensors(checkpoint, 'the current weights');
    for (const [name, t] of this.params) {
      const src = tensors[name];
      if (!src) throw new Error(`the checkpoint has no weight "${name}"`);
      this.step.write(t, src.data as Float32Array);
    }
    const { set, shape } = this;
    const episodes = sampleEpisodes(new Rng(seed), this.split.test, set.drawings, shape);
    this.step.feed({ episodes });
    this.step.run();
    const logits = (await this.step.read(this.ring, this.logits)) as Float32Array;
    const { numClasses: N, numShot: K } = shape;
    const P = set.side * set.side;
    const image = (row: number): Uint8Array => set.pixels.slice(episodes[2 * row] * P, (episodes[2 * row] + 1) * P);
    const support: Uint8Array[] = [];
    const names: string[] = new Array<string>(N).fill('');
    for (let r = 0; r < K * N; r++) {
      support.push(image(r));
      names[episodes[2 * r + 1]] = set.names[Math.floor(episodes[2 * r] / set.drawings)] ?? '';
    }
    const queries: Uint8Array[] = [];
    const truth: number[] = [];
    const predicted: number[] = [];
    const probabilities: number[][] = [];
    for (let j = 0; j < N; j++) {
      const r = K * N + j;
      queries.push(image(r));
      truth.push(episodes[2 * r + 1]);
      const row = Array.from(logits.subarray(r * N, (r + 1) * N));
      const max = Math.max(...row);
      const exp = row.map((v) => Math.exp(v - max));
      const sum = exp.reduce((a, b) => a + b, 0);
      const p = exp.map((v) => v / sum);
      probabilities.push(p);
      predicted.push(p.indexOf(Math.max(...p)));
    }
    return { numClasses: N, numShot: K, side: set.side, support, queries, truth, predicted, probabilities, names };
  }

  destroy(): void {
    this.step.destroy();
    this.ring.destroy();
  }
}
