// tfjs-webgpu's backend as the bridge uses it: the GPUDevice to share, where a tensor's data lives (a GPUBuffer
// or, for tensors tfjs forwarded to the CPU, a typed array), and flushing tfjs's deferred command encoder so
// work tdc submits sees what tfjs computed. These are tfjs-backend-webgpu 4.x members that its public API does
// not type; every access is checked here, in one place.
/// <reference types="@webgpu/types" preserve="true" />
import { TfjsBackendError } from './errors.js';
import { isGpuBuffer } from '../argument-checks.js';
import type { Tf, TfApi, TfTensor } from './tfjs-types.js';

interface TensorData {
  values?: ArrayLike<number> | null;
  resource?: unknown;
  dtype: string;
}

/** The members of tfjs-backend-webgpu's WebGPUBackend the bridge relies on. */
interface WebGpuBackendInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: object): TensorData | undefined };
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** Where a tfjs tensor's values are: a GPUBuffer tfjs owns (bind it), or values on the CPU (upload them). */
export type TensorLocation = { buffer: GPUBuffer } | { values: Float32Array | Int32Array };

export class TfjsWebGpu {
  private constructor(
    readonly tf: Tf,
    private readonly backend: WebGpuBackendInternals,
  ) {}

  /** tfjs's WebGPU backend; a TfjsBackendError when tfjs runs on another backend or is not ready. */
  static of(api: TfApi): TfjsWebGpu {
    const tf = api as unknown as Tf;
    let name: string;
    try {
      name = tf.getBackend();
    } catch (e) {
      throw new TfjsBackendError(`tfjs has no backend yet (${e instanceof Error ? e.message : String(e)})`);
    }
    if (name !== 'webgpu') {
      const registered = Object.keys(tf.engine().registryFactory ?? {}).join(', ');
      throw new TfjsBackendError(
        `tfjs runs on its '${name ?? 'none'}' backend; the tdc bridge shares the GPUDevice of tfjs's 'webgpu' backend` +
          (registered ? ` (registered backends: ${registered})` : ''),
      );
    }
    const b = tf.backend() as unknown as Partial<WebGpuBackendInternals>;
    const device = b.device;
    if (!device || typeof device.createBuffer !== 'function' || !device.queue)
      throw new TfjsBackendError("tfjs's webgpu backend exposes no GPUDevice (`tf.backend().device`): is this tfjs-backend-webgpu 4.x?");
    if (!b.tensorMap || typeof b.submitQueue !== 'function' || typeof b.endComputePassEncoder !== 'function')
      throw new TfjsBackendError("tfjs's webgpu backend lacks tensorMap/submitQueue: the bridge supports tfjs-backend-webgpu 4.x");
    return new TfjsWebGpu(tf, b as WebGpuBackendInternals);
  }

  get device(): GPUDevice {
    return this.backend.device;
  }

  /** Submits the commands tfjs has encoded but not yet submitted, so that later submissions see their results. */
  flush(): void {
    const b = this.backend;
    b.endComputePassEncoder();
    if (b.commandEncoder) b.submitQueue();
  }

  /** The tensor's storage, without copying. */
  locate(t: TfTensor): TensorLocation {
    const data = this.backend.tensorMap.get(t.dataId);
    if (!data) throw new TfjsBackendError(`tensor ${t.id} [${t.shape.join(', ')}] belongs to no live data of tfjs's webgpu backend (disposed?)`);
    if (isGpuBuffer(data.resource)) return { buffer: data.resource };
    if (data.values != null) {
      const v = data.values;
      if (v instanceof Float32Array || v instanceof Int32Array) return { values: v };
      return { values: t.dtype === 'float32' ? Float32Array.from(v) : Int32Array.from(v) };
    }
    throw new TfjsBackendError(`tensor ${t.id} [${t.shape.join(', ')}] has its data neither in a GPUBuffer nor on the CPU (a texture?)`);
  }
}
