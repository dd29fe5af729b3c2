// Map kernels: each invocation writes up to spec.elemsPerInvocation consecutive elements along its loop axis —
// one line of the innermost axis, or (spec.loopAxis, schedule/map-layout.ts) a run along an outer axis, with
// consecutive invocations on consecutive positions of the innermost one.
//
// The run is one loop `for (ixK = first; ixK < last; ixK++)`, last = min(first + E, extent): its trip count is
// not a compile-time constant. Written as `for (e = 0; e < E; e++) { ixK = first + e; if (ixK >= extent) break; … }`
// Mesa's NIR (lavapipe) unrolls it into E copies of the body, which for a fused gradient of ~70 operations costs
// 1–2.5 s of LLVM compile in a user's first step (RKD, DIST, SPKD, KR map kernels), for no gain in the steady state.
//
// Quads (quad-lanes.ts): along an innermost axis of a multiple of 4 elements the run is walked a quad at a time
// (`for (qi = first / 4; qi < last / 4; …)`, 4 lane copies of the body: one vec4 per buffer row); an outer-loop map
// over axes after its loop axis that number a multiple of 4 positions takes 4 of them per invocation; where they do
// not (AT's 7×7 maps) but the loop axis is a multiple of 4 long, one quad of each block of 4 loop-axis indices × the
// positions (blockLoopMap).
import { ceilDivDims, divExactDims, mulDims } from '../../graph/dims.js';
import type { Dim } from '../../graph/types.js';
import { ixAdd, ixMul, ixDiv, ixMod, ixLit, ixVar } from '../../compiler/schedule/index-expr.js';
import { alignedIndex, coord, coordName } from '../../compiler/schedule/coords.js';
import type { MapKernelSpec } from '../../compiler/schedule/kernel-spec.js';
import { kernelEmitter, LID, upTo, WG } from './kernel-emitter.js';
import { quadLaneStore, storeStmt } from './row-kernel.js';
import { QUAD_LANES, QuadLanes } from './quad-lanes.js';
import { varsRead, vec4Arrays } from '../kernel-ir/analysis.js';
import { mapGrid, outerLoopBlocks, outerLoopQuads } from '../../compiler/schedule/geometry.js';
import { scatterRows, scatterStore, type ScatterRows } from './scatter-store.js';
import type { Scope, ScopeTree } from './scope.js';
import type { IndexMath } from '../../compiler/schedule/index-math.js';
import { arrayLength, at, bare, bin, block, call, forS, i32, ifS, ixE, letS, ref, RETURN, u32, type Expr, type KernelModule, type Stmt } from '../kernel-ir/ir.js';

/**
 * The module. Buffers its quads read or write as vec4 (analysis.ts vecArrays) are declared array<vec4<f32>>, so
 * when there are any the module is built a second time, its scalar accesses to those buffers addressing lanes.
 */
export function mapKernel(spec: MapKernelSpec): KernelModule {
  // quads along the innermost axis only where an element is straight-line code: an element with loops of its own
  // (a pooling window, a scatter's or an index_copy's scan) gains nothing from shared vec4s, and 4 copies of its
  // loops cost LLVM compile time in a user's first step — then the module is built again without them
  let quads = innermostQuads(spec);
  let first = mapKernelPass(spec, new Set(), quads);
  if (quads && hasLoops(first.body.filter((s) => s.k === 'for').flatMap((s) => (s.k === 'for' ? s.body : [])))) {
    quads = false;
    first = mapKernelPass(spec, new Set(), false);
  }
  const vec4 = vec4Arrays(first.body);
  return vec4.size ? mapKernelPass(spec, vec4, quads) : first;
}

/** Can a map along the innermost axis walk its runs a quad at a time (the extent a multiple of 4, plain stores)? */
function innermostQuads(spec: MapKernelSpec): boolean {
  const K = spec.axes.length - 1;
  if (K < 0 || (spec.loopAxis !== undefined && spec.loopAxis < K)) return false;
  return !spec.stores.some((s) => s.scatter) && !spec.checkFlags && spec.elemsPerInvocation % QUAD_LANES === 0 && divExactDims(spec.axes[K]!.dim, QUAD_LANES) !== undefined;
}

