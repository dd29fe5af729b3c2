// safetensors reader/writer: golden round trip (byte-identical), all four dtypes, header validation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { readSafetensors, writeSafetensors, SafetensorsError, type SafeTensor } from 'tdc-runtime';
import { toHost, fromHost } from '../src/cpu/host-safetensors.js';
import { casePath, expected } from './helpers/golden.js';

const CASE = 'sample__ilsvrc2012__kd__resnet18_from_resnet34';

test('golden file: read, write back byte-identically, re-read equal', () => {
  const bytes = new Uint8Array(readFileSync(casePath(CASE, 'tensors.safetensors')));
  const { tensors, metadata } = readSafetensors(bytes);
  const e = expected(CASE);
  assert.equal([...tensors.keys()], [...e.inputs, ...e.grads]);
  assert.is(metadata?.['case'], CASE);
  const zs = tensors.get('student/./output')!;
  assert.is(zs.dtype, 'F64');
  assert.equal(zs.shape, [7, 37]);
  const y = tensors.get('targets')!;
  assert.is(y.dtype, 'I64');
  const yh = toHost(y);
  assert.is(yh.dtype, 'int');
  assert.ok([...yh.data].every((v) => Number.isInteger(v) && v >= 0 && v < 37));
  const out = writeSafetensors(tensors, metadata);
  assert.equal(Buffer.from(out).equals(Buffer.from(bytes)), true, 'writer reproduces the golden bytes');
  const again = readSafetensors(out);
  for (const [k, t] of tensors) {
    const u = again.tensors.get(k)!;
    assert.is(u.dtype, t.dtype);
    assert.equal(u.shape, t.shape);
    assert.equal([...u.data], [...t.data]);
  }
});

test('all four dtypes round trip; header is padded to 8 with spaces', () => {
  const ts: [string, SafeTensor][] = [
    ['f32', { dtype: 'F32', shape: [3], data: Float32Array.of(1.5, -2, 3.25) }],
    ['i32', { dtype: 'I32', shape: [2, 1], data: Int32Array.of(-7, 9) }],
    ['f64', { dtype: 'F64', shape: [], data: Float64Array.of(Math.PI) }],
    ['i64', { dtype: 'I64', shape: [0], data: new BigInt64Array(0) }],
  ];
  const out = writeSafetensors(ts);
  const n = Number(new DataView(out.buffer).getBigUint64(0, true));
  assert.is(n % 8, 0);
  const hdr = new TextDecoder().decode(out.subarray(8, 8 + n));
  assert.match(hdr, /^\{.*\} *$/);
  assert.ok(hdr.endsWith(' '), 'this header needs padding');
  const { tensors, metadata } = readSafetensors(out);
  assert.is(metadata, undefined);
  assert.equal([...tensors.keys()], ['f32', 'i32', 'f64', 'i64']);
  assert.equal([...tensors.get('f32')!.data], [1.5, -2, 3.25]);
  assert.equal([...tensors.get('i32')!.data], [-7, 9]);
  assert.equal(toHost(tensors.get('i32')!), { shape: [2, 1], dtype: 'int', data: Float64Array.of(-7, 9) });
  assert.equal([...tensors.get('f64')!.data], [Math.PI]);
  assert.equal(tensors.get('i64')!.shape, [0]);
  assert.equal(writeSafetensors(ts), out, 'deterministic');
  const h = fromHost({ shape: [2], dtype: 'int', data: Float64Array.of(3, 4) });
  assert.is(h.dtype, 'I64');
  assert.equal([...h.data], [3n, 4n]);
});

