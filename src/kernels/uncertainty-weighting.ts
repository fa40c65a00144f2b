// Uncertainty weighting of task losses (shaders/uncertainty-weighting.wgsl): one task's term,
// log-variance gradient and loss factor from its summed loss; and the scaling of a loss's
// gradient by such a factor. The reference is uncertainty-weighting-ref.ts.
import source from '../../shaders/uncertainty-weighting.wgsl';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { checkInteger, grid1d, KernelError, type Dispatch } from './kernel.ts';
import { Kernel } from './spec.ts';

export { uncertaintyRef } from './uncertainty-weighting-ref.ts';

const WG = 64;

/** Task `task` of `tasks`: terms[task], gradLogVars[task] and factor[0] from taskLoss[0] (L_t) and logVars. */
export class UncertaintyTask {
  static readonly kernel = 'uncertainty_task';

  private constructor(private readonly k: Kernel<'task_loss' | 'log_vars' | 'terms' | 'grad_log_vars' | 'factor'>) {}

  static async create(gpu: Gpu, shape: { tasks: number; task: number }, scope: BufferScope = gpu.buffers): Promise<UncertaintyTask> {
    const kernel = UncertaintyTask.kernel;
    checkInteger(kernel, 'tasks', shape.tasks, 1);
    checkInteger(kernel, 'task', shape.task, 0);
    if (shape.task >= shape.tasks) throw new KernelError(kernel, `task ${shape.task} is not one of ${shape.tasks} tasks`);
    const T = shape.tasks * 4;
    const spec = {
      kernel,
      source,
      entry: 'uncertainty_task',
      params: { p: [shape.task, 0, 0, 0] },
      sizes: { task_loss: 4, log_vars: T, terms: T, grad_log_vars: T, factor: 4 },
      shape: `[tasks=${shape.tasks}, task=${shape.task}]`,
      grid: [1, 1] as const,
    };
    return new UncertaintyTask(await Kernel.create(gpu, spec, scope));
  }

  bind(b: { taskLoss: GPUBuffer; logVars: GPUBuffer; terms: GPUBuffer; gradLogVars: GPUBuffer; factor: GPUBuffer }): Dispatch {
    return this.k.bind({ task_loss: b.taskLoss, log_vars: b.logVars, terms: b.terms, grad_log_vars: b.gradLogVars, factor: b.factor });
  }
}

/** out = grad · weight[0] over n elements: a loss's gradient for a seed that weighs all its terms alike. */
export class ScaleBySeed {
  static readonly kernel = 'scale_by_seed';

  private constructor(private readonly k: Kernel<'grad_in' | 'seed_weight' | 'grad_out'>) {}

  static async create(gpu: Gpu, shape: { n: number }, scope: BufferScope = gpu.buffers): Promise<ScaleBySeed> {
    const kernel = ScaleBySeed.kernel;
    checkInteger(kernel, 'n', shape.n, 1);
    const spec = {
      kernel,
      source,
      entry: 'scale_by_seed',
      constants: { WG },
      params: { p: [0, shape.n, 0, 0] },
      sizes: { grad_in: shape.n * 4, seed_weight: 4, grad_out: shape.n * 4 },
      shape: `[n=${shape.n}]`,
      grid: grid1d(gpu, shape.n, WG),
    };
    return new ScaleBySeed(await Kernel.create(gpu, spec, scope));
  }

  bind(b: { grad: GPUBuffer; weight: GPUBuffer; out: GPUBuffer }): Dispatch {
    return this.k.bind({ grad_in: b.grad, seed_weight: b.weight, grad_out: b.out });
  }
}
