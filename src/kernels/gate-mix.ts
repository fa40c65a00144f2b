// MMoE's gate mixture (shaders/gate-mix.wgsl): softmax over the experts per row, the weighted
// sum of their outputs, and the backward's two gradients. References in gate-mix-ref.ts.
import source from '../../shaders/gate-mix.wgsl';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { checkInteger, grid1d, type Dispatch } from './kernel.ts';
import { Kernel, type EntrySpec } from './spec.ts';
import type { GateShape } from './gate-mix-ref.ts';

export { gateMixBackwardRef, gateMixRef, type GateShape } from './gate-mix-ref.ts';

const WG = 64;

function spec<B extends string>(gpu: Gpu, kernel: string, entry: string, s: GateShape, threads: number, sizes: Record<B, number>): EntrySpec<B> {
  checkInteger(kernel, 'rows', s.rows, 1);
  checkInteger(kernel, 'experts', s.experts, 1);
  checkInteger(kernel, 'units', s.units, 1);
  return {
    kernel,
    source,
    entry,
    constants: { WG },
    params: { p: [s.rows, s.experts, s.units, 0] },
    sizes,
    shape: `[rows=${s.rows}, experts=${s.experts}, units=${s.units}]`,
    grid: grid1d(gpu, threads, WG),
  };
}

/** Forward: gate logits [B, E] and experts [B, E·U] to the mixture [B, U] and the probabilities [B, E]. */
export class GateMix {
  static readonly kernel = 'gate_mix';

  private constructor(private readonly k: Kernel<'gate_logits' | 'experts' | 'mixed' | 'probs'>) {}

  static async create(gpu: Gpu, s: GateShape, scope: BufferScope = gpu.buffers): Promise<GateMix> {
    const { rows: B, experts: E, units: U } = s;
    const sizes = { gate_logits: B * E * 4, experts: B * E * U * 4, mixed: B * U * 4, probs: B * E * 4 };
    return new GateMix(await Kernel.create(gpu, spec(gpu, GateMix.kernel, 'gate_mix', s, B * U, sizes), scope));
  }

  bind(b: { logits: GPUBuffer; experts: GPUBuffer; out: GPUBuffer; probs: GPUBuffer }): Dispatch {
    return this.k.bind({ gate_logits: b.logits, experts: b.experts, mixed: b.out, probs: b.probs });
  }
}

/** Backward: from dOut [B, U], the forward's probabilities and the experts, dLogits [B, E] and dExperts [B, E·U] (two dispatches). */
export class GateMixBackward {
  static readonly kernel = 'gate_mix_backward';

  private constructor(
    private readonly experts: Kernel<'gate_probs' | 'grad_mixed' | 'grad_experts'>,
    private readonly logits: Kernel<'gate_probs' | 'grad_mixed' | 'experts' | 'grad_logits'>,
  ) {}

  static async create(gpu: Gpu, s: GateShape, scope: BufferScope = gpu.buffers): Promise<GateMixBackward> {
    const { rows: B, experts: E, units: U } = s;
    const k = GateMixBackward.kernel;
    const [experts, logits] = await Promise.all([
      Kernel.create(gpu, spec(gpu, k, 'gate_mix_grad_experts', s, B * E * U, { gate_probs: B * E * 4, grad_mixed: B * U * 4, grad_experts: B * E * U * 4 }), scope),
      Kernel.create(gpu, spec(gpu, k, 'gate_mix_grad_logits', s, B * E, { gate_probs: B * E * 4, grad_mixed: B * U * 4, experts: B * E * U * 4, grad_logits: B * E * 4 }), scope),
    ]);
    return new GateMixBackward(experts, logits);
  }

  bind(b: { gradOut: GPUBuffer; probs: GPUBuffer; experts: GPUBuffer; gradLogits: GPUBuffer; gradExperts: GPUBuffer }): Dispatch[] {
    const k = GateMixBackward.kernel;
    return [
      { ...this.logits.bind({ gate_probs: b.probs, grad_mixed: b.gradOut, experts: b.experts, grad_logits: b.gradLogits }), label: `${k}.logits` },
      { ...this.experts.bind({ gate_probs: b.probs, grad_mixed: b.gradOut, grad_experts: b.gradExperts }), label: `${k}.experts` },
    ];
  }
}
