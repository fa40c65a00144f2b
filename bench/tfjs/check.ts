// `npx tsx bench/tfjs/check.ts [--only recommender|fewshot|mmoe] [--steps N] [--warmup N] [--unshared] [--classes N] [--shot K] [--batch B] [--hidden H]`
// (--unshared: separate tables per recommender head; --classes/--shot/--batch/--hidden: the few-shot model)
// Builds the TF.js WebGPU recommender, few-shot and MMoE models, checks each one's initial loss and
// gradients against float64 references computed here by hand from the same initial values,
// checks that the steps change the loss, stay finite and leak no tensors, then prints ms per
// step after warm-up.
import { parseArgs } from 'node:util';
import { tf } from './backend.ts';
import { createTfjsFewshot, fewshotHost, IMAGE_SIZE, type FewshotConfig, type FewshotHost } from './fewshot.ts';
import { createTfjsMmoe, mmoeHost, type MmoeHost } from './multitask.ts';
import { createTfjsRecommender, FACTORIZATION_WEIGHT, recommenderHost, REGRESSION_WEIGHT, type RecommenderConfig, type RecommenderHost } from './recommender.ts';
import { worstMismatch } from '../../src/tolerance.ts';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

type Grads = Record<string, Float64Array>;

/** Loss and its gradient in float64, by hand: the reference for the TF.js model's first step. */
function recommender64(h: RecommenderHost): { loss: number; grads: Grads } {
  const { dim: D, hidden: Hd, batch: B, shared } = h.cfg;
  const p = h.params;
  const zeros = (n: number): Float64Array => new Float64Array(n);
  const grads: Grads = {};
  for (const [k, v] of Object.entries(p)) grads[k] = zeros(v.length);
  const [U2, Q2] = shared ? [p.U, p.Q] : [p.U2, p.Q2];
  const [gU2, gQ2] = shared ? [grads.U, grads.Q] : [grads.U2, grads.Q2];
  const wf = FACTORIZATION_WEIGHT / B;
  const wr = REGRESSION_WEIGHT / B;
  let lf = 0;
  let lr = 0;
  for (let r = 0; r < B; r++) {
    const u = h.users[r];
    const pos = h.positives[r];
    const neg = h.negatives[r];
    const score = (item: number): number => {
      let s = p.A[u] + p.B[item];
      for (let d = 0; d < D; d++) s += p.U[u * D + d] * p.Q[item * D + d];
      return s;
    };
    // Factorization: 1 - sigmoid(s_pos - s_neg).
    const sg = sigmoid(score(pos) - score(neg));
    lf += 1 - sg;
    const dd = -sg * (1 - sg) * wf;
    for (let d = 0; d < D; d++) {
      grads.U[u * D + d] += dd * (p.Q[pos * D + d] - p.Q[neg * D + d]);
      grads.Q[pos * D + d] += dd * p.U[u * D + d];
      grads.Q[neg * D + d] -= dd * p.U[u * D + d];
    }
    // a_u cancels in s_pos - s_neg: its gradient stays zero.
    grads.B[pos] += dd;
    grads.B[neg] -= dd;
    // Regression: relu([u, q, u*q]·W1 + b1)·W2 + b2 against the rating.
    const x = zeros(3 * D);
    for (let d = 0; d < D; d++) {
      x[d] = U2[u * D + d];
      x[D + d] = Q2[pos * D + d];
      x[2 * D + d] = x[d] * x[D + d];
    }
    const z = zeros(Hd);
    let pred = p.b2[0];
    for (let j = 0; j < Hd; j++) {
      z[j] = p.b1[j];
      for (let i = 0; i < 3 * D; i++) z[j] += x[i] * p.W1[i * Hd + j];
      pred += Math.max(z[j], 0) * p.W2[j];
    }
    lr += (h.ratings[r] - pred) ** 2;
    const dp = -2 * (h.ratings[r] - pred) * wr;
    grads.b2[0] += dp;
    const dx = zeros(3 * D);
    for (let j = 0; j < Hd; j++) {
      grads.W2[j] += dp * Math.max(z[j], 0);
      const dz = z[j] > 0 ? dp * p.W2[j] : 0;
      grads.b1[j] += dz;
      for (let i = 0; i < 3 * D; i++) {
        grads.W1[i * Hd + j] += dz * x[i];
        dx[i] += dz * p.W1[i * Hd + j];
      }
    }
    for (let d = 0; d < D; d++) {
      gU2[u * D + d] += dx[d] + dx[2 * D + d] * x[D + d];
      gQ2[pos * D + d] += dx[D + d] + dx[2 * D + d] * x[d];
    }
  }
  return { loss: FACTORIZATION_WEIGHT * (lf / B) + REGRESSION_WEIGHT * (lr / B), grads };
}

