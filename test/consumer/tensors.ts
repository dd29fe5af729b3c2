// Typed access to an io_dict read from safetensors (shared by the Node and browser entries of the consumer).
import { readSafetensors, type FloatTensor, type IntTensor, type SafeTensor } from 'tdc-runtime';

export class IoDict {
  readonly tensors: Map<string, SafeTensor>;
  constructor(bytes: Uint8Array) {
    this.tensors = readSafetensors(bytes).tensors;
  }
  private get(name: string): SafeTensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`no tensor '${name}' in the io_dict`);
    return t;
  }
  float(name: string): FloatTensor {
    const t = this.get(name);
    if (t.data instanceof Float32Array || t.data instanceof Float64Array) return { shape: t.shape, data: t.data };
    throw new Error(`'${name}' is not a float tensor (${t.dtype})`);
  }
  int(name: string): IntTensor {
    const t = this.get(name);
    if (t.data instanceof Int32Array || t.data instanceof BigInt64Array) return { shape: t.shape, data: t.data };
    throw new Error(`'${name}' is not an integer tensor (${t.dtype})`);
  }
}
