// The options every GPU command takes to choose its adapter.
import type { GpuOptions } from '../src/gpu/context.ts';
import { UserError } from './errors.ts';

export const GPU_OPTIONS = {
  backend: { type: 'string' },
  adapter: { type: 'string' },
  'power-preference': { type: 'string' },
} as const;

export const GPU_HELP = `GPU options (also from the environment: SHADERTRAIN_BACKEND, SHADERTRAIN_ADAPTER):
  --backend NAME          Dawn backend: vulkan, metal, d3d12, opengl, opengles
  --adapter NAME          adapter name as Dawn lists it (an unknown name prints the list)
  --power-preference P    low-power or high-performance`;

export function gpuOptions(values: { backend?: string; adapter?: string; 'power-preference'?: string }): GpuOptions {
  const opts: GpuOptions = {};
  if (values.backend) opts.backend = values.backend;
  if (values.adapter) opts.adapterName = values.adapter;
  const pp = values['power-preference'];
  if (pp !== undefined) {
    if (pp !== 'low-power' && pp !== 'high-performance') throw new UserError(`--power-preference must be low-power or high-performance, not "${pp}"`);
    opts.powerPreference = pp;
  }
  return opts;
}
