// A WebGPU runtime for a GPU test, or undefined with a loud skip when there is no adapter (a failure when
// TDC_REQUIRE_GPU=1, as CI sets).
import { GpuRuntime, type NodeGpuOptions } from 'tdc-runtime/node';
import { isNoAdapterError } from '../../src/compiler/run-gpu.js';

export async function openTestRuntime(what: string, opts?: NodeGpuOptions): Promise<GpuRuntime | undefined> {
  try {
    return await GpuRuntime.open(opts);
  } catch (e) {
    if (!isNoAdapterError(e)) throw e;
    const msg = `no WebGPU adapter: ${(e as Error).message}`;
    if (process.env['TDC_REQUIRE_GPU'] === '1') throw new Error(`${msg} (TDC_REQUIRE_GPU=1)`);
    console.log(`\n!!!!!!!! ${what} SKIPPED — ${msg}\n!!!!!!!! install Mesa lavapipe (mesa-vulkan-drivers) to run it; CI sets TDC_REQUIRE_GPU=1\n`);
    return undefined;
  }
}
