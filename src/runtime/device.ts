// A WebGPU device and the discipline of waiting on it safely. Browser-safe: no Node built-ins, no `process`,
// no Dawn. A device comes from `navigator.gpu` (GpuRuntime.open()), from any `GPU` object
// (GpuRuntime.fromGpu(gpu), which tdc-runtime/node uses with Dawn's), or from the application
// (GpuRuntime.fromDevice(device), to share one device with tfjs or a renderer).
//
// - the requested limits are raised to the adapter's maxima that generated kernels may need;
// - device loss and uncaptured errors arrive asynchronously: both are recorded and rethrown by check(),
//   and every wait (mapAsync, popErrorScope, onSubmittedWorkDone) races the loss and a timeout.
/// <reference types="@webgpu/types" preserve="true" />
import { GpuDeviceLostError, REOPEN_HINT, GpuOptionsError, GpuTimeoutError, GpuUsageError, GpuValidationError, NoWebGpuAdapterError, NoWebGpuError } from './errors.js';
import { describeValue, expectArgument, isGpuDevice, optionsObject } from './argument-checks.js';
import type { Polling } from './wait-estimate.js';

export interface GpuOptions {
  /** The WebGPU entry point to use. Default: `navigator.gpu`. */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /** Optional features requested when the adapter has them (e.g. 'shader-f16'). */
  features?: GPUFeatureName[];
  /** Request the `subgroups` feature where the adapter has it (row kernels' subgroup variants). Default true. */
  subgroups?: boolean;
  /** Upper bound for any single wait on the GPU, in ms. Default 60 000. Not a positive number (at most
   *  MAX_TIMEOUT_MS): open() throws GpuOptionsError (TDC528). */
  timeoutMs?: number;
  /**
   * A tuning cache (`tdc tune`'s JSON document, parsed): executors on this runtime use its choices for their
   * kernels on this adapter (tune-cache.ts). In a browser, pass a document tuned there (tunePlan, kept e.g. in
   * localStorage): one tuned by `tdc tune` in Node applies only where the adapter key is the same.
   */
  tuning?: unknown;
}

/** A tuning cache a runtime holds: the parsed document (or why there is none) and where it came from, for notes. */
export interface TuningSource {
  doc?: unknown;
  problem?: string;
  source: string;
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  /** Dawn's create() options used, e.g. ['backend=vulkan'] (tdc-runtime/node); [] elsewhere. */
  dawnOptions: string[];
}

