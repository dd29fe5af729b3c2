// tdc-runtime/node: everything of the default entry, with a GpuRuntime whose open() obtains the device through
// Dawn's Node bindings (npm `webgpu`, an optional peer dependency, imported lazily on first open()).
//
// Dawn-in-Node facts this file is built around:
// - the object `create()` returns must stay referenced while its device lives, or the process aborts;
//   a GpuRuntime holds it, and a module-level set holds it until destroy();
// - backends/adapters are chosen by `create(['backend=…', 'adapter=…'])`; a bad name throws there.
/// <reference types="@webgpu/types" preserve="true" />
import { DEFAULT_TIMEOUT_MS, GpuRuntime as BrowserGpuRuntime, describeAdapter, messageOf, requestDevice, type GpuOptions } from './device.js';
import { NoWebGpuAdapterError } from './errors.js';

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
  /** Upper bound for any single wait on the GPU. Default: env TDC_WEBGPU_TIMEOUT_MS, else 60 000. */
  timeoutMs?: number;
  /** Environment to read the TDC_WEBGPU_* variables from (tests). Default: process.env. */
  env?: Record<string, string | undefined>;
}

/** Node's process (declared here: the package builds without @types/node, so Node globals stay out of the browser entry). */
declare const process: { env: Record<string, string | undefined> };

const DAWN_HINT =
  'on Linux without a GPU install Mesa lavapipe (Debian: mesa-vulkan-drivers libvulkan1); pick a Dawn backend/adapter with TDC_WEBGPU_BACKEND / TDC_WEBGPU_ADAPTER';

/** create() results of live runtimes: never collected while their device may still be in use. */
const liveGpus = new Set<GPU>();

/** The Dawn options (create() argument) an options object + environment selects. */
export function dawnOptions(opts: NodeGpuOptions = {}): string[] {
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

function timeoutFrom(opts: NodeGpuOptions): number {
  if (opts.timeoutMs !== undefined) return opts.timeoutMs;
  const v = Number((opts.env ?? process.env)['TDC_WEBGPU_TIMEOUT_MS']);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_TIMEOUT_MS;
}

/** The runtime, with open() going through Dawn. Instances are also instances of the default entry's GpuRuntime. */
export class GpuRuntime extends BrowserGpuRuntime {
  /** Opens an adapter and device through Dawn. Throws NoWebGpuAdapterError when there is none to be had. */
  static override async open(opts: NodeGpuOptions = {}): Promise<GpuRuntime> {
    const options = dawnOptions(opts);
    const described = options.length ? ` (Dawn options: ${options.join(' ')})` : '';
    let create: (o: string[]) => GPU;
    try {
      ({ create } = await import('webgpu'));
    } catch (e) {
      throw new NoWebGpuAdapterError(
        `cannot load the 'webgpu' package (Dawn for Node): ${messageOf(e)}`,
        "install it next to tdc-runtime: npm i webgpu (an optional peer dependency of tdc-runtime)",
      );
    }
    let gpu: GPU;
    try {
      gpu = create(options);
    } catch (e) {
      throw new NoWebGpuAdapterError(`no WebGPU adapter${described}: ${messageOf(e).trim()}`, DAWN_HINT);
    }
    const timeoutMs = timeoutFrom(opts);
    const { adapter, device } = await requestDevice(gpu, opts, timeoutMs, described, DAWN_HINT);
    liveGpus.add(gpu);
    return new GpuRuntime(gpu, adapter, device, describeAdapter(adapter.info, options), timeoutMs);
  }

  protected override onDestroy(): void {
    if (this.gpu) liveGpus.delete(this.gpu);
  }
}

/** Convenience: `GpuRuntime.open` through Dawn. */
export const openGpu = (opts?: NodeGpuOptions): Promise<GpuRuntime> => GpuRuntime.open(opts);
