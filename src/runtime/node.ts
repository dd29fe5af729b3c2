// tdc-runtime/node: everything of the default entry, with a GpuRuntime whose open() obtains the device through
// Dawn's Node bindings (npm `webgpu`, an optional peer dependency, imported lazily on first open()).
//
// Dawn-in-Node facts this file is built around:
// - the object `create()` returns must stay referenced while its device lives, or the process aborts;
// - each create() starts a Dawn instance with its own worker threads (~5) and native memory, released only when
//   V8 happens to collect the object — which a small JS heap rarely does: 170 open/destroy cycles crashed the
//   process. The npm package has no call that releases an instance. So one instance per set of Dawn options is
//   created on first use and kept for the process's life (`dawnInstance`);
// - a device's native threads (lavapipe: one per core) and memory likewise go only when V8 collects every
//   pipeline, layout and buffer wrapper made from it, whatever device.destroy() says. So destroy() gives an
//   idle, healthy device back to a pool and the next open() with the same options reuses it; a lost device is
//   never reused. Thread count and RSS stay flat over 1000 open/run/destroy cycles (test/runtime-faults.test.ts);
// - backends/adapters are chosen by `create(['backend=…', 'adapter=…'])`; a bad name throws there.
/// <reference types="@webgpu/types" preserve="true" />
import {
  DEFAULT_TIMEOUT_MS,
  DeviceWatch,
  checkedTimeoutMs,
  timeoutOption,
  GpuRuntime as BrowserGpuRuntime,
  describeAdapter,
  messageOf,
  requestDevice,
  withTimeout,
  type AdapterDescription,
  type GpuOptions,
  type NoAdapterReport,
  type TuningSource,
} from './device.js';
import { GpuOptionsError, GpuUsageError, NoWebGpuAdapterError } from './errors.js';
import { describeValue, expectArgument, optionsObject } from './argument-checks.js';
import { dawnNoAdapter, dawnNoDevice, type DawnRefusal } from './dawn-message.js';
import { PollThrottle } from './poll-throttle.js';
import { nodeHostFloats } from './node-host-floats.js';
import { isSoftwareAdapter } from './workgroup.js';

export * from './index.js';

export interface NodeGpuOptions extends GpuOptions {
  /** Dawn backend: 'vulkan', 'metal', 'd3d12', 'd3d11', 'opengl', 'opengles', 'null' (validation only).
   *  Default: env TDC_WEBGPU_BACKEND, else Dawn's choice. */
  backend?: string;
  /** Dawn adapter name, e.g. 'llvmpipe (LLVM 15.0.6, 256 bits)'. Default: env TDC_WEBGPU_ADAPTER. */
  adapter?: string;
  /** Dawn toggles, passed as enable-dawn-features= / disable-dawn-features=. */
  enableToggles?: string[];
  disableToggles?: string[];
  /** Upper bound for any single wait on the GPU, in ms. Default: env TDC_WEBGPU_TIMEOUT_MS, else 60 000. Either one
   *  that is not a positive number (at most 2147483647) makes open() throw GpuOptionsError (TDC528). */
  timeoutMs?: number;
  /** Environment to read the TDC_WEBGPU_* variables from (tests). Default: process.env. */
  env?: Record<string, string | undefined>;
  /**
   * The tuning cache (`tdc tune`'s): a parsed document, a file path, or false for none. Default: the user
   * cache file, defaultTuningPath() (TDC_TUNING_CACHE, else $XDG_CACHE_HOME/tdc/tuning.json, else
   * ~/.cache/tdc/tuning.json), when it exists.
   */
  tuning?: unknown;
  /**
   * While a wait on the device is pending, sleep the main thread between polls of Dawn's binding (0.2 ms at a
   * time, one event-loop turn in between: poll-throttle.ts) instead of letting it poll flat out. Default: on
   * software adapters (lavapipe, SwiftShader), whose kernels run on this machine's cores; off on hardware GPUs,
   * where a finished wait is then seen at once.
   */
  throttlePolling?: boolean;
}

/**
 * Where `tdc tune` writes and tdc-runtime/node reads the tuning cache by default: TDC_TUNING_CACHE (a file
 * path; `off` for none), else $XDG_CACHE_HOME/tdc/tuning.json, else $HOME/.cache/tdc/tuning.json
 * (%LOCALAPPDATA%\tdc\tuning.json on Windows). undefined: none.
 */
