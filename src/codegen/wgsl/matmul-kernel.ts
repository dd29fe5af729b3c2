// Register-tiled matmul [..., M, K] @ [..., K, N]. A workgroup of wg_size invocations (a 1-D override constant)
// owns spec.uniform consecutive indices of one output axis (rows, or columns when spec.swap; the schedule's
// matmul-layout.ts decides) and wg_size · spec.reg indices of the other; each invocation accumulates a
// uniform × reg block in registers. The uniform indices come from the workgroup id alone, so every read of
// the operand on that side is uniform across the workgroup: a hardware GPU serves it from one cache line; only
// the reg reads per k of the other operand differ between lanes. (Lavapipe — Mesa 25.0 — still gathers such a
// read lane by lane, a mask test, bounds check and insert per lane: the subgroup variant loads each uniform value
// once per SHUFFLE_GROUP lanes and shares it by shuffles, and along a K that is a multiple of 4 reads operand
// rows as vec4 quads of k, a quarter of the gathers: kLoop.) No workgroup memory and no barriers (a barrier costs
// a coroutine switch per invocation on software rasterisers). Operands are expressions (elementwise prologues
// fuse in), evaluated once per (row, k) and (k, column) and reused across the block. Out-of-range rows/columns
// read a clamped (valid) index and are not stored. The result is materialised.
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
import { arraysRead, vec4Arrays } from '../kernel-ir/analysis.js';
import { compensatedAddInto, compensatedAddStmts, compensatedDecl, compensatedSum, compensatedValue } from './compensated.js';
import { all, assign, at, barrier, bare, bin, block, call, f32, forS, ifS, ixE, letS, ref, RETURN, subgroupS, SUBGROUP_BUILTINS, u32, varS, type Expr, type KernelModule, type SharedArray } from '../kernel-ir/ir.js';
import { ZERO } from '../../compiler/schedule/index-expr.js';
import { WG_SIZE, WORKGROUP_DEFAULTS } from '../../compiler/schedule/workgroup.js';
import type { Shape } from '../../graph/types.js';

/** Products summed plainly before each compensated fold. */
const MM_CHUNK = 16;

/** Lanes that share the uniform operand's loads by subgroupShuffleXor in the subgroup variant (uniform extents are multiples of it). */
const SHUFFLE_GROUP = 8;

/** The variant's least fraction of busy lanes (its loads per k: 1 shuffled + reg, on every lane; the plain kernel's: SHUFFLE_GROUP + reg on busy lanes). */
const MIN_BUSY_LANES = 0.6;

/** WebGPU's default maxComputeWorkgroupStorageSize (the matrix-vector partials must fit it). */
const WORKGROUP_BYTES = 16384;

/** The plain kernel walks quads of k only up to this many uniform indices (CRD's gathered products: one). */
const PLAIN_QUAD_UNIFORM = 1;

/** matmulKernel's options: `subgroups` makes the variant that shares the uniform operand through subgroup shuffles. */
export interface MatmulKernelOptions {
  subgroups?: boolean;
}

/**
 * Does the kernel have a subgroup variant (matmulKernel with subgroups)? Its uniform extent must be a multiple of
 * SHUFFLE_GROUP, and its lanes mostly busy at the software workgroup size: the variant keeps every lane (the
 * shuffles need them), where the plain kernel lets lanes past the output leave — a lane-by-lane gatherer then
 * skips their loads, so a variant over half-idle lanes (RKD's [32, 32] Grams: 4 of 8) loads more than it saves.
 */
export function hasMatmulSubgroupVariant(spec: MatmulKernelSpec): boolean {
  if (spec.alongK || spec.uniform % SHUFFLE_GROUP !== 0) return false;
  const so = spec.graph.nodes[spec.node]!.shape;
  const extent = so[spec.swap ? so.length - 2 : so.length - 1]!;
  if (typeof extent !== 'number') return true;
  const lanes = Math.ceil(extent / spec.reg);
  const wg = WORKGROUP_DEFAULTS.matmul.software;
  return lanes / (wg * Math.ceil(lanes / wg)) >= MIN_BUSY_LANES;
}