/** Limits raised to the adapter's maximum: generated kernels may use large workgroups and buffers. */
export const RAISED_LIMITS = [
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

export const DEFAULT_TIMEOUT_MS = 60_000;

/** The longest timeout a timer can count (setTimeout's limit, about 24.8 days). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** `ms` when it is a usable timeout (a positive number of milliseconds up to MAX_TIMEOUT_MS); otherwise a
 *  GpuOptionsError naming `given` (the option or variable and its value as written): a timeout that silently fell
 *  back to the default would hide the mistake. */
export function checkedTimeoutMs(ms: number, given: string): number {
  if (typeof ms === 'number' && Number.isFinite(ms) && ms > 0 && ms <= MAX_TIMEOUT_MS) return ms;
  throw new GpuOptionsError(`${given}: expected a positive number of milliseconds (at most ${MAX_TIMEOUT_MS})`, `leave it out for the default, ${DEFAULT_TIMEOUT_MS} ms`);
}

/** The timeout of a GpuOptions-like `timeoutMs` option: the default when absent. */
export const timeoutOption = (ms: number | undefined): number => (ms === undefined ? DEFAULT_TIMEOUT_MS : checkedTimeoutMs(ms, `timeoutMs ${typeof ms === 'number' ? String(ms) : JSON.stringify(ms)}`));

/** What a refusal of requestAdapter() / requestDevice() is reported as: Dawn's text (`raw`; undefined when
 *  requestAdapter() returned null) made into a NoWebGpuAdapterError (tdc-runtime/node: dawn-message.ts). */
export interface NoAdapterReport {
  noAdapter(raw: string | undefined): NoWebGpuAdapterError;
  noDevice(raw: string, adapter: GPUAdapter): NoWebGpuAdapterError;
}

/** The browser's report: the browser's text after what failed, `described` appended to the subject. */
export function plainNoAdapterReport(described = '', hint?: string): NoAdapterReport {
  return {
    noAdapter: (raw) => new NoWebGpuAdapterError(`no WebGPU adapter${described}: ${raw ?? 'requestAdapter() returned null'}`, hint),
    noDevice: (raw) => new NoWebGpuAdapterError(`the WebGPU adapter refused a device${described}: ${raw}`, hint),
  };
}

/** An adapter and a device from `gpu`, with RAISED_LIMITS at the adapter's maxima. A refusal is thrown as `report` makes it. */
export async function requestDevice(
  gpu: GPU,
  opts: GpuOptions,
  timeoutMs: number,
  report: NoAdapterReport = plainNoAdapterReport(),
): Promise<{ adapter: GPUAdapter; device: GPUDevice }> {
  const adapter = await withTimeout(
    gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined),
    timeoutMs,
    'requestAdapter',
  ).catch((e: unknown) => {
    if (e instanceof GpuTimeoutError) throw e;
    throw report.noAdapter(messageOf(e));
  });
  if (!adapter) throw report.noAdapter(undefined);
  const requiredLimits: Record<string, number> = {};
  for (const k of RAISED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number | undefined>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  const wanted = new Set<GPUFeatureName>([...(opts.features ?? []), ...(opts.subgroups === false ? [] : ['subgroups' as GPUFeatureName])]);
  const requiredFeatures = [...wanted].filter((f) => adapter.features.has(f));
  let device: GPUDevice;
  try {
    device = await withTimeout(adapter.requestDevice({ requiredLimits, requiredFeatures }), timeoutMs, 'requestDevice');
  } catch (e) {
    if (e instanceof GpuTimeoutError) throw e;
    throw report.noDevice(messageOf(e), adapter);
  }
  return { adapter, device };
}

/** The WebGPU entry point of this environment (`navigator.gpu`), or a NoWebGpuError saying why there is none. */
export function navigatorGpu(): GPU {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const gpu = nav?.gpu;
  if (gpu) return gpu;
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (isNode)
    throw new NoWebGpuError(
      'WebGPU is not available: this is Node, which has no navigator.gpu',
      "in Node, import { GpuRuntime } from 'tdc-runtime/node' (it opens a device through Dawn, npm package 'webgpu')",
    );
  if (nav === undefined) throw new NoWebGpuError('WebGPU is not available: there is no navigator (not a browser window or worker)');
  const secure = (globalThis as { isSecureContext?: boolean }).isSecureContext;
  throw new NoWebGpuError(
    'WebGPU is not available in this browser (navigator.gpu is undefined)',
    secure === false
      ? 'WebGPU needs a secure context: serve the page over https or from localhost'
      : 'use a browser with WebGPU enabled (Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows), or share a device you created with GpuRuntime.fromDevice',
  );
}

export function describeAdapter(info: GPUAdapterInfo | undefined, dawnOptions: string[]): AdapterDescription {
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter),
    dawnOptions,
  };
}

/**
 * What a device reports asynchronously — its loss and uncaptured errors — recorded once per GPUDevice, however
 * many GpuRuntimes wrap it (fromDevice on a shared device, tdc-runtime/node's pooled devices): listeners are
 * attached once, so wrapping a device again and again accumulates nothing.
 */
export class DeviceWatch {
  lostError: GpuDeviceLostError | undefined;
  readonly uncaptured: string[] = [];
  /** Rejects with the GpuDeviceLostError when the device is lost; never resolves. */
  readonly lost: Promise<never>;
  /** Set by whoever destroys the device on purpose (the loss message then says so). */
  destroyedOnPurpose = false;
  private static readonly byDevice = new WeakMap<GPUDevice, DeviceWatch>();

  static of(device: GPUDevice): DeviceWatch {
    expectArgument(isGpuDevice(device), device, 'DeviceWatch.of', 'the device', 'a GPUDevice');
    let w = DeviceWatch.byDevice.get(device);
    if (!w) DeviceWatch.byDevice.set(device, (w = new DeviceWatch(device)));
    return w;
  }