export function defaultTuningPath(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env === null || typeof env !== 'object') throw new GpuUsageError(`defaultTuningPath: env must be an object of variable → value (process.env), got ${describeValue(env)}`);
  const set = env['TDC_TUNING_CACHE'];
  if (set !== undefined && set !== '') return set === 'off' ? undefined : set;
  if (env['XDG_CACHE_HOME']) return `${env['XDG_CACHE_HOME']}/tdc/tuning.json`;
  if (env['LOCALAPPDATA']) return `${env['LOCALAPPDATA']}\\tdc\\tuning.json`;
  if (env['HOME']) return `${env['HOME']}/.cache/tdc/tuning.json`;
  return undefined;
}

/** The tuning cache at `path`: undefined when there is no such file, else its document or why it cannot be read. */
export async function readTuningFile(path: string): Promise<TuningSource | undefined> {
  const fsName = 'node:fs/promises';
  const fs = (await import(fsName)) as { readFile(p: string, enc: string): Promise<string>; stat(p: string): Promise<{ isFile(): boolean }> };
  let text: string;
  try {
    // a device (/dev/zero) or a FIFO would be read without end or wait for a writer: only a file is a cache
    if (!(await fs.stat(path)).isFile()) return { source: `the tuning cache ${path}`, problem: 'is not a regular file' };
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    return { source: `the tuning cache ${path}`, problem: `cannot be read: ${messageOf(e)}` };
  }
  try {
    return { source: `the tuning cache ${path}`, doc: JSON.parse(text) as unknown };
  } catch (e) {
    return { source: `the tuning cache ${path}`, problem: `is not JSON: ${messageOf(e)}` };
  }
}

async function tuningFrom(opts: NodeGpuOptions): Promise<TuningSource | undefined> {
  if (opts.tuning === false) return undefined;
  if (typeof opts.tuning === 'string') return (await readTuningFile(opts.tuning)) ?? { source: `the tuning cache ${opts.tuning}`, problem: 'does not exist' };
  if (opts.tuning !== undefined) return { doc: opts.tuning, source: 'the tuning cache given to GpuRuntime.open' };
  const path = defaultTuningPath(opts.env ?? process.env);
  return path === undefined ? undefined : readTuningFile(path);
}

/**
 * Dawn's WebGPU globals (GPUBufferUsage, GPUMapMode, GPUShaderStage, the GPU* classes) on globalThis where absent, as
 * a browser has them: code written against the WebGPU types (`GPUBufferUsage.STORAGE`) runs in Node once a runtime
 * is open. Names already defined are left alone.
 */
function installWebGpuGlobals(globals: object): void {
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(globals)) if (!(k in g)) g[k] = v;
}

/** Node's process (declared here: the package builds without @types/node, so Node globals stay out of the browser entry). */
declare const process: { env: Record<string, string | undefined> };

const DAWN_HINT =
  'on Linux without a GPU install Mesa lavapipe (Debian: mesa-vulkan-drivers libvulkan1); pick a Dawn backend/adapter with TDC_WEBGPU_BACKEND / TDC_WEBGPU_ADAPTER';

/** Dawn's refusals under the create() `options`, as dawn-message.ts words them (never Dawn's several raw lines). */
function dawnReport(options: readonly string[]): NoAdapterReport {
  const refusal = (r: DawnRefusal) => new NoWebGpuAdapterError(r.message, r.hint);
  return {
    noAdapter: (raw) => refusal(dawnNoAdapter(raw, options, DAWN_HINT)),
    noDevice: (raw, adapter) => refusal(dawnNoDevice(raw, adapterName(describeAdapter(adapter.info, [...options])), DAWN_HINT)),
  };
}

/** An adapter as a message names it: its description, else vendor and device. */
const adapterName = (a: AdapterDescription): string => `'${a.description || [a.vendor, a.device].filter(Boolean).join(' ') || 'unnamed'}'`;

/** Dawn instances (create() results) by their options, one each for the life of the process (see above). */
const instances = new Map<string, GPU>();

/** The process-wide Dawn instance for `options` (created on first use). Throws what create() throws. */
export function dawnInstance(create: (o: string[]) => GPU, options: string[]): GPU {
  expectArgument(typeof create === 'function', create, 'dawnInstance', 'create', "a function (the webgpu package's create)");
  expectArgument(Array.isArray(options), options, 'dawnInstance', 'options', 'an Array of Dawn option strings');
  const key = options.join('\n');
  let gpu = instances.get(key);
  if (!gpu) {
    gpu = create(options);
    instances.set(key, gpu);
  }
  return gpu;
}

