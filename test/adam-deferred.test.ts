// Deferred dense Adam on embedding tables: after a flush, the same bits as the dense table
// update, step after step, with rows the batches skip for several steps; reads flush by
// themselves, and so does a run that would overflow the ring; checkpoints leave the
// bookkeeping out and a restore rebuilds it.
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/graph/autodiff.ts';
import { saveCheckpoint, loadCheckpoint } from '../src/graph/checkpoint.ts';
import { CompiledStep } from '../src/graph/compile.ts';
import { Graph, GraphError } from '../src/graph/graph.ts';
import { concat } from '../src/graph/ops/elementwise.ts';
import { embedding } from '../src/graph/ops/embedding.ts';
import { mseLoss } from '../src/graph/ops/loss.ts';
import { dense } from '../src/graph/ops/matmul.ts';
import { AdamOptimizer, type AdamConfig } from '../src/optim/adam.ts';
import { Rng } from '../src/random.ts';
import { expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();
const [B, USERS, ITEMS] = [5, 11, 13];

function model(config: AdamConfig) {
  const rng = new Rng(21);
  const u = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);
  const g = new Graph();
  const U = g.param('U', [USERS, 8], u(USERS * 8, 0.5));
  const Q = g.param('Q', [ITEMS, 4], u(ITEMS * 4, 0.5));
  const W = g.param('W', [12, 1], u(12, 0.5));
  const users = g.input('users', [B], 'u32');
  const items = g.input('items', [B], 'u32');
  const target = g.input('target', [B, 1], 'f32');
  const h = concat(g, [embedding(g, U, users), embedding(g, Q, items)]);
  const loss = mseLoss(g, dense(g, h, W, undefined), target);
  const grads = gradients(g, [loss], [U, Q, W]);
  const optimizer = new AdamOptimizer(config).attach(g, grads);
  return { g, optimizer, params: [U, Q, W], moments: optimizer.moments };
}

/** Batches that leave most rows untouched for several steps (low ids only at times), with repeats. */
function batches(n: number) {
  const rng = new Rng(22);
  return Array.from({ length: n }, (_, s) => ({
    users: Uint32Array.from({ length: B }, (_, i) => (s % 3 === 0 ? rng.int(USERS) : rng.int(3) + (i % 2))),
    items: Uint32Array.from({ length: B }, () => (s % 4 === 1 ? rng.int(ITEMS) : 5 + rng.int(2))),
    target: Float32Array.from({ length: B }, () => rng.uniform() * 4),
  }));
}

async function train(config: AdamConfig, steps: number, flushEvery: number) {
  const m = model(config);
  const step = await CompiledStep.create(t.gpu, m.g);
  await m.optimizer.compileFlush(t.gpu, step);
  const snapshots: Float32Array[][] = [];
  const read = async (): Promise<Float32Array[]> => Promise.all([...m.params, ...m.moments].map(async (x) => (await step.read(t.ring, x)) as Float32Array));
  for (const [s, b] of batches(steps).entries()) {
    step.feed(b);
    m.optimizer.prepare(step);
    step.run();
    if ((s + 1) % flushEvery === 0) {
      m.optimizer.flush();
      snapshots.push(await read());
    }
  }
  const destroy = (): void => {
    m.optimizer.destroy();
    step.destroy();
  };
  return { m, step, snapshots, destroy };
}

