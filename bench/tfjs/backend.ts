// TF.js's WebGPU backend in Node, on the adapter our engine uses: the device comes from
// src/gpu (platform-node: Dawn, the SwiftShader fallback, the GPU instances kept alive, the
// WebGPU globals), and TF.js's backend is built on it instead of asking `navigator.gpu` for an
// adapter of its own. One difference: Dawn's robustness stays on for TF.js (see robustGpu).
// One backend per process (TF.js's engine is global), shared by every model that holds a
// handle; the last release frees the device.
import { register } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { create } from 'webgpu';
import { adapterLine } from '../../src/gpu/adapter-report.ts';
import { Gpu, gpuOptionsFromEnv, type GpuOptions } from '../../src/gpu/context.ts';

export const TFJS_BACKEND = 'webgpu';

export interface TfjsWebGpu {
  /** The device TF.js runs on (owned here: never destroy it yourself). */
  readonly gpu: Gpu;
  /** "tfjs-core 4.22.0 webgpu on google swiftshader (...), software, node", plus how the adapter was found. */
  readonly backendInfo: string;
  /** Throws if a WebGPU validation error happened or the device was lost since the last check. */
  check(): void;
  /** Drops this handle; the last one removes the backend and destroys the device. */
  release(): void;
}

interface Session {
  gpu: Gpu;
  backendInfo: string;
}

let session: Promise<Session> | null = null;
let holders = 0;
// The GPU object behind `navigator.gpu`, kept referenced for the process's life: dawn.node
// frees an instance that is garbage-collected (see platform-node.ts).
let navigatorGpu: GPU | null = null;

/** TF.js's backend refuses to start unless `navigator.gpu` exists (Node 20 has no `navigator`). */
function installNavigatorGpu(opts: GpuOptions, fellBack: boolean): void {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return;
  // A Dawn instance with the engine's flags, created after the engine found its adapter (so
  // VK_ICD_FILENAMES already points at SwiftShader when that was the fallback): if anything
  // does ask it for an adapter, it gets the same one.
  // TODO(platform-node): use the instance that produced the engine's adapter once
  // platform-node.ts exports it, instead of this second one.
  const flags: string[] = [];
  const backend = opts.backend ?? (fellBack ? 'vulkan' : undefined);
  if (backend) flags.push(`backend=${backend}`);
  if (opts.adapterName) flags.push(`adapter=${opts.adapterName}`);
  navigatorGpu = create(flags) as GPU;
  if (nav) Object.defineProperty(nav, 'gpu', { value: navigatorGpu, configurable: true, writable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: navigatorGpu }, configurable: true, writable: true });
}

// tsx resolves `./gradients` inside tfjs-core's ESM files to the directory dist/gradients/
// rather than the file dist/gradients.js next to it, and fails (esbuild and vite try the file
// first). It is the only name in dist/ that is both; only it is redirected.
const GRADIENTS_DIR_FIX = `export async function resolve(specifier, context, next) {
  if (specifier.startsWith('.') && context.parentURL && new URL(specifier, context.parentURL).href.endsWith('/@tensorflow/tfjs-core/dist/gradients')) {
    return next(specifier + '.js', context);
  }
  return next(specifier, context);
}`;

let gradientsLoaded: Promise<unknown> | null = null;

/**
 * tfjs-core alone registers no gradients: @tensorflow/tfjs imports this file for its users,
 * and so must a tfjs-core user who trains. It is ESM while tfjs-core's `main` is its CommonJS
 * bundle; the gradients land in the registry both copies share through TF.js's global
 * namespace (TF.js supports several copies of itself that way).
 */
function loadGradients(): Promise<unknown> {
  if (!gradientsLoaded) {
    if (typeof register === 'function') register(`data:text/javascript,${encodeURIComponent(GRADIENTS_DIR_FIX)}`);
    gradientsLoaded = import('@tensorflow/tfjs-core/dist/register_all_gradients');
  }
  return gradientsLoaded;
}

/**
 * The engine's device, but with Dawn's robustness (bounds-checked buffer access) on, which
 * platform-node turns off by default. TF.js's WGSL relies on it: in 4.22 the packed matmul's
 * mm_readB has no bounds check, so when the inner dimension is not a multiple of the 32-wide
 * tile it reads past the end of B and multiplies that by A's zero padding; without robustness
 * those reads return whatever lies beyond the buffer, occasionally NaN, and 0·NaN = NaN (seen:
 * the LSTM's recurrent-weight gradient, [16,128]ᵀ·[16,512], NaN in columns 0-1 at random steps).
 */