/** Does any statement hold a loop (at any depth)? */
function hasLoops(body: readonly Stmt[]): boolean {
  return body.some((s) => s.k === 'for' || s.k === 'loop' || (s.k === 'block' && hasLoops(s.body)) || (s.k === 'if' && (hasLoops(s.then) || hasLoops(s.else ?? []))));
}

/** `quads`: walk the innermost runs a quad at a time (innermostQuads). */
function mapKernelPass(spec: MapKernelSpec, vec4: Set<string>, quads: boolean): KernelModule {
  const E = spec.elemsPerInvocation;
  const { math, scopes, emitter, buffers } = kernelEmitter(spec);
  emitter.vec4 = vec4;
  const body = scopes.root.lines;
  const axes = spec.axes.map((a) => a.dim);
  if (spec.loopAxis !== undefined && spec.loopAxis < axes.length - 1) return outerLoopMap(spec, spec.loopAxis, { math, scopes, emitter, buffers }, vec4);
  const last = axes.length ? axes[axes.length - 1]! : 1;
  const outer = axes.slice(0, -1);
  const chunks = ceilDivDims(last, E);
  body.push(letS('t', bare('+', bare('*', bin('+', ref('wid.x'), bare('*', ref('wid.y'), ref('nwg.x'))), WG), LID)));
  body.push(ifS(bare('>=', ref('t'), ixE(math.dim(mulDims(...outer, chunks)))), [RETURN]));
  if (spec.checkFlags) body.push(checkFlagsGuard(spec.checkFlags));
  const t = ixVar('t');
  body.push(letS('line', ixE(ixDiv(t, math.dim(chunks)))), letS('first', ixE(ixMul(ixMod(t, math.dim(chunks)), ixLit(E)))));
  scopes.define('line', scopes.root);
  scopes.define('first', scopes.root);
  const cs = math.unravel(ixVar('line'), outer);
  outer.forEach((_, k) => {
    body.push(letS(coordName(k), ixE(cs[k]!)));
    scopes.define(coordName(k), scopes.root);
    math.bindCoord(coordName(k), cs[k]);
  });
  const coords = axes.map((_, k) => coord(k));
  // scatter stores (in-place state updates, scatter-store.ts): target and source rows once per invocation
  // (stores with the same index into buffers of the same row count share them: CRD's two banks)
  const found = new Map<string, ScatterRows>();
  const scatter = new Map(
    spec.stores.flatMap((s) => {
      if (!s.scatter) return [];
      const key = `${s.scatter.index}:${JSON.stringify(s.shape[0])}`;
      if (!found.has(key)) found.set(key, scatterRows(s, coord(0), emitter, math, scopes, scopes.root));
      return [[s, found.get(key)!] as const];
    }),
  );
  const K = axes.length - 1;
  if (quads) {
    // runs of E along an innermost axis of a multiple of 4 elements: E / 4 quads, `for (qi = first / 4; qi < end / 4; …)`,
    // the 4 lanes' positions 4·qi + l (quad-lanes.ts) sharing each buffer row's vec4
    const { loop, end } = runLoop(scopes, math, 'qi', E, last);
    storeLanes(spec, new QuadLanes(scopes, math, loop, [{ k: K, dim: last }], 'qi'), loop, { emitter, math, buffers, vec4, stores: spec.stores });
    scopes.close(loop, upTo('qi', bare('/', ref('first'), u32(QUAD_LANES)), bare('/', end, u32(QUAD_LANES)), u32(1)));
    return { header: spec.header, symbols: spec.symbols, buffers: spec.buffers, shared: [], entry: 'linear', body, vec4 };
  }
  const run = axes.length ? runLoop(scopes, math, coordName(axes.length - 1), E, last) : undefined;
  const loop = run?.loop ?? scopes.open(scopes.root);
  for (const s of spec.stores) {
    const rows = scatter.get(s);
    loop.lines.push(rows ? scatterStore(s, alignedIndex(spec.graph.nodes[s.node]!.shape, coords), rows, emitter, math, buffers) : storeStmt(s, alignedIndex(s.shape, coords), emitter, math, buffers, vec4));
  }
  scopes.close(loop, run ? runClose(coordName(axes.length - 1), run.end) : block);

  return { header: spec.header, symbols: spec.symbols, buffers: spec.buffers, shared: [], entry: 'linear', body, vec4 };
}

