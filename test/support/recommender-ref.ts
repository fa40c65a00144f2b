// A float64 reference of one training step of the CS330 homework 0 model, written the way the
// PyTorch original computes it (forward, hand-derived backward, torch.optim.Adam), for tests.
import type { RecommenderConfig } from '../../src/models/recommender/config.ts';

export type Params = Map<string, Float64Array>;

export interface RefBatch {
  users: ArrayLike<number>;
  pos: ArrayLike<number>;
  neg: ArrayLike<number>;
  ratings: ArrayLike<number>;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

function rowsOf(t: Float64Array, idx: ArrayLike<number>, d: number): Float64Array[] {
  return Array.from(idx, (i) => t.slice(i * d, (i + 1) * d));
}

function scatter(grad: Float64Array, idx: ArrayLike<number>, rows: Float64Array[], d: number): void {
  for (let k = 0; k < idx.length; k++) for (let j = 0; j < d; j++) grad[idx[k] * d + j] += rows[k][j];
}

/** Losses and gradients (weighted total) of one batch. */
export function refGradients(c: RecommenderConfig, p: Params, b: RefBatch): { lossF: number; lossR: number; grads: Params } {
  const d = c.embeddingDim;
  const n = b.users.length;
  const grads: Params = new Map([...p].map(([k, v]) => [k, new Float64Array(v.length)]));
  const name = (kind: string, head: string): string => (c.sharedEmbeddings ? `${kind}_embeddings` : `${head}.${kind}_embeddings`);
  const dot = (x: Float64Array, y: Float64Array): number => x.reduce((s, v, j) => s + v * y[j], 0);

  // Factorization head: scores and the ranking loss mean(1 - σ(pos - neg)).
  const U = p.get(name('user', 'factorization'))!;
  const Q = p.get(name('item', 'factorization'))!;
  const ub = p.get('user_biases')!;
  const ib = p.get('item_biases')!;
  const u = rowsOf(U, b.users, d);
  const qp = rowsOf(Q, b.pos, d);
  const qn = rowsOf(Q, b.neg, d);
  let lossF = 0;
  const gU = grads.get(name('user', 'factorization'))!;
  const gQ = grads.get(name('item', 'factorization'))!;
  for (let k = 0; k < n; k++) {
    const sp = dot(u[k], qp[k]) + ub[b.users[k]] + ib[b.pos[k]];
    const sn = dot(u[k], qn[k]) + ub[b.users[k]] + ib[b.neg[k]];
    const s = sigmoid(sp - sn);
    lossF += (1 - s) / n;
    const dsp = (-c.factorizationWeight * s * (1 - s)) / n;
    for (let j = 0; j < d; j++) {
      gU[b.users[k] * d + j] += dsp * (qp[k][j] - qn[k][j]);
      gQ[b.pos[k] * d + j] += dsp * u[k][j];
      gQ[b.neg[k] * d + j] -= dsp * u[k][j];
    }
    grads.get('item_biases')![b.pos[k]] += dsp;
    grads.get('item_biases')![b.neg[k]] -= dsp;
  }

  // Regression head: MLP([u, q, u⊙q]) with ReLU between layers, MSE against the rating.
  const UR = p.get(name('user', 'regression'))!;
  const QR = p.get(name('item', 'regression'))!;
  const ur = rowsOf(UR, b.users, d);
  const qr = rowsOf(QR, b.pos, d);
  const widths = [...c.layerSizes, 1];
  const acts: Float64Array[][] = [ur.map((x, k) => Float64Array.from([...x, ...qr[k], ...x.map((v, j) => v * qr[k][j])]))];
  for (let l = 0; l + 1 < widths.length; l++) {
    const W = p.get(`mlp.${l}.weight`)!;
    const bias = p.get(`mlp.${l}.bias`)!;
    const last = l + 2 === widths.length;
    acts.push(
      acts[l].map((x) =>
        Float64Array.from({ length: widths[l + 1] }, (_, o) => {
          let z = bias[o];
          for (let i = 0; i < widths[l]; i++) z += x[i] * W[i * widths[l + 1] + o];
          return last ? z : Math.max(0, z);
        }),
      ),
    );
  }
  const out = acts[acts.length - 1].map((z) => z[0]);
  const pred = out.map((z) => (c.clipPredictedRating ? 5 * sigmoid(z) : z));
  let lossR = 0;
  let delta = pred.map((y, k) => {
    lossR += (y - b.ratings[k]) ** 2 / n;
    const dy = (c.regressionWeight * 2 * (y - b.ratings[k])) / n;
    return Float64Array.of(c.clipPredictedRating ? dy * (y / 5) * (1 - y / 5) * 5 : dy);
  });
  for (let l = widths.length - 2; l >= 0; l--) {
    const W = p.get(`mlp.${l}.weight`)!;
    const gW = grads.get(`mlp.${l}.weight`)!;
    const gb = grads.get(`mlp.${l}.bias`)!;
    const prev = delta.map((dz, k) => {
      const x = acts[l][k];
      const dx = new Float64Array(widths[l]);
      for (let o = 0; o < widths[l + 1]; o++) {
        gb[o] += dz[o];
        for (let i = 0; i < widths[l]; i++) {
          gW[i * widths[l + 1] + o] += x[i] * dz[o];
          dx[i] += W[i * widths[l + 1] + o] * dz[o];
        }
      }
      // Through the ReLU that produced x (every layer but the input).
      return l > 0 ? dx.map((v, i) => (x[i] > 0 ? v : 0)) : dx;
    });
    delta = prev;
  }
  const dU = delta.map((dx, k) => Float64Array.from({ length: d }, (_, j) => dx[j] + dx[2 * d + j] * qr[k][j]));
  const dQ = delta.map((dx, k) => Float64Array.from({ length: d }, (_, j) => dx[d + j] + dx[2 * d + j] * ur[k][j]));
  scatter(grads.get(name('user', 'regression'))!, b.users, dU, d);
  scatter(grads.get(name('item', 'regression'))!, b.pos, dQ, d);
  return { lossF, lossR, grads };
}

/** torch.optim.Adam (no weight decay), step t ≥ 1, every parameter (dense). */
export function refAdam(p: Params, g: Params, m: Params, v: Params, t: number, lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): void {
  for (const [k, w] of p) {
    const gk = g.get(k)!;
    const mk = m.get(k)!;
    const vk = v.get(k)!;
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    for (let i = 0; i < w.length; i++) {
      mk[i] = b1 * mk[i] + (1 - b1) * gk[i];
      vk[i] = b2 * vk[i] + (1 - b2) * gk[i] * gk[i];
      w[i] -= (lr / bc1) * (mk[i] / (Math.sqrt(vk[i]) / Math.sqrt(bc2) + eps));
    }
  }
}
