// A plain description of the adapter in use, for logs, benchmarks and the CLI banner.

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (SwiftShader, llvmpipe, WARP...): timings say little about a real GPU. */
  software: boolean;
  platform: string;
  timestamps: boolean;
  limits: Record<string, number>;
}

/** The limits a compute engine cares about, in the order worth printing. */
export const REPORTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'minStorageBufferOffsetAlignment',
] as const;

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|warp|basic render|microsoft basic/i;

export function describeAdapter(adapter: GPUAdapter, device: GPUDevice, platform: string): AdapterReport {
  const info = adapter.info;
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const limits: Record<string, number> = {};
  for (const name of REPORTED_LIMITS) limits[name] = Number(device.limits[name]);
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software: fallback || SOFTWARE.test(text),
    platform,
    timestamps: device.features.has('timestamp-query'),
    limits,
  };
}

/** One line: "google swiftshader (SwiftShader driver 5.0.0), software, node". */
export function adapterLine(r: AdapterReport): string {
  const name = [r.vendor, r.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const desc = r.description || r.device;
  return `${name}${desc ? ` (${desc})` : ''}, ${r.software ? 'software' : 'hardware'}, ${r.platform}`;
}

export function limitsLines(r: AdapterReport): string[] {
  return Object.entries(r.limits).map(([k, v]) => `${k}: ${v}`);
}
