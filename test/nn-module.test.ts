// Modules: dotted parameter names from the tree, declaration order, declaring on graphs, and the
// two models' checkpoint keys and order of random draws, which must never change (the bit pins
// in test/bits.node.test.ts depend on both).
import { describe, expect, it } from 'vitest';
import { Graph } from '../src/graph/graph.ts';
import { FewshotNet } from '../src/models/fewshot/model.ts';
import { RECOMMENDER_DEFAULTS } from '../src/models/recommender/config.ts';
import { Recommender } from '../src/models/recommender/model.ts';
import { Embedding } from '../src/nn/embedding.ts';
import { linearInit, orthogonal, transpose, xavierUniform } from '../src/nn/init.ts';
import { Linear, MLP } from '../src/nn/linear.ts';
import { Module } from '../src/nn/module.ts';
import { Rng } from '../src/random.ts';

class Tower extends Module {
  readonly mlp: MLP;
  constructor(rng: Rng) {
    super();
    this.mlp = this.module('mlp', new MLP(rng, [3, 4, 1]));
  }
}

class Towers extends Module {
  readonly towers: Tower[] = [];
  constructor(rng: Rng) {
    super();
    const list = this.module('towers', new List());
    for (let i = 0; i < 2; i++) this.towers.push(list.add(String(i), new Tower(rng)));
    this.module('gate', new Linear(rng, 3, 2, { bias: false }));
  }
}

class List extends Module {
  add<M extends Module>(name: string, m: M): M {
    return this.module(name, m);
  }
}

const shapes = (m: Module): [string, number[]][] => [...m.namedParameters()].map(([n, p]) => [n, [...p.shape]]);

describe('module tree', () => {
  it('names parameters by their dotted path, in declaration order', () => {
    const m = new Towers(new Rng(1));
    expect(shapes(m)).toEqual([
      ['towers.0.mlp.0.weight', [3, 4]],
      ['towers.0.mlp.0.bias', [4]],
      ['towers.0.mlp.1.weight', [4, 1]],
      ['towers.0.mlp.1.bias', [1]],
      ['towers.1.mlp.0.weight', [3, 4]],
      ['towers.1.mlp.0.bias', [4]],
      ['towers.1.mlp.1.weight', [4, 1]],
      ['towers.1.mlp.1.bias', [1]],
      ['gate.weight', [3, 2]],
    ]);
    expect([...m.modules()].filter((x) => x instanceof Linear)).toHaveLength(5);
  });

  it('declares every parameter on each graph, sharing the initial values', () => {
    const m = new Towers(new Rng(1));
    const [g1, g2] = [new Graph(), new Graph()];
    const p1 = m.declare(g1);
    const p2 = m.declare(g2);
    expect([...p1.keys()]).toEqual([...m.namedParameters().keys()]);
    expect(g1.params.map((t) => t.name)).toEqual([...p1.keys()]);
    const w = m.towers[1].mlp.layers[0].weight;
    expect(w.on(g1)).toBe(p1.get('towers.1.mlp.0.weight'));
    expect(w.on(g2)).toBe(p2.get('towers.1.mlp.0.weight'));
    expect(g1.init.get(w.on(g1))).toBe(w.data);
    expect(() => w.on(new Graph())).toThrow(/not on this graph: declare its model there first/);
    expect(() => m.declare(g1)).toThrow(/already on this graph/);
  });

  it('an empty member name adds no segment; clashes and dotted names are refused', () => {
    const rng = new Rng(2);
    class Pair extends Module {
      constructor() {
        super();
        this.module('a', new Embedding(rng, 3, 2));
        this.module('b', new Embedding(rng, 3, 2));
      }
    }
    class Flat extends Module {
      constructor(clash: boolean) {
        super();
        this.module('', new Pair());
        this.module(clash ? 'b' : 'c', new Embedding(rng, 1, 1));
      }
    }
    expect([...new Flat(false).namedParameters().keys()]).toEqual(['a', 'b', 'c']);
    expect(() => new Flat(true).namedParameters()).toThrow(/two parameters are named "b"/);
    class Dotted extends Module {
      constructor() {
        super();
        this.module('a.b', new Linear(rng, 1, 1));
      }
    }
    expect(() => new Dotted()).toThrow(/member name "a.b" must be letters, digits and underscores/);
    class Twice extends Module {
      constructor() {
        super();
        this.module('x', new Linear(rng, 1, 1));
        this.module('x', new Linear(rng, 1, 1));
      }
    }
    expect(() => new Twice()).toThrow(/Twice already has a member "x"/);
  });
});

