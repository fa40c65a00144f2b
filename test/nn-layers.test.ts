// Layers on the GPU against float64 references written out here: Linear and MLP forward, an
// Embedding's rows and its table's gradient, and the LSTM through both input paths (dense
// matmul and embedding bag). Node and Chromium.
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/graph/autodiff.ts';
import { Graph, type Tensor, type TypedData } from '../src/graph/graph.ts';
import { bagInputs } from '../src/graph/ops/embedding-bag.ts';
import { mseLoss } from '../src/graph/ops/loss.ts';
import { packBagCsr } from '../src/graph/bags.ts';
import { lstmLayerForwardRef } from '../src/kernels/lstm-ref.ts';
import { Embedding, rowSparse } from '../src/nn/embedding.ts';
import { Linear, MLP } from '../src/nn/linear.ts';
import { LSTM } from '../src/nn/lstm.ts';
import { Rng } from '../src/random.ts';
import { expectClose } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

/** Compiles `g`, feeds and runs it once, reads `out` (kept, so its buffers outlive the step). */
function runOnce(g: Graph, feed: Record<string, TypedData>, out: Tensor[]): Promise<Float32Array[]> {
  for (const o of out) g.keep(o);
  return t.runGraph(g, feed, out);
}
const normals = (rng: Rng, n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
const act = { none: (v: number) => v, relu: (v: number) => Math.max(v, 0), sigmoid: (v: number) => 1 / (1 + Math.exp(-v)) };

/** act(x·W + b) in float64, W [in, out]. */
function linearRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, rows: number, inF: number, outF: number, f: (v: number) => number): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < outF; j++) {
      let s = b ? b[j] : 0;
      for (let k = 0; k < inF; k++) s += x[r * inF + k] * w[k * outF + j];
      y[r * outF + j] = f(s);
    }
  }
  return y;
}

const TOL = { atol: 1e-5, rtol: 1e-5 };

describe('Linear and MLP', () => {
  it('Linear: x·W + b, and without a bias, with its activation', async () => {
    const rng = new Rng(1);
    const [rows, inF, outF] = [7, 5, 3];
    const l = new Linear(rng, inF, outF);
    const nb = new Linear(rng, inF, outF, { bias: false });
    const g = new Graph();
    l.declare(g);
    nb.declare(g, 'plain');
    const x = g.input('x', [rows, inF], 'f32');
    const xs = normals(rng, rows * inF);
    const [y, z] = await runOnce(g, { x: xs }, [l.forward(g, x, 'relu'), nb.forward(g, x)]);
    expectClose(y, linearRef(xs, l.weight.data, l.bias?.data ?? null, rows, inF, outF, act.relu), TOL, 'relu(x·W + b)');
    expectClose(z, linearRef(xs, nb.weight.data, null, rows, inF, outF, act.none), TOL, 'x·W');
  });

  it('MLP: ReLU between layers, the last activation after the last', async () => {
    const rng = new Rng(2);
    const widths = [6, 8, 4, 2];
    const m = new MLP(rng, widths, { lastActivation: 'sigmoid' });
    const g = new Graph();
    m.declare(g);
    const rows = 9;
    const x = g.input('x', [rows, 6], 'f32');
    const xs = normals(rng, rows * 6);
    const [y] = await runOnce(g, { x: xs }, [m.forward(g, x)]);
    let h: ArrayLike<number> = xs;
    m.layers.forEach((l, i) => {
      h = linearRef(h, l.weight.data, l.bias?.data ?? null, rows, widths[i], widths[i + 1], i + 1 < m.layers.length ? act.relu : act.sigmoid);
    });
    expectClose(y, h, TOL, 'mlp');
  });
});

describe('Embedding', () => {
  it("gathers rows, sums the table's gradient per row, and tells row-sparse Adam its indices", async () => {
    const rng = new Rng(3);
    const [rows, dim, n] = [6, 4, 10];
    const e = new Embedding(rng, rows, dim);
    const g = new Graph();
    expect(() => e.declare(g)).toThrow(/a lone Embedding's table has no name: declare it with a prefix/);
    expect([...e.declare(g, 'emb').keys()]).toEqual(['emb']);
    const idx = g.input('idx', [n], 'u32');
    const target = g.input('target', [n, dim], 'f32');
    const out = e.forward(g, idx);
    // weight n·dim/2: the loss's gradient is out - target.
    const loss = mseLoss(g, out, target, (n * dim) / 2);
    const dTable = gradients(g, [loss], [e.table.on(g)]).get(e.table.on(g)) as Tensor;
    expect(rowSparse(g, e)).toEqual(new Map([[e.table.on(g), idx]]));
    const indices = Uint32Array.from([2, 0, 2, 5, 1, 2, 5, 0, 3, 2]);
    const tgt = normals(rng, n * dim);
    const [got, dGot] = await runOnce(g, { idx: indices, target: tgt }, [out, dTable]);
    const want = new Float64Array(n * dim);
    const dWant = new Float64Array(rows * dim);
    indices.forEach((r, i) => {
      for (let k = 0; k < dim; k++) {
        want[i * dim + k] = e.table.data[r * dim + k];
        dWant[r * dim + k] += e.table.data[r * dim + k] - tgt[i * dim + k];
      }
    });
    expectClose(got, want, { atol: 0, rtol: 0 }, 'rows');
    expectClose(dGot, dWant, TOL, 'dTable');
  });

  it('a table read at two index sets cannot be row-sparse', () => {
    const e = new Embedding(new Rng(4), 5, 2);
    const g = new Graph();
    e.declare(g, 'emb');
    e.forward(g, g.input('a', [3], 'u32'));
    e.forward(g, g.input('b', [3], 'u32'));
    expect(() => rowSparse(g, e)).toThrow(/is read at a\[3\] and b\[3\]: row-sparse Adam takes one index tensor per table/);
  });
});

describe('LSTM', () => {
  it('matches the float64 layer, and its embedding-bag input path matches the dense one on 0/1 inputs', async () => {
    const rng = new Rng(5);
    const [T, B, I, H] = [3, 2, 7, 4];
    const rows = T * B;
    const l = new LSTM(rng, I, H);
    const lists = Array.from({ length: rows }, () => Array.from({ length: I }, (_, v) => v).filter(() => rng.uniform() < 0.4));
    const x = new Float32Array(rows * I);
    lists.forEach((cols, r) => cols.forEach((v) => (x[r * I + v] = 1)));
    const g = new Graph();
    l.declare(g);
    const xIn = g.input('x', [rows, I], 'f32');
    const batch = g.input('batch', [1], 'u32');
    const bags = bagInputs(g, batch, 'x', { rows, tableRows: I, capacity: rows * I, pack: (_src, out) => packBagCsr(lists, rows * I, out) });
    const [dense, viaBags] = await runOnce(g, { x, batch: Uint32Array.of(0) }, [l.forward(g, xIn, { steps: T, batch: B }), l.forwardBags(g, bags, { steps: T, batch: B })]);
    const ref = lstmLayerForwardRef(x, { wIh: l.inputWeight.data, wHh: l.recurrentWeight.data, bias: l.bias.data }, { steps: T, batch: B, input: I, hidden: H });
    expectClose(dense, ref.h, TOL, 'h (dense)');
    expectClose(viaBags, dense, { atol: 1e-6, rtol: 1e-5 }, 'h (bags)');
  });
});