export function matmulKernel(spec: MatmulKernelSpec, opts: MatmulKernelOptions = {}): KernelModule {
  if (spec.alongK) return matvecKernel(spec, spec.alongK);
  if (opts.subgroups === true && !hasMatmulSubgroupVariant(spec)) throw new Error(`matmul kernel: no subgroup variant for ${spec.uniform} uniform indices`);
  // Built with quads first (kLoop below); where any operand value still loads per k (a lane side laid out along the
  // lanes, as the backward products of a Gram: [C, C] · [C, HW]), again without: the quads' vec4s would then save
  // only the shuffled side's loads, which costs more than it saves (measured 0.77–0.99× on FSP's backward kernels).
  // Where they serve, built a second time as row-kernel.ts does: with the buffers they read declared
  // array<vec4<f32>>, so that their other reads address lanes.
  let r = tiledKernel(spec, opts, new Set(), true);
  const quads = !r.perK;
  if (!quads) r = tiledKernel(spec, opts, new Set(), false);
  const vec4 = vec4Arrays(r.module.body);
  return vec4.size ? tiledKernel(spec, opts, vec4, quads).module : r.module;
}

/** The register-tiled kernel; `perK`: with `quads`, some operand value of the quad loop is still loaded per k. */
function tiledKernel(spec: MatmulKernelSpec, opts: MatmulKernelOptions, vec4: Set<string>, useQuads: boolean): { module: KernelModule; perK: boolean } {
  const shuffled = opts.subgroups === true;
  const { math, scopes, emitter, a, b, sa, sb, so, batch, K, root, body } = matmulOperands(spec);
  emitter.vec4 = vec4;
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
  // No barriers in this kernel: invocations past the output leave at once (every dispatched wid.y starts inside
  // it) — except in the subgroup variant, whose shuffles need every invocation (those compute clamped indices
  // and store nothing).
  if (!shuffled) body.push(spec.swap ? ifS(bare('>=', row0, Mx), [RETURN]) : ifS(bare('>=', col0, Nx), [RETURN]));
  for (const v of ['mm_col0', 'mm_row0', 'lid3']) scopes.define(v, root);
  const clamp = (first: Expr, i: Expr, size: Expr) => call('min', bare('+', first, i), bare('-', size, u32(1)));
  const rows: Ix[] = [];
  const cols: Ix[] = [];
  for (let i = 0; i < RM; i++) {
    body.push(letS(`mm_r${i}`, clamp(row0, u32(i), Mx)));
    scopes.define(`mm_r${i}`, root);
    rows.push(ixVar(`mm_r${i}`));
  }
  for (let j = 0; j < RN; j++) {
    body.push(letS(`mm_c${j}`, clamp(col0, u32(j), Nx)));
    scopes.define(`mm_c${j}`, root);
    cols.push(ixVar(`mm_c${j}`));
  }
  const [uniIdx, uniFirst, uniSize] = spec.swap ? [cols, col0, Nx] : [rows, row0, Mx];
  // Subgroup variant: where the subgroups are full and at least SHUFFLE_GROUP wide (uniform: every invocation
  // is active), invocation q of each aligned group of SHUFFLE_GROUP lanes loads uniform index u0 + g·8 + q and
  // gets the others by subgroupShuffleXor — one load per lane instead of SHUFFLE_GROUP equal loads (a software
  // rasteriser gathers a load lane by lane even where the address is uniform). Its register m of group g then
  // holds uniform index g·8 + (q ^ m): mm_x is q where the shuffles run, 0 where the plain loads do.
  if (shuffled) {
    const S = SUBGROUP_BUILTINS;
    body.push(letS('mm_sgok', all(bare('>=', ref(S.size), u32(SHUFFLE_GROUP)), bare('==', bare('%', WG, ref(S.size)), u32(0)))));
    body.push(letS('mm_x', call('select', u32(0), bare('%', ref(S.lane), u32(SHUFFLE_GROUP)), ref('mm_sgok'))));
    for (let g = 0; g < spec.uniform / SHUFFLE_GROUP; g++) body.push(letS(`mm_own${g}`, clamp(uniFirst, bin('+', u32(g * SHUFFLE_GROUP), ref('mm_x')), uniSize)));
    for (const v of ['mm_sgok', 'mm_x', ...Array.from({ length: spec.uniform / SHUFFLE_GROUP }, (_, g) => `mm_own${g}`)]) scopes.define(v, root);
  }
  // k in quads (vec4 reads along K) where K is a constant multiple of 4: chunks (MM_CHUNK, a multiple of 4) hold whole quads
  const quads = useQuads && typeof K === 'number' && K % 4 === 0;
  // In the shuffled loop without quads of k: a lane side laid out along the lanes (its extent a constant multiple of
  // 4, as reg) is read as one vec4 per 4 lane indices, the quad at mm_lq (the last one for lanes past the end).
  const laneExtent = spec.swap ? M : N;
  const laneQuads = shuffled && !quads && spec.reg % 4 === 0 && typeof laneExtent === 'number' && laneExtent % 4 === 0;
  if (laneQuads)
    for (let g = 0; g < spec.reg / 4; g++) {
      body.push(letS(`mm_lq${g}`, bare('/', call('min', bare('+', spec.swap ? row0 : col0, u32(4 * g)), u32(laneExtent - 4)), u32(4))));
      scopes.define(`mm_lq${g}`, root);
    }
  const batchIdx = batchIndices(math, scopes, batch);
  const acc = RM * RN;
  // a K of at most MM_CHUNK is one chunk: its plain sum is the result (no fold, no compensation registers)
  const oneChunk = typeof K === 'number' && K <= MM_CHUNK;
  const storage = new Set(spec.buffers.map((x) => x.name));
  let perK = false;
  if (!oneChunk) body.push(varS('mm_acc', { array: 'f32', length: acc }), varS('mm_cmp', { array: 'f32', length: acc }));
  body.push(varS('mm_part', { array: 'f32', length: acc }));
  const pa = math.broadcast(sa.slice(0, -2), batch, batchIdx);
  const pb = math.broadcast(sb.slice(0, -2), batch, batchIdx);
  const part = (q: number) => at('mm_part', u32(q));
  // the operand on each side at (uniform or lane index, mm_k)
  const uniValue = (ix: Ix): Expr => (spec.swap ? emitter.as(emitter.value(b, [...pb, ixVar('mm_k'), ix]), 'f32', 'f32') : emitter.as(emitter.value(a, [...pa, ix, ixVar('mm_k')]), 'f32', 'f32'));
  const laneValue = (ix: Ix): Expr => (spec.swap ? emitter.as(emitter.value(a, [...pa, ix, ixVar('mm_k')]), 'f32', 'f32') : emitter.as(emitter.value(b, [...pb, ixVar('mm_k'), ix]), 'f32', 'f32'));
  // The K loop: chunks of MM_CHUNK products summed plainly, each folded into the accumulators compensated. In the
  // subgroup variant the chunk's loop comes twice, the uniform values by shuffles where the subgroups allow
  // (mm_sgok, uniform: one branch per chunk), by loads elsewhere; the fold is shared.
  const chunk = oneChunk ? root : scopes.open(root);
  if (!oneChunk) {
    scopes.define('mm_k0', chunk);
    chunk.lines.push(letS('mm_k1', call('min', bare('+', ref('mm_k0'), u32(MM_CHUNK)), Kx)));
    scopes.define('mm_k1', chunk);
  }
  // One k's products into scope `c` (where mm_k is defined): the uniform values (loaded, or shared by shuffles),
  // the lane values, and the block's fmas.
  const products = (c: typeof root, shuffle: boolean): void => {
    const uni: Expr[] = [];
    if (shuffle)
      for (let g = 0; g < spec.uniform / SHUFFLE_GROUP; g++) {
        const own = `mm_s${g}_0`;
        c.lines.push(letS(own, uniValue(ixVar(`mm_own${g}`))));
        uni.push(ref(own));
        for (let m = 1; m < SHUFFLE_GROUP; m++) {
          c.lines.push(subgroupS(`mm_s${g}_${m}`, 'shuffleXor', ref(own), u32(m)));
          uni.push(ref(`mm_s${g}_${m}`));
        }
      }
    const lanes = (): Expr[] =>
      (spec.swap ? rows : cols).map((ix, j) => {
        if (!shuffle || !laneQuads || emitter.quad) return laneValue(ix);
        emitter.quad = { coord: `mm_${spec.swap ? 'r' : 'c'}${j}`, lane: j % 4, dim: laneExtent, loop: c, t: `mm_lq${j >> 2}`, flat: true, local: true };
        const v = laneValue(ix);
        emitter.quad = undefined;
        return v;
      });
    const plain = (side: 'a' | 'b'): Expr[] => ((side === 'a') === !spec.swap ? uniIdx.map(uniValue) : lanes());
    const va = shuffle && !spec.swap ? uni : plain('a');
    const vb = shuffle && spec.swap ? uni : plain('b');
    for (let i = 0; i < RM; i++) c.lines.push(letS(`mm_a${i}`, va[i]!));
    for (let j = 0; j < RN; j++) c.lines.push(letS(`mm_b${j}`, vb[j]!));
    for (let i = 0; i < RM; i++)
      for (let j = 0; j < RN; j++) c.lines.push(assign(part(i * RN + j), call('fma', ref(`mm_a${i}`), ref(`mm_b${j}`), part(i * RN + j))));
  };
  // The chunk's k loop. In the shuffled loop along a K that is a multiple of 4 it walks quads of k, as the row
  // kernels' quad sweeps do: operand rows laid out along K are read as one vec4 per quad (emitter.quad), and the
  // quad's 4 k follow one another in the body, each with its own shuffles and products (the same products in the
  // same order as one k per step: bit-identical sums). A software rasteriser gathers a load lane by lane (mask test,
  // bounds, insert per lane) whatever its width, so a vec4 costs little more than a scalar and a quad a quarter of
  // the loads. Each k's values are used right after they are extracted: with all 4 k's operands first, more values
  // are live and spill (measured 1.33× the FMA roof instead of 1.13–1.23× on lavapipe).
  const kLoop = (parent: typeof root, shuffle: boolean): void => {
    const loop = scopes.open(parent);
    const [from, to]: [Expr, Expr] = oneChunk ? [u32(0), Kx] : [ref('mm_k0'), ref('mm_k1')];
    // quads only where the uniform side is shared by shuffles: the plain kernel's uniform-many quads (4 values each,
    // live through the quad's 4 k) spill (measured 1.35–1.5× slower than one k per step on lavapipe)
    if (!quads || (!shuffle && spec.uniform > PLAIN_QUAD_UNIFORM)) {
      scopes.define('mm_k', loop);
      products(loop, shuffle);
      scopes.close(loop, (st) => forS('mm_k', from, bare('<', ref('mm_k'), to), u32(1), st));
      return;
    }
    scopes.define('mm_t', loop);
    for (let ln = 0; ln < 4; ln++) {
      const c = scopes.open(loop);
      c.lines.push(letS('mm_k', bare('+', bare('*', ref('mm_t'), u32(4)), u32(ln))));
      scopes.define('mm_k', c);
      emitter.quad = { coord: 'mm_k', lane: ln, dim: K, loop, t: 'mm_t', flat: true };
      products(c, shuffle);
      if ([...arraysRead(c.lines)].some((x) => storage.has(x))) perK = true;
      emitter.quad = undefined;
      scopes.close(c, block);
    }
    scopes.close(loop, (st) => forS('mm_t', bare('/', from, u32(4)), bare('<', ref('mm_t'), bare('/', to, u32(4))), u32(1), st));
  };
  if (shuffled) {
    const yes = scopes.open(chunk);
    kLoop(yes, true);
    const no = scopes.open(chunk);
    kLoop(no, false);
    chunk.lines.push(ifS(ref('mm_sgok'), yes.lines, no.lines));
  } else kLoop(chunk, false);
  if (!oneChunk) {
    for (let q = 0; q < acc; q++) chunk.lines.push(compensatedAddInto(at('mm_acc', u32(q)), at('mm_cmp', u32(q)), part(q)), assign(part(q), f32(0)));
    scopes.close(chunk, (st) => forS('mm_k0', u32(0), bare('<', ref('mm_k0'), Kx), u32(MM_CHUNK), st));
  }
  // the results into one array (unrolled, straight-line), stored by a loop (not unrolled): a guarded store per
  // register is a branch per register, which costs the shader compiler more than the rest of the kernel
  body.push(varS('mm_out', { array: 'f32', length: acc }));
  for (let q = 0; q < acc; q++) body.push(assign(at('mm_out', u32(q)), oneChunk ? part(q) : compensatedSum(at('mm_acc', u32(q)), at('mm_cmp', u32(q)))));
  const st = scopes.open(root);
  scopes.define('mm_q', st);
  // register (mm_i, mm_j) holds row mm_i, column mm_j of the block — the uniform one xor mm_q in the subgroup variant
  // i ^ x for x < SHUFFLE_GROUP, as i + x − 2·(i & x) (the IR has no xor)
  const xorQ = (e: Expr): Expr => (shuffled ? bin('-', bin('+', e, ref('mm_x')), bin('*', u32(2), bin('&', e, ref('mm_x')))) : e);
  st.lines.push(
    letS('mm_i', spec.swap ? bare('/', ref('mm_q'), u32(RN)) : xorQ(shuffled ? bin('/', ref('mm_q'), u32(RN)) : bare('/', ref('mm_q'), u32(RN)))),
    letS('mm_j', spec.swap ? xorQ(shuffled ? bin('%', ref('mm_q'), u32(RN)) : bare('%', ref('mm_q'), u32(RN))) : bare('%', ref('mm_q'), u32(RN))),
  );
  for (const v of ['mm_i', 'mm_j']) scopes.define(v, st);
  const off = ixE(math.offset(spec.store.shape, [...batchIdx, ixNode('+', ixVar('mm_row0'), ixVar('mm_i')), ixNode('+', ixVar('mm_col0'), ixVar('mm_j'))]));
  const inside = all(bare('<', bare('+', row0, ref('mm_i')), Mx), bare('<', bare('+', col0, ref('mm_j')), Nx));
  st.lines.push(ifS(inside, [assign(at(spec.store.buffer, off), at('mm_out', ref('mm_q')))]));
  scopes.close(st, (x) => forS('mm_q', u32(0), bare('<', ref('mm_q'), u32(acc)), u32(1), x));
  return { module: { header: spec.header, symbols: spec.symbols, buffers: spec.buffers, shared: [], entry: 'tile', body, vec4, ...(shuffled ? { subgroups: true as const } : {}) }, perK };
}

