// Register-tiled matmul [..., M, K] @ [..., K, N]. A workgroup of wg_size invocations (a 1-D override constant)
// owns spec.uniform consecutive indices of one output axis (rows, or columns when spec.swap; the schedule's
// matmul-layout.ts decides) and wg_size · spec.reg indices of the other; each invocation accumulates a
// uniform × reg block in registers. The uniform indices come from the workgroup id alone, so every read of
// the operand on that side is uniform across the workgroup: a software rasteriser (lavapipe) loads it once
// and broadcasts it to its SIMD lanes instead of gathering, and a hardware GPU serves it from one cache line;
// only the reg reads per k of the other operand differ between lanes. No workgroup memory and no barriers (a barrier costs a coroutine switch
// per invocation on software rasterisers). Operands are expressions (elementwise prologues fuse in),
// evaluated once per (row, k) and (k, column) and reused across the block. Out-of-range rows/columns read a
// clamped (valid) index and are not stored. The result is materialised.
//
// Accumulation is compensated in two levels (compensated.ts): each register sums a chunk of MM_CHUNK products
// with plain fma (a few ulps of the chunk's magnitude), and each chunk sum is folded into the accumulator with
// Neumaier compensation (mm_acc the running sum, mm_cmp its rounding errors, added at the store). The error no
// longer grows with K (a Gram/FSP matmul sums tens of thousands of products per output), at 1/MM_CHUNK of the
// cost of compensating every product.
import { ixLit, ixNode, ixVar, type Ix } from '../../compiler/schedule/index-expr.js';
import { isOne } from '../../compiler/schedule/index-math.js';
import type { MatmulKernelSpec } from '../../compiler/schedule/kernel-spec.js';
import { kernelEmitter, upTo, WG } from './kernel-emitter.js';
import { compensatedAddInto, compensatedAddStmts, compensatedDecl, compensatedSum, compensatedValue } from './compensated.js';
import { all, assign, at, barrier, bare, bin, block, call, f32, forS, ifS, ixE, letS, ref, RETURN, u32, varS, type Expr, type KernelModule, type SharedArray } from '../kernel-ir/ir.js';
import { ZERO } from '../../compiler/schedule/index-expr.js';
import { WG_SIZE } from '../../compiler/schedule/workgroup.js';
import type { Shape } from '../../graph/types.js';

/** Products summed plainly before each compensated fold. */
const MM_CHUNK = 16;

/** WebGPU's default maxComputeWorkgroupStorageSize (the matrix-vector partials must fit it). */
const WORKGROUP_BYTES = 16384;

