// The scalar-math table (src/graph/ops/scalar-fns.ts: float64; src/codegen/kernel-ir/scalar-lowering.ts: the IR
// each op lowers to) is exhaustive, and its columns agree on special values: for every unary and binary op, on
// NaN, ±inf, ±0, denormals, ±F32_MAX and ordinary values (all pairs for binary ops), the float64 CPU function
// (rounded to f32), the lowering run by the IR interpreter and the lowering printed and run on the GPU (Dawn) give
// the same result: the same class (NaN, ±inf, ±0 with its sign) and, for finite values, the same number within
// the op's ulp budget (0 for exact ops). Int ops (the i32 lowerings) are checked the same way on small ints.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BinaryOp, UnaryOp } from '../src/graph/types.js';
import { BINARY_MATH, UNARY_MATH, type BinaryMath, type UnaryMath } from '../src/graph/ops/scalar-fns.js';
import { BINARY_LOWERING, UNARY_LOWERING, type BinaryLowering, type UnaryLowering } from '../src/codegen/kernel-ir/scalar-lowering.js';
import { assign, at, bare, call, ifS, ixE, letS, ref, RETURN, type Expr, type KernelModule } from '../src/codegen/kernel-ir/ir.js';
import { ixField } from '../src/compiler/schedule/index-expr.js';
import { interpretDispatch } from '../src/codegen/kernel-ir/interpret.js';
import { printModule } from '../src/codegen/wgsl/print-module.js';
import type { BufferDecl } from '../src/compiler/schedule/kernel-spec.js';
import { openTestRuntime } from './helpers/open-gpu.js';

const UNARY = Object.keys(UNARY_MATH) as UnaryOp[];
const BINARY = Object.keys(BINARY_MATH) as BinaryOp[];

// ---- exhaustiveness: checked by the compiler (an unused @ts-expect-error fails the build) and at run time ----
{
  const { relu: _r, ...noRelu } = UNARY_LOWERING;
  // @ts-expect-error a lowering table without an op's entry is not the table's type
  const _u: { readonly [K in UnaryOp]: UnaryLowering<K> } = noRelu;
  // @ts-expect-error an op that keeps ints int needs an i32 lowering
  const _i: UnaryLowering<'abs'> = { f32: (x: Expr) => x };
  const { pow: _p, ...noPow } = BINARY_MATH;
  // @ts-expect-error the float64 column without an op's entry is not the column's type
  const _b: { readonly [K in BinaryOp]: BinaryMath<K> } = noPow;
  void [_r, _u, _i, _p, _b];
}

test('the float64 and lowering columns list the same ops, and agree on which keep ints int and which compare', () => {
  assert.equal(Object.keys(UNARY_LOWERING).sort(), [...UNARY].sort());
  assert.equal(Object.keys(BINARY_LOWERING).sort(), [...BINARY].sort());
  assert.ok(UNARY.length >= 11 && BINARY.length >= 13);
  for (const op of UNARY) assert.is((UNARY_LOWERING[op] as UnaryLowering).i32 !== undefined, (UNARY_MATH[op] as UnaryMath).keepsInt, op);
  for (const op of BINARY) assert.is((BINARY_LOWERING[op] as BinaryLowering).cond !== undefined, (BINARY_MATH[op] as BinaryMath).comparison, op);
});

// ---- special values ----
const F32_MAX = 3.4028234663852886e38;
const DENORMAL = Math.fround(1e-40);
const VALUES = [NaN, Infinity, -Infinity, 0, -0, DENORMAL, -DENORMAL, 1e-30, 1, -1, 0.5, 0.3, 2, 3, -2.5, 100, F32_MAX, -F32_MAX].map(Math.fround);
const INTS = [-3, -2, -1, 0, 1, 2, 3];

/**
 * Allowed error in ulp of the f32 reference (finite results): 0 for exact ops, the WGSL budget otherwise (exp
 * 3 + 2|x|, log 3; tanh_f32 ≤ 2 measured; log1p_f32 from log's; pow is exp2(y · log2|x|), whose rounding error
 * grows with |y · log2|x||).
 */
const ULP: Partial<Record<UnaryOp | BinaryOp, (a: number, b: number) => number>> = {
  exp: (a) => 3 + 2 * Math.abs(a),
  log: () => 4,
  tanh: () => 3,
  log1p: () => 6,
  sqrt: () => 1,
  pow: (a, b) => {
    const t = Math.abs(b * Math.log2(Math.abs(a)));
    return 4 + 2 * (Number.isFinite(t) ? t : 0);
  },
};