  private constructor(device: GPUDevice) {
    this.lost = device.lost.then((info) => {
      this.lostError =
        info.reason === 'destroyed' && this.destroyedOnPurpose
          ? new GpuDeviceLostError('the WebGPU device was destroyed', `this runtime released it (destroy()): ${REOPEN_HINT}`)
          : new GpuDeviceLostError(
              `the WebGPU device was lost (${info.reason}): ${info.message}`,
              // destroyed, but not by this runtime: by code sharing the device (fromDevice), or a device.destroy() of the caller's
              info.reason === 'destroyed' ? `something called destroy() on the GPUDevice (code sharing it, or a device.destroy() of yours): ${REOPEN_HINT}` : undefined,
            );
      throw this.lostError;
    });
    this.lost.catch(() => {}); // observed through check()/wait(), never an unhandled rejection
    device.addEventListener('uncapturederror', (ev) => {
      this.uncaptured.push((ev as GPUUncapturedErrorEvent).error.message);
    });
  }
}

/** A device plus everything needed to use it without hangs or silent errors. */
export class GpuRuntime {
  private readonly watch: DeviceWatch;
  /** Set by destroy(): every later use of this runtime fails with it (the device may live on for others). */
  private destroyedError: GpuDeviceLostError | undefined;
  /** The GPU object (navigator.gpu or Dawn's create() result) the device came from; absent for fromDevice.
   *  Other WebGPU users (tfjs) may share it. Kept referenced for the device's whole life. */
  readonly gpu: GPU | undefined;
  readonly adapter: GPUAdapter | undefined;
  readonly device: GPUDevice;
  readonly adapterInfo: AdapterDescription;
  readonly timeoutMs: number;
  /** The tuning cache PlanExecutor.create consults unless given one (GpuOptions.tuning; tdc-runtime/node: the user cache file). */
  tuning: TuningSource | undefined;
  /**
   * Waiting on this device keeps a CPU core busy: Dawn's Node binding polls for finished work in a setImmediate
   * loop while any of its promises is pending (tdc-runtime/node sets this). PlanExecutor then sleeps through most
   * of a run's expected device time before it starts waiting — on a software adapter that core is one the kernels
   * run on. Browsers wait on events: false.
   */
  busyWaits = false;
  /**
   * Called with every promise this runtime waits on (wait, waitProgress): tdc-runtime/node sets it on software
   * adapters to its PollThrottle's hold, so that the binding's polling does not take a core from the kernels
   * (poll-throttle.ts; NodeGpuOptions.throttlePolling).
   */
  waitHook: ((p: Promise<unknown>) => void) | undefined;
  /**
   * Makes the arrays PlanExecutor reads gradients back into (each of `n` elements, every one of them then written
   * by the readback before the array is returned), with every page of their memory mapped (host-floats.ts: the
   * executor makes them while the device works). Default: `new Float32Array(n)`, one write per page.
   * tdc-runtime/node sets it to memory left uninitialized (Buffer.allocUnsafeSlow): the zero-filled allocation of
   * a new typed array takes fresh pages from the OS, each faulted in and zeroed, where an uninitialized one reuses
   * the memory of arrays already collected (a 512 KB gradient: 119 page faults and 0.18 ms of CPU per array against
   * 11 and 0.02 ms); arrays too large for that reuse are mapped by reading /dev/zero into them (node-host-floats.ts).
   */
  hostFloats: ((n: number) => Float32Array) | undefined;

  protected constructor(gpu: GPU | undefined, adapter: GPUAdapter | undefined, device: GPUDevice, adapterInfo: AdapterDescription, timeoutMs: number) {
    this.gpu = gpu;
    this.adapter = adapter;
    this.device = device;
    this.adapterInfo = adapterInfo;
    this.timeoutMs = timeoutMs;
    this.watch = DeviceWatch.of(device);
  }

