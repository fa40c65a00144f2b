// Browser (page or worker): WebGPU through navigator.gpu.
import { NoWebGPUError, type AdapterRequest, type PlatformAdapter } from './platform.ts';

export const platformName = 'browser';

export async function requestPlatformAdapter(req: AdapterRequest): Promise<PlatformAdapter> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    throw new NoWebGPUError(
      'This browser does not provide WebGPU. Use Chrome or Edge 113+ (on Linux start it with ' +
        '--enable-unsafe-webgpu), Safari 26+, or Firefox 141+ on Windows; the page must be served over https or localhost.',
    );
  }
  if (req.backend || req.adapterName) {
    // Browsers choose the backend themselves; say so rather than ignore it silently.
    console.warn('shadertrain: adapter/backend selection is not available in a browser; using the default adapter');
  }
  const adapter = await gpu.requestAdapter({ powerPreference: req.powerPreference });
  if (!adapter) {
    throw new NoWebGPUError(
      'navigator.gpu returned no adapter: WebGPU is present but disabled or blocklisted for this GPU ' +
        '(check chrome://gpu, or start Chromium with --enable-unsafe-webgpu).',
    );
  }
  return { adapter, note: '' };
}


// ---- small persistent caches: localStorage where the context has it (a worker has not) ----

const memory = new Map<string, string>();

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // access can throw when storage is disabled
  }
}

export async function loadCacheText(name: string): Promise<string | null> {
  return storage()?.getItem(`shadertrain:${name}`) ?? memory.get(name) ?? null;
}

export async function saveCacheText(name: string, text: string): Promise<void> {
  memory.set(name, text);
  try {
    storage()?.setItem(`shadertrain:${name}`, text);
  } catch {
    // Quota exceeded: the in-memory copy still serves this session.
  }
}