interface LstmTape {
  xs: Float64Array[];
  gates: Float64Array[]; // activated i, f, g, o
  cs: Float64Array[];
  hs: Float64Array[];
}

/** One LSTM over one sequence xs [T][in] (gates i, f, g, o), keeping what the backward needs. */
function lstmForward64(xs: Float64Array[], wih: Float32Array, whh: Float32Array, b: Float32Array, H: number): LstmTape {
  let h = new Float64Array(H);
  let c = new Float64Array(H);
  const tape: LstmTape = { xs, gates: [], cs: [], hs: [] };
  for (const x of xs) {
    const a = Float64Array.from(b);
    for (let i = 0; i < x.length; i++) {
      if (x[i] === 0) continue;
      for (let j = 0; j < 4 * H; j++) a[j] += x[i] * wih[i * 4 * H + j];
    }
    for (let i = 0; i < H; i++) for (let j = 0; j < 4 * H; j++) a[j] += h[i] * whh[i * 4 * H + j];
    const g = new Float64Array(4 * H);
    const cNew = new Float64Array(H);
    const hNew = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      g[j] = sigmoid(a[j]);
      g[H + j] = sigmoid(a[H + j]);
      g[2 * H + j] = Math.tanh(a[2 * H + j]);
      g[3 * H + j] = sigmoid(a[3 * H + j]);
      cNew[j] = g[H + j] * c[j] + g[j] * g[2 * H + j];
      hNew[j] = g[3 * H + j] * Math.tanh(cNew[j]);
    }
    tape.gates.push(g);
    tape.cs.push(cNew);
    tape.hs.push(hNew);
    h = hNew;
    c = cNew;
  }
  return tape;
}

/** Backpropagation through time: accumulates into gWih, gWhh, gb; returns d/dx per step. */
function lstmBackward64(tape: LstmTape, dhs: Float64Array[], wih: Float32Array, whh: Float32Array, H: number, gWih: Float64Array, gWhh: Float64Array, gb: Float64Array): Float64Array[] {
  const T = tape.xs.length;
  const I = tape.xs[0].length;
  let dhNext = new Float64Array(H);
  let dcNext = new Float64Array(H);
  const dxs: Float64Array[] = new Array(T);
  for (let t = T - 1; t >= 0; t--) {
    const g = tape.gates[t];
    const c = tape.cs[t];
    const cPrev = t > 0 ? tape.cs[t - 1] : new Float64Array(H);
    const hPrev = t > 0 ? tape.hs[t - 1] : new Float64Array(H);
    const da = new Float64Array(4 * H);
    const dc = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      const dh = dhs[t][j] + dhNext[j];
      const tc = Math.tanh(c[j]);
      const [gi, gf, gg, go] = [g[j], g[H + j], g[2 * H + j], g[3 * H + j]];
      dc[j] = dh * go * (1 - tc * tc) + dcNext[j];
      da[j] = dc[j] * gg * gi * (1 - gi);
      da[H + j] = dc[j] * cPrev[j] * gf * (1 - gf);
      da[2 * H + j] = dc[j] * gi * (1 - gg * gg);
      da[3 * H + j] = dh * tc * go * (1 - go);
      dc[j] *= gf;
    }
    const x = tape.xs[t];
    const dx = new Float64Array(I);
    for (let i = 0; i < I; i++) {
      let s = 0;
      for (let j = 0; j < 4 * H; j++) {
        gWih[i * 4 * H + j] += x[i] * da[j];
        s += da[j] * wih[i * 4 * H + j];
      }
      dx[i] = s;
    }
    const dhPrev = new Float64Array(H);
    for (let i = 0; i < H; i++) {
      let s = 0;
      for (let j = 0; j < 4 * H; j++) {
        gWhh[i * 4 * H + j] += hPrev[i] * da[j];
        s += da[j] * whh[i * 4 * H + j];
      }
      dhPrev[i] = s;
    }
    for (let j = 0; j < 4 * H; j++) gb[j] += da[j];
    dxs[t] = dx;
    dhNext = dhPrev;
    dcNext = dc;
  }
  return dxs;
}

