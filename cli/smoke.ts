// `shadertrain smoke`: train a tiny model on the GPU, print the adapter and the loss.
import { parseArgs } from 'node:util';
import { adapterLine } from '../src/gpu/adapter-report.ts';
import { Gpu } from '../src/gpu/context.ts';
import { SMOKE_DEFAULTS, trainSmoke } from '../src/models/smoke.ts';
import { UserError } from './errors.ts';
import { GPU_HELP, GPU_OPTIONS, gpuOptions } from './gpu-options.ts';

const HELP = `usage: shadertrain smoke [--steps N] [--seed N] [GPU options]
Trains a tiny matrix factorization on synthetic ratings and prints the loss as it falls.

${GPU_HELP}`;

function intFlag(name: string, v: string | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UserError(`--${name} must be an integer >= ${min}, not "${v}"`);
  return n;
}

export async function smoke(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...GPU_OPTIONS, steps: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const opts = { ...SMOKE_DEFAULTS, steps: intFlag('steps', values.steps, SMOKE_DEFAULTS.steps, 1), seed: intFlag('seed', values.seed, 0, 0) };
  const gpu = await Gpu.create(gpuOptions(values));
  try {
    console.log(`adapter: ${adapterLine(gpu.report)}`);
    if (gpu.note) console.log(`note: ${gpu.note}`);
    console.log(`training a ${opts.users}x${opts.items} matrix factorization (dim ${opts.dim}, batch ${opts.batch}) for ${opts.steps} steps`);
    const t0 = performance.now();
    const history = await trainSmoke(gpu, opts, (l) => console.log(`step ${String(l.step).padStart(4)}  loss ${l.loss.toExponential(3)}`));
    const ms = performance.now() - t0;
    const first = history[0].loss;
    const last = history[history.length - 1].loss;
    console.log(`done: loss ${first.toExponential(2)} -> ${last.toExponential(2)} in ${(ms / 1000).toFixed(2)} s (${(ms / opts.steps).toFixed(2)} ms/step)`);
    return 0;
  } finally {
    gpu.destroy();
  }
}
