// What each platform (platform-node.ts, platform-browser.ts) provides. The package.json
// subpath import `#gpu-platform` picks one: "browser" condition in bundles and vitest's
// browser mode, Node otherwise.

export interface AdapterRequest {
  /** Dawn backend name in Node: vulkan, metal, d3d12, opengl, null... */
  backend?: string;
  /** Dawn adapter name in Node (substring of the adapter's description). */
  adapterName?: string;
  powerPreference?: GPUPowerPreference;
  /**
   * Dawn's bounds checks on every buffer access (Node only; browsers always keep them). Off by
   * default, since every shadertrain kernel checks sizes and guards its indices; on for code
   * that reads past its buffers (TF.js's packed matmul does), or with SHADERTRAIN_ROBUSTNESS=1.
   */
  robustness?: boolean;
}

export interface PlatformAdapter {
  adapter: GPUAdapter;
  /** How the adapter was found, when it is worth telling the user (e.g. a SwiftShader fallback). */
  note: string;
}

/** There is no WebGPU to be had: the message says what to install or change. */
export class NoWebGPUError extends Error {
  override name = 'NoWebGPUError';
}

/** The device was lost (driver reset, destroyed while work was queued, out of memory). */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';

  constructor(
    /** GPUDeviceLostInfo's reason and message: "destroyed: device was destroyed". */
    readonly why: string,
  ) {
    super(`The GPU device was lost (${why}). Restart the run; if it repeats, lower the batch size or update the GPU driver.`);
  }
}