function fewshot64(f: FewshotHost): { loss: number; grads: Grads } {
  const { numClasses: N, numShot: K, batch: B, hidden: H } = f.cfg;
  const T = (K + 1) * N;
  const I = IMAGE_SIZE + N;
  const p = f.params;
  const grads: Grads = {};
  for (const [k, v] of Object.entries(p)) grads[k] = new Float64Array(v.length);
  let total = 0;
  for (let b = 0; b < B; b++) {
    const xs = Array.from({ length: T }, (_, t) => Float64Array.from(f.input.subarray((b * T + t) * I, (b * T + t + 1) * I)));
    const l1 = lstmForward64(xs, p.Wih1, p.Whh1, p.b1, H);
    const l2 = lstmForward64(l1.hs, p.Wih2, p.Whh2, p.b2, N);
    // Softmax cross-entropy on the N query positions, averaged over B·N.
    const dlogits = Array.from({ length: T }, () => new Float64Array(N));
    for (let q = 0; q < N; q++) {
      const z = l2.hs[K * N + q];
      const m = Math.max(...z);
      const sum = z.reduce((s, v) => s + Math.exp(v - m), 0);
      const lse = m + Math.log(sum);
      for (let n = 0; n < N; n++) {
        const y = f.target[(b * N + q) * N + n];
        total -= y * (z[n] - lse);
        dlogits[K * N + q][n] = (Math.exp(z[n] - lse) - y) / (B * N);
      }
    }
    const dh1 = lstmBackward64(l2, dlogits, p.Wih2, p.Whh2, N, grads.Wih2, grads.Whh2, grads.b2);
    lstmBackward64(l1, dh1, p.Wih1, p.Whh1, H, grads.Wih1, grads.Whh1, grads.b1);
  }
  return { loss: total / (B * N), grads };
}

/** MMoE's loss and gradient in float64, by hand (bench/tfjs/multitask.ts's math). */
function mmoe64(m: MmoeHost): { loss: number; grads: Grads } {
  const { continuous: C, experts: E, expertUnits: U, towerUnits: H, tasks: T, batch: B } = m.cfg;
  const F = m.cfg.vocab.length;
  const p = m.params;
  const grads: Grads = {};
  for (const [k, v] of Object.entries(p)) grads[k] = new Float64Array(v.length);
  const count = Array.from({ length: T }, (_, t) => m.weights.subarray(t * B, (t + 1) * B).reduce((a, w) => a + w, 0));
  let loss = 0;
  /** One one-hot layer's pre-activation for row r. */
  const layer = (cat: Float32Array, cont: Float32Array, bias: Float32Array, width: number, r: number): Float64Array => {
    const a = Float64Array.from(bias);
    for (let f = 0; f < F; f++) for (let j = 0; j < width; j++) a[j] += cat[m.rows[r * F + f] * width + j];
    for (let c = 0; c < C; c++) for (let j = 0; j < width; j++) a[j] += m.continuous[r * C + c] * cont[c * width + j];
    return a;
  };
  const layerBack = (gCat: Float64Array, gCont: Float64Array, gBias: Float64Array, d: Float64Array, width: number, r: number): void => {
    for (let j = 0; j < width; j++) gBias[j] += d[j];
    for (let f = 0; f < F; f++) for (let j = 0; j < width; j++) gCat[m.rows[r * F + f] * width + j] += d[j];
    for (let c = 0; c < C; c++) for (let j = 0; j < width; j++) gCont[c * width + j] += m.continuous[r * C + c] * d[j];
  };
  for (let r = 0; r < B; r++) {
    const a = layer(p.E_cat, p.E_cont, p.E_b, E * U, r);
    const h = a.map((v) => Math.max(v, 0));
    const gl = layer(p.G_cat, p.G_cont, p.G_b, T * E, r);
    const dh = new Float64Array(E * U);
    const dgl = new Float64Array(T * E);
    for (let t = 0; t < T; t++) {
      const w = m.weights[t * B + r];
      if (w === 0) continue; // no label: nothing flows back from this task
      const y = m.labels[t * B + r];
      const z = gl.subarray(t * E, (t + 1) * E);
      const zmax = Math.max(...z);
      const e = z.map((v) => Math.exp(v - zmax));
      const sum = e.reduce((s, v) => s + v, 0);
      const g = e.map((v) => v / sum);
      const mix = new Float64Array(U);
      for (let k = 0; k < E; k++) for (let u = 0; u < U; u++) mix[u] += g[k] * h[k * U + u];
      const W1 = p[`t${t}_W1`];
      const W2 = p[`t${t}_W2`];
      const z1 = Float64Array.from(p[`t${t}_b1`]);
      for (let u = 0; u < U; u++) for (let j = 0; j < H; j++) z1[j] += mix[u] * W1[u * H + j];
      let logit = p[`t${t}_b2`][0];
      for (let j = 0; j < H; j++) logit += Math.max(z1[j], 0) * W2[j];
      loss += (Math.max(logit, 0) - logit * y + Math.log1p(Math.exp(-Math.abs(logit)))) / count[t];
      const dz = (1 / (1 + Math.exp(-logit)) - y) / count[t];
      grads[`t${t}_b2`][0] += dz;
      const dmix = new Float64Array(U);
      for (let j = 0; j < H; j++) {
        grads[`t${t}_W2`][j] += dz * Math.max(z1[j], 0);
        const dz1 = z1[j] > 0 ? dz * W2[j] : 0;
        grads[`t${t}_b1`][j] += dz1;
        for (let u = 0; u < U; u++) {
          grads[`t${t}_W1`][u * H + j] += mix[u] * dz1;
          dmix[u] += W1[u * H + j] * dz1;
        }
      }
      const dg = new Float64Array(E);
      for (let k = 0; k < E; k++) {
        for (let u = 0; u < U; u++) {
          dg[k] += dmix[u] * h[k * U + u];
          dh[k * U + u] += g[k] * dmix[u];
        }
      }
      const dot = g.reduce((s, gk, k) => s + gk * dg[k], 0);
      for (let k = 0; k < E; k++) dgl[t * E + k] = g[k] * (dg[k] - dot);
    }
    const da = dh.map((v, j) => (a[j] > 0 ? v : 0));
    layerBack(grads.E_cat, grads.E_cont, grads.E_b, da, E * U, r);
    layerBack(grads.G_cat, grads.G_cont, grads.G_b, dgl, T * E, r);
  }
  return { loss, grads };
}