export function matmulKernel(spec: MatmulKernelSpec): KernelModule {
  if (spec.alongK) return matvecKernel(spec, spec.alongK);
  const { math, scopes, emitter, a, b, sa, sb, so, batch, K, root, body } = matmulOperands(spec);
  const M = so[so.length - 2]!;
  const N = so[so.length - 1]!;
  const Mx = ixE(math.dim(M));
  const Nx = ixE(math.dim(N));
  const Kx = ixE(math.dim(K));
  // rows × cols registers per invocation: the lane axis gets spec.reg, the uniform axis spec.uniform
  const RM = spec.swap ? spec.reg : spec.uniform;
  const RN = spec.swap ? spec.uniform : spec.reg;
  const [row0, col0] = [ref('mm_row0'), ref('mm_col0')];
  const lane0 = bare('*', bin('+', bare('*', ref('wid.x'), WG), ref('lid3.x')), u32(spec.reg));
  const uniform0 = bare('*', ref('wid.y'), u32(spec.uniform));
  body.push(letS('mm_row0', spec.swap ? lane0 : uniform0), letS('mm_col0', spec.swap ? uniform0 : lane0));
  // No barriers in this kernel: invocations past the output leave at once (every dispatched wid.y starts inside it).
  body.push(spec.swap ? ifS(bare('>=', row0, Mx), [RETURN]) : ifS(bare('>=', col0, Nx), [RETURN]));
  for (const v of ['mm_col0', 'mm_row0', 'lid3']) scopes.define(v, root);
  const rows: Ix[] = [];
  const cols: Ix[] = [];
  const clamp = (first: Expr, i: number, size: Expr) => call('min', bare('+', first, u32(i)), bare('-', size, u32(1)));
  for (let i = 0; i < RM; i++) {
    body.push(letS(`mm_r${i}`, clamp(row0, i, Mx)));
    scopes.define(`mm_r${i}`, root);
    rows.push(ixVar(`mm_r${i}`));
  }
  for (let j = 0; j < RN; j++) {
    body.push(letS(`mm_c${j}`, clamp(col0, j, Nx)));
    scopes.define(`mm_c${j}`, root);
    cols.push(ixVar(`mm_c${j}`));
  }
  const batchIdx = batchIndices(math, scopes, batch);
  const acc = RM * RN;
  // a K of at most MM_CHUNK is one chunk: its plain sum is the result (no fold, no compensation registers)
  const oneChunk = typeof K === 'number' && K <= MM_CHUNK;
  if (!oneChunk) body.push(varS('mm_acc', { array: 'f32', length: acc }), varS('mm_cmp', { array: 'f32', length: acc }));
  body.push(varS('mm_part', { array: 'f32', length: acc }));
  const chunk = oneChunk ? root : scopes.open(root);
  if (!oneChunk) {
    scopes.define('mm_k0', chunk);
    chunk.lines.push(letS('mm_k1', call('min', bare('+', ref('mm_k0'), u32(MM_CHUNK)), Kx)));
    scopes.define('mm_k1', chunk);
  }
  const loop = scopes.open(chunk);
  scopes.define('mm_k', loop);
  const pa = math.broadcast(sa.slice(0, -2), batch, batchIdx);
  const pb = math.broadcast(sb.slice(0, -2), batch, batchIdx);
  const va = rows.map((row) => emitter.as(emitter.value(a, [...pa, row, ixVar('mm_k')]), 'f32', 'f32'));
  const vb = cols.map((col) => emitter.as(emitter.value(b, [...pb, ixVar('mm_k'), col]), 'f32', 'f32'));
  for (let i = 0; i < RM; i++) loop.lines.push(letS(`mm_a${i}`, va[i]!));
  for (let j = 0; j < RN; j++) loop.lines.push(letS(`mm_b${j}`, vb[j]!));
  const part = (q: number) => at('mm_part', u32(q));
  for (let i = 0; i < RM; i++)
    for (let j = 0; j < RN; j++) loop.lines.push(assign(part(i * RN + j), call('fma', ref(`mm_a${i}`), ref(`mm_b${j}`), part(i * RN + j))));
  if (oneChunk) scopes.close(loop, (s) => forS('mm_k', u32(0), bare('<', ref('mm_k'), Kx), u32(1), s));
  else {
    scopes.close(loop, (s) => forS('mm_k', ref('mm_k0'), bare('<', ref('mm_k'), ref('mm_k1')), u32(1), s));
    for (let q = 0; q < acc; q++) chunk.lines.push(compensatedAddInto(at('mm_acc', u32(q)), at('mm_cmp', u32(q)), part(q)), assign(part(q), f32(0)));
    scopes.close(chunk, (s) => forS('mm_k0', u32(0), bare('<', ref('mm_k0'), Kx), u32(MM_CHUNK), s));
  }
  // the results into one array (unrolled, straight-line), stored by a loop (not unrolled): a guarded store per
  // register is a branch per register, which costs the shader compiler more than the rest of the kernel
  body.push(varS('mm_out', { array: 'f32', length: acc }));
  for (let q = 0; q < acc; q++) body.push(assign(at('mm_out', u32(q)), oneChunk ? part(q) : compensatedSum(at('mm_acc', u32(q)), at('mm_cmp', u32(q)))));
  const st = scopes.open(root);
  scopes.define('mm_q', st);
  st.lines.push(letS('mm_i', bare('/', ref('mm_q'), u32(RN))), letS('mm_j', bare('%', ref('mm_q'), u32(RN))));
  for (const v of ['mm_i', 'mm_j']) scopes.define(v, st);
  const off = ixE(math.offset(spec.store.shape, [...batchIdx, ixNode('+', ixVar('mm_row0'), ixVar('mm_i')), ixNode('+', ixVar('mm_col0'), ixVar('mm_j'))]));
  const inside = all(bare('<', bare('+', row0, ref('mm_i')), Mx), bare('<', bare('+', col0, ref('mm_j')), Nx));
  st.lines.push(ifS(inside, [assign(at(spec.store.buffer, off), at('mm_out', ref('mm_q')))]));
  scopes.close(st, (x) => forS('mm_q', u32(0), bare('<', ref('mm_q'), u32(acc)), u32(1), x));
  return { header: spec.header, symbols: spec.symbols, buffers: spec.buffers, shared: [], entry: 'tile', body, vec4: new Set() };
}