const isDenormal = (x: number) => x !== 0 && Math.abs(x) < 2 ** -126;

/**
 * Where the columns are known to disagree today, and why. `lowering`: the IR itself differs from torch (the
 * interpreter and the GPU agree with each other); `gpu`: the driver (Mesa lavapipe) differs from the WGSL the
 * interpreter follows. Every entry must still occur (a fix removes its entry), every other disagreement fails.
 */
const KNOWN: { op: string; where: 'lowering' | 'gpu'; when: (a: number, b: number) => boolean; why: string }[] = [
  { op: 'pow f32', where: 'lowering', when: (a, b) => Math.abs(Math.pow(Math.abs(a), b)) > 2 ** 127, why: 'exp2(y · log2|x|) overflows to inf where |x|^y is within an ulp of F32_MAX' },
  { op: 'log f32', where: 'gpu', when: (a) => isDenormal(a), why: "lavapipe's log flushes a denormal input (log(1e-40) = log(2^-126))" },
  {
    op: 'pow f32',
    where: 'gpu',
    when: (a, b) => isDenormal(a) || isDenormal(Math.fround(Math.pow(Math.abs(a), b))),
    why: "lavapipe's log2 flushes denormal inputs and exp2 flushes denormal results to 0",
  },
];

/** `out[i] = lowering(a[i], b[i])` over n elements. */
function probe(lower: (a: Expr, b: Expr) => Expr, dtype: 'f32' | 'i32', binary: boolean): KernelModule {
  const decl = (binding: number, name: string, access: 'read' | 'read_write'): BufferDecl => ({ binding, name, dtype, access, label: name, shape: [{ sym: 'n' }] });
  const buffers = [decl(1, 'a', 'read'), ...(binary ? [decl(2, 'b', 'read')] : []), decl(binary ? 3 : 2, 'out', 'read_write')];
  const i = ref('i');
  return {
    header: ['scalar-math probe'],
    symbols: ['n'],
    buffers,
    shared: [],
    entry: 'linear',
    vec4: new Set(),
    body: [
      letS('i', bare('+', ref('lid'), bare('*', ref('wid.x'), ref('wg_size')))),
      ifS(bare('>=', i, ixE(ixField('n'))), [RETURN]),
      assign(at('out', i), lower(at('a', i), at('b', i))),
    ],
  };
}

const WG = 64;
type Arr = Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer>;

function interpret(m: KernelModule, inputs: Arr[], dtype: 'f32' | 'i32'): Arr {
  const n = inputs[0]!.length;
  const out = dtype === 'f32' ? new Float32Array(n) : new Int32Array(n);
  const names = m.buffers.map((b) => b.name);
  interpretDispatch(m, { buffers: new Map(names.map((name, k) => [name, k < inputs.length ? inputs[k]! : out])), dims: { n }, wgSize: WG, grid: [Math.ceil(n / WG), 1, 1] });
  return out;
}

/** GPUBufferUsage / GPUMapMode bits (no globals in Node). */
const U = { MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, UNIFORM: 0x40, STORAGE: 0x80 };
const MAP_READ = 1;

async function onGpu(device: GPUDevice, m: KernelModule, inputs: Arr[], dtype: 'f32' | 'i32'): Promise<Arr> {
  const n = inputs[0]!.length;
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: printModule(m) });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main', constants: { wg_size: WG } } });
  const dims = device.createBuffer({ size: 16, usage: U.UNIFORM | U.COPY_DST });
  device.queue.writeBuffer(dims, 0, Uint32Array.of(n, 0, 0, 0));
  const ins = inputs.map((x) => {
    const buf = device.createBuffer({ size: x.byteLength, usage: U.STORAGE | U.COPY_DST });
    device.queue.writeBuffer(buf, 0, x);
    return buf;
  });
  const out = device.createBuffer({ size: n * 4, usage: U.STORAGE | U.COPY_SRC });
  const read = device.createBuffer({ size: n * 4, usage: U.MAP_READ | U.COPY_DST });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [dims, ...ins, out].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(Math.ceil(n / WG));
  pass.end();
  enc.copyBufferToBuffer(out, 0, read, 0, n * 4);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(MAP_READ);
  const data = read.getMappedRange().slice(0);
  read.unmap();
  const err = await device.popErrorScope();
  if (err) throw new Error(err.message);
  for (const b of [dims, ...ins, out, read]) b.destroy();
  return dtype === 'f32' ? new Float32Array(data) : new Int32Array(data);
}

