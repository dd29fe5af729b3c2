// Obtaining a WebGPU device through Dawn's Node bindings (npm `webgpu`), and waiting on it safely.
//
// Dawn-in-Node facts this file is built around:
// - the object `create()` returns must stay referenced while its device lives, or the process aborts;
//   a GpuRuntime holds it, and a module-level set holds it until destroy();
// - backends/adapters are chosen by `create(['backend=…', 'adapter=…'])`; a bad name throws there;
// - device loss and uncaptured errors arrive asynchronously: both are recorded and rethrown by check(),
//   and every wait (mapAsync, popErrorScope, onSubmittedWorkDone) races the loss and a timeout.
/// <reference types="@webgpu/types" />
import { GpuDeviceLostError, GpuTimeoutError, GpuValidationError, NoWebGpuAdapterError } from './errors.js';

export interface GpuOptions {
  /** Dawn backend: 'vulkan', 'metal', 'd3d12', 'd3d11', 'opengl', 'opengles', 'null' (validation only).
   *  Default: env TDC_WEBGPU_BACKEND, else Dawn's choice. */
  backend?: string;
  /** Dawn adapter name, e.g. 'llvmpipe (LLVM 15.0.6, 256 bits)'. Default: env TDC_WEBGPU_ADAPTER. */
  adapter?: string;
  powerPreference?: GPUPowerPreference;
  /** Dawn toggles, passed as enable-dawn-features= / disable-dawn-features=. */
  enableToggles?: string[];
  disableToggles?: string[];
  /** Optional features requested when the adapter has them (e.g. 'shader-f16', 'subgroups'). */
  features?: GPUFeatureName[];
  /** Upper bound for any single wait on the GPU. Default: env TDC_WEBGPU_TIMEOUT_MS, else 60 000. */
  timeoutMs?: number;
  /** Environment to read the TDC_WEBGPU_* variables from (tests). Default: process.env. */
  env?: Record<string, string | undefined>;
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  /** The create() options used, e.g. ['backend=vulkan']. */
  dawnOptions: string[];
}

/** Limits raised to the adapter's maximum: generated kernels may use large workgroups and buffers. */
const RAISED_LIMITS = [
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
] as const;

type DawnGpu = GPU;
/** create() results of live runtimes: never collected while their device may still be in use. */
const liveGpus = new Set<DawnGpu>();

export const DEFAULT_TIMEOUT_MS = 60_000;