/**
 * `for (var c = 0u; c < arrayLength(&flags); c++) { if (flags[c] != -1i) { return; } }`: an in-place state update
 * stores nothing once a device check of the run failed (MapKernelSpec.checkFlags; the check kernels run before the
 * plan's kernels). Map kernels have no barriers, so an invocation may return on its own.
 */
function checkFlagsGuard(flags: string): Stmt {
  return forS('c', u32(0), bare('<', ref('c'), arrayLength(flags)), u32(1), [ifS(bare('!=', at(flags, ref('c')), i32(-1)), [RETURN])]);
}

/** Every store of the kernel in each lane of a quad, in `loop` (the lanes' vec4s shared: quadLaneStore), at each
 *  lane's domain coordinates (`coordsOf`; by default the lane's own, quad-lanes.ts). */
function storeLanes(spec: MapKernelSpec, lanes: QuadLanes, loop: Scope, ctx: Parameters<typeof quadLaneStore>[4], coordsOf = (l: number) => lanes.coords(l, spec.axes.length)): void {
  for (let l = 0; l < QUAD_LANES; l++) {
    lanes.enter(ctx.emitter, l, loop);
    for (const s of spec.stores) quadLaneStore(s, alignedIndex(s.shape, coordsOf(l)), l, loop, ctx);
  }
  lanes.enter(ctx.emitter, undefined, loop);
}

/**
 * A map kernel looping over outer axis `k`: invocation t is a position of the other axes and a run of E along k —
 * over quads (geometry.ts outerLoopQuads), 4 consecutive positions of the axes after k, one per lane (quad-lanes.ts):
 * each lane's work that does not depend on k is done once, before the loop, and the loop reads and writes the rows
 * laid out along those axes as vec4s.
 */
function outerLoopMap(spec: MapKernelSpec, k: number, { math, scopes, emitter, buffers }: ReturnType<typeof kernelEmitter>, vec4: Set<string>): KernelModule {
  const E = spec.elemsPerInvocation;
  const body = scopes.root.lines;
  const axes = spec.axes.map((a) => a.dim);
  const quads = outerLoopQuads(spec.axes, k);
  const blocks = outerLoopBlocks(spec.axes, k, E);
  const grid = mapGrid(spec.axes, k, E);
  body.push(letS('t', bare('+', bare('*', bin('+', ref('wid.x'), bare('*', ref('wid.y'), ref('nwg.x'))), WG), LID)));
  body.push(ifS(bare('>=', ref('t'), ixE(math.dim(mulDims(...grid)))), [RETURN]));
  if (spec.checkFlags) body.push(checkFlagsGuard(spec.checkFlags));
  scopes.define('t', scopes.root);
  const cs = math.unravel(ixVar('t'), grid);
  axes.forEach((_, q) => {
    if (q === k || ((quads ?? blocks) !== undefined && q > k)) return; // (after k: the quad's lanes bind them)
    body.push(letS(coordName(q), ixE(cs[q]!)));
    scopes.define(coordName(q), scopes.root);
    math.bindCoord(coordName(q), cs[q]);
  });
  body.push(letS('first', ixE(ixMul(cs[k]!, ixLit(E)))));
  scopes.define('first', scopes.root);
  // the invocation's quad of the positions after k (or of a block's elements)
  const per = quads ?? blocks;
  if (per !== undefined) {
    body.push(letS('rq', ixE(cs[k + 1]!)));
    scopes.define('rq', scopes.root);
    math.bindRange('rq', math.dim(per));
  }
  if (blocks !== undefined) return blockLoopMap(spec, k, { math, scopes, emitter, buffers }, vec4);
  let lanes: QuadLanes | undefined;
  if (quads !== undefined) {
    lanes = new QuadLanes(scopes, math, scopes.root, axes.slice(k + 1).map((dim, n) => ({ k: k + 1 + n, dim })), 'rq');
  }
  const along = coordName(k);
  const { loop, end } = runLoop(scopes, math, along, E, axes[k]!);
  math.bindCoord(along, undefined);
  if (lanes) storeLanes(spec, lanes, loop, { emitter, math, buffers, vec4, stores: spec.stores });
  else {
    const coords = axes.map((_, q) => coord(q));
    for (const s of spec.stores) loop.lines.push(storeStmt(s, alignedIndex(s.shape, coords), emitter, math, buffers, vec4));
  }
  scopes.close(loop, runClose(along, end));
  return { header: spec.header, symbols: spec.symbols, buffers: spec.buffers, shared: [], entry: 'linear', body, vec4 };
}

