// Gradient clipping by global norm (graph ops) and learning-rate schedules.
import { describe, expect, it } from 'vitest';
import { CompiledStep } from '../src/graph/compile.ts';
import { Graph, type Tensor } from '../src/graph/graph.ts';
import { clipGradNormRef } from '../src/kernels/clip.ts';
import { clipGradNorm } from '../src/optim/clip.ts';
import { constant, cosine, stepDecay, warmup } from '../src/optim/schedule.ts';
import { Rng } from '../src/random.ts';
import { expectClose } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

describe('clip_grad_norm', () => {
  // Stand-in gradients: persistent tensors of odd sizes, one over 65536 elements.
  async function clip(maxNorm: number, scaleBy: number): Promise<void> {
    const rng = new Rng(3);
    const data = [70_001, 33, 1].map((n) => Float32Array.from({ length: n }, () => rng.normal() * scaleBy));
    const g = new Graph();
    const grads = new Map<Tensor, Tensor>(data.map((d, i) => {
      const p = g.param(`p${i}`, [d.length], d);
      return [p, p];
    }));
    const out = clipGradNorm(g, grads, maxNorm);
    g.keep(out.normSq);
    for (const c of out.grads.values()) g.keep(c);
    const step = await CompiledStep.create(t.gpu, g);
    step.run();
    const ref = clipGradNormRef(data, maxNorm);
    const [normSq] = (await step.read(t.ring, out.normSq)) as Float32Array;
    // A tree sum of 70k squares in f32: 1e-5 relative.
    expect(Math.abs(Math.sqrt(normSq) - ref.norm) / ref.norm).toBeLessThan(1e-5);
    let i = 0;
    for (const c of out.grads.values()) expectClose(await step.read(t.ring, c), ref.clipped[i++], { atol: 1e-7, rtol: 2e-5 }, `clipped ${i}`);
    step.destroy();
  }

  it('scales every gradient by max_norm / norm when the norm is larger', () => clip(1.5, 1));
  it('leaves gradients alone when the norm is below max_norm', () => clip(1e6, 1e-3));
});

describe('learning-rate schedules', () => {
  it('give the rates of their formulas', () => {
    expect(constant(0.1)(500)).toBe(0.1);
    const s = stepDecay(1, 10, 0.5);
    expect([s(1), s(10), s(11), s(21)]).toEqual([1, 1, 0.5, 0.25]);
    const c = cosine(1, 100, 0.1);
    expect(c(1)).toBeCloseTo(1, 12);
    expect(c(51)).toBeCloseTo(0.55, 12);
    expect(c(100)).toBe(0.1);
    const w = warmup(4, constant(0.2));
    expect([1, 2, 4, 5, 99].map(w)).toEqual([0.05, 0.1, 0.2, 0.2, 0.2]);
  });
});
