// What every kernel shares: errors that name the kernel, a pipeline cache, dispatch geometry
// past the 65535-workgroup limit, and recorded dispatches. Binding is spec.ts's.
import type { Gpu } from '../gpu/context.ts';

/** Bad arguments to a kernel, found before anything is dispatched. */
export class KernelError extends Error {
  override name = 'KernelError';
  constructor(kernel: string, message: string) {
    super(`${kernel}: ${message}`);
  }
}

export type Constants = Record<string, number>;

const caches = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();
const counts = new WeakMap<GPUDevice, { asked: number; ready: number }>();

/** Pipelines asked to compile on this device so far, and how many are ready (the page's "pipelines 14/35"). */
export function pipelineCounts(gpu: Gpu): { asked: number; ready: number } {
  return { ...(counts.get(gpu.device) ?? { asked: 0, ready: 0 }) };
}

/**
 * A compute pipeline for `entryPoint` of `code`, compiled asynchronously once per device,
 * source, entry point and override constants.
 */
export function pipeline(gpu: Gpu, label: string, code: string, entryPoint: string, constants: Constants = {}): Promise<GPUComputePipeline> {
  let cache = caches.get(gpu.device);
  if (!cache) caches.set(gpu.device, (cache = new Map()));
  const key = `${entryPoint}|${JSON.stringify(constants)}|${code}`;
  let p = cache.get(key);
  if (!p) {
    const module = gpu.device.createShaderModule({ label, code });
    p = gpu.guard(gpu.device.createComputePipelineAsync({
      label: `${label}.${entryPoint}`,
      layout: 'auto',
      compute: { module, entryPoint, constants },
    }));
    let n = counts.get(gpu.device);
    if (!n) counts.set(gpu.device, (n = { asked: 0, ready: 0 }));
    const tally = n;
    tally.asked++;
    // A failed compile must not poison the cache for a later retry.
    p.then(() => tally.ready++, () => (tally.asked--, cache.delete(key)));
    cache.set(key, p);
  }
  return p;
}

/** Workgroups for `threads` invocations of `wg` each, split over x and y past the per-dimension limit. */
export function grid1d(gpu: Gpu, threads: number, wg: number): [number, number] {
  const groups = Math.ceil(threads / wg);
  const maxX = gpu.device.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= maxX) return [Math.max(groups, 1), 1];
  const y = Math.ceil(groups / maxX);
  if (y > maxX) throw new Error(`a dispatch of ${threads} threads needs more than ${maxX}² workgroups`);
  return [Math.ceil(groups / y), y];
}

// SwiftShader runs 4 invocations as one SIMD group at a large fixed cost each (a 65,536-float copy: 721 us at 1 element per invocation, 197 us at 16); on a GPU a short coalesced loop is free.
export function elementsPerThread(gpu: Gpu): number {
  return gpu.report.software ? 16 : 4;
}

/**
 * Workgroups for `n` elements when each invocation of a `wg`-wide workgroup handles `per` of
 * them (element base + j * wg + local index, j < per), split over x and y as grid1d does.
 */
export function gridPerThread(gpu: Gpu, n: number, wg: number, per: number): [number, number] {
  return grid1d(gpu, Math.ceil(n / per), wg);
}

export type BindingResource = GPUBuffer | GPUBufferBinding;

/** The bits of `v` rounded to f32, for packing floats into a u32 uniform. */
export function f32Bits(v: number): number {
  return new Uint32Array(Float32Array.of(v).buffer)[0];
}

export function checkInteger(kernel: string, name: string, v: number, min = 0): void {
  if (!Number.isInteger(v) || v < min) throw new KernelError(kernel, `${name} must be an integer >= ${min}, got ${v}`);
}

/** One recorded dispatch: what the scheduler replays and eager mode runs at once. */
export interface Dispatch {
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly grid: readonly [number, number];
}

export function encodeDispatch(pass: GPUComputePassEncoder, d: Dispatch): void {
  pass.setPipeline(d.pipeline);
  pass.setBindGroup(0, d.bindGroup);
  pass.dispatchWorkgroups(d.grid[0], d.grid[1]);
}

/** Eager execution: the dispatches in one compute pass, one submit. */
export function submitDispatches(gpu: Gpu, dispatches: readonly Dispatch[], label = 'eager'): void {
  const encoder = gpu.device.createCommandEncoder({ label });
  const pass = encoder.beginComputePass({ label });
  for (const d of dispatches) encodeDispatch(pass, d);
  pass.end();
  gpu.device.queue.submit([encoder.finish()]);
}

