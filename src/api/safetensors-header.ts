// `tdc compile --like` (api/shapes.ts), `tdc tune --like`: a sample's tensor names, dtypes and shapes from its safetensors
// header alone — the first 8 bytes and the JSON header are read, never the data (a 385 MB sample costs a few kilobytes).
// The sample may be a pipe (`--like <(zcat io.safetensors.gz)`): it is read in order, the 8-byte length, then the header,
// then as much of the data as the header's offsets say must be there (counted, not kept). A pipe can be read only
// once, so its header is kept for the process: a command that reads the sample twice (tdc tune: compile, then the
// sizes) gets the same header again. A pipe is opened without waiting: a named pipe that no writer opens within
// WRITER_WAIT_MS is an error (waiting for a writer that may never come would hang tdc), and one whose writer is
// still producing is waited for. A device (/dev/zero) is refused: it has no end to read to.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';

/** Largest header accepted (safetensors' own limit is 100 MB). */
const MAX_HEADER = 100 * 2 ** 20;
const SIZE: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, I32: 4 };
/** Chunk in which a pipe's data is counted. */
const SKIP_CHUNK = 2 ** 20;

export type SampleHeader = Map<string, { dtype: string; shape: number[] }>;

/** Headers of the pipes (and other inputs that are not regular files) read so far, by device and inode. */
const streamed = new Map<string, SampleHeader>();

export function readSafetensorsHeader(file: string): SampleHeader {
  // a pipe read before is not opened again: a named pipe's open would wait for a writer that has gone
  const before = statSync(file);
  if (!before.isFile() && !before.isFIFO()) throw new Error('not a regular file or a pipe');
  const seen = before.isFile() ? undefined : streamed.get(`${before.dev}:${before.ino}`);
  if (seen) return new Map(seen);
  const fd = openSync(file, before.isFIFO() ? constants.O_RDONLY | constants.O_NONBLOCK : 'r');
  try {
    const st = fstatSync(fd);
    if (st.isFile()) return readHeader(fd, st.size);
    const key = `${st.dev}:${st.ino}`;
    const header = readHeader(fd, undefined, awaitWriter(fd));
    streamed.set(key, header);
    return new Map(header);
  } finally {
    closeSync(fd);
  }
}

/** A read that waits for a non-blocking pipe's writer to produce (EAGAIN: the writer is there, its data is not yet). */
function readWaiting(fd: number, buf: Buffer, offset: number, length: number): number {
  for (;;) {
    try {
      return readSync(fd, buf, offset, length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(PAUSE, 0, 0, 2);
    }
  }
}
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** How long a named pipe may wait for its writer to open it (one started beside tdc may come a little later). */
const WRITER_WAIT_MS = 5000;

/** The first byte of a pipe opened without waiting: while no writer has it open, a read gives 0 bytes (not the end
 *  of its data: nothing was written yet), so it is polled until a writer brings a byte or WRITER_WAIT_MS pass. */
function awaitWriter(fd: number): Buffer {
  const first = Buffer.alloc(1);
  const until = Date.now() + WRITER_WAIT_MS;
  while (readWaiting(fd, first, 0, 1) === 0) {
    if (Date.now() > until)
      throw new Error(`a pipe that nothing was written to within ${WRITER_WAIT_MS / 1000} s (no writer opened it, or it wrote nothing; start the writer first, or give a file)`);
    Atomics.wait(PAUSE, 0, 0, 5);
  }
  return first;
}

/** Up to `n` bytes from the current position (a pipe: as many reads as it takes); fewer only at the end of the input. */
function readUpTo(fd: number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const r = readWaiting(fd, buf, got, n - got);
    if (r === 0) break;
    got += r;
  }
  return got === n ? buf : buf.subarray(0, got);
}

/** How many of the next `n` bytes the input holds (read and dropped). */
function skipUpTo(fd: number, n: number): number {
  const chunk = Buffer.alloc(Math.min(n, SKIP_CHUNK));
  let got = 0;
  while (got < n) {
    const r = readWaiting(fd, chunk, 0, Math.min(chunk.length, n - got));
    if (r === 0) break;
    got += r;
  }
  return got;
}

/** The header read from the start of `fd`; `size` the file's size, undefined for a pipe (read in order, to the end
 *  of the data the header describes); `first` bytes already read from it. */
function readHeader(fd: number, size: number | undefined, first?: Buffer): SampleHeader {
  const head = first && first.length === 8 ? first : Buffer.concat([first ?? Buffer.alloc(0), readUpTo(fd, 8 - (first?.length ?? 0))]);
  if (head.length !== 8)
    throw new Error(size !== undefined ? `file is ${size} bytes, too short for a safetensors header` : `the input ended after ${head.length} bytes, too short for a safetensors header`);
  const n64 = head.readBigUInt64LE(0);
  if (size !== undefined && n64 > BigInt(Math.min(size - 8, MAX_HEADER))) throw new Error(`header length ${n64} exceeds the file size (${size} bytes)`);
  if (n64 > BigInt(MAX_HEADER)) throw new Error(`header length ${n64} exceeds the ${MAX_HEADER / 2 ** 20} MiB a safetensors header may have`);
  const n = Number(n64);
  const text = readUpTo(fd, n);
  if (text.length !== n) throw new Error('the header is truncated');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(text));
  } catch (e) {
    throw new Error(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new Error('header is not a JSON object');
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
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
    entries.push({ name, dtype, shape: [...(shape as number[])], begin, end });
  }
  // a pipe's data is counted as far as the offsets reach (the rest, if any, is never read)
  const dataLen = size !== undefined ? size - 8 - n : skipUpTo(fd, Math.max(0, ...entries.map((e) => e.end)));
  const out: SampleHeader = new Map();
  for (const { name, dtype, shape, begin, end } of entries) {
    const bad = (why: string) => new Error(`tensor '${name}': ${why}`);
    if (begin > end || end > dataLen) throw bad(`data_offsets [${begin}, ${end}] out of range (data is ${dataLen} bytes${size === undefined ? ', where the input ended' : ''})`);
    const want = shape.reduce((a, b) => a * b, 1) * SIZE[dtype]!;
    if (end - begin !== want) throw bad(`shape [${shape.join(', ')}] × ${SIZE[dtype]} bytes = ${want}, but data_offsets span ${end - begin} bytes`);
    out.set(name, { dtype, shape });
  }
  return out;
}