const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
const ulpOf = (r: number) => Math.max(Math.abs(r) * 2 ** -23, 2 ** -149);

/** Same class (NaN, ±inf, ±0 by sign) and, finite, within `ulp` ulp of the reference `want`. */
function agrees(got: number, want: number, ulp: number): boolean {
  if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got);
  if (!Number.isFinite(want) || !Number.isFinite(got)) return got === want;
  if (want === 0 || got === 0) return Object.is(got, want) || (ulp > 0 && Math.abs(got - want) <= ulp * 2 ** -149);
  return Math.sign(got) === Math.sign(want) && Math.abs(got - want) <= ulp * ulpOf(want);
}

interface Case {
  what: string;
  dtype: 'f32' | 'i32';
  module: KernelModule;
  inputs: Arr[];
  /** The float64 column's result for element k (rounded to the dtype). */
  want: (k: number) => number;
  ulp: (k: number) => number;
  args: (k: number) => string;
  /** The operands of element k (b = 0 for unary ops). */
  at: (k: number) => [number, number];
}

function cases(): Case[] {
  const out: Case[] = [];
  const pairs = VALUES.flatMap((a) => VALUES.map((b) => [a, b] as const));
  const ipairs = INTS.flatMap((a) => INTS.map((b) => [a, b] as const));
  for (const op of UNARY) {
    const low = UNARY_LOWERING[op] as UnaryLowering;
    const f = (UNARY_MATH[op] as UnaryMath).f64;
    const a = Float32Array.from(VALUES);
    const u = ULP[op];
    out.push({ what: `${op} f32`, dtype: 'f32', module: probe((x) => low.f32(x), 'f32', false), inputs: [a], want: (k) => Math.fround(f(a[k]!)), ulp: (k) => (u ? u(a[k]!, 0) : 0), args: (k) => show(a[k]!), at: (k) => [a[k]!, 0] });
    if (low.i32) {
      const i32 = low.i32;
      const ai = Int32Array.from(INTS);
      out.push({ what: `${op} i32`, dtype: 'i32', module: probe((x) => i32(x), 'i32', false), inputs: [ai], want: (k) => f(ai[k]!) + 0, ulp: () => 0, args: (k) => show(ai[k]!), at: (k) => [ai[k]!, 0] });
    }
  }
  for (const op of BINARY) {
    const low = BINARY_LOWERING[op] as BinaryLowering;
    const m = BINARY_MATH[op] as BinaryMath;
    const a = Float32Array.from(pairs.map((p) => p[0]));
    const b = Float32Array.from(pairs.map((p) => p[1]));
    const u = ULP[op];
    out.push({
      what: `${op} f32`,
      dtype: 'f32',
      module: probe((x, y) => low.lower(x, y, 'f32', 'f32'), 'f32', true),
      inputs: [a, b],
      want: (k) => Math.fround(m.f64(a[k]!, b[k]!)),
      ulp: (k) => (u ? u(a[k]!, b[k]!) : 0),
      args: (k) => `${show(a[k]!)}, ${show(b[k]!)}`,
      at: (k) => [a[k]!, b[k]!],
    });
    if (m.keepsInt && low.operands !== 'f32') {
      // pow's operands are f32 (an int result rounds it): its i32 form is checked through its f32 one
      const ai = Int32Array.from(ipairs.map((p) => p[0]));
      const bi = Int32Array.from(ipairs.map((p) => p[1]));
      out.push({
        what: `${op} i32`,
        dtype: 'i32',
        module: probe((x, y) => low.lower(x, y, 'i32', 'i32'), 'i32', true),
        inputs: [ai, bi],
        want: (k) => m.f64(ai[k]!, bi[k]!) + 0,
        ulp: () => 0,
        args: (k) => `${ai[k]}, ${bi[k]}`,
        at: (k) => [ai[k]!, bi[k]!],
      });
    }
  }
  return out;
}