/** The Dawn options (create() argument) an options object + environment selects. */
export function dawnOptions(opts: NodeGpuOptions = {}): string[] {
  opts = optionsObject(opts, 'dawnOptions', 'NodeGpuOptions');
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

/** The timeout open() uses: the option, else TDC_WEBGPU_TIMEOUT_MS (unset or blank: the default). One that is not a
 *  positive number of milliseconds ('abc', 0, -1) is a GpuOptionsError, as an unknown TDC_WEBGPU_BACKEND is an error. */
function timeoutFrom(opts: NodeGpuOptions): number {
  if (opts.timeoutMs !== undefined) return timeoutOption(opts.timeoutMs);
  const text = nonEmpty((opts.env ?? process.env)['TDC_WEBGPU_TIMEOUT_MS']);
  if (text === undefined) return DEFAULT_TIMEOUT_MS;
  // Number() reads '' and '0x10' too: only a plain decimal (as written in an environment) is taken
  const ms = /^\d+(\.\d*)?([eE][+-]?\d+)?$/.test(text) ? Number(text) : NaN;
  return checkedTimeoutMs(ms, `TDC_WEBGPU_TIMEOUT_MS='${text}'`);
}

/**
 * What open() would refuse in these options and the TDC_WEBGPU_* variables standing for them, found without asking
 * for a device (each a GpuOptionsError, TDC528, as open() throws it); empty when open() takes them. `tdc doctor`
 * reports them.
 */
export function optionsProblems(opts: NodeGpuOptions = {}): GpuOptionsError[] {
  try {
    timeoutFrom(optionsObject(opts, 'GpuRuntime.open', 'NodeGpuOptions'));
    return [];
  } catch (e) {
    if (e instanceof GpuOptionsError) return [e];
    throw e;
  }
}

/** A device kept for reuse: open() hands it out, destroy() gives it back (see the file comment). */
interface PooledDevice {
  gpu: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
  info: AdapterDescription;
  /** Runtimes currently holding it. */
  users: number;
}

/** The process's one throttle: runtimes on several devices share its sleeping loop. */
const throttle = new PollThrottle();
const holdWhileThrottled = (p: Promise<unknown>): void => throttle.hold(p);
/** The wait hook of a runtime on `info`'s adapter: the throttle where asked (NodeGpuOptions.throttlePolling), by default on software adapters. */
const waitHookFor = (info: AdapterDescription, throttlePolling: boolean | undefined) => ((throttlePolling ?? isSoftwareAdapter(info)) ? holdWhileThrottled : undefined);


/** Idle devices by Dawn options + request (power preference, features); one per key. */
const idle = new Map<string, PooledDevice>();

/** The runtime, with open() going through Dawn. Instances are also instances of the default entry's GpuRuntime. */
export class GpuRuntime extends BrowserGpuRuntime {
  private pooled: PooledDevice | undefined;
  /** Dawn's Node binding polls while a wait is pending (see the default entry's GpuRuntime.busyWaits). */
  override busyWaits = true;

  /** A device the caller obtained in Node (from Dawn: its waits poll, unless `busyWaits: false`). */
  static override fromDevice(device: GPUDevice, opts: { timeoutMs?: number; busyWaits?: boolean; throttlePolling?: boolean } = {}): BrowserGpuRuntime {
    opts = optionsObject(opts, 'GpuRuntime.fromDevice', '{ timeoutMs, busyWaits, throttlePolling }');
    const rt = BrowserGpuRuntime.fromDevice(device, { ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}), busyWaits: opts.busyWaits ?? true });
    if (rt.busyWaits) rt.waitHook = waitHookFor(rt.adapterInfo, opts.throttlePolling);
    rt.hostFloats = nodeHostFloats;
    return rt;
  }

  /**
   * Opens an adapter and device through Dawn. Throws NoWebGpuAdapterError when there is none to be had.
   * A device given back by destroy() is reused when it is idle and not lost (Dawn releases a device's native
   * threads and memory only when V8 collects every object made from it, so creating one per open() leaks).
   */
  static override async open(opts: NodeGpuOptions = {}): Promise<GpuRuntime> {
    opts = optionsObject(opts, 'GpuRuntime.open', 'NodeGpuOptions');
    const options = dawnOptions(opts);
    const timeoutMs = timeoutFrom(opts);
    const key = JSON.stringify([options, opts.powerPreference ?? '', [...(opts.features ?? [])].sort(), opts.subgroups !== false]);
    const reuse = idle.get(key);
    if (reuse) {
      idle.delete(key);
      if (await usable(reuse.device, timeoutMs)) return GpuRuntime.holding(reuse, key, timeoutMs, await tuningFrom(opts), opts.throttlePolling);
    }
    let create: (o: string[]) => GPU;
    try {
      const dawn = await import('webgpu');
      create = dawn.create;
      installWebGpuGlobals(dawn.globals);
    } catch (e) {
      throw new NoWebGpuAdapterError(
        `cannot load the 'webgpu' package (Dawn for Node): ${messageOf(e)}`,
        "install it next to tdc-runtime: npm i webgpu (an optional peer dependency of tdc-runtime)",
      );
    }
    let gpu: GPU;
    try {
      gpu = dawnInstance(create, options);
    } catch (e) {
      throw dawnReport(options).noAdapter(messageOf(e));
    }
    cpuWaitClock ??= await schedstatClock();
    const { adapter, device } = await requestDevice(gpu, opts, timeoutMs, dawnReport(options));
    const entry: PooledDevice = { gpu, adapter, device, info: describeAdapter(adapter.info, options), users: 0 };
    return GpuRuntime.holding(entry, key, timeoutMs, await tuningFrom(opts), opts.throttlePolling);
  }

  private poolKey = '';

  private static holding(entry: PooledDevice, key: string, timeoutMs: number, tuning: TuningSource | undefined, throttlePolling: boolean | undefined): GpuRuntime {
    const rt = new GpuRuntime(entry.gpu, entry.adapter, entry.device, entry.info, timeoutMs);
    rt.tuning = tuning;
    rt.waitHook = waitHookFor(entry.info, throttlePolling);
    rt.hostFloats = nodeHostFloats;
    rt.cpuWaitMs = cpuWaitClock;
    entry.users++;
    rt.pooled = entry;
    rt.poolKey = key;
    return rt;
  }

  /** Gives the device back for the next open() (when nothing else holds it and it is not lost), else destroys it. */
  protected override releaseDevice(): void {
    const p = this.pooled;
    if (!p) return super.releaseDevice();
    this.pooled = undefined;
    p.users--;
    if (p.users > 0) return;
    if (DeviceWatch.of(p.device).lostError || idle.has(this.poolKey)) {
      DeviceWatch.of(p.device).destroyedOnPurpose = true;
      p.device.destroy();
      return;
    }
    DeviceWatch.of(p.device).uncaptured.length = 0;
    idle.set(this.poolKey, p);
  }
}