  /**
   * Opens an adapter and a device from `navigator.gpu` (or `opts.gpu`). Throws NoWebGpuError where WebGPU is
   * absent and NoWebGpuAdapterError where it has no adapter. In Node use tdc-runtime/node's GpuRuntime.open (Dawn).
   */
  static async open(opts: GpuOptions = {}): Promise<GpuRuntime> {
    opts = optionsObject(opts, 'GpuRuntime.open');
    return GpuRuntime.fromGpu(opts.gpu ?? navigatorGpu(), opts);
  }

  /** Opens an adapter and a device from a `GPU` object (navigator.gpu, Dawn's create() result, …). */
  static async fromGpu(gpu: GPU, opts: GpuOptions = {}, dawnOptions: string[] = []): Promise<GpuRuntime> {
    opts = optionsObject(opts, 'GpuRuntime.fromGpu');
    const timeoutMs = timeoutOption(opts.timeoutMs);
    const described = dawnOptions.length ? ` (Dawn options: ${dawnOptions.join(' ')})` : '';
    const { adapter, device } = await requestDevice(gpu, opts, timeoutMs, plainNoAdapterReport(described));
    const rt = new GpuRuntime(gpu, adapter, device, describeAdapter(adapter.info, dawnOptions), timeoutMs);
    if (opts.tuning !== undefined) rt.tuning = { doc: opts.tuning, source: 'the tuning cache given to GpuRuntime.open' };
    return rt;
  }

  /** Wraps a device the caller obtained (and whose create() object the caller keeps alive). `busyWaits`: the
   *  device's waits poll on the CPU (Dawn in Node; tdc-runtime/node's fromDevice says so by default). */
  static fromDevice(device: GPUDevice, opts: { timeoutMs?: number; busyWaits?: boolean } = {}): GpuRuntime {
    if (!isGpuDevice(device)) throw new GpuUsageError(`GpuRuntime.fromDevice: expected a GPUDevice, got ${describeValue(device)}`, 'pass the device your WebGPU code uses (adapter.requestDevice()), or open one with GpuRuntime.open()');
    opts = optionsObject(opts, 'GpuRuntime.fromDevice', '{ timeoutMs, busyWaits }');
    const timeoutMs = timeoutOption(opts.timeoutMs);
    const rt = new GpuRuntime(undefined, undefined, device, describeAdapter(device.adapterInfo, []), timeoutMs);
    rt.busyWaits = opts.busyWaits ?? false;
    return rt;
  }

  /** One line naming the adapter, e.g. "llvmpipe: Mesa 25.0.7 … (mesa/software)". */
  describe(): string {
    const i = this.adapterInfo;
    const name = i.description || i.device || 'unknown adapter';
    const arch = [i.vendor, i.architecture].filter(Boolean).join('/');
    return arch ? `${name} (${arch})` : name;
  }

  /** The adapter runs no kernels: Dawn's null backend (backend=null), which validates WGSL and returns
   *  whatever its buffers held. Shaders may be checked on it; plans are not run on it (PlanExecutor.create). */
  get computesNothing(): boolean {
    return this.adapterInfo.device === 'null-backend' || this.adapterInfo.dawnOptions.includes('backend=null');
  }

  /** The device is lost or this runtime was destroyed: every use fails with a GpuDeviceLostError. */
  get isLost(): boolean {
    return this.lostError !== undefined;
  }

  private get lostError(): GpuDeviceLostError | undefined {
    return this.destroyedError ?? this.watch.lostError;
  }

  /** Throws if the device is lost (or this runtime destroyed) or an uncaptured error was reported since the last check. */
  check(): void {
    if (this.lostError) throw this.lostError;
    if (this.watch.uncaptured.length) {
      const msgs = this.watch.uncaptured.splice(0);
      throw new GpuValidationError(`WebGPU reported ${msgs.length === 1 ? 'an error' : `${msgs.length} errors`}: ${msgs.join('\n')}`);
    }
  }

