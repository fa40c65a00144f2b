// Recommender prediction from a checkpoint and the ratings it was trained on: the checkpoint's
// config and the ratings rebuild the tables and the seeded split (so the items each user rated in
// training are known), and the evaluation graph itself, with the same number of pairs, runs the
// requests, so a predicted rating and the scores the top items are ranked by are evaluation's,
// bit for bit, on the same adapter. Ids are table rows as in training; an id no rating has is
// unknown. Browser-safe: `shadertrain predict` and the page both call it.
import { DataError } from '../../data/errors.ts';
import type { PredictFile, Predictor, PredictSink } from '../../experiments/types.ts';
import type { Gpu } from '../../gpu/context.ts';
import { StagingRing } from '../../gpu/readback.ts';
import { loadWeights, type CheckpointFile } from '../../graph/checkpoint.ts';
import { CompiledStep } from '../../graph/compile.ts';
import { ratedMask } from '../../graph/rated-mask.ts';
import { Rng } from '../../random.ts';
import { RECOMMENDER_DEFAULTS, type RecommenderConfig } from './config.ts';
import { evalGraph, Recommender, type EvalGraph, type Tables } from './model.ts';
import { readPairs, readTitles, trainingRatings } from './predict-input.ts';
import { splitRows, tableSizes, type RatingRows } from './split.ts';

export interface Recommendation {
  item: number;
  /** The regression head's predicted rating. */
  predicted: number;
  /** The factorization score u·q + a_u + b_i (u·q + b_i as evaluation computes it, plus a_u). */
  score: number;
}

/** A recommender checkpoint on the GPU with its training data's tables, split and rated set. */
export class RecommenderPredictor {
  private constructor(
    readonly config: RecommenderConfig,
    readonly tables: Tables,
    /** 1 for ids some rating has (in training or held out). */
    readonly knownUsers: Uint8Array,
    readonly knownItems: Uint8Array,
    /** Per user, the items rated in training. */
    private readonly trained: Map<number, Set<number>>,
    private readonly rated: Uint32Array,
    private readonly userBiases: Float32Array,
    private readonly ev: { graph: EvalGraph; step: CompiledStep; pairs: number },
    private readonly ring: StagingRing,
  ) {}

  static async open(gpu: Gpu, file: CheckpointFile, data: RatingRows): Promise<RecommenderPredictor> {
    const config = { ...RECOMMENDER_DEFAULTS, ...file.config } as RecommenderConfig;
    const tables = tableSizes(data);
    // The split training made: its generator's first draws.
    const split = splitRows(data.count, config.testFraction, new Rng(config.seed));
    const trainUsers = Uint32Array.from(split.train, (r) => data.users[r]);
    const trainItems = Uint32Array.from(split.train, (r) => data.items[r]);
    const trained = new Map<number, Set<number>>();
    for (let i = 0; i < trainUsers.length; i++) {
      let s = trained.get(trainUsers[i]);
      if (!s) trained.set(trainUsers[i], (s = new Set()));
      s.add(trainItems[i]);
    }
    const knownUsers = new Uint8Array(tables.users);
    const knownItems = new Uint8Array(tables.items);
    for (let i = 0; i < data.count; i++) {
      knownUsers[data.users[i]] = 1;
      knownItems[data.items[i]] = 1;
    }
    // The initial weights are drawn only to be overwritten by the checkpoint's.
    const model = new Recommender(config, tables, new Rng(0));
    // Evaluation's graph for its own number of pairs: the same kernels, the same bits.
    const pairs = split.test.length;
    const graph = evalGraph(model, pairs);
    const ring = new StagingRing(gpu);
    let step: CompiledStep | undefined;
    try {
      step = await CompiledStep.create(gpu, graph.g);
      loadWeights(file, step);
      const biases = file.tensors.user_biases.data as Float32Array;
      return new RecommenderPredictor(config, tables, knownUsers, knownItems, trained, ratedMask(trainUsers, trainItems, tables), biases, { graph, step, pairs }, ring);
    } catch (err) {
      step?.destroy();
      ring.destroy();
      throw err;
    }
  }

  /** Items the user rated in training. */
  ratedInTraining(user: number): ReadonlySet<number> {
    return this.trained.get(user) ?? new Set();
  }

  /** Runs one batch of at most `pairs` pairs (the rest padded with the first): one upload, one submission. */
  private runBatch(users: ArrayLike<number>, items: ArrayLike<number>, at: number, n: number): void {
    const P = this.ev.pairs;
    const u = new Uint32Array(P).fill(users[at]);
    const q = new Uint32Array(P).fill(items[at]);
    for (let i = 0; i < n; i++) {
      u[i] = users[at + i];
      q[i] = items[at + i];
    }
    this.ev.step.feed({ users: u, items: q, rated: this.rated });
    this.ev.step.run();
  }

  /** Predicted ratings of (user, item) pairs of known ids: one readback per batch of pairs. */
  async ratings(users: ArrayLike<number>, items: ArrayLike<number>): Promise<Float32Array> {
    const out = new Float32Array(users.length);
    const P = this.ev.pairs;
    for (let at = 0; at < users.length; at += P) {
      const n = Math.min(P, users.length - at);
      this.runBatch(users, items, at, n);
      out.set(((await this.ev.step.read(this.ring, this.ev.graph.predictions)) as Float32Array).subarray(0, n), at);
    }
    return out;
  }

  /** Every item's score u·q + b_i for a known user: the row of evaluation's product its ranks come from. */
  async scores(user: number): Promise<Float32Array> {
    this.runBatch([user], [0], 0, 1);
    const I = this.tables.items;
    return (await this.ev.step.read(this.ring, this.ev.graph.scores, user * I, I)) as Float32Array;
  }