/**
 * An outer-loop map over blocks (geometry.ts outerLoopBlocks): 4 indices of loop axis k × its P trailing positions.
 * Invocation quad rq of the block: lane l is element 4·rq + l of each block, with block offset b_l = (4·rq + l) / P
 * along axis k and trailing coordinates unravelled from (4·rq + l) % P (quad-lanes.ts, over [4, trailing axes]): what
 * depends on those alone is computed once, before the loop; the loop walks the blocks, `for (g = first / 4; …)`,
 * lane l at index 4·g + b_l of axis k, and every buffer laid out along [axis k, trailing axes] is read and written
 * as one vec4 per block (its offset x + 4·rq + l, x a multiple of 4: the block's start).
 */
function blockLoopMap(spec: MapKernelSpec, k: number, { math, scopes, emitter, buffers }: ReturnType<typeof kernelEmitter>, vec4: Set<string>): KernelModule {
  const E = spec.elemsPerInvocation;
  const body = scopes.root.lines;
  const axes = spec.axes.map((a) => a.dim);
  const run = [{ k, dim: QUAD_LANES as Dim }, ...axes.slice(k + 1).map((dim, n) => ({ k: k + 1 + n, dim }))];
  const lanes = new QuadLanes(scopes, math, scopes.root, run, 'rq');
  const { loop, end } = runLoop(scopes, math, 'g', E, axes[k]!);
  // lane l's index along axis k: 4·g + b_l, its definition kept so offsets ravel back to x + 4·rq + l (index-math.ts)
  const along = Array.from({ length: QUAD_LANES }, (_, l) => {
    const name = `${coordName(k)}_${l}_at`;
    const local = math.unravel(ixVar(lanes.pos(l)), run.map((a) => a.dim))[0]!;
    loop.lines.push(letS(name, ixE(ixAdd(ixMul(ixVar('g'), ixLit(QUAD_LANES)), lanes.coord(l, k)))));
    scopes.define(name, loop);
    math.bindRange(name, math.dim(axes[k]!));
    math.bindCoord(name, ixAdd(ixMul(ixVar('g'), ixLit(QUAD_LANES)), local));
    lanes.vars.add(name);
    return name;
  });
  storeLanes(spec, lanes, loop, { emitter, math, buffers, vec4, stores: spec.stores }, (l) => lanes.coords(l, axes.length).map((c, q) => (q === k ? ixVar(along[l]!) : c)));
  // a lane's index along axis k is printed only where a value reads it element by element (a per-channel input)
  const read = varsRead(loop.lines);
  const unread = loop.lines.filter((s) => s.k === 'let' && along.includes(s.name) && !read.has(s.name));
  for (const s of unread) loop.lines.splice(loop.lines.indexOf(s), 1);
  scopes.close(loop, upTo('g', bare('/', ref('first'), u32(QUAD_LANES)), bare('/', end, u32(QUAD_LANES)), u32(1)));
  return { header: spec.header, symbols: spec.symbols, buffers: spec.buffers, shared: [], entry: 'linear', body, vec4 };
}

/**
 * The run's loop scope, with coordinate `v` defined in it, and its end: `last`, bound in the root scope to
 * min(first + E, extent) — or the extent itself where one run covers the whole axis (first is 0).
 */
function runLoop(scopes: ScopeTree, math: IndexMath, v: string, E: number, extent: Dim): { loop: Scope; end: Expr } {
  const whole = typeof extent === 'number' && extent <= E;
  if (!whole) {
    scopes.root.lines.push(letS('last', call('min', bare('+', ref('first'), u32(E)), ixE(math.dim(extent)))));
    scopes.define('last', scopes.root);
  }
  const loop = scopes.open(scopes.root);
  scopes.define(v, loop);
  return { loop, end: whole ? ixE(math.dim(extent)) : ref('last') };
}

/** `for (var v = first; v < end; v = v + 1u)` over the run's statements. */
const runClose = (v: string, end: Expr): ((body: Stmt[]) => Stmt) => upTo(v, ref('first'), end, u32(1));
