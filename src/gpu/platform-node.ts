// Node: WebGPU through Dawn (the `webgpu` package). The only file that knows about Dawn.
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { cacheDir } from '../cache-node.ts';
import { NoWebGPUError, type AdapterRequest, type PlatformAdapter } from './platform.ts';

export const platformName = 'node';

// Where distributions put SwiftShader's Vulkan ICD (Chromium ships it next to the browser).
const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/usr/lib64/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

let globalsInstalled = false;

// One Dawn instance per set of flags and Vulkan drivers, kept for the whole process and reused
// by every later adapter request (a second Gpu, a device recreated after a loss). Two reasons:
// - dawn.node's event loop keeps a raw pointer to the instance, so letting the GPU object be
//   garbage-collected while a device lives frees the instance under it and crashes the process
//   at the next GC (seen here as random SIGSEGV / futex aborts in InstanceBase::ProcessEvents).
// - Dawn prints a warning for each Vulkan driver it rejects (docs/reliability.md: Mesa's
//   lavapipe, `Vulkan shaderUniform*ArrayDynamicIndexing required`) once per instance, to
//   stderr, with no way to turn it off from JavaScript. A new instance would print it again,
//   in the middle of a run's output; a reused one prints it once, before anything of ours.
const instances = new Map<string, GPU>();

function instanceFor(flags: string[]): GPU {
  const key = [...flags, process.env.VK_ICD_FILENAMES, process.env.VK_DRIVER_FILES].join('|');
  let gpu = instances.get(key);
  if (!gpu) {
    gpu = create(flags) as GPU;
    instances.set(key, gpu);
  }
  return gpu;
}

function installGlobals(): void {
  if (globalsInstalled) return;
  // GPUBufferUsage, GPUMapMode and friends are globals in a browser; Dawn exports them.
  for (const [k, v] of Object.entries(globals)) {
    if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, writable: true, configurable: true });
  }
  globalsInstalled = true;
}

function quietMesa(): void {
  // Mesa's Vulkan ICDs print an error per probe when XDG_RUNTIME_DIR is unset (as in CI).
  if (process.env.XDG_RUNTIME_DIR) return;
  const dir = join(tmpdir(), `shadertrain-xdg-${process.getuid?.() ?? 0}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  } catch {
    // Only cosmetic: keep going with the noise.
  }
}

function dawnFlags(req: AdapterRequest): string[] {
  const flags: string[] = [];
  if (req.backend) flags.push(`backend=${req.backend}`);
  if (req.adapterName) flags.push(`adapter=${req.adapterName}`);
  // Robustness (bounds checks on every access) costs 1.4-2x on SwiftShader; every kernel here
  // checks its buffer sizes before binding and guards its indices, so Node runs without it.
  // SHADERTRAIN_ROBUSTNESS=1 turns it back on (browsers always keep it).
  if (!(req.robustness ?? process.env.SHADERTRAIN_ROBUSTNESS === '1')) flags.push('enable-dawn-features=disable_robustness');
  // Expert knob: extra dawn.node flags.
  for (const f of (process.env.SHADERTRAIN_DAWN_FLAGS ?? '').split(/\s+/)) if (f) flags.push(f);
  return flags;
}

async function tryAdapter(req: AdapterRequest): Promise<GPUAdapter | null> {
  const gpu = instanceFor(dawnFlags(req));
  try {
    return await gpu.requestAdapter({ powerPreference: req.powerPreference });
  } catch (err) {
    // Dawn throws (rather than returning null) for an unknown backend or adapter name.
    const what = req.adapterName ? `adapter "${req.adapterName}"` : `backend "${req.backend ?? 'default'}"`;
    throw new NoWebGPUError(`Dawn could not open ${what}: ${(err as Error).message.trim()}`);
  }
}

export async function requestPlatformAdapter(req: AdapterRequest): Promise<PlatformAdapter> {
  installGlobals();
  quietMesa();
  let adapter = await tryAdapter(req);
  let note = '';
  if (!adapter && !process.env.VK_ICD_FILENAMES) {
    // No GPU driver: fall back to SwiftShader's CPU Vulkan, if a Chromium install brought one.
    const icd = SWIFTSHADER_ICDS.find((p) => existsSync(p));
    if (icd) {
      process.env.VK_ICD_FILENAMES = icd;
      adapter = await tryAdapter({ ...req, backend: req.backend ?? 'vulkan' });
      if (adapter) note = `no GPU adapter found; using SwiftShader (${icd})`;
    }
  }
  if (!adapter) {
    throw new NoWebGPUError(
      `No WebGPU adapter found${req.backend ? ` for backend "${req.backend}"` : ''}. Install a GPU driver with Vulkan support, or on Debian/Ubuntu without a GPU ` +
        'install SwiftShader with `apt-get install -y chromium libvulkan1` (shadertrain finds it by itself; `npx shadertrain setup` does this as root).',
    );
  }
  return { adapter, note };
}


// ---- waiting for the device without taking a core from it ------------------------------

// While any of its promises is pending, dawn.node asks for completion from a setImmediate loop
// (AsyncRunner::ScheduleProcessEvents), which keeps the main thread busy. On a CPU adapter that
// thread takes its share of the cores running the shaders: on SwiftShader with 2 cores, 200
// queued 256x96x64 products took 137 ms awaited plainly and 75-80 ms with the loop napping.
// So while we await the device, one more immediate in that loop blocks the thread for a
// moment (Atomics.wait sleeps without spinning; the shaders run on SwiftShader's own threads).
// The nap grows with the wait, up to NAP_MAX_MS, so a short wait is not made much longer.
const NAP_MIN_MS = 0.05;
const NAP_MAX_MS = 1;
const napCell = new Int32Array(new SharedArrayBuffer(4));
let waiters = 0;
let napStart = 0;
// One chain of naps at a time: a wait that starts before the last one's queued tick has run
// keeps that chain instead of starting a second.
let napQueued = false;

function napTick(): void {
  napQueued = false;
  if (waiters === 0) return;
  const waited = performance.now() - napStart;
  Atomics.wait(napCell, 0, 0, Math.min(NAP_MAX_MS, Math.max(NAP_MIN_MS, waited / 8)));
  queueNap();
}

function queueNap(): void {
  if (napQueued) return;
  napQueued = true;
  setImmediate(napTick);
}

/** Resolves like `p` (a promise from the device), napping between dawn.node's polls. */
export async function settle<T>(p: Promise<T>): Promise<T> {
  if (waiters++ === 0) napStart = performance.now();
  queueNap();
  try {
    return await p;
  } finally {
    waiters--;
  }
}

// ---- small persistent caches (autotune results, preprocessed data) ----------------------

export async function loadCacheText(name: string): Promise<string | null> {
  try {
    return await readFile(join(cacheDir(), name), 'utf8');
  } catch {
    return null;
  }
}

let tmpCounter = 0;

/** Written to a temporary name, then renamed: a reader never sees half a file. */
export async function saveCacheText(name: string, text: string): Promise<void> {
  const dir = cacheDir();
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `${name}.tmp-${process.pid}-${++tmpCounter}`);
  await writeFile(tmp, text);
  await rename(tmp, join(dir, name));
}