/**
 * Matrix-vector product [..., M, K] @ [..., K, 1] (or [..., 1, K] @ [..., K, N] with spec.swap): a workgroup owns
 * `rows` consecutive outputs; invocation l of it sums k = l, l + wg_size, … (compensated, as above: plain fma over
 * MM_CHUNK of its k, Neumaier fold per chunk) for all of them, so each step of the workgroup reads wg_size
 * different k — wg_size gathered rows in flight instead of one. The partial sums go through workgroup memory (one
 * array per output) and every invocation folds them in the same order (compensated); invocation 0 stores.
 */
function matvecKernel(spec: MatmulKernelSpec, rows: number): KernelModule {
  const { math, scopes, emitter, a, b, sa, sb, so, batch, K, root, body } = matmulOperands(spec);
  const R = so[spec.swap ? so.length - 1 : so.length - 2]!;
  const Rx = ixE(math.dim(R));
  const Kx = ixE(math.dim(K));
  const lid = ref('lid3.x');
  const out0 = ref('mv_o0');
  body.push(letS('mv_o0', bare('*', ref('wid.x'), u32(rows))));
  for (const v of ['mv_o0', 'lid3']) scopes.define(v, root);
  const outs: Ix[] = [];
  for (let i = 0; i < rows; i++) {
    body.push(letS(`mv_o${i + 1}`, call('min', bare('+', out0, u32(i)), bare('-', Rx, u32(1)))));
    scopes.define(`mv_o${i + 1}`, root);
    outs.push(ixVar(`mv_o${i + 1}`));
  }
  const batchIdx = batchIndices(math, scopes, batch);
  body.push(varS('mm_acc', { array: 'f32', length: rows }), varS('mm_cmp', { array: 'f32', length: rows }), varS('mm_part', { array: 'f32', length: rows }));
  // chunks of MM_CHUNK k per invocation: [mm_k0, mm_k1) holds wg_size · MM_CHUNK of them
  const chunk = scopes.open(root);
  scopes.define('mm_k0', chunk);
  chunk.lines.push(letS('mm_k1', call('min', bare('+', ref('mm_k0'), bare('*', WG, u32(MM_CHUNK))), Kx)));
  scopes.define('mm_k1', chunk);
  const loop = scopes.open(chunk);
  scopes.define('mm_k', loop);
  const k = ixVar('mm_k');
  const pa = math.broadcast(sa.slice(0, -2), batch, batchIdx);
  const pb = math.broadcast(sb.slice(0, -2), batch, batchIdx);
  // the vector operand once per k, the matrix operand per output
  const vec = spec.swap ? emitter.as(emitter.value(a, [...pa, ZERO, k]), 'f32', 'f32') : emitter.as(emitter.value(b, [...pb, k, ZERO]), 'f32', 'f32');
  loop.lines.push(letS('mv_x', vec));
  const mat = outs.map((o) => (spec.swap ? emitter.as(emitter.value(b, [...pb, k, o]), 'f32', 'f32') : emitter.as(emitter.value(a, [...pa, o, k]), 'f32', 'f32')));
  const part = (q: number) => at('mm_part', u32(q));
  for (let i = 0; i < rows; i++) loop.lines.push(assign(part(i), call('fma', mat[i]!, ref('mv_x'), part(i))));
  scopes.close(loop, (st) => forS('mm_k', bare('+', ref('mm_k0'), lid), bare('<', ref('mm_k'), ref('mm_k1')), WG, st));
  for (let q = 0; q < rows; q++) chunk.lines.push(compensatedAddInto(at('mm_acc', u32(q)), at('mm_cmp', u32(q)), part(q)), assign(part(q), f32(0)));
  scopes.close(chunk, (st) => forS('mm_k0', u32(0), bare('<', ref('mm_k0'), Kx), bare('*', WG, u32(MM_CHUNK)), st));
  // partials through workgroup memory, as many outputs at a time as WebGPU's default workgroup storage holds at
  // the largest workgroup size; every invocation folds them in lane order (compensated), invocation 0 stores
  const perPass = Math.max(1, Math.min(rows, Math.floor(WORKGROUP_BYTES / (4 * spec.maxWorkgroupSize))));
  const shared: SharedArray[] = [];
  for (let j = 0; j < perPass; j++) shared.push({ name: `sh_mv${j}`, elem: 'f32', length: WG_SIZE });
  for (let i = 0; i < rows; i++) body.push(...compensatedDecl(`mv_s${i}`));
  for (let i0 = 0; i0 < rows; i0 += perPass) {
    const pass = Array.from({ length: Math.min(perPass, rows - i0) }, (_, j) => j);
    if (i0 > 0) body.push(barrier()); // the previous pass is still reading the slots
    for (const j of pass) body.push(assign(at(`sh_mv${j}`, lid), compensatedSum(at('mm_acc', u32(i0 + j)), at('mm_cmp', u32(i0 + j)))));
    body.push(barrier());
    body.push(upTo('q', u32(0), WG, u32(1))(pass.map((j) => block(compensatedAddStmts(ref(`mv_s${i0 + j}`), ref(`mv_s${i0 + j}_c`), at(`sh_mv${j}`, ref('q')))))));
  }
  const stores = Array.from({ length: rows }, (_, i) => {
    const o = ixNode('+', ixVar('mv_o0'), ixLit(i));
    const off = ixE(math.offset(spec.store.shape, spec.swap ? [...batchIdx, ZERO, o] : [...batchIdx, o, ZERO]));
    return ifS(bare('<', bare('+', out0, u32(i)), Rx), [assign(at(spec.store.buffer, off), compensatedValue(`mv_s${i}`))]);
  });
  body.push(ifS(bare('==', lid, u32(0)), stores));
  return { header: spec.header, symbols: spec.symbols, buffers: spec.buffers, shared, entry: 'tile', body, vec4: new Set() };
}

