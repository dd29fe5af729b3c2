// `tdc compile --like` reads only the sample's safetensors header: names, dtypes and shapes agree with the full
// reader, and a 2 GiB (sparse) sample is read without touching its data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, ftruncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from 'tdc-runtime';
import { readSafetensorsHeader } from '../src/api/safetensors-header.js';
import { pipeOf, ROOT, tdc } from './helpers/cli.js';

const KD = join(ROOT, 'examples', 'kd', 'config.yaml');
const IO = join(ROOT, 'examples', 'kd', 'io.safetensors');

const dir = mkdtempSync(join(tmpdir(), 'tdc-like-'));

test('header-only read agrees with the full reader', () => {
  const bytes = writeSafetensors([
    ['student/./output', { dtype: 'F32', shape: [3, 5], data: new Float32Array(15) }],
    ['targets', { dtype: 'I64', shape: [3], data: new BigInt64Array(3) }],
  ]);
  const file = join(dir, 'small.safetensors');
  writeFileSync(file, bytes);
  const full = readSafetensors(bytes).tensors;
  const head = readSafetensorsHeader(file);
  assert.equal([...head.keys()], [...full.keys()]);
  for (const [name, t] of full) assert.equal(head.get(name), { dtype: t.dtype, shape: t.shape });
});

test('a 2 GiB sample: only the header is read', () => {
  const n = 2 ** 29; // F32 elements: 2 GiB of data
  let header = JSON.stringify({ 'student/./output': { dtype: 'F32', shape: [2 ** 14, 2 ** 15], data_offsets: [0, 4 * n] } });
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const file = join(dir, 'big.safetensors');
  const fd = openSync(file, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeSync(fd, len, 0, 8, 0);
  writeSync(fd, Buffer.from(header), 0, header.length, 8);
  ftruncateSync(fd, 8 + header.length + 4 * n);
  closeSync(fd);
  const rss0 = process.memoryUsage().rss;
  const head = readSafetensorsHeader(file);
  assert.equal(head.get('student/./output'), { dtype: 'F32', shape: [2 ** 14, 2 ** 15] });
  assert.ok(process.memoryUsage().rss - rss0 < 64 * 2 ** 20, 'no data pages read into memory');
});

test('a pipe (--like <(…)): the header read in order; the same header again for a second read; a pipe that ends early is an error', () => {
  const bytes = writeSafetensors([
    ['student/./output', { dtype: 'F32', shape: [3, 5], data: new Float32Array(15) }],
    ['targets', { dtype: 'I64', shape: [3], data: new BigInt64Array(3) }],
  ]);
  const file = join(dir, 'piped.safetensors');
  writeFileSync(file, bytes);
  const fifo = pipeOf(file, dir);
  const head = readSafetensorsHeader(fifo); // read in another process's writes: fstat's size of a pipe is 0
  assert.equal(head, readSafetensorsHeader(file));
  assert.equal(readSafetensorsHeader(fifo), head, 'a pipe is read once: its header is kept');
  const short = join(dir, 'short.safetensors');
  writeFileSync(short, bytes.subarray(0, bytes.length - 4));
  assert.throws(() => readSafetensorsHeader(pipeOf(short, dir, 'short.pipe')), /tensor 'targets': data_offsets \[\d+, \d+\] out of range \(data is \d+ bytes, where the input ended\)/);
  // tdc compile --like from a pipe: the same output as from the file (the build's fingerprint does not drain it)
  const a = tdc(['compile', KD, '--like', pipeOf(IO, dir, 'io.pipe'), '-o', join(dir, 'from-pipe'), '--no-glue']);
  assert.is(a.code, 0, a.stderr);
  const b = tdc(['compile', KD, '--like', IO, '-o', join(dir, 'from-file'), '--no-glue']);
  assert.is(b.code, 0, b.stderr);
  for (const f of ['manifest.json']) assert.is(readFileSync(join(dir, 'from-pipe', f), 'utf8'), readFileSync(join(dir, 'from-file', f), 'utf8'));
});

test('the output stamp of tdc compile --like takes the sample\'s header, not its data (it hashed all of it): new data under the same header, the same stamp', () => {
  const sample = join(dir, 'stamped.safetensors');
  const bytes = readFileSync(IO);
  writeFileSync(sample, bytes);
  const out = join(dir, 'stamped-out');
  const first = tdc(['compile', KD, '--like', sample, '-o', out, '--no-glue']);
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stdout + first.stderr, /wrote /);
  const stampOf = (d: string): string => (JSON.parse(readFileSync(join(d, '.tdc-output.json'), 'utf8')) as { stamp: { inputs: string } }).stamp.inputs;
  const stamp = stampOf(out);
  const changed = Buffer.from(bytes);
  changed[changed.length - 1] ^= 0x55; // a byte of the last tensor's data: the header is the same
  writeFileSync(sample, changed);
  const again = tdc(['compile', KD, '--like', sample, '-o', out, '--no-glue']);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout + again.stderr, /unchanged /);
  assert.is(stampOf(out), stamp, 'the stamp vouches for the header: the sample\'s data is not what a compile reads (it was hashed whole)');
});

test('a header that claims more data than the file holds is an error', () => {
  const header = JSON.stringify({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } });
  const file = join(dir, 'short.safetensors');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(file, Buffer.concat([len, Buffer.from(header), Buffer.alloc(8)]));
  assert.throws(() => readSafetensorsHeader(file), /out of range/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