describe('deferred table Adam', () => {
  for (const [name, hyper] of [
    ['Adam', { lr: 0.05 }],
    ['Adam with L2 decay', { lr: 0.05, weightDecay: 0.1 }],
    ['AdamW', { lr: 0.05, weightDecay: 0.1, decoupled: true }],
    // 1 - beta1 = 0.7: lerp's second form, so skipped steps take the full arithmetic.
    ['Adam with beta1 0.3', { lr: 0.05, beta1: 0.3 }],
  ] as [string, AdamConfig][]) {
    it(`${name}: after each flush, the dense update's bits (params and moments)`, async () => {
      const dense = await train(hyper, 12, 4);
      const deferred = await train({ ...hyper, deferTables: { cap: 5 } }, 12, 4);
      try {
        expect(deferred.m.optimizer.defers).toBe(true);
        // The tables' dense updates are gone from the step; the catch-ups stand where the
        // gathers stood and write the rows they read (no gather is left).
        const names = deferred.step.program.map((p) => p.node.op.name);
        expect(names.slice(0, 2)).toEqual(['table_adam_catch_up_gather', 'table_adam_catch_up_gather']);
        expect(dense.step.program.slice(0, 2).map((p) => p.node.op.name)).toEqual(['embedding', 'embedding']);
        expect(names).not.toContain('table_adam_update');
        expect(names).not.toContain('embedding');
        // Skipped rows really lagged before the flush: row 10 of U is only gathered on steps 0, 3, 6, 9.
        expect(dense.snapshots.length).toBe(3);
        for (const [k, snap] of deferred.snapshots.entries()) {
          snap.forEach((x, i) => expectSameBits(x, dense.snapshots[k][i], `snapshot ${k}, tensor ${i}`));
        }
      } finally {
        dense.destroy();
        deferred.destroy();
      }
    });
  }

  it('does not defer a table that something else reads too (it would read lagging rows)', () => {
    const g = new Graph();
    const Q = g.param('Q', [ITEMS, 4], new Float32Array(ITEMS * 4));
    const seen = embedding(g, Q, g.input('other', [B], 'u32'));
    const loss = mseLoss(g, embedding(g, Q, g.input('items', [B], 'u32')), g.input('target', [B, 4], 'f32'));
    const optimizer = new AdamOptimizer({ lr: 0.05, deferTables: { cap: 4 } }).attach(g, gradients(g, [loss], [Q], new Set([seen])));
    const names = g.nodes.map((n) => n.op.name);
    expect(optimizer.defers).toBe(false);
    expect(names).toContain('table_adam_update');
    expect(names.filter((n) => n === 'embedding')).toHaveLength(2);
  });

  it('stale rows are really stale in the buffer, and a read through the step flushes them by itself', async () => {
    const dense = await train({ lr: 0.05 }, 3, 100);
    const deferred = await train({ lr: 0.05, deferTables: { cap: 8 } }, 3, 100);
    try {
      const U = deferred.m.params[0];
      // The raw buffer, past the step: what a reader that did not settle would see.
      const before = new Float32Array(await t.ring.read(deferred.step.buffer(U), 0, U.bytes));
      const want = (await dense.step.read(t.ring, dense.m.params[0])) as Float32Array;
      expect(Array.from(before)).not.toEqual(Array.from(want));
      expectSameBits((await deferred.step.read(t.ring, U)) as Float32Array, want, 'U read through the step');
    } finally {
      dense.destroy();
      deferred.destroy();
    }
  });

  it('a run past its ring flushes first: the same bits as flushing by hand', async () => {
    const byHand = await train({ lr: 0.05, deferTables: { cap: 8 } }, 9, 3);
    const overflowing = await train({ lr: 0.05, deferTables: { cap: 2 } }, 9, 3);
    try {
      for (const [k, snap] of overflowing.snapshots.entries()) {
        snap.forEach((x, i) => expectSameBits(x, byHand.snapshots[k][i], `snapshot ${k}, tensor ${i}`));
      }
    } finally {
      byHand.destroy();
      overflowing.destroy();
    }
  });

  it('needs its flush compiled before it trains with deferred tables', async () => {
    const m = model({ lr: 0.05, deferTables: { cap: 2 } });
    const step = await CompiledStep.create(t.gpu, m.g);
    try {
      expect(() => m.optimizer.prepare(step)).toThrow(GraphError);
      expect(() => m.optimizer.prepare(step)).toThrow(/compileFlush/);
    } finally {
      step.destroy();
    }
  });

  it('checkpoints leave the step counters and ring out; a restore continues with the same bits', async () => {
    const cfg = { lr: 0.05, deferTables: { cap: 6 } };
    const whole = await train(cfg, 10, 5);
    const first = await train(cfg, 5, 5);
    const bytes = await saveCheckpoint(first.step, t.ring, { step: first.m.optimizer.step, rng: new Uint32Array([1, 2, 3, 4]), config: {} });
    const names = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))));
    expect(names).not.toContain('adam_last');
    expect(names).not.toContain('defer_ring');
    const resumed = model(cfg);
    const step = await CompiledStep.create(t.gpu, resumed.g);
    await resumed.optimizer.compileFlush(t.gpu, step);
    try {
      resumed.optimizer.restore(loadCheckpoint(bytes, step, 'ckpt').step);
      for (const b of batches(10).slice(5)) {
        step.feed(b);
        resumed.optimizer.prepare(step);
        step.run();
      }
      const got = await Promise.all([...resumed.params, ...resumed.moments].map(async (x) => (await step.read(t.ring, x)) as Float32Array));
      got.forEach((x, i) => expectSameBits(x, whole.snapshots[1][i], `tensor ${i}`));
    } finally {
      resumed.optimizer.destroy();
      step.destroy();
      whole.destroy();
      first.destroy();
    }
  });
});