/** What both matmul templates start from: the product's operands and shapes, and the kernel's emitter and root scope. */
function matmulOperands(spec: MatmulKernelSpec) {
  const g = spec.graph;
  const n = g.nodes[spec.node]!;
  if (n.op !== 'matmul') throw new Error(`node ${spec.node} is not a matmul`);
  const { math, scopes, emitter } = kernelEmitter(spec);
  const [a, b] = n.inputs as [number, number];
  const sa = g.nodes[a]!.shape;
  const so = n.shape;
  return {
    math, scopes, emitter, a, b, sa, sb: g.nodes[b]!.shape, so,
    batch: so.slice(0, -2), K: sa[sa.length - 1]!, root: scopes.root, body: scopes.root.lines,
  };
}

/** The batch coordinates of workgroup z (wid.z), each non-unit one bound once at the kernel's root. */
function batchIndices(math: ReturnType<typeof kernelEmitter>['math'], scopes: ReturnType<typeof kernelEmitter>['scopes'], batch: Shape): Ix[] {
  return math.unravel(ixVar('wid.z'), batch).map((e, k) => {
    if (isOne(batch[k]!)) return e;
    scopes.root.lines.push(letS(`bz${k}`, ixE(e)));
    scopes.define(`bz${k}`, scopes.root);
    return ixVar(`bz${k}`);
  });
}
