// The graph engine on a small MLP: reverse mode against finite differences, the compiled
// step against eager mode, the memory plan, and training.
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/graph/autodiff.ts';
import { CompiledStep } from '../src/graph/compile.ts';
import { add } from '../src/graph/ops/basic.ts';
import { Graph, type Tensor } from '../src/graph/graph.ts';
import { dense } from '../src/graph/ops/matmul.ts';
import { loadCheckpoint, saveCheckpoint } from '../src/graph/checkpoint.ts';
import { Metrics } from '../src/graph/metrics.ts';
import { Gpu } from '../src/gpu/context.ts';
import { StagingRing } from '../src/gpu/readback.ts';
import { mseLoss } from '../src/graph/ops/loss.ts';
import { AdamOptimizer } from '../src/optim/adam.ts';
import { Rng } from '../src/random.ts';
import { expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';
import { B, HID, IN, batch, buildMlp } from './fixtures/mlp.ts';

const t = useGpu();
/** The same MLP's loss in float64 on the host. */
function lossRef(p: Float64Array[], x: Float32Array, y: Float32Array): number {
  let total = 0;
  for (let r = 0; r < B; r++) {
    let out = p[3][0];
    for (let j = 0; j < HID; j++) {
      let z = p[1][j];
      for (let i = 0; i < IN; i++) z += x[r * IN + i] * p[0][i * HID + j];
      out += Math.max(z, 0) * p[2][j];
    }
    total += (out - y[r]) ** 2;
  }
  return total / B;
}

describe('graph engine', () => {
  it('computes whole-graph gradients that match finite differences of a float64 forward', async () => {
    const m = buildMlp(1);
    const step = await CompiledStep.create(t.gpu, m.g);
    const data = batch(2);
    step.feed(data);
    step.run();
    const p64 = m.init.map((a) => Float64Array.from(a));
    const h = 1e-6;
    for (const [k, param] of m.params.entries()) {
      const grad = (await step.read(t.ring, m.grads.get(param) as Tensor)) as Float32Array;
      for (const j of [0, Math.floor(param.size / 2), param.size - 1]) {
        const plus = p64.map((a) => Float64Array.from(a));
        const minus = p64.map((a) => Float64Array.from(a));
        plus[k][j] += h;
        minus[k][j] -= h;
        const fd = (lossRef(plus, data.x, data.y) - lossRef(minus, data.x, data.y)) / (2 * h);
        // f32 forward and backward against a float64 derivative: 1e-4 relative, 1e-5 absolute.
        expect(Math.abs(grad[j] - fd), `d loss / d ${param.name}[${j}]: GPU ${grad[j]}, finite differences ${fd}`).toBeLessThan(1e-5 + 1e-4 * Math.abs(fd));
      }
    }
    const lossValues = (await step.read(t.ring, m.loss)) as Float32Array;
    expect(lossValues.reduce((a, b) => a + b, 0)).toBeCloseTo(lossRef(p64, data.x, data.y), 5);
    step.destroy();
  });

  it('plans memory below the sum of all tensors, and the compiled step equals eager mode bit for bit', async () => {
    const run = async (eager: boolean): Promise<Float32Array[]> => {
      const m = buildMlp(3);
      const opt = new AdamOptimizer({ lr: 0.01 }).attach(m.g, m.grads);
      const step = await CompiledStep.create(t.gpu, m.g, { reuse: !eager });
      if (!eager) expect(step.memory.peakBytes).toBeLessThan(step.memory.totalBytes);
      for (let s = 0; s < 3; s++) {
        step.feed(batch(10 + s));
        opt.prepare(step);
        if (eager) await step.runEager();
        else step.run();
      }
      const out = await Promise.all(m.params.map((p) => step.read(t.ring, p) as Promise<Float32Array>));
      step.destroy();
      return out;
    };
    const compiled = await run(false);
    const eager = await run(true);
    compiled.forEach((p, i) => expectSameBits(p, eager[i], `param ${i}`));
  });

  it('trains: the loss summed on the GPU falls', async () => {
    const m = buildMlp(4);
    const opt = new AdamOptimizer({ lr: 0.02 }).attach(m.g, m.grads);
    const step = await CompiledStep.create(t.gpu, m.g);
    const data = batch(5);
    const losses: number[] = [];
    for (let s = 1; s <= 200; s++) {
      step.feed(data);
      opt.prepare(step);
      step.run();
      if (s % 50 === 0) {
        const [sum] = (await step.read(t.ring, m.metrics)) as Float32Array;
        step.write(m.metrics, new Float32Array(1));
        losses.push(sum / 50);
      }
    }
    expect(losses[3]).toBeLessThan(losses[0] / 5);
    step.destroy();
  });

  it('resumes from a checkpoint on a new device with the same bits as a run that never stopped', async () => {
    /** `steps` steps from `from` (or from scratch) on a device of its own; returns the checkpoint after. */
    const run = async (steps: number, from?: Uint8Array): Promise<Uint8Array> => {
      const gpu = await Gpu.create();
      const ring = new StagingRing(gpu);
      try {
        const m = buildMlp(6);
        const opt = new AdamOptimizer({ lr: 0.01 }).attach(m.g, m.grads);
        const step = await CompiledStep.create(gpu, m.g);
        let rng = new Rng(99);
        if (from) {
          const meta = loadCheckpoint(from, step, 'half.safetensors');
          opt.restore(meta.step);
          rng = Rng.fromState(meta.rng);
          expect(meta.config).toEqual({ hidden: HID });
        }
        for (let s = 0; s < steps; s++) {
          step.feed(batch(rng.nextU32()));
          opt.prepare(step);
          step.run();
        }
        return await saveCheckpoint(step, ring, { step: opt.step, rng: rng.state(), config: { hidden: HID } });
      } finally {
        ring.destroy();
        gpu.destroy();
      }
    };
    const straight = await run(6);
    const resumed = await run(3, await run(3));
    // Parameters, both Adam moments, metric sums, step count and RNG state: byte for byte.
    expect(resumed.length).toBe(straight.length);
    expect(resumed.every((b, i) => b === straight[i])).toBe(true);
  });

  it('says what differs when a checkpoint does not fit the model', async () => {
    const m = buildMlp(7);
    const step = await CompiledStep.create(t.gpu, m.g);
    const g2 = new Graph();
    g2.param('W1', [IN, HID + 1], new Float32Array(IN * (HID + 1)));
    g2.param('extra', [2], new Float32Array(2));
    const other = await CompiledStep.create(t.gpu, g2);
    const bytes = await saveCheckpoint(other, t.ring, { step: 1, rng: new Uint32Array(4), config: {} });
    expect(() => loadCheckpoint(bytes, step, 'other.safetensors')).toThrow(
      /other\.safetensors does not fit this model: "W1" is \[5, 9\], the model has \[5, 8\]; "b1" \[8\] is missing;.*"extra" is not in this model/,
    );
    step.destroy();
    other.destroy();
  });

  it('stops with the step and the tensor named when a loss is not finite', async () => {
    const g = new Graph();
    const w = g.param('w', [3, 1], new Float32Array([1, 2, 3]));
    const x = g.input('x', [2, 3], 'f32');
    const y = g.input('y', [2, 1], 'f32');
    const loss = mseLoss(g, dense(g, x, w, undefined), y);
    const metrics = new Metrics(g, ['mse']);
    metrics.add(g, 'mse', loss);
    const step = await CompiledStep.create(t.gpu, g);
    step.feed({ x: new Float32Array([1, 2, 3, 4, 5, 6]), y: new Float32Array([0, Number.NaN]) });
    step.run();
    await expect(metrics.read(step, t.ring, 1, 7)).rejects.toThrow(/training stopped: "mse" \(tensor x@w\.mse\[2\]\) became NaN by step 7/);
    step.destroy();
  });

  it('alternates two input sets, and a rejected batch changes neither', async () => {
    const m = buildMlp(8);
    const step = await CompiledStep.create(t.gpu, m.g);
    const [a, b] = [batch(20), batch(21)];
    const lossAfter = async (): Promise<number> => {
      step.run();
      const v = (await step.read(t.ring, m.loss)) as Float32Array;
      return v.reduce((x, y) => x + y, 0);
    };
    step.feed(a);
    const la = await lossAfter();
    step.feed(b);
    const lb = await lossAfter();
    expect(() => step.feed({ x: a.x })).toThrow(/input "y" was not fed/);
    expect(await lossAfter()).toBe(lb); // still batch b
    step.feed(a);
    expect(await lossAfter()).toBe(la); // batch a again, through the other input set
    expect(la).not.toBe(lb);
    step.destroy();
  });

  it('computes gradients only along paths from the trained tensors, and not through stopped ones', () => {
    const g = new Graph();
    const x = g.input('x', [4, 3], 'f32');
    const w1 = g.param('w1', [3, 2], new Float32Array(6));
    const w2 = g.param('w2', [2, 1], new Float32Array(2));
    const h = dense(g, x, w1, undefined);
    const loss = mseLoss(g, dense(g, h, w2, undefined), g.input('y', [4, 1], 'f32'));
    const before = g.nodes.length;
    const stopped = gradients(g, [loss], [w1, w2], new Set([h]));
    expect([...stopped.keys()]).toEqual([w2]);
    // Only w2's product was added: no dX for the data, nothing below the stop.
    expect(g.nodes.slice(before).map((n) => n.op.name)).toEqual(['matmul']);
  });

  it('names the op and both shapes when they do not fit', () => {
    const g = new Graph();
    const x = g.input('x', [4, 3], 'f32');
    const w = g.param('w', [5, 2], new Float32Array(10));
    expect(() => dense(g, x, w, undefined)).toThrow(/matmul: x\[4x3\] \[4, 3\] and w\[5x2\] \[5, 2\] do not multiply/);
  });
});

describe('Graph.rewrite', () => {
  it('rewrites a node where it stands, absorbing another node\'s output, and refuses to drop what is read', () => {
    const g = new Graph();
    const x = g.input('x', [2, 3], 'f32');
    const y = g.input('y', [2, 3], 'f32');
    const s = add(g, x, y);
    const t = add(g, s, y); // absorbed: its output becomes the rewritten node's
    const old = s.producer!;
    const absorbed = t.producer!;
    // s is read by the absorbed node only, so it may go; t stays, now written by the new node.
    const fresh = g.rewrite(old, old.op, [x, x], [t], {}, [absorbed]);
    expect(g.nodes).toEqual([fresh]);
    expect(t.producer).toBe(fresh);
    expect(fresh.id).toBe(old.id);
    expect(g.tensors).not.toContain(s);
    expect(g.tensors).toContain(t);

    const h = new Graph();
    const a = h.input('a', [2], 'f32');
    const b = add(h, a, a);
    const reader = add(h, b, a);
    const late = add(h, a, a);
    const before = h.nodes.slice();
    // Dropping b while `reader` reads it, or taking an input made later, is refused; nothing changes.
    expect(() => h.rewrite(b.producer!, b.producer!.op, [a, a], [h.input('c', [2], 'f32')], {})).toThrow(/still read/);
    expect(() => h.rewrite(b.producer!, b.producer!.op, [a, late], [b], {})).toThrow(/made after it/);
    expect(() => h.rewrite(b.producer!, { ...b.producer!.op, outputs: () => [{ name: 'z', shape: [3], dtype: 'f32' }] }, [a, a], [b], {})).toThrow(/outputs differ/);
    expect(h.nodes).toEqual(before);
    expect(reader.producer!.inputs[0]).toBe(b);
  });
});
