// One way to get a device, in a browser or in Node: `await Gpu.create()`.
import { requestPlatformAdapter, platformName, settle } from '#gpu-platform';
import { describeAdapter, type AdapterReport } from './adapter-report.ts';
import { BufferScope } from './buffers.ts';
import { DeviceLostError, type AdapterRequest } from './platform.ts';

export interface GpuOptions extends AdapterRequest {
  /** Ask for timestamp queries when the adapter has them (default true). */
  timestamps?: boolean;
}

/** Environment variables read in Node (a browser has none): SHADERTRAIN_BACKEND, SHADERTRAIN_ADAPTER. */
export function gpuOptionsFromEnv(): GpuOptions {
  const env = typeof process !== 'undefined' && process.env ? process.env : {};
  const opts: GpuOptions = {};
  if (env.SHADERTRAIN_BACKEND) opts.backend = env.SHADERTRAIN_BACKEND;
  if (env.SHADERTRAIN_ADAPTER) opts.adapterName = env.SHADERTRAIN_ADAPTER;
  return opts;
}

/**
 * A validation message's first statement: Dawn follows it with lines of call context
 * (" - While calling [Device].CreateBuffer(...)") that mean nothing to a user.
 */
export function oneSentence(message: string): string {
  return message.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('- While') && !l.startsWith('at ')).join(' ').trim() || message.trim();
}

export class Gpu {
  /** Owns every buffer made for this device that nobody else owns. */
  readonly buffers: BufferScope;
  private lostError: DeviceLostError | null = null;
  private uncaptured: string | null = null;
  private destroyed = false;
  private readonly lostPromise: Promise<never>;

  private constructor(
    readonly adapter: GPUAdapter,
    readonly device: GPUDevice,
    readonly report: AdapterReport,
    /** How the adapter was found, when worth telling (e.g. the SwiftShader fallback). */
    readonly note: string,
  ) {
    this.buffers = new BufferScope(device);
    this.lostPromise = device.lost.then((info) => {
      const err = new DeviceLostError(`${info.reason}: ${info.message.replace(/\.$/, '') || 'no message'}`);
      if (!this.destroyed) this.lostError = err;
      throw err;
    });
    // Nobody may await `lost`; without a handler its rejection would be reported as unhandled.
    this.lostPromise.catch(() => undefined);
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      // Handled here, so not also printed: Dawn in Node writes unhandled ones to stdout, which breaks --json.
      ev.preventDefault();
      this.uncaptured ??= ev.error.message;
    };
  }

  static async create(options: GpuOptions = {}): Promise<Gpu> {
    const opts = { ...gpuOptionsFromEnv(), ...options };
    const { adapter, note } = await requestPlatformAdapter(opts);
    const requiredFeatures: GPUFeatureName[] = [];
    if (opts.timestamps !== false && adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
    // Subgroup operations let kernel variants share loads between lanes (see matmul-sg.wgsl).
    if (adapter.features.has('subgroups')) requiredFeatures.push('subgroups');
    // Take the adapter's full limits: the defaults cap storage bindings at 128 MiB.
    const wanted = [
      'maxStorageBufferBindingSize',
      'maxBufferSize',
      'maxStorageBuffersPerShaderStage',
      'maxComputeWorkgroupStorageSize',
      'maxComputeInvocationsPerWorkgroup',
      'maxComputeWorkgroupSizeX',
      'maxComputeWorkgroupsPerDimension',
    ] as const;
    const requiredLimits: Record<string, number> = {};
    for (const name of wanted) requiredLimits[name] = adapter.limits[name];
    const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'shadertrain' });
    return new Gpu(adapter, device, describeAdapter(adapter, device, platformName), note);
  }

  /** Throws if the device was lost or an uncaptured validation error happened since the last check. */
  check(): void {
    if (this.lostError) throw this.lostError;
    if (this.destroyed) throw new Error('the GPU context was already destroyed');
    if (this.uncaptured) {
      const msg = this.uncaptured;
      this.uncaptured = null;
      throw new Error(`WebGPU error: ${oneSentence(msg)}`);
    }
  }

  /**
   * Resolves like `p`, but rejects with a clear error instead of hanging if the device is lost.
   * In Node it also waits without spinning a core (platform-node.ts `settle`): await device
   * promises through here.
   */
  guard<T>(p: Promise<T>): Promise<T> {
    return Promise.race([settle(p), this.lostPromise]);
  }

  /** Waits until the queue has finished everything submitted so far. */
  async idle(): Promise<void> {
    await this.guard(this.device.queue.onSubmittedWorkDone());
    this.check();
  }

  /**
   * The subgroup size when the device has subgroups and the adapter promises one fixed size
   * (SwiftShader: 4), else null. Kernels written for one size ask this before using it.
   */
  get fixedSubgroupSize(): number | null {
    if (!this.device.features.has('subgroups')) return null;
    const { subgroupMinSize: lo, subgroupMaxSize: hi } = this.adapter.info;
    return lo !== undefined && lo === hi ? lo : null;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Frees every buffer and the device. In Node this also lets the process exit. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.buffers.destroy();
    this.device.destroy();
  }
}
