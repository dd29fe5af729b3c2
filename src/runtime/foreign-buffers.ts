// Caller GPUBuffers (DeviceInput, a GPUBuffer state given to ResidentState.set) that this runtime's GPUDevice cannot
// use — made on another GPUDevice, in practice. WebGPU does not say which device a buffer belongs to: the device
// only refuses the work that uses it, with a validation error whose text names no input (Dawn: "[Buffer] is
// associated with [Device], and cannot be used with [Device]"). So after a run's error scopes caught an error, each
// caller buffer that run used is tried on its own, in an error scope of its own, with a use that is valid for every
// buffer of this device that has the usage the run needed of it: a 0-byte copy from it (COPY_SRC), or a bind group
// over its first 4 bytes (STORAGE). Nothing is submitted. A buffer refused there is one this device cannot use, and
// the run's error names it; a run that succeeds pays nothing for this.
/// <reference types="@webgpu/types" preserve="true" />
import type { GpuRuntime } from './device.js';
import { GpuValidationError } from './errors.js';

/** A caller's buffer a run used, by the input (or state) it stood for, and how the run used it. */
export interface CallerBuffer {
  /** How a message names it: `'student/./output'`, `state 'crd/memory_v1'`. */
  what: string;
  buffer: GPUBuffer;
  /** 'copy': copied from (it has COPY_SRC); 'bind': bound as a storage buffer (it has STORAGE, at least 4 bytes). */
  use: 'copy' | 'bind';
}

// GPUBufferUsage / GPUShaderStage values (WebGPU spec): no dependency on installed globals.
const COPY_DST = 0x8;
const STAGE_COMPUTE = 0x4;

/** Dawn's words for a buffer of another device (Chrome's WebGPU is Dawn too). */
const OTHER_DEVICE = /is associated with \[Device[^\]]*\],? and cannot be used with \[Device/;

/** "<what>: its GPUBuffer …" for each of `buffers` that `rt`'s device refuses to use; [] when it uses them all. */
export async function unusableBuffers(rt: GpuRuntime, buffers: readonly CallerBuffer[]): Promise<string[]> {
  const device = rt.device;
  const problems: string[] = [];
  const seen = new Set<GPUBuffer>();
  for (const { what, buffer, use } of buffers) {
    if (seen.has(buffer)) continue;
    seen.add(buffer);
    device.pushErrorScope('validation');
    const scratch = use === 'copy' ? device.createBuffer({ label: 'tdc buffer check', size: 4, usage: COPY_DST }) : undefined;
    if (scratch) {
      const enc = device.createCommandEncoder({ label: 'tdc buffer check' });
      enc.copyBufferToBuffer(buffer, 0, scratch, 0, 0);
      enc.finish();
    } else {
      const layout = device.createBindGroupLayout({
        label: 'tdc buffer check',
        entries: [{ binding: 0, visibility: STAGE_COMPUTE, buffer: { type: 'read-only-storage' } }],
      });
      device.createBindGroup({ label: 'tdc buffer check', layout, entries: [{ binding: 0, resource: { buffer, offset: 0, size: 4 } }] });
    }
    const error = await rt.wait(device.popErrorScope(), `popErrorScope (checking the GPUBuffer of ${what})`);
    scratch?.destroy();
    if (!error) continue;
    problems.push(
      OTHER_DEVICE.test(error.message)
        ? `${what}: its GPUBuffer belongs to another GPUDevice than this runtime's`
        : `${what}: its GPUBuffer cannot be used on this runtime's GPUDevice (made on another device, or its creation failed); driver said: ${error.message.trim().split('\n')[0]}`,
    );
  }
  return problems;
}

/**
 * `work` (what submitted the work that used `buffers`: its error scopes), its GpuValidationError replaced by
 * `refusal(problems)` when the device refuses some of `buffers` (unusableBuffers); any other outcome as it was.
 */
export function namingUnusableBuffers<T>(rt: GpuRuntime, work: Promise<T>, buffers: () => CallerBuffer[], refusal: (problems: string[]) => Error): Promise<T> {
  return work.catch(async (e: unknown) => {
    const used = e instanceof GpuValidationError ? buffers() : [];
    const problems = used.length ? await unusableBuffers(rt, used).catch(() => []) : [];
    throw problems.length ? refusal(problems) : e;
  });
}

/** The hint of an error naming such buffers. */
export const OTHER_DEVICE_HINT =
  "make the buffer on the runtime's device (runtime.device), or run the stage on the device that made it (GpuRuntime.fromDevice(device), or the glue's create(device))";
