// One user's view of the trained recommender (the page's "top items"), on the host from the
// weights read back once: every item's factorization score (which ranks items, as the
// evaluation's MRR does) and the regression head's predicted rating. Small work: items × (dim +
// the MLP) multiply-adds.
import type { InspectView } from '../../experiments/types.ts';
import type { RecommenderConfig } from './config.ts';
import type { RatingRows, RecommenderData, Split } from './split.ts';
import type { RecommenderTrainer } from './trainer.ts';

export interface TopItem {
  item: number;
  title: string | null;
  /** Factorization score u·q + a_u + b_i, which ranks the items. */
  score: number;
  /** The regression head's predicted rating. */
  predicted: number;
}

export interface RatedItem {
  item: number;
  title: string | null;
  rating: number;
  predicted: number;
  /** Its place among the items the user did not rate in training (1 = top), by the ranking score. */
  rank: number;
}

export interface UserView {
  user: number;
  top: TopItem[];
  rated: RatedItem[];
  /** Users with held-out ratings (the ones worth looking at first). */
  users: number;
}

export const TOP_ITEMS: InspectView<RecommenderTrainer, RecommenderData> = {
  name: 'top-items',
  open: async (_gpu, trainer, data) => ({
    show: async (user) => {
      if (!(Number.isInteger(user) && user >= 0 && user < trainer.tables.users)) {
        throw new RangeError(`user ${user} is not in the data: user ids go up to ${trainer.tables.users - 1}`);
      }
      const view = userView(user, trainer.config, await trainer.weights(), data.rows, trainer.split, data.titles);
      return { user, ...view, users: usersWithTestRatings(data.rows, trainer.split).length };
    },
    close: () => undefined,
  }),
};

function weight(w: Map<string, Float32Array>, name: string): Float32Array {
  const t = w.get(name);
  if (!t) throw new Error(`the model has no weight "${name}"`);
  return t;
}

function userView(
  user: number,
  config: RecommenderConfig,
  weights: Map<string, Float32Array>,
  data: RatingRows,
  split: Split,
  titles: Map<number, string> | null,
  count = 10,
): Pick<UserView, 'top' | 'rated'> {
  const d = config.embeddingDim;
  const head = (h: 'factorization' | 'regression'): string => (config.sharedEmbeddings ? '' : `${h}.`);
  const uF = weight(weights, `${head('factorization')}user_embeddings`).subarray(user * d, (user + 1) * d);
  const qF = weight(weights, `${head('factorization')}item_embeddings`);
  const uR = weight(weights, `${head('regression')}user_embeddings`).subarray(user * d, (user + 1) * d);
  const qR = weight(weights, `${head('regression')}item_embeddings`);
  const userBias = weight(weights, 'user_biases')[user];
  const itemBias = weight(weights, 'item_biases');
  const items = itemBias.length;

  // Items that exist (rated by someone) and that the user did not rate in training.
  const known = new Uint8Array(items);
  for (let i = 0; i < data.count; i++) known[data.items[i]] = 1;
  const seen = new Uint8Array(items);
  for (const row of split.train) if (data.users[row] === user) seen[data.items[row]] = 1;

  const score = new Float64Array(items);
  for (let i = 0; i < items; i++) {
    let s = userBias + itemBias[i];
    for (let k = 0; k < d; k++) s += uF[k] * qF[i * d + k];
    score[i] = s;
  }
  const mlp = regressionMlp(config, weights);
  const predict = (item: number): number => mlp(uR, qR.subarray(item * d, (item + 1) * d));

  const candidates: number[] = [];
  for (let i = 0; i < items; i++) if (known[i] && !seen[i]) candidates.push(i);
  candidates.sort((a, b) => score[b] - score[a] || a - b);
  const title = (i: number): string | null => titles?.get(i) ?? null;
  const top = candidates.slice(0, count).map((item) => ({ item, title: title(item), score: score[item], predicted: predict(item) }));

  const rated: RatedItem[] = [];
  for (const row of split.test) {
    if (data.users[row] !== user) continue;
    const item = data.items[row];
    let higher = 0;
    for (const c of candidates) if (score[c] > score[item]) higher++;
    rated.push({ item, title: title(item), rating: data.ratings[row], predicted: predict(item), rank: higher + 1 });
  }
  rated.sort((a, b) => a.rank - b.rank);
  return { top, rated };
}

/** The regression head MLP([u, q, u⊙q]) in float64; Linear weights are stored [in, out]. */
function regressionMlp(config: RecommenderConfig, weights: Map<string, Float32Array>): (u: Float32Array, q: Float32Array) => number {
  const widths = [...config.layerSizes, 1];
  const layers = widths.slice(0, -1).map((_, l) => ({ w: weight(weights, `mlp.${l}.weight`), b: weight(weights, `mlp.${l}.bias`), inW: widths[l], outW: widths[l + 1] }));
  return (u, q) => {
    const d = u.length;
    let x = new Float64Array(3 * d);
    for (let k = 0; k < d; k++) {
      x[k] = u[k];
      x[d + k] = q[k];
      x[2 * d + k] = u[k] * q[k];
    }
    layers.forEach((L, l) => {
      const y = new Float64Array(L.outW);
      for (let o = 0; o < L.outW; o++) {
        let s = L.b[o];
        for (let i = 0; i < L.inW; i++) s += x[i] * L.w[i * L.outW + o];
        y[o] = l < layers.length - 1 ? Math.max(0, s) : s;
      }
      x = y;
    });
    const out = x[0];
    return config.clipPredictedRating ? 5 / (1 + Math.exp(-out)) : out;
  };
}

/** The users who have at least one held-out rating. */
function usersWithTestRatings(data: RatingRows, split: Split): number[] {
  const set = new Set<number>();
  for (const row of split.test) set.add(data.users[row]);
  return [...set].sort((a, b) => a - b);
}