/** The timeouts' clock (device.ts deadline()): this process's cumulative run-queue wait, once it is known. */
let cpuWaitClock: (() => number) | undefined;

/**
 * The main thread's cumulative wait for a CPU (ms) from Linux's /proc/self/schedstat (its second field: time
 * runnable but not running, in ns); undefined where there is no such file (timeouts then count wall time).
 */
async function schedstatClock(): Promise<(() => number) | undefined> {
  const fsName = 'node:fs';
  const fs = (await import(fsName)) as { readFileSync(p: string, enc: string): string };
  const read = (): number => {
    const f = fs.readFileSync('/proc/self/schedstat', 'utf8').split(' ');
    const ns = Number(f[1]);
    if (!Number.isFinite(ns)) throw new Error('unexpected /proc/self/schedstat');
    return ns / 1e6;
  };
  try {
    read();
  } catch {
    return undefined;
  }
  return () => {
    try {
      return read();
    } catch {
      return 0;
    }
  };
}

/** Whether a pooled device still works: not lost (also not destroyed by its user since it was given back). */
async function usable(device: GPUDevice, timeoutMs: number): Promise<boolean> {
  const watch = DeviceWatch.of(device);
  if (watch.lostError) return false;
  // a device destroyed directly (device.destroy()) reports its loss asynchronously: let one queue round trip pass
  const done = await withTimeout(Promise.race([device.queue.onSubmittedWorkDone().then(() => true), watch.lost]), timeoutMs, 'checking a pooled device').catch(() => false);
  return done && !watch.lostError;
}

/** Convenience: `GpuRuntime.open` through Dawn. */
export const openGpu = (opts?: NodeGpuOptions): Promise<GpuRuntime> => GpuRuntime.open(opts);