/** Disagreements of `got` with `want(k)`, less the known ones of the kinds in `known` (which count their hits). */
function compare(c: Case, got: Arr, want: (k: number) => number, where: string, known: readonly (typeof KNOWN)[number][], hits: Set<string>, failures: string[]): void {
  for (let k = 0; k < got.length; k++) {
    if (agrees(got[k]!, want(k), c.ulp(k))) continue;
    const [a, b] = c.at(k);
    const why = known.find((e) => e.op === c.what && e.when(a, b));
    if (why) hits.add(why.why);
    else failures.push(`${c.what}(${c.args(k)}): ${where} ${show(got[k]!)}`);
  }
}

function unmatched(known: readonly (typeof KNOWN)[number][], hits: Set<string>): string[] {
  return known.filter((e) => !hits.has(e.why)).map((e) => `known divergence no longer seen (remove it): ${e.op}: ${e.why}`);
}

test('CPU (float64 column) and the interpreter (the lowering) agree on special values, every op', () => {
  const failures: string[] = [];
  const known = KNOWN.filter((e) => e.where === 'lowering');
  const hits = new Set<string>();
  for (const c of cases()) compare(c, interpret(c.module, c.inputs, c.dtype), c.want, 'interpreter vs float64 column', known, hits, failures);
  failures.push(...unmatched(known, hits));
  assert.is(failures.length, 0, failures.slice(0, 30).join('\n'));
});

test('the GPU (the printed lowering) agrees with the interpreter and the float64 column on special values, every op', async () => {
  const rt = await openTestRuntime('scalar-math GPU check');
  if (!rt) return;
  try {
    const failures: string[] = [];
    const hits = new Set<string>();
    const gpuOnly = KNOWN.filter((e) => e.where === 'gpu');
    for (const c of cases()) {
      const gpu = await onGpu(rt.device, c.module, c.inputs, c.dtype);
      const interp = interpret(c.module, c.inputs, c.dtype);
      compare(c, gpu, c.want, 'GPU vs float64 column', KNOWN, hits, failures);
      compare(c, gpu, (k) => interp[k]!, 'GPU vs interpreter', gpuOnly, hits, failures);
    }
    failures.push(...unmatched(KNOWN, hits));
    assert.is(failures.length, 0, `${failures.length} disagreements:\n${failures.slice(0, 40).join('\n')}`);
  } finally {
    rt.destroy();
  }
});

// flush_subnormal_f32 (helpers.ts), what stores of a matmul's operands apply (StoreSpec.flushSubnormals): a subnormal
// becomes ±0 with its sign, every other value (±0, normals down to ±2^-126, ±F32_MAX, ±inf, NaN) keeps its bits.
test('flush_subnormal_f32: subnormals to ±0, every other value bit for bit, on the interpreter and the GPU', async () => {
  const MIN_NORMAL = 2 ** -126;
  const values = Float32Array.from([...VALUES, MIN_NORMAL, -MIN_NORMAL, 2 ** -149, -(2 ** -149), MIN_NORMAL - 2 ** -149, -(MIN_NORMAL - 2 ** -149)]);
  const bitsOf = (x: Float32Array): number[] => [...new Uint32Array(x.buffer, x.byteOffset, x.length)];
  const want = bitsOf(Float32Array.from(values, (x) => (isDenormal(x) ? (x < 0 ? -0 : 0) : x)));
  const nan = bitsOf(Float32Array.of(NaN))[0]!;
  // NaN: any NaN (its payload is not ours to keep: the GPU may canonicalize it)
  const same = (got: Float32Array): string[] =>
    bitsOf(got).flatMap((b, k) => (b === want[k] || (Number.isNaN(values[k]!) && Number.isNaN(got[k]!)) ? [] : [`${values[k]}: got bits ${b.toString(16)}, want ${want[k]!.toString(16)} (NaN ${nan.toString(16)})`]));
  const m = probe((a) => call('flush_subnormal_f32', a), 'f32', false);
  const interp = interpret(m, [values], 'f32') as Float32Array;
  assert.equal(same(interp), [], 'interpreter');
  assert.ok(values.some(isDenormal) && values.some((x) => !isDenormal(x) && x !== 0 && Number.isFinite(x)));
  const rt = await openTestRuntime('flush_subnormal_f32 GPU check');
  if (!rt) return;
  try {
    assert.equal(same((await onGpu(rt.device, m, [values], 'f32')) as Float32Array), [], 'GPU');
  } finally {
    rt.destroy();
  }
});

test.run();
