// LSTM cell, fused (one dispatch per step) against unfused (activations and cell update as
// separate dispatches), at the few-shot model's shapes: layer 1 (H = 128) and layer 2 (H = 5).
// Each timed run replays the cell dispatches of a whole sequence of T steps, as a recorded
// training step does (the matmuls between steps are left out: they are not the cell's).
import { LstmCellBackward, LstmCellForward, lstmBytes, type LstmShape } from '../../src/kernels/lstm.ts';
import { LstmUnfusedBackward, LstmUnfusedForward } from '../baselines/lstm-unfused.ts';
import { lstmCellBackwardRef, lstmCellForwardRef } from '../../src/kernels/lstm-ref.ts';
import { Rng } from '../../src/random.ts';
import { type BenchCase, type Variant } from '../harness.ts';
import { checkClose } from '../../src/tolerance.ts';

const STEPS = 8;
const SHAPES: LstmShape[] = [
  { steps: STEPS, batch: 128, hidden: 128 },
  { steps: STEPS, batch: 128, hidden: 5 },
];
type LstmImpl = 'fused' | 'unfused';
const VARIANTS: { impl: LstmImpl; workgroupSize: number }[] = [
  { impl: 'unfused', workgroupSize: 64 },
  { impl: 'fused', workgroupSize: 64 },
  { impl: 'unfused', workgroupSize: 256 },
  { impl: 'fused', workgroupSize: 256 },
];
const name = (v: { impl: LstmImpl; workgroupSize: number }): string => `${v.impl} wg${v.workgroupSize}`;
// As in test/lstm.test.ts: a few f32 operations and exp per element, errors compounding over steps.
const ATOL = 1e-5;
const RTOL = 1e-4;

interface Data {
  gx: Float32Array;
  gh: Float32Array;
  /** A consistent forward (post-activation gates and c) for the backward to read. */
  gates: Float32Array;
  c: Float32Array;
  dhOut: Float32Array;
  dhRec: Float32Array;
}

function data(s: LstmShape): Data {
  const rng = new Rng(41);
  const bh = s.batch * s.hidden;
  const normal = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => scale * rng.normal());
  const gx = normal(s.steps * 4 * bh, 2);
  const gh = normal(4 * bh, 2);
  const ref = forwardRef(s, gx, gh);
  return { gx, gh, gates: Float32Array.from(ref.gates), c: Float32Array.from(ref.c), dhOut: normal(s.steps * bh), dhRec: normal(bh) };
}

/** Every step with the same gh, from zero state. */
function forwardRef(s: LstmShape, gx: Float32Array, gh: Float32Array): { gates: Float64Array; c: Float64Array; h: Float64Array } {
  const bh = s.batch * s.hidden;
  const gates = new Float64Array(s.steps * 4 * bh);
  const c = new Float64Array(s.steps * bh);
  const h = new Float64Array(s.steps * bh);
  for (let t = 0; t < s.steps; t++) {
    const pre = Array.from(gx.subarray(t * 4 * bh, (t + 1) * 4 * bh), (v, q) => v + gh[q]);
    const cell = lstmCellForwardRef(pre, t > 0 ? c.subarray((t - 1) * bh, t * bh) : null, s.batch, s.hidden);
    gates.set(cell.gates, t * 4 * bh);
    c.set(cell.c, t * bh);
    h.set(cell.h, t * bh);
  }
  return { gates, c, h };
}

/** t = T-1 .. 0 with the same dh_rec at every step but the last, as the kernel reads it. */
function backwardRef(s: LstmShape, d: Data): { dGates: Float64Array; dc: Float64Array } {
  const bh = s.batch * s.hidden;
  const dGates = new Float64Array(s.steps * 4 * bh);
  let dc: Float64Array | null = null;
  for (let t = s.steps - 1; t >= 0; t--) {
    const dh = Array.from(d.dhOut.subarray(t * bh, (t + 1) * bh), (v, k) => v + (t < s.steps - 1 ? d.dhRec[k] : 0));
    const cPrev = t > 0 ? d.c.subarray((t - 1) * bh, t * bh) : null;
    const cell = lstmCellBackwardRef(d.gates.subarray(t * 4 * bh, (t + 1) * 4 * bh), cPrev, d.c.subarray(t * bh, (t + 1) * bh), dh, dc, s.batch, s.hidden);
    dGates.set(cell.dGates, t * 4 * bh);
    dc = cell.dcPrev;
  }
  return { dGates, dc: dc ?? new Float64Array(bh) };
}

function forwardCase(s: LstmShape): BenchCase {
  const d = data(s);
  const bh = s.batch * s.hidden;
  const bytes = lstmBytes(s);
  const expected = forwardRef(s, d.gx, d.gh);
  const variants: Variant[] = VARIANTS.map((v) => ({
    impl: name(v),
    async prepare(gpu, scope) {
      const k = await (v.impl === 'unfused' ? LstmUnfusedForward : LstmCellForward).create(gpu, s, v, scope);
      const b = {
        gx: scope.upload('gx', d.gx),
        gh: scope.upload('gh', d.gh),
        gates: scope.create('gates', bytes.seqGates),
        c: scope.create('c', bytes.seqState),
        h: scope.create('h', bytes.seqState),
      };
      const dispatches = Array.from({ length: s.steps }, (_, t) => k.bind(b, t)).flat();
      return {
        dispatches,
        check: async (ring) =>
          checkClose(await ring.readF32(b.gates, s.steps * 4 * bh), expected.gates, { atol: ATOL, rtol: RTOL }) ??
          checkClose(await ring.readF32(b.c, s.steps * bh), expected.c, { atol: ATOL, rtol: RTOL }) ??
          checkClose(await ring.readF32(b.h, s.steps * bh), expected.h, { atol: ATOL, rtol: RTOL }),
      };
    },
  }));
  return { case: `lstm cell forward B=${s.batch} H=${s.hidden}, ${s.steps} steps`, baseline: name(VARIANTS[0]), variants };
}

function backwardCase(s: LstmShape): BenchCase {
  const d = data(s);
  const bh = s.batch * s.hidden;
  const bytes = lstmBytes(s);
  const expected = backwardRef(s, d);
  const variants: Variant[] = VARIANTS.map((v) => ({
    impl: name(v),
    async prepare(gpu, scope) {
      const k = await (v.impl === 'unfused' ? LstmUnfusedBackward : LstmCellBackward).create(gpu, s, v, scope);
      const b = {
        gates: scope.upload('gates', d.gates),
        c: scope.upload('c', d.c),
        dhOut: scope.upload('dhOut', d.dhOut),
        dhRec: scope.upload('dhRec', d.dhRec),
        // Step T-1 ignores dc's content, so every replay starts afresh: no reset needed.
        dc: scope.create('dc', bytes.stepState),
        dGates: scope.create('dGates', bytes.seqGates),
      };
      const dispatches = Array.from({ length: s.steps }, (_, i) => k.bind(b, s.steps - 1 - i)).flat();
      return {
        dispatches,
        check: async (ring) =>
          checkClose(await ring.readF32(b.dGates, s.steps * 4 * bh), expected.dGates, { atol: ATOL, rtol: RTOL }) ??
          checkClose(await ring.readF32(b.dc, bh), expected.dc, { atol: ATOL, rtol: RTOL }),
      };
    },
  }));
  return { case: `lstm cell backward B=${s.batch} H=${s.hidden}, ${s.steps} steps`, baseline: name(VARIANTS[0]), variants };
}

export function lstmCases(): BenchCase[] {
  return SHAPES.flatMap((s) => [forwardCase(s), backwardCase(s)]);
}