async function robustGpu(opts: GpuOptions): Promise<Gpu> {
  return Gpu.create({ ...opts, robustness: true });
}

async function start(options: GpuOptions): Promise<Session> {
  await loadGradients();
  const opts = { ...gpuOptionsFromEnv(), ...options };
  const gpu = await robustGpu(opts);
  try {
    installNavigatorGpu(opts, gpu.note !== '');
    // If the package registered its own factory at import (a `navigator.gpu` existed then), it
    // would ask for an adapter on its own; ours hands it the engine's device instead.
    if (tf.findBackendFactory(TFJS_BACKEND)) tf.removeBackend(TFJS_BACKEND);
    let failure: unknown = null;
    tf.registerBackend(TFJS_BACKEND, () => {
      try {
        return new WebGPUBackend(gpu.device, gpu.adapter.info);
      } catch (err) {
        failure = err;
        throw err;
      }
    });
    // setBackend resolves false (and only logs a warning) when the factory throws.
    const ok = await tf.setBackend(TFJS_BACKEND);
    if (!ok || tf.getBackend() !== TFJS_BACKEND) {
      const why = failure instanceof Error ? failure.message : 'setBackend returned false';
      throw new Error(`TF.js could not start its WebGPU backend on ${adapterLine(gpu.report)}: ${why}`);
    }
    const backend = tf.backend();
    if (!(backend instanceof WebGPUBackend) || backend.device !== gpu.device) {
      throw new Error('TF.js is not running on the device shadertrain opened (two copies of @tensorflow/tfjs-core loaded?)');
    }
    await tf.ready();
    gpu.check();
    const note = gpu.note ? `; ${gpu.note}` : '';
    return { gpu, backendInfo: `tfjs-core ${tf.version_core} ${TFJS_BACKEND} on ${adapterLine(gpu.report)}, Dawn robustness on${note}` };
  } catch (err) {
    if (tf.findBackendFactory(TFJS_BACKEND)) tf.removeBackend(TFJS_BACKEND);
    gpu.destroy();
    throw err;
  }
}

/**
 * Starts (once per process) TF.js's WebGPU backend on the adapter shadertrain picks
 * (SHADERTRAIN_BACKEND / SHADERTRAIN_ADAPTER, else the default, else SwiftShader) and makes it
 * TF.js's active backend. Every handle must be released.
 */
export async function acquireTfjsWebGpu(options: GpuOptions = {}): Promise<TfjsWebGpu> {
  holders++;
  let s: Session;
  try {
    session ??= start(options);
    s = await session;
  } catch (err) {
    holders--;
    session = null;
    throw err;
  }
  let released = false;
  return {
    gpu: s.gpu,
    backendInfo: s.backendInfo,
    check: () => s.gpu.check(),
    release: () => {
      if (released) return;
      released = true;
      if (--holders > 0) return;
      session = null;
      tf.removeBackend(TFJS_BACKEND); // disposes the backend's buffers
      s.gpu.destroy();
    },
  };
}

/** tf.variableGrads of `loss`, read back, keyed by the parameter names without the instance prefix. */
export async function readGradients(loss: () => tf.Scalar, vars: Record<string, tf.Variable> | tf.Variable[], prefix: string): Promise<Record<string, Float32Array>> {
  const { value, grads } = tf.variableGrads(loss, Object.values(vars));
  try {
    const out: Record<string, Float32Array> = {};
    for (const [name, g] of Object.entries(grads)) out[name.slice(prefix.length)] = (await g.data()) as Float32Array;
    return out;
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}

export { tf };


/** One optimizer step as a training loop runs it: minimize, then read the loss back (which waits for the whole step, updates included: one queue). */
export function minimizeStep(opt: tf.Optimizer, loss: () => tf.Scalar, backend: TfjsWebGpu): () => Promise<number> {
  return async () => {
    const cost = opt.minimize(loss, true);
    if (!cost) throw new Error('TF.js returned no loss');
    try {
      const [value] = await cost.data();
      backend.check();
      return value;
    } finally {
      cost.dispose();
    }
  };
}