/** The Dawn options (create() argument) an options object + environment selects. */
export function dawnOptions(opts: GpuOptions = {}): string[] {
  const env = opts.env ?? process.env;
  const out: string[] = [];
  const backend = opts.backend ?? nonEmpty(env['TDC_WEBGPU_BACKEND']);
  const adapter = opts.adapter ?? nonEmpty(env['TDC_WEBGPU_ADAPTER']);
  if (backend !== undefined) out.push(`backend=${backend}`);
  if (adapter !== undefined) out.push(`adapter=${adapter}`);
  if (opts.enableToggles?.length) out.push(`enable-dawn-features=${opts.enableToggles.join(',')}`);
  if (opts.disableToggles?.length) out.push(`disable-dawn-features=${opts.disableToggles.join(',')}`);
  return out;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

function timeoutFrom(opts: GpuOptions): number {
  if (opts.timeoutMs !== undefined) return opts.timeoutMs;
  const v = Number((opts.env ?? process.env)['TDC_WEBGPU_TIMEOUT_MS']);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_TIMEOUT_MS;
}

/** A device plus everything needed to use it without hangs or silent errors. */
export class GpuRuntime {
  private lostError: GpuDeviceLostError | undefined;
  private uncaptured: string[] = [];
  private readonly lostPromise: Promise<never>;
  private destroyed = false;

  private constructor(
    /** The object create() returned (navigator.gpu's equivalent), kept referenced for the device's whole
     *  life; absent for fromDevice. Other WebGPU users in the process (tfjs) may share it. */
    readonly gpu: DawnGpu | undefined,
    readonly adapter: GPUAdapter | undefined,
    readonly device: GPUDevice,
    readonly adapterInfo: AdapterDescription,
    readonly timeoutMs: number,
  ) {
    this.lostPromise = device.lost.then((info) => {
      this.lostError = new GpuDeviceLostError(
        info.reason === 'destroyed' && this.destroyed
          ? 'the WebGPU device was destroyed'
          : `the WebGPU device was lost (${info.reason}): ${info.message}`,
      );
      throw this.lostError;
    });
    this.lostPromise.catch(() => {}); // observed through check()/wait(), never an unhandled rejection
    device.addEventListener('uncapturederror', (ev) => {
      this.uncaptured.push((ev as GPUUncapturedErrorEvent).error.message);
    });
  }

  /** Opens an adapter and device. Throws NoWebGpuAdapterError when there is none to be had. */
  static async open(opts: GpuOptions = {}): Promise<GpuRuntime> {
    const options = dawnOptions(opts);
    const described = options.length ? ` (Dawn options: ${options.join(' ')})` : '';
    let create: (o: string[]) => DawnGpu;
    try {
      ({ create } = await import('webgpu'));
    } catch (e) {
      throw new NoWebGpuAdapterError(`cannot load the 'webgpu' package (Dawn for Node): ${messageOf(e)}`);
    }
    let gpu: DawnGpu;
    try {
      gpu = create(options);
    } catch (e) {
      throw new NoWebGpuAdapterError(`no WebGPU adapter${described}: ${messageOf(e).trim()}`);
    }
    const timeoutMs = timeoutFrom(opts);
    const adapter = await withTimeout(
      gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined),
      timeoutMs,
      'requestAdapter',
    ).catch((e: unknown) => {
      if (e instanceof GpuTimeoutError) throw e;
      throw new NoWebGpuAdapterError(`no WebGPU adapter${described}: ${messageOf(e)}`);
    });
    if (!adapter) throw new NoWebGpuAdapterError(`no WebGPU adapter${described}: requestAdapter() returned null`);

    const requiredLimits: Record<string, number> = {};
    for (const k of RAISED_LIMITS) {
      const v = (adapter.limits as unknown as Record<string, number | undefined>)[k];
      if (typeof v === 'number') requiredLimits[k] = v;
    }
    const requiredFeatures = (opts.features ?? []).filter((f) => adapter.features.has(f));
    let device: GPUDevice;
    try {
      device = await withTimeout(adapter.requestDevice({ requiredLimits, requiredFeatures }), timeoutMs, 'requestDevice');
    } catch (e) {
      if (e instanceof GpuTimeoutError) throw e;
      throw new NoWebGpuAdapterError(`the WebGPU adapter refused a device${described}: ${messageOf(e)}`);
    }
    const info = adapter.info;
    liveGpus.add(gpu);
    return new GpuRuntime(
      gpu,
      adapter,
      device,
      {
        vendor: info.vendor,
        architecture: info.architecture,
        device: info.device,
        description: info.description,
        isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
        dawnOptions: options,
      },
      timeoutMs,
    );
  }

  /** Wraps a device the caller obtained (and whose create() object the caller keeps alive). */
  static fromDevice(device: GPUDevice, opts: { timeoutMs?: number } = {}): GpuRuntime {
    const info = device.adapterInfo;
    return new GpuRuntime(
      undefined,
      undefined,
      device,
      {
        vendor: info?.vendor ?? '',
        architecture: info?.architecture ?? '',
        device: info?.device ?? '',
        description: info?.description ?? '',
        isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter),
        dawnOptions: [],
      },
      opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
  }

  /** One line naming the adapter, e.g. "llvmpipe: Mesa 25.0.7 … (mesa/software)". */
  describe(): string {
    const i = this.adapterInfo;
    const name = i.description || i.device || 'unknown adapter';
    const arch = [i.vendor, i.architecture].filter(Boolean).join('/');
    return arch ? `${name} (${arch})` : name;
  }

  get isLost(): boolean {
    return this.lostError !== undefined;
  }

  /** Throws if the device is lost or an uncaptured error was reported since the last check. */
  check(): void {
    if (this.lostError) throw this.lostError;
    if (this.uncaptured.length) {
      const msgs = this.uncaptured.splice(0);
      throw new GpuValidationError(`WebGPU reported ${msgs.length === 1 ? 'an error' : `${msgs.length} errors`}: ${msgs.join('\n')}`);
    }
  }

  /** Awaits `p`, failing instead with the device loss or a timeout — never hangs. */
  wait<T>(p: Promise<T>, what: string, timeoutMs = this.timeoutMs): Promise<T> {
    if (this.lostError) return Promise.reject(this.lostError);
    return withTimeout(Promise.race([p, this.lostPromise]), timeoutMs, what);
  }

  /** Runs `body` inside validation/out-of-memory/internal error scopes; throws what they caught. */
  async scoped<T>(what: string, body: () => T): Promise<T> {
    const d = this.device;
    d.pushErrorScope('internal');
    d.pushErrorScope('out-of-memory');
    d.pushErrorScope('validation');
    let result: T;
    try {
      result = body();
    } finally {
      const errors = await this.wait(Promise.all([d.popErrorScope(), d.popErrorScope(), d.popErrorScope()]), `popErrorScope (${what})`);
      const first = errors.find((e) => e !== null);
      if (first) throw new GpuValidationError(`${what}: ${first.message}`);
    }
    return result;
  }

  /** Destroys the device; the runtime can no longer be used. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.device.destroy();
    if (this.gpu) liveGpus.delete(this.gpu);
  }
}

/** `p`, or a GpuTimeoutError after `ms` (the timer is cleared as soon as `p` settles). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GpuTimeoutError(`${what} did not complete within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Convenience: `GpuRuntime.open`. */
export const openGpu = (opts?: GpuOptions): Promise<GpuRuntime> => GpuRuntime.open(opts);
