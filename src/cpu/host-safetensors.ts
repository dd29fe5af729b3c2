// Between safetensors tensors (tdc-runtime) and the CPU executor's float64 HostTensor.
import type { SafeTensor } from 'tdc-runtime';
import type { HostTensor } from '../graph/host-tensor.js';

/** F32/F64/F16/BF16 → float, I64/I32 → int (exact within ±2^53; beyond, the nearest float64: see inexactInt). */
export function toHost(t: SafeTensor): HostTensor {
  const n = t.data.length;
  const data = new Float64Array(n);
  if (t.data instanceof BigInt64Array) for (let i = 0; i < n; i++) data[i] = Number(t.data[i]!);
  else data.set(t.data);
  return { shape: [...t.shape], dtype: t.dtype === 'I64' || t.dtype === 'I32' ? 'int' : 'float', data };
}

/** The first element of an I64 tensor that toHost cannot hold exactly (beyond ±2^53), with its exact value as
 *  text; undefined when there is none. A user's input, so a diagnostic's matter, not an exception. */
export function inexactInt(t: SafeTensor): { index: number; value: string } | undefined {
  if (!(t.data instanceof BigInt64Array)) return undefined;
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i]!;
    if (v > max || v < -max) return { index: i, value: String(v) };
  }
  return undefined;
}

/** float → F64, int → I64. */
export function fromHost(t: HostTensor): SafeTensor {
  if (t.dtype === 'float') return { dtype: 'F64', shape: [...t.shape], data: Float64Array.from(t.data) };
  return { dtype: 'I64', shape: [...t.shape], data: BigInt64Array.from(t.data, (v) => BigInt(v)) };
}