  /**
   * Awaits `p`, failing instead with the device loss or a timeout — never hangs. `polling: 'flat'`: a wait
   * expected to be short is not given to the wait hook (where polling is throttled, the binding then polls at
   * every turn of the event loop: see PlanExecutor's choice, wait-estimate.ts).
   */
  wait<T>(p: Promise<T>, what: string, timeoutMs = this.timeoutMs, polling: Polling = 'hooked'): Promise<T> {
    if (this.lostError) {
      // `p` (a map or a popped scope of work submitted before the loss was seen) still rejects: its AbortError is
      // this loss, never an unhandled rejection
      p.catch(() => {});
      return Promise.reject(this.lostError);
    }
    const r = withTimeout(Promise.race([p, this.watch.lost]), timeoutMs, what, this.cpuWaitMs);
    if (polling === 'hooked') this.waitHook?.(r);
    return r;
  }

  /**
   * Cumulative time (ms) this process's main thread has waited for a CPU, for the timeouts' clock (deadline()):
   * undefined where it cannot be known (browsers; the timeouts then count wall time). tdc-runtime/node sets it
   * from Linux's /proc/self/schedstat.
   */
  protected cpuWaitMs: (() => number) | undefined;

  /**
   * Awaits every promise of `ps`, failing with the device loss, or with a GpuTimeoutError when none of them
   * completes for `timeoutMs`: the clock restarts at each completion, so it bounds a stall (work making no
   * progress), not the total. For waits on many pieces of work that each may be slow for a reason other than a
   * hung GPU (each pipeline's compilation; each kernel's first dispatch, where software adapters compile it), so
   * that a slow or CPU-starved compile of many kernels is not reported as a hang. `what(i)` names piece i (the
   * first still pending is the one reported).
   */
  waitProgress<T>(ps: readonly Promise<T>[], what: (i: number) => string, timeoutMs = this.timeoutMs): Promise<T[]> {
    if (this.lostError) {
      for (const p of ps) p.catch(() => {}); // as in wait()
      return Promise.reject(this.lostError);
    }
    const all = new Promise<T[]>((resolve, reject) => {
      const out = new Array<T>(ps.length);
      const done = new Array<boolean>(ps.length).fill(false);
      let left = ps.length;
      let settled = false;
      let clock: Deadline | undefined;
      const settle = (f: () => void): void => {
        if (settled) return;
        settled = true;
        clock?.cancel();
        f();
      };
      if (left === 0) return resolve(out);
      clock = deadline(timeoutMs, this.cpuWaitMs, (late) => {
        const i = done.indexOf(false);
        const after = ps.length - left;
        const since = after ? ` (${after} of ${ps.length} completed; none since)` : '';
        settle(() => reject(new GpuTimeoutError(`${what(i)} did not complete within ${timeoutMs} ms${late}${since}`)));
      });
      const arm = (): void => clock!.restart();
      this.watch.lost.catch((e: unknown) => settle(() => reject(e)));
      ps.forEach((p, i) =>
        p.then(
          (v) => {
            out[i] = v;
            done[i] = true;
            if (--left === 0) settle(() => resolve(out));
            else if (!settled) arm();
          },
          (e: unknown) => settle(() => reject(e)),
        ),
      );
    });
    this.waitHook?.(all);
    return all;
  }

  /** Runs `body` inside validation/out-of-memory/internal error scopes; throws what they caught. */
  async scoped<T>(what: string, body: () => T): Promise<T> {
    const { value, scopes } = await this.scopedStart(what, body);
    await scopes;
    return value;
  }

  /**
   * Runs `body` inside validation/out-of-memory/internal error scopes and returns its value at once, with the
   * scopes' outcome to await (`scopes`: rejects with a GpuValidationError naming what they caught). Popping a
   * scope resolves only when the device is next polled, so a caller that starts more work right after `body` (a
   * map of what it submitted) can wait on both together instead of one after the other. When `body` throws, the
   * returned promise rejects once the scopes are popped (with their error, if they caught one).
   */
  async scopedStart<T>(what: string, body: () => T, polling: Polling = 'hooked'): Promise<{ value: T; scopes: Promise<void> }> {
    const d = this.device;
    d.pushErrorScope('internal');
    d.pushErrorScope('out-of-memory');
    d.pushErrorScope('validation');
    const pop = (): Promise<void> =>
      this.wait(Promise.all([d.popErrorScope(), d.popErrorScope(), d.popErrorScope()]), `popErrorScope (${what})`, this.timeoutMs, polling).then((errors) => {
        const first = errors.find((e) => e !== null);
        if (first) throw new GpuValidationError(`${what}: ${first.message}`);
      });
    let value: T;
    try {
      value = body();
    } catch (e) {
      await pop();
      throw e;
    }
    return { value, scopes: pop() };
  }