/** Worst difference over the tensor, relative to the tensor's largest reference magnitude. */
function gradientProblems(name: string, got: Record<string, Float32Array>, want: Grads, tol: number): string[] {
  const problems: string[] = [];
  const report: string[] = [];
  for (const [k, ref] of Object.entries(want)) {
    const g = got[k];
    if (!g || g.length !== ref.length) {
      problems.push(`${name}: no gradient of the right size for ${k}`);
      continue;
    }
    let scale = 0;
    for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
    // The element farthest from its reference, measured against the largest entry.
    const worst = worstMismatch(g, ref, { atol: 0, rtol: 0 });
    const diff = worst ? Math.abs(worst.actual - worst.expected) : 0;
    const rel = Number.isNaN(diff) ? Infinity : scale > 0 ? diff / scale : diff; // an all-zero reference (the user bias) must come back zero
    report.push(`${k} ${rel.toExponential(0)}`);
    if (!(rel < tol)) problems.push(`${name}: gradient of ${k} off by ${rel.toExponential(1)} of its largest entry (${scale.toExponential(1)})`);
  }
  console.log(`${name}: gradients vs float64, worst error / largest entry: ${report.join(', ')}`);
  return problems;
}

interface Model {
  step(): Promise<number>;
  gradients(): Promise<Record<string, Float32Array>>;
  dispose(): void;
  backendInfo: string;
}

interface Outcome {
  msPerStep: number;
  problems: string[];
  losses: number[];
}

