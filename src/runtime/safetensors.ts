// safetensors read/write: u64 LE header length, compact JSON header (`__metadata__` first, then tensors in
// data order with dtype/shape/data_offsets), header padded with spaces to a multiple of 8, raw LE data.
// Read dtypes: F32, F64, I64, I32, and F16 / BF16 (decoded exactly to float32: every half and bfloat16 value
// is a float32). Written dtypes: F32, F64, I64, I32. The writer is deterministic (insertion order).
// Works on bytes (Uint8Array) only, so it runs in browsers as well as in Node.
import { SafetensorsError } from './errors.js';
import { describeValue } from './argument-checks.js';

export { SafetensorsError };

/** dtypes of a tensor read or written; F16 and BF16 tensors are read into a Float32Array (never written). */
export type SafeDType = 'F32' | 'F64' | 'I64' | 'I32' | 'F16' | 'BF16';
export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array | Int32Array;
}

const SIZE: Record<SafeDType, number> = { F32: 4, F64: 8, I64: 8, I32: 4, F16: 2, BF16: 2 };
const MAX_HEADER = 100 * 1024 * 1024;

function isSafeDType(s: unknown): s is SafeDType {
  return s === 'F32' || s === 'F64' || s === 'I64' || s === 'I32' || s === 'F16' || s === 'BF16';
}

/** IEEE binary16 bits → the same number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero / subnormal
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function view(dtype: SafeDType, bytes: Uint8Array): SafeTensor['data'] {
  const copy = new Uint8Array(bytes.length); // aligned copy (Buffer.slice would alias the pool)
  copy.set(bytes);
  switch (dtype) {
    case 'F16': {
      const dv = new DataView(copy.buffer);
      const out = new Float32Array(copy.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32
      const dv = new DataView(copy.buffer);
      const bits = new Uint32Array(copy.length / 2);
      for (let i = 0; i < bits.length; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return new Float32Array(bits.buffer);
    }
    case 'F32':
      return new Float32Array(copy.buffer, 0, copy.length / 4);
    case 'F64':
      return new Float64Array(copy.buffer, 0, copy.length / 8);
    case 'I64':
      return new BigInt64Array(copy.buffer, 0, copy.length / 8);
    case 'I32':
      return new Int32Array(copy.buffer, 0, copy.length / 4);
  }
}

export function readSafetensors(bytes: Uint8Array | ArrayBuffer): { tensors: Map<string, SafeTensor>; metadata?: Record<string, string> } {
  // the bytes of a file as a browser (File.arrayBuffer(), fetch) or Node (Buffer) gives them
  const buf =
    bytes instanceof Uint8Array ? bytes : ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : undefined;
  if (!buf) throw new SafetensorsError(`readSafetensors: expected the file's bytes (a Uint8Array or an ArrayBuffer), got ${describeValue(bytes)}`);
  if (buf.length < 8) throw new SafetensorsError(`file is ${buf.length} bytes, too short for a safetensors header`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(Math.min(buf.length - 8, MAX_HEADER)))
    throw new SafetensorsError(`header length ${n64} exceeds the file size (${buf.length} bytes)`);
  const n = Number(n64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = buf.length - dataStart;
  let metadata: Record<string, string> | undefined;
  const entries: { name: string; dtype: SafeDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string'))
        throw new SafetensorsError('__metadata__ must be an object of strings');
      metadata = { ...(v as Record<string, string>) };
      continue;
    }
    const bad = (why: string) => new SafetensorsError(`tensor '${name}': ${why}`);
    if (v === null || typeof v !== 'object') throw bad('entry is not an object');
    const { dtype, shape, data_offsets } = v as Record<string, unknown>;
    if (typeof dtype !== 'string') throw bad('missing dtype');
    if (!isSafeDType(dtype)) throw bad(`unsupported dtype ${dtype} (tdc reads F32, F64, F16, BF16, I64, I32)`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad('shape must be a list of non-negative integers');
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw bad('data_offsets must be [begin, end]');
    const [begin, end] = data_offsets as [number, number];
    if (begin > end || end > dataLen) throw bad(`data_offsets [${begin}, ${end}] out of range (data is ${dataLen} bytes)`);
    const want = (shape as number[]).reduce((a, b) => a * b, 1) * SIZE[dtype];
    if (end - begin !== want) throw bad(`shape [${shape.join(', ')}] × ${SIZE[dtype]} bytes = ${want}, but data_offsets span ${end - begin} bytes`);
    entries.push({ name, dtype, shape: [...(shape as number[])], begin, end });
  }
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of byOffset) {
    if (e.begin !== at) throw new SafetensorsError(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] are not contiguous (expected to start at ${at})`);
    at = e.end;
  }
  if (at !== dataLen) throw new SafetensorsError(`data section is ${dataLen} bytes but the tensors cover ${at}`);
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries)
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: view(e.dtype, buf.subarray(dataStart + e.begin, dataStart + e.end)) });
  return metadata ? { tensors, metadata } : { tensors };
}

export function writeSafetensors(tensors: Map<string, SafeTensor> | [string, SafeTensor][], metadata?: Record<string, string>): Uint8Array {
  if (!(tensors instanceof Map) && !Array.isArray(tensors))
    throw new SafetensorsError(`writeSafetensors: expected a Map or an Array of [name, tensor] pairs, got ${describeValue(tensors)}`);
  const list = tensors instanceof Map ? [...tensors] : tensors;
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let at = 0;
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new SafetensorsError(`'__metadata__' cannot be a tensor name`);
    if (name in header) throw new SafetensorsError(`tensor '${name}' given twice`);
    if (!isSafeDType(t.dtype) || t.dtype === 'F16' || t.dtype === 'BF16')
      throw new SafetensorsError(`tensor '${name}': cannot write dtype ${String(t.dtype)} (tdc writes F32, F64, I64, I32)`);
    if (!ArrayBuffer.isView(t.data) || !Array.isArray(t.shape))
      throw new SafetensorsError(`tensor '${name}': expected { dtype, shape: number[], data: a typed array }, got shape ${describeValue(t.shape)} and data ${describeValue(t.data)}`);
    const bytes = t.data.byteLength;
    const want = t.shape.reduce((a, b) => a * b, 1) * SIZE[t.dtype];
    if (bytes !== want) throw new SafetensorsError(`tensor '${name}': shape [${t.shape.join(', ')}] needs ${want} bytes, data has ${bytes}`);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [at, at + bytes] };
    at += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const hdr = new Uint8Array(padded).fill(0x20);
  hdr.set(json);
  json = hdr;
  const out = new Uint8Array(8 + padded + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  let off = 8 + padded;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), off);
    off += t.data.byteLength;
  }
  return out;
}