  /** Ends this runtime: every later use fails with a GpuDeviceLostError. Releases the device (releaseDevice). */
  destroy(): void {
    if (this.destroyedError) return;
    this.destroyedError = new GpuDeviceLostError('this GpuRuntime was destroyed', `its destroy() was called, which released the device: ${REOPEN_HINT}`);
    this.releaseDevice();
  }

  /** Destroys the device (tdc-runtime/node instead returns a pooled device to its pool). */
  protected releaseDevice(): void {
    this.watch.destroyedOnPurpose = true;
    this.device.destroy();
  }
}

/**
 * `p`, or a GpuTimeoutError after `ms` of this process's running time (see deadline(); without `cpuWaitMs`, of
 * wall time). The timer is cleared as soon as `p` settles.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string, cpuWaitMs?: () => number): Promise<T> {
  let d: Deadline | undefined;
  const timeout = new Promise<never>((_, reject) => {
    d = deadline(ms, cpuWaitMs, (late) => reject(new GpuTimeoutError(`${what} did not complete within ${ms} ms${late}`)));
  });
  return Promise.race([p, timeout]).finally(() => d?.cancel());
}

/** A running deadline: cancel() stops it, restart() counts `ms` again from now. */
export interface Deadline {
  cancel(): void;
  restart(): void;
}

/**
 * Calls `expire` once `ms` of this process's running time have passed: wall time minus the time its main thread
 * spent waiting for a CPU (`cpuWaitMs`: the cumulative run-queue wait in ms, e.g. Linux /proc/self/schedstat;
 * tdc-runtime/node supplies it). On an idle machine that is wall time; in a process starved of CPU (the machine
 * overloaded, a software adapter compiling kernels on the same cores) a wait is not reported as a hung GPU
 * merely because the process did not get to run — a real hang is still reported, after `ms` of the time the
 * process had. While a wait is pending Dawn polls for events on the main thread, so its run-queue wait measures
 * the process's share of the CPU. `expire` gets a note for the message: the wall time and the time waited for a
 * CPU when that was a second or more ('' otherwise).
 */
export function deadline(ms: number, cpuWaitMs: (() => number) | undefined, expire: (note: string) => void): Deadline {
  // checked here, not left to the timer: a wrong argument would throw from inside it, past every caller's catch
  if (typeof ms !== 'number' || !(ms >= 0)) throw new GpuUsageError(`deadline: ms must be a number of milliseconds, got ${describeValue(ms)}`);
  if (cpuWaitMs !== undefined && typeof cpuWaitMs !== 'function') throw new GpuUsageError(`deadline: cpuWaitMs must be a function or undefined, got ${describeValue(cpuWaitMs)}`);
  if (typeof expire !== 'function') throw new GpuUsageError(`deadline: expire must be a function, got ${describeValue(expire)}`);
  const waited = cpuWaitMs ?? (() => 0);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let t0 = 0;
  let w0 = 0;
  const check = (): void => {
    const wall = now() - t0;
    const cpuWait = Math.max(0, waited() - w0);
    const ran = wall - cpuWait;
    if (ran < ms) {
      timer = setTimeout(check, Math.max(10, ms - ran));
      return;
    }
    expire(cpuWait >= 1000 ? ` of the time this process ran (${seconds(wall)} of wall time, ${seconds(cpuWait)} of it waiting for a CPU)` : '');
  };
  const restart = (): void => {
    clearTimeout(timer);
    t0 = now();
    w0 = waited();
    timer = setTimeout(check, ms);
  };
  restart();
  return { cancel: () => clearTimeout(timer), restart };
}

const now = (): number => performance.now();
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Convenience: `GpuRuntime.open` (navigator.gpu). */
export const openGpu = (opts?: GpuOptions): Promise<GpuRuntime> => GpuRuntime.open(opts);