async function run(name: string, model: Model, ref: { loss: number; grads: Grads }, warmup: number, steps: number): Promise<Outcome> {
  const problems: string[] = [];
  const reference = ref.loss;
  try {
    problems.push(...gradientProblems(name, await model.gradients(), ref.grads, 1e-3));
    const t0 = performance.now();
    const first = await model.step();
    const firstMs = performance.now() - t0;
    const relErr = Math.abs(first - reference) / Math.max(Math.abs(reference), 1e-6);
    console.log(`${name}: first loss ${first.toFixed(6)} (float64 reference ${reference.toFixed(6)}, rel. error ${relErr.toExponential(1)}), first step ${firstMs.toFixed(0)} ms`);
    if (!(relErr < 2e-4)) problems.push(`${name}: first loss ${first} differs from the float64 reference ${reference}`);
    const losses = [first];
    for (let i = 1; i < warmup; i++) losses.push(await model.step());
    const tensors = tf.memory().numTensors;
    const times: number[] = [];
    // CPU time of the whole process (SwiftShader's threads included): less sensitive than wall
    // time to other processes competing for the cores.
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      losses.push(await model.step());
      times.push(performance.now() - t);
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuMsPerStep = (cpu.user + cpu.system) / 1000 / steps;
    const msPerStep = times.reduce((a, b) => a + b, 0) / steps;
    const median = [...times].sort((a, b) => a - b)[Math.floor((steps - 1) / 2)];
    if (tf.memory().numTensors !== tensors) problems.push(`${name}: ${tf.memory().numTensors - tensors} tensors leaked over ${steps} steps`);
    if (losses.slice(1).every((l) => l === first)) problems.push(`${name}: the loss never changed: Adam's updates are not applied`);
    if (!losses.every(Number.isFinite)) problems.push(`${name}: non-finite loss`);
    console.log(`${name}: losses ${losses.map((l) => l.toFixed(5)).join(' ')}`);
    console.log(`${name}: ${msPerStep.toFixed(1)} ms/step (mean of ${steps} after ${warmup} warm-up; median ${median.toFixed(1)}, each ${times.map((t) => t.toFixed(0)).join(' ')}); CPU ${cpuMsPerStep.toFixed(0)} ms/step`);
    return { msPerStep, problems, losses };
  } finally {
    model.dispose();
  }
}

function positiveInt(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer, got "${text}"`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string' },
      warmup: { type: 'string' },
      classes: { type: 'string' },
      shot: { type: 'string' },
      batch: { type: 'string' },
      hidden: { type: 'string' },
      unshared: { type: 'boolean' },
      only: { type: 'string' },
    },
  });
  const models = ['recommender', 'fewshot', 'mmoe'];
  if (values.only !== undefined && !models.includes(values.only)) throw new Error(`--only must be one of ${models.join(', ')}, got "${values.only}"`);
  const wanted = (m: string): boolean => values.only === undefined || values.only === m;
  const steps = positiveInt(values.steps, 'steps', 3);
  const warmup = positiveInt(values.warmup, 'warmup', 2);
  const recCfg: Partial<RecommenderConfig> = { shared: !values.unshared };
  const fsCfg: FewshotConfig = {
    numClasses: positiveInt(values.classes, 'classes', 5),
    numShot: positiveInt(values.shot, 'shot', 1),
    batch: positiveInt(values.batch, 'batch', 16),
    hidden: positiveInt(values.hidden, 'hidden', 128),
  };
  const problems: string[] = [];

  if (wanted('recommender')) {
    const rec = await createTfjsRecommender(recCfg);
    console.log(`backend: ${rec.backendInfo}`);
    const rc = { ...recommenderHost(recCfg).cfg };
    const recName = `recommender (${rc.users}x${rc.items}, dim ${rc.dim}, hidden ${rc.hidden}, batch ${rc.batch}, ${rc.shared ? 'shared' : 'separate'} tables)`;
    problems.push(...(await run(recName, rec, recommender64(recommenderHost(recCfg)), warmup, steps)).problems);
  }
  if (wanted('fewshot')) {
    const fs = await createTfjsFewshot(fsCfg);
    const fsName = `few-shot (N=${fsCfg.numClasses}, K=${fsCfg.numShot}, batch ${fsCfg.batch}, hidden ${fsCfg.hidden})`;
    problems.push(...(await run(fsName, fs, fewshot64(fewshotHost(fsCfg)), warmup, steps)).problems);
  }
  if (wanted('mmoe')) {
    // Census-shaped synthetic rows; the labels are random, so the loss falls only by fitting the batch.
    const mmoe = await createTfjsMmoe();
    const mc = mmoe.config;
    if (values.only) console.log(`backend: ${mmoe.backendInfo}`);
    const name = `MMoE (${mc.vocab.length} fields, ${mc.vocab.reduce((a, b) => a + b, 0)} one-hot rows, ${mc.continuous} columns, ${mc.experts}x${mc.expertUnits} experts, towers ${mc.towerUnits}, ${mc.tasks} tasks, batch ${mc.batch})`;
    const out = await run(name, mmoe, mmoe64(mmoeHost()), warmup, steps);
    problems.push(...out.problems);
    if (!(out.losses[out.losses.length - 1] < out.losses[0])) problems.push(`${name}: the loss did not fall over ${out.losses.length} steps on one batch`);
  }
  for (const p of problems) console.error(`FAILED ${p}`);
  return problems.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`tfjs check: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
