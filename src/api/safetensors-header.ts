// `tdc compile --like` (api/shapes.ts): a sample's tensor names, dtypes and shapes from its safetensors header alone — the
// first 8 bytes and the JSON header are read, never the data (a 385 MB sample costs a few kilobytes).
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

/** Largest header accepted (safetensors' own limit is 100 MB). */
const MAX_HEADER = 100 * 2 ** 20;
const SIZE: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, I32: 4 };

export function readSafetensorsHeader(file: string): Map<string, { dtype: string; shape: number[] }> {
  // the header is read at offsets of a file of known size: a device (/dev/zero) has none, and opening a FIFO
  // without a writer would block
  if (!statSync(file).isFile()) throw new Error('not a regular file');
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(8);
    if (size < 8 || readSync(fd, head, 0, 8, 0) !== 8) throw new Error(`file is ${size} bytes, too short for a safetensors header`);
    const n64 = head.readBigUInt64LE(0);
    if (n64 > BigInt(Math.min(size - 8, MAX_HEADER))) throw new Error(`header length ${n64} exceeds the file size (${size} bytes)`);
    const n = Number(n64);
    const text = Buffer.alloc(n);
    if (readSync(fd, text, 0, n, 8) !== n) throw new Error('the header is truncated');
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(text));
    } catch (e) {
      throw new Error(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new Error('header is not a JSON object');
    const dataLen = size - 8 - n;
    const out = new Map<string, { dtype: string; shape: number[] }>();
    for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') continue;
      const bad = (why: string) => new Error(`tensor '${name}': ${why}`);
      if (v === null || typeof v !== 'object') throw bad('entry is not an object');
      const { dtype, shape, data_offsets } = v as Record<string, unknown>;
      if (typeof dtype !== 'string' || !(dtype in SIZE)) throw bad(`unsupported dtype ${String(dtype)} (tdc reads F32, F64, F16, BF16, I64, I32)`);
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad('shape must be a list of non-negative integers');
      if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every((d) => Number.isSafeInteger(d) && d >= 0))
        throw bad('data_offsets must be [begin, end]');
      const [begin, end] = data_offsets as [number, number];
      if (begin > end || end > dataLen) throw bad(`data_offsets [${begin}, ${end}] out of range (data is ${dataLen} bytes)`);
      const want = (shape as number[]).reduce((a, b) => a * b, 1) * SIZE[dtype]!;
      if (end - begin !== want) throw bad(`shape [${shape.join(', ')}] × ${SIZE[dtype]} bytes = ${want}, but data_offsets span ${end - begin} bytes`);
      out.set(name, { dtype, shape: [...(shape as number[])] });
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