describe("the models' checkpoint keys and draws", () => {
  const tables = { users: 5, items: 7 };
  const config = { ...RECOMMENDER_DEFAULTS, embeddingDim: 4, layerSizes: [12, 6, 3] };

  it('recommender, shared tables: the keys, shapes and draws of the original', () => {
    const m = new Recommender({ ...config, sharedEmbeddings: true }, tables, new Rng(11));
    expect(shapes(m)).toEqual([
      ['user_embeddings', [5, 4]],
      ['item_embeddings', [7, 4]],
      ['user_biases', [5, 1]],
      ['item_biases', [7, 1]],
      ['mlp.0.weight', [12, 6]],
      ['mlp.0.bias', [6]],
      ['mlp.1.weight', [6, 3]],
      ['mlp.1.bias', [3]],
      ['mlp.2.weight', [3, 1]],
      ['mlp.2.bias', [1]],
    ]);
    // The draws, written out as the model before the layers made them.
    const rng = new Rng(11);
    const normal = (n: number): Float32Array => Float32Array.from({ length: n }, () => 0.25 * rng.normal());
    const want = [normal(20), normal(28), new Float32Array(5), new Float32Array(7)];
    for (const [a, b] of [
      [12, 6],
      [6, 3],
      [3, 1],
    ]) {
      want.push(linearInit(rng, a, a * b), linearInit(rng, a, b));
    }
    expect([...m.namedParameters().values()].map((p) => Array.from(p.data))).toEqual(want.map((w) => Array.from(w)));
  });

  it('recommender, separate tables: one pair per head, factorization first', () => {
    const m = new Recommender({ ...config, sharedEmbeddings: false }, tables, new Rng(12));
    expect([...m.namedParameters().keys()].slice(0, 6)).toEqual([
      'factorization.user_embeddings',
      'factorization.item_embeddings',
      'regression.user_embeddings',
      'regression.item_embeddings',
      'user_biases',
      'item_biases',
    ]);
    const rng = new Rng(12);
    const first = Float32Array.from({ length: 20 + 28 + 20 }, () => 0.25 * rng.normal());
    const p = m.namedParameters();
    expect(Array.from(p.get('regression.user_embeddings')?.data ?? [])).toEqual(Array.from(first.subarray(48)));
    expect(m.factorization).not.toBe(m.regression);
  });

  it('few-shot network: the course initialisation, layer by layer', () => {
    const [N, H, P] = [3, 5, 16];
    const m = new FewshotNet(new Rng(13), N, H, P);
    expect(shapes(m)).toEqual([
      ['lstm1.W_ih', [P + N, 4 * H]],
      ['lstm1.W_hh', [H, 4 * H]],
      ['lstm1.b', [4 * H]],
      ['lstm2.W_ih', [H, 4 * N]],
      ['lstm2.W_hh', [N, 4 * N]],
      ['lstm2.b', [4 * N]],
    ]);
    const rng = new Rng(13);
    const want = [
      xavierUniform(rng, P + N, 4 * H),
      transpose(orthogonal(rng, 4 * H, H), 4 * H, H),
      new Float32Array(4 * H),
      xavierUniform(rng, H, 4 * N),
      transpose(orthogonal(rng, 4 * N, N), 4 * N, N),
      new Float32Array(4 * N),
    ];
    expect([...m.namedParameters().values()].map((p) => Array.from(p.data))).toEqual(want.map((w) => Array.from(w)));
  });
});
