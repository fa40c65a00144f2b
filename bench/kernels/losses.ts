// Fused losses: BCE from logits over a large batch of labels, and softmax cross-entropy at the
// few-shot shape (5-way, 128 episodes of 5 queries) and the movie-classification shape (1683 items).
import type { BufferScope } from '../../src/gpu/buffers.ts';
import { BceWithLogits, SoftmaxCrossEntropy, bceWithLogitsRef, softmaxCrossEntropyRef, type CrossEntropyOptions } from '../../src/kernels/losses.ts';
import { Rng } from '../../src/random.ts';
import { type BenchCase, type Variant } from '../harness.ts';
import { checkClose } from '../../src/tolerance.ts';

function bceCase(): BenchCase {
  const n = 1 << 20;
  const rng = new Rng(61);
  const logits = Float32Array.from({ length: n }, () => 4 * rng.normal());
  const labels = Float32Array.from({ length: n }, () => (rng.uniform() < 0.5 ? 0 : 1));
  const weights = Float32Array.from({ length: n }, () => 2 * rng.uniform());
  const mask = Float32Array.from({ length: n }, () => (rng.uniform() < 0.2 ? 0 : 1));
  const scale = Float32Array.of(1 / n);
  const variant = (impl: string, weighted: boolean, masked: boolean): Variant => ({
    impl,
    async prepare(gpu, scope) {
      const k = await BceWithLogits.create(gpu, { n }, { weighted, masked }, scope);
      const loss = scope.create('loss', n * 4);
      const grad = scope.create('grad', n * 4);
      const d = k.bind({
        logits: scope.upload('logits', logits),
        labels: scope.upload('labels', labels),
        ...(weighted ? { weights: scope.upload('weights', weights) } : {}),
        ...(masked ? { mask: scope.upload('mask', mask) } : {}),
        scale: scope.upload('scale', scale),
        loss,
        grad,
      });
      const ref = bceWithLogitsRef(logits, labels, scale[0], { weights: weighted ? weights : undefined, mask: masked ? mask : undefined });
      return {
        dispatches: [d],
        check: async (ring) =>
          checkClose(await ring.readF32(loss, n), ref.loss, { atol: 1e-12, rtol: 1e-5 }) ?? checkClose(await ring.readF32(grad, n), ref.grad, { atol: 1e-12, rtol: 1e-5 }),
      };
    },
  });
  return {
    case: `bce with logits ${n}`,
    baseline: 'plain',
    variants: [variant('plain', false, false), variant('weighted+masked', true, true)],
  };
}

function crossEntropyCase(rows: number, cols: number, groupSizes: number[]): BenchCase {
  const rng = new Rng(62);
  const logits = Float32Array.from({ length: rows * cols }, () => 3 * rng.normal());
  const labels = Uint32Array.from({ length: rows }, () => rng.int(cols));
  const scale = Float32Array.of(1 / rows);
  const ref = softmaxCrossEntropyRef(logits, labels, cols, scale[0]);
  const variant = (impl: string, opts: CrossEntropyOptions): Variant => ({
    impl,
    async prepare(gpu, scope: BufferScope) {
      const k = await SoftmaxCrossEntropy.create(gpu, { rows, cols }, { ...opts, accuracy: true }, scope);
      const loss = scope.create('loss', rows * 4);
      const grad = scope.create('grad', rows * cols * 4);
      const correct = scope.create('correct', rows * 4);
      const d = k.bind({ logits: scope.upload('logits', logits), labels: scope.upload('labels', labels), scale: scope.upload('scale', scale), loss, grad, correct });
      return {
        dispatches: [d],
        check: async (ring) =>
          checkClose(await ring.readF32(loss, rows), ref.loss, { atol: 1e-9, rtol: 2e-5 }) ??
          checkClose(await ring.readF32(grad, rows * cols), ref.grad, { atol: 1e-9, rtol: 2e-5 }) ??
          checkClose(await ring.readF32(correct, rows), ref.correct, { atol: 0, rtol: 0 }),
      };
    },
  });
  return {
    case: `softmax cross-entropy ${rows}x${cols}`,
    baseline: 'rows',
    variants: [variant('rows', { strategy: 'rows' }), ...groupSizes.map((g) => variant(`groups/${g}`, { strategy: 'groups', groupSize: g }))],
  };
}

export function lossesCases(): BenchCase[] {
  return [bceCase(), crossEntropyCase(128 * 5, 5, [8, 64]), crossEntropyCase(256, 1683, [64, 256])];
}
