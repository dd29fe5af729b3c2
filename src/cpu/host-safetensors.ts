// Between safetensors tensors (tdc-runtime) and the CPU executor's float64 HostTensor.
import { SafetensorsError, type SafeTensor } from 'tdc-runtime';
import type { HostTensor } from '../graph/host-tensor.js';

/** F32/F64/F16/BF16 → float, I64/I32 → int (exact below 2^53). */
export function toHost(t: SafeTensor): HostTensor {
  const n = t.data.length;
  const data = new Float64Array(n);
  if (t.data instanceof BigInt64Array) {
    for (let i = 0; i < n; i++) {
      const v = t.data[i]!;
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
        throw new SafetensorsError(`I64 value ${v} is not exactly representable`);
      data[i] = Number(v);
    }
  } else data.set(t.data);
  return { shape: [...t.shape], dtype: t.dtype === 'I64' || t.dtype === 'I32' ? 'int' : 'float', data };
}

/** float → F64, int → I64. */
export function fromHost(t: HostTensor): SafeTensor {
  if (t.dtype === 'float') return { dtype: 'F64', shape: [...t.shape], data: Float64Array.from(t.data) };
  return { dtype: 'I64', shape: [...t.shape], data: BigInt64Array.from(t.data, (v) => BigInt(v)) };
}