function file(header: unknown, data: number[] = [], rawHeader?: string): Uint8Array {
  const json = new TextEncoder().encode(rawHeader ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('header validation errors', () => {
  const err = (buf: Uint8Array, re: RegExp) => {
    try {
      readSafetensors(buf);
      assert.unreachable('should throw');
    } catch (e) {
      assert.instance(e, SafetensorsError);
      assert.match((e as Error).message, re);
    }
  };
  err(new Uint8Array(4), /too short/);
  const big = new Uint8Array(16);
  new DataView(big.buffer).setBigUint64(0, 1000n, true);
  err(big, /exceeds the file size/);
  err(file(null, [], '{"a": '), /not valid UTF-8 JSON/);
  err(file([1, 2]), /not a JSON object/);
  err(file({ x: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, [0]), /unsupported dtype F8_E4M3 \(tdc reads F32, F64, F16, BF16, I64, I32\)/);
  err(file({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, [0, 0, 0, 0]), /out of range/);
  err(file({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Array(8).fill(0)), /= 12, but data_offsets span 8/);
  err(
    file({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] }, y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Array(8).fill(0)),
    /not contiguous/,
  );
  err(file({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Array(8).fill(0)), /data section is 8 bytes but the tensors cover 4/);
  err(file({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /non-negative integers/);
  err(file({ __metadata__: { a: 1 } }), /__metadata__ must be an object of strings/);
});

test('arguments of the wrong kind are a SafetensorsError naming them (were TypeErrors from inside); an ArrayBuffer is read as the bytes it is', () => {
  const bytes = writeSafetensors([['x', { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }]]);
  const wrong = (f: () => unknown, re: RegExp) => {
    try {
      f();
    } catch (e) {
      assert.instance(e, SafetensorsError, String(e));
      assert.match((e as Error).message, re);
      return;
    }
    assert.unreachable('expected a SafetensorsError');
  };
  wrong(() => readSafetensors(null as unknown as Uint8Array), /readSafetensors: expected the file's bytes \(a Uint8Array or an ArrayBuffer\), got null/);
  wrong(() => readSafetensors('abc' as unknown as Uint8Array), /got the string "abc"/);
  wrong(() => writeSafetensors(null as unknown as SafeTensor[] as unknown as Map<string, SafeTensor>), /writeSafetensors: expected a Map or an Array of \[name, tensor\] pairs, got null/);
  wrong(() => writeSafetensors([['x', { dtype: 'F32', shape: [2], data: [1, 2] } as unknown as SafeTensor]]), /tensor 'x': expected \{ dtype, shape: number\[\], data: a typed array \}, got shape an Array and data an Array/);
  const copy = bytes.slice();
  assert.equal(readSafetensors(copy.buffer).tensors.get('x')!.data, new Float32Array([1, 2]), 'File.arrayBuffer() / fetch: read as is');
});

test('F16 and BF16 tensors are read exactly into float32, and are not written', () => {
  const u16 = (vs: number[]) => vs.flatMap((v) => [v & 0xff, v >> 8]);
  // IEEE binary16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), 1/3 rounded, +inf, -0
  const half = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x7c00, 0x8000];
  // bfloat16 (top half of a float32): 1, 3.140625, -123.5, 2^-133 (subnormal)
  const bf = [0x3f80, 0x4049, 0xc2f7, 0x0001];
  const buf = file(
    { h: { dtype: 'F16', shape: [7], data_offsets: [0, 14] }, b: { dtype: 'BF16', shape: [2, 2], data_offsets: [14, 22] } },
    [...u16(half), ...u16(bf)],
  );
  const { tensors } = readSafetensors(buf);
  const h = tensors.get('h')!;
  assert.is(h.dtype, 'F16');
  assert.instance(h.data, Float32Array);
  assert.equal([...h.data], [1, -2, 65504, 2 ** -24, 0.333251953125, Infinity, -0]);
  assert.ok(Object.is(h.data[6], -0), '-0 keeps its sign');
  const b = tensors.get('b')!;
  assert.is(b.dtype, 'BF16');
  assert.equal(b.shape, [2, 2]);
  assert.equal([...b.data], [1, 3.140625, -123.5, 2 ** -133]);
  assert.ok(Number.isNaN(readSafetensors(file({ n: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, u16([0x7e00]))).tensors.get('n')!.data[0]));
  const host = toHost(h);
  assert.is(host.dtype, 'float');
  assert.is(host.data[2], 65504);
  try {
    writeSafetensors([['h', h]]);
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, SafetensorsError);
    assert.match((e as Error).message, /cannot write dtype F16/);
  }
});

test.run();
