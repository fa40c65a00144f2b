// What each platform (platform-node.ts, platform-browser.ts) provides. The package.json
// subpath import `#gpu-platform` picks one: "browser" condition in bundles and vitest's
// browser mode, Node otherwise.

export interface AdapterRequest {
  /** Dawn backend name in Node: vulkan, metal, d3d12, opengl, null... */
  backend?: string;
  /** Dawn adapter name in Node (substring of the adapter's description). */
  adapterName?: string;
  powerPreference?: GPUPowerPreference;
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
}
