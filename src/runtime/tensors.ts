// Tensors a plan accepts as inputs, and their conversion to what a kernel reads (f32 / i32).
// SafeTensor ({dtype:'F32'|'F64'|'I64'|'I32', shape, data}) and the CPU executor's HostTensor
// ({dtype:'float'|'int', shape, data: Float64Array}) are both HostInput; a GPUBuffer already on the device
// is a DeviceInput (bound in place when it has STORAGE usage, else copied into the plan's buffer inside the
// same command buffer).
/// <reference types="@webgpu/types" preserve="true" />
import { describeValue, isGpuBuffer } from './argument-checks.js';
import { shapeToString, type Dim } from './dims.js';
import { f32Text } from './float-text.js';

export type HostData = Float32Array | Float64Array | Int32Array | BigInt64Array;

export interface HostInput {
  shape: readonly number[];
  data: HostData;
  /** 'F32' | 'F64' | 'F16' | 'BF16' | 'I32' | 'I64' | 'float' | 'int'; when absent, the array type decides. */
  dtype?: string;
}

export interface DeviceInput {
  shape: readonly number[];
  /** Holds the tensor as packed f32 (float inputs) or i32 (int inputs). With GPUBufferUsage.STORAGE (and a size
   *  covering the plan's buffer, rounded up to whole vec4s) it is bound in place; otherwise it needs COPY_SRC. */
  buffer: GPUBuffer;
}

export type TensorInput = HostInput | DeviceInput;

/** A float input as generated glue types it (f32 on the device; F64 data is converted on upload). */
export type FloatTensor =
  | { shape: readonly number[]; data: Float32Array | Float64Array; dtype?: 'F32' | 'F64' | 'F16' | 'BF16' | 'float' }
  | DeviceInput;
/** An integer input (class indices; -100 / 255 ignore_index values are fine): i32 on the device. */
export type IntTensor = { shape: readonly number[]; data: Int32Array | BigInt64Array; dtype?: 'I32' | 'I64' | 'int' } | DeviceInput;

export const isDeviceInput = (t: TensorInput): t is DeviceInput => 'buffer' in t && t.buffer !== undefined;

/** A typed array over a SharedArrayBuffer: WebGPU's writeBuffer takes only ArrayBuffer-backed data (Dawn's Node
 *  binding throws a raw TypeError), so such data is copied into an array of its own before it is uploaded. */
export const isShared = (v: ArrayBufferView): boolean => typeof SharedArrayBuffer !== 'undefined' && v.buffer instanceof SharedArrayBuffer;

/** `inputs` with each host tensor's data copied (a typed array of its own, over an ArrayBuffer), device inputs and
 *  anything malformed as given: what a run that waits its turn works on, so that the caller may refill its arrays
 *  as soon as the call returns. */
export function copyHostInputs<K, T extends TensorInput>(inputs: ReadonlyMap<K, T>): Map<K, T> {
  const out = new Map<K, T>();
  for (const [name, t] of inputs) {
    const data = t !== null && typeof t === 'object' && !isDeviceInput(t) ? (t as HostInput).data : undefined;
    out.set(name, ArrayBuffer.isView(data) && !(data instanceof DataView) && !isDetached(data) ? ({ ...t, data: data.slice() } as T) : t);
  }
  return out;
}

/** A view whose ArrayBuffer was transferred away (it then reads as empty): a view of it cannot be made. Checked only
 *  for empty views (a detached one has byteLength 0), so it costs nothing on the way of real data. */
export function isDetached(v: ArrayBufferView): boolean {
  if (v.byteLength !== 0 || isShared(v)) return false;
  try {
    new Uint8Array(v.buffer as ArrayBuffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** What the plan reads as one input: its dtype and shape (PlanInput's), to show the form a tensor for it takes. */
export interface TensorExpectation {
  dtype: 'float' | 'int';
  shape: readonly Dim[];
}

/** What makes `t` no tensor at all (not an object; a bare typed array, Array or GPUBuffer; host data that is no
 *  typed array), or undefined: checked before its shape and dtype, so that such a value is a GpuInputError naming
 *  the input and the form `expect`ed (e.g. `{ shape: [N], data: Int32Array }`), not a TypeError from inside or a
 *  complaint about its shape. */
export function tensorProblem(t: unknown, expect?: TensorExpectation): string | undefined {
  const shape = expect ? shapeToString(expect.shape) : '[…]';
  const array = expect?.dtype === 'int' ? 'Int32Array' : expect ? 'Float32Array' : 'a typed array';
  const notTensor = (what: string, how = '') => `is ${what}, not a tensor: expected { shape: ${shape}, data: ${array} }${how} or { shape: ${shape}, buffer: GPUBuffer }`;
  if (t === null || typeof t !== 'object') return notTensor(describeValue(t));
  // before isDeviceInput: a typed array has a `buffer` too (its ArrayBuffer)
  if (ArrayBuffer.isView(t)) return notTensor(describeValue(t), ' (that array as data)');
  if (Array.isArray(t)) return notTensor('an Array', expect ? ` (data: ${array}.from(array))` : '');
  if (isGpuBuffer(t)) return `is a bare GPUBuffer, not a tensor: expected { shape: ${shape}, buffer: that GPUBuffer }`;
  if (isDeviceInput(t as TensorInput)) return undefined;
  const data = (t as { data?: unknown }).data;
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) return isDetached(data) ? `has data whose ArrayBuffer was detached (transferred: postMessage, structuredClone): it holds nothing now` : undefined;
  const what = data === undefined ? 'no data' : `data that is ${data === null ? 'null' : Array.isArray(data) ? 'a plain Array' : typeof data === 'object' ? `a ${(data as object).constructor?.name ?? 'object'}` : `a ${typeof data}`}`;
  return `has ${what}: expected a typed array (Float32Array or Float64Array for floats, Int32Array or BigInt64Array for integers) or a GPUBuffer as { shape, buffer }`;
}

/** 'float' / 'int' as the tensor declares it, or undefined for an unknown dtype string. */
export function kindOf(t: HostInput): 'float' | 'int' | undefined {
  switch (t.dtype) {
    case 'F32':
    case 'F64':
    case 'F16':
    case 'BF16':
    case 'float':
      return 'float';
    case 'I32':
    case 'I64':
    case 'int':
      return 'int';
    case undefined:
      return t.data instanceof Float32Array || t.data instanceof Float64Array ? 'float' : 'int';
    default:
      return undefined;
  }
}

/** Copies `src` into `dst` as f32 (dst.length === src.length). Float32Array sources need no copy (use them
 *  directly) unless they are shared memory (isShared). */
export function toF32(src: Float32Array | Float64Array | Int32Array | BigInt64Array, dst: Float32Array): void {
  if (src instanceof BigInt64Array) for (let i = 0; i < src.length; i++) dst[i] = Number(src[i]!);
  else dst.set(src);
}

/** Element `i` of host data as a message shows it: float32 data in f32Text's shortest form, others as they are. */
export const elementText = (data: HostData, i: number): string => (data instanceof Float32Array ? f32Text(data[i]!) : String(data[i]));

/** Copies integer data into `dst` as i32; returns the index of the first value that is not an i32, or -1. */
export function toI32(src: Float32Array | Float64Array | BigInt64Array, dst: Int32Array): number {
  if (src instanceof BigInt64Array) {
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (v < -2147483648n || v > 2147483647n) return i;
      dst[i] = Number(v);
    }
    return -1;
  }
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) return i;
    dst[i] = v;
  }
  return -1;
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