/**
 * Matrix-vector product [..., M, K] @ [..., K, 1] (or [..., 1, K] @ [..., K, N] with spec.swap): a workgroup owns
 * `rows` consecutive outputs; invocation l of it sums k = l, l + wg_size, … (compensated, as above: plain fma over
 * MM_CHUNK of its k, Neumaier fold per chunk) for all of them, so each step of the workgroup reads wg_size
 * different k — wg_size gathered rows in flight instead of one. The partial sums go through workgroup memory (one
 * array per output) and every invocation folds them in the same order (compensated); invocation 0 stores.
 *
 * With a constant output extent that is a multiple of 4, the `rows` outputs are walked as quads: where the matrix
 * operand reads a buffer along the outputs (CRD's backward, Σ_k dout[k] · bank[idx[k], :], the bank rows read along
 * their last axis), each k reads 4 consecutive outputs' elements as one vec4 (the emitter's quad context), where a
 * software rasteriser otherwise gathers each output's element with a load of its own. Buffers so read are
 * declared array<vec4<f32>> (found by a first build, as row kernels do: analysis.ts vec4Arrays).
 */
function matvecKernel(spec: MatmulKernelSpec, rows: number, vec4?: Set<string>): KernelModule {
  const { math, scopes, emitter, a, b, sa, sb, so, batch, K, root, body } = matmulOperands(spec);
  emitter.vec4 = vec4 ?? new Set();
  const R = so[spec.swap ? so.length - 1 : so.length - 2]!;
  const Rx = ixE(math.dim(R));
  const Kx = ixE(math.dim(K));
  const lid = ref('lid3.x');
  const out0 = ref('mv_o0');
  body.push(letS('mv_o0', bare('*', ref('wid.x'), u32(rows))));
  for (const v of ['mv_o0', 'lid3']) scopes.define(v, root);
  const quads = typeof R === 'number' && R % 4 === 0 && rows % 4 === 0;
  const outs: Ix[] = [];
  if (quads)
    // quad q holds outputs 4·mv_t{q} … + 3 (past the extent: the last quad, read and not stored)
    for (let q = 0; q < rows / 4; q++) {
      body.push(letS(`mv_t${q}`, call('min', bare('+', bare('/', out0, u32(4)), u32(q)), u32(R / 4 - 1))));
      scopes.define(`mv_t${q}`, root);
    }
  else
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
  const part = (q: number) => at('mm_part', u32(q));
  if (quads)
    for (let q = 0; q < rows / 4; q++) {
      // one block per quad: its vec4 loads are bound (and memoised) there, once for the 4 outputs
      const quad = scopes.open(loop);
      for (let l = 0; l < 4; l++) {
        const c = `mv_c${4 * q + l}`;
        quad.lines.push(letS(c, bare('+', bare('*', ref(`mv_t${q}`), u32(4)), u32(l))));
        scopes.define(c, quad);
        emitter.quad = { coord: c, lane: l, dim: R, loop: quad, t: `mv_t${q}` };
        const m = emitter.as(spec.swap ? emitter.value(b, [...pb, k, ixVar(c)]) : emitter.value(a, [...pa, ixVar(c), k]), 'f32', 'f32');
        emitter.quad = undefined;
        quad.lines.push(assign(part(4 * q + l), call('fma', m, ref('mv_x'), part(4 * q + l))));
      }
      scopes.close(quad, block);
    }
  else {
    const mat = outs.map((o) => (spec.swap ? emitter.as(emitter.value(b, [...pb, k, o]), 'f32', 'f32') : emitter.as(emitter.value(a, [...pa, o, k]), 'f32', 'f32')));
    for (let i = 0; i < rows; i++) loop.lines.push(assign(part(i), call('fma', mat[i]!, ref('mv_x'), part(i))));
  }
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
  if (!vec4) {
    const found = vec4Arrays(body);
    if (found.size) return matvecKernel(spec, rows, found);
  }
  return { header: spec.header, symbols: spec.symbols, buffers: spec.buffers, shared, entry: 'tile', body, vec4: emitter.vec4 };
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