  /** The user's `n` best-scored items among the known items not rated in training, best first (ties: lower id first). */
  async top(user: number, n: number): Promise<Recommendation[]> {
    const scores = await this.scores(user);
    const seen = this.ratedInTraining(user);
    const candidates: number[] = [];
    for (let i = 0; i < this.tables.items; i++) if (this.knownItems[i] && !seen.has(i)) candidates.push(i);
    candidates.sort((a, b) => scores[b] - scores[a] || a - b);
    const best = candidates.slice(0, n);
    if (best.length === 0) return [];
    const predicted = await this.ratings(new Array<number>(best.length).fill(user), best);
    const a = this.userBiases[user];
    return best.map((item, k) => ({ item, predicted: predicted[k], score: Math.fround(scores[item] + a) }));
  }

  destroy(): void {
    this.ev.step.destroy();
    this.ring.destroy();
  }
}

function known(flags: Uint8Array, id: number): boolean {
  return Number.isSafeInteger(id) && id >= 0 && id < flags.length && flags[id] === 1;
}

/** The id range of a known-ids table, for messages: "1 to 943". */
function idRange(flags: Uint8Array): string {
  const first = flags.indexOf(1);
  return `${first} to ${flags.lastIndexOf(1)}`;
}

export const RECOMMENDER_PREDICTOR: Predictor = {
  about:
    "A user's top items with --user ID (the N best-scored items they did not rate in training),\nor each (user, item) pair's predicted rating with --pairs. Needs --data, the ratings the model\nwas trained on (checked against the checkpoint's fingerprint): it rebuilds the split, and so\nthe items each user rated in training. Rows are CSV on stdout, or JSON Lines with --json.",
  examples: [
    { args: '--checkpoint rec.safetensors --data ml-100k --user 42 --top 5', does: "user 42's five best items they have not rated, titles from ml-100k/u.item" },
    { args: '--checkpoint rec.safetensors --data ml-1m.zip --pairs ratings.csv --json', does: "each (user, item) line's predicted rating, as JSON Lines" },
  ],
  flags: [
    { key: 'data', flag: 'data', type: 'files', arg: 'PATH', help: 'the ratings the model was trained on: the file, its zip or its folder', label: 'Training ratings' },
    { key: 'user', flag: 'user', type: 'int', min: 0, arg: 'ID', help: "the user whose top items to list (an id of the ratings' user column)", label: 'User id' },
    { key: 'top', flag: 'top', type: 'int', min: 1, arg: 'N', help: 'how many items --user lists', label: 'Items to list' },
    { key: 'pairs', flag: 'pairs', type: 'file', arg: 'FILE', help: "a user id and an item id per line (comma, tab, spaces or '::'\nbetween; more fields are not read): each pair's predicted rating", label: 'Pairs (user, item)' },
    { key: 'titles', flag: 'titles', type: 'file', arg: 'FILE', help: "the items' titles: u.item, movies.dat or movies.csv (default: the\none beside the ratings, if any)", label: 'Titles' },
  ],
  defaults: { top: 10 },
  async predict(gpu: Gpu, file: CheckpointFile, values: Record<string, unknown>, out: PredictSink): Promise<void> {
    const user = values.user as number | undefined;
    const pairsFile = values.pairs as PredictFile[] | undefined;
    if (user !== undefined && pairsFile) throw new DataError('--user and --pairs cannot be combined; give one.');
    if (user === undefined && !pairsFile) throw new DataError("predict needs --user ID (that user's top items) or --pairs FILE (a rating per user and item).");
    const dataFiles = values.data as PredictFile[] | undefined;
    if (!dataFiles?.length) {
      throw new DataError(`predict needs --data PATH, the ratings ${file.source} was trained on${file.data ? ` (it records ${file.data.source})` : ''}: they give the items each user rated in training.`);
    }
    const data = await trainingRatings(dataFiles, file, (l) => out.note(l));
    const titlesFile = values.titles as PredictFile[] | undefined;
    const titles = titlesFile ? readTitles(titlesFile[0]) : data.titles;
    const title = (item: number): string => titles?.get(item) ?? '';
    const p = await RecommenderPredictor.open(gpu, file, data.rows);
    try {
      if (user !== undefined) {
        if (!known(p.knownUsers, user)) throw new DataError(`--user ${user} has no ratings in the data the model was trained on; give a user id from ${idRange(p.knownUsers)} that has some.`);
        const top = await p.top(user, values.top as number);
        out.columns(['user', 'rank', 'item', ...(titles ? ['title'] : []), 'predicted_rating', 'score']);
        out.rows(top.map((r, k) => [user, k + 1, r.item, ...(titles ? [title(r.item)] : []), r.predicted, r.score]));
        return;
      }
      const pairs = readPairs((pairsFile as PredictFile[])[0]);
      const name = (pairsFile as PredictFile[])[0].name;
      pairs.users.forEach((u, k) => {
        const q = pairs.items[k];
        if (!known(p.knownUsers, u)) throw new DataError(`${name} line ${pairs.lines[k]}: user ${u} has no ratings in the data the model was trained on; give a user id from ${idRange(p.knownUsers)} that has some.`);
        if (!known(p.knownItems, q)) throw new DataError(`${name} line ${pairs.lines[k]}: item ${q} has no ratings in the data the model was trained on; give an item id from ${idRange(p.knownItems)} that has some.`);
      });
      const predicted = await p.ratings(pairs.users, pairs.items);
      out.columns(['user', 'item', ...(titles ? ['title'] : []), 'predicted_rating']);
      out.rows(pairs.users.map((u, k) => [u, pairs.items[k], ...(titles ? [title(pairs.items[k])] : []), predicted[k]]));
    } finally {
      p.destroy();
    }
  },
};
