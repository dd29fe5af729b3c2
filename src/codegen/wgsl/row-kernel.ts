// Row kernels: one workgroup per row of an iteration domain. Each sweep walks the row with a stride of the
// workgroup size, accumulating every reduction of that sweep in registers, then combines the per-thread
// partials in workgroup memory (no atomics: the result is the same on every run). Later sweeps read earlier
// results as registers; the last sweep writes element outputs (e.g. the gradient row), thread 0 writes the
// per-row outputs. Column passes (spec.column, schedule/row-layout.ts) give each invocation a whole row instead:
// the same sweeps, walked serially by one thread, whose accumulators are the results.
// Over quads of rows (geometry.ts columnQuads) the thread walks 4 rows side by side, each lane with its own
// accumulators and coordinates (quad-lanes.ts), every buffer laid out along the rows read as one vec4 per step.
import { dimEq, isBatchDim, mulDims } from '../../graph/dims.js';
import type { Dim, Node } from '../../graph/types.js';
import { Emitter, wgslType, type WgslType } from './emitter.js';
import { ixAdd, ixEq, ixLit, ixMul, ixNode, ixVar, isVar, type Ix } from '../../compiler/schedule/index-expr.js';
import type { IndexMath } from '../../compiler/schedule/index-math.js';
import { alignedIndex, coord, coordName, isRowIndex, reductionInputIndex } from '../../compiler/schedule/coords.js';
import type { DomainAxis, RowKernelSpec, StoreSpec } from '../../compiler/schedule/kernel-spec.js';
import { F32_MAX } from './literals.js';
import { kernelEmitter, LID, upTo, WG, WORKGROUP_INDEX } from './kernel-emitter.js';
import { vec4Arrays } from '../kernel-ir/analysis.js';
import { ScopeTree, type Scope } from './scope.js';
import { compensatedAdd, compensatedAddStmts, compensatedDecl, compensatedScale, compensatedValue } from './compensated.js';
import {
  all, arrayLength, assign, at, at4, at4s, bare, barrier, bin, block, BREAK, call, f32, forS, hex, i32, ifS, ixE, lane as laneOf, letS, loop, ref, RETURN, u32, varS,
  type Expr, type KernelModule, type SharedArray, type Stmt,
} from '../kernel-ir/ir.js';
import { WG_SIZE } from '../../compiler/schedule/workgroup.js';
import { subgroupCombine } from './subgroup-combine.js';
import { QUAD_LANES, QuadLanes } from './quad-lanes.js';
import { columnInvocations, columnQuads } from '../../compiler/schedule/geometry.js';
import { scaledMax } from './scaled-exp.js';
import { oneHotSum, type OneHotSum } from './one-hot-sum.js';

interface ReductionState {
  node: number;
  fn: 'sum' | 'max' | 'min';
  type: WgslType;
  acc: string;
  result: string;
  /** An f32 max/min that is not an online softmax max: NaN propagates, as in torch's amax/amin (see torchExtremum). */
  nan?: boolean;
}

/** exp(x) with x clamped below at −88: the factor that rescales a partial sum from one running maximum to another. */
const clampExp = (x: Expr): Expr => call('exp', call('max', x, f32(-88)));

/** f32 sums accumulate compensated (compensated.ts); integer sums and max/min are exact. */
const compensated = (st: ReductionState): boolean => st.fn === 'sum' && st.type === 'f32';

const LOOP_FLOAT_IDENTITY = { max: -F32_MAX, min: F32_MAX };

/**
 * Whether an f32 max/min reduction takes torch's NaN semantics: any NaN element makes the result NaN (WGSL's
 * max/min may drop a NaN operand, so a NaN row gave a finite result, or ∓F32_MAX where every element was NaN).
 * Those fold with max_f32/min_f32 (NaN decided on the bits) from ∓inf, so a row of −inf (+inf) also stays so. An
 * online softmax max keeps the builtin: its result is read only with its sums, and a NaN element turns those NaN
 * (exp(NaN − m)), so the hot path of KD-style losses stays as it is.
 */
const torchExtremum = (fn: ReductionState['fn'], t: WgslType, online: boolean): boolean => (fn === 'max' || fn === 'min') && t === 'f32' && !online;

function identity(st: ReductionState): Expr {
  const { fn, type: t } = st;
  if (fn === 'sum') return t === 'f32' ? f32(0) : i32(0);
  if (st.nan) return call('f32_bits', hex(fn === 'max' ? 0xff800000 : 0x7f800000));
  const big = fn === 'max' ? LOOP_FLOAT_IDENTITY.max : LOOP_FLOAT_IDENTITY.min;
  if (t === 'f32') return f32(big);
  return fn === 'max' ? i32(-2147483648) : i32(2147483647);
}

function combine(st: ReductionState, a: Expr, b: Expr): Expr {
  switch (st.fn) {
    case 'sum':
      return bare('+', a, b);
    case 'max':
      return call(st.nan ? 'max_f32' : 'max', a, b);
    case 'min':
      return call(st.nan ? 'min_f32' : 'min', a, b);
  }
}

/**
 * The module. Buffers its quad sweeps read or write as vec4 (analysis.ts vec4Arrays) are declared
 * array<vec4<f32>>, so the module is built twice: when there are any, the second time scalar accesses to
 * those buffers address lanes; when there are none, the second time the quad sweeps skip the split of rows at
 * 16-byte boundaries (it only serves vec4 accesses), one copy of the body per lane instead of two or three.
 */
export function rowKernel(spec: RowKernelSpec, opts: RowKernelOptions = {}): KernelModule {
  const first = rowKernelPass(spec, new Set(opts.declaredVec4 ?? []), opts);
  const vec4 = new Set([...(opts.declaredVec4 ?? []), ...vec4Arrays(first.body)]);
  if (vec4.size) return rowKernelPass(spec, vec4, opts);
  // no buffer is read or written as vec4: rows need no split at 16-byte boundaries (see sweep)
  return rowKernelPass(spec, vec4, opts, true);
}

export interface RowKernelOptions {
  /** Combine the lanes' partials with subgroup operations (subgroup-combine.ts): the module enables `subgroups`. */
  subgroups?: boolean;
  /** Buffers the enclosing kernel declares as vec4 whatever this pass does (the other parts of a kernel of row
   *  passes read or write them as vec4: row-segments.ts): scalar accesses address their lanes. */
  declaredVec4?: ReadonlySet<string>;
}

/** `noVec4`: no buffer is accessed as vec4 (an earlier pass found none): quad sweeps run over any row as is. */
function rowKernelPass(spec: RowKernelSpec, vec4: Set<string>, opts: RowKernelOptions, noVec4 = false): KernelModule {
  const g = spec.graph;
  const kept = spec.axes.map((a, k) => ({ a, k })).filter((x) => !x.a.reduced);
  const red = spec.axes.map((a, k) => ({ a, k })).filter((x) => x.a.reduced);
  const R = mulDims(...kept.map((x) => x.a.dim));
  const L = mulDims(...red.map((x) => x.a.dim));

  let subgroupOps = false;
  // a column pass over quads of rows (geometry.ts columnQuads) keeps each lane's reductions: the current lane's
  const laneStates = Array.from({ length: QUAD_LANES }, () => new Map<number, ReductionState>());
  let states = laneStates[0]!;
  const done = new Set<number>();
  // domain coordinate k where it is read (a column pass over quads: the current lane's coordinates of the quad's axes)
  let lanes: QuadLanes | undefined;
  let curLane: number | undefined;
  const co = (k: number): Ix => (lanes && curLane !== undefined ? lanes.coord(curLane, k) : coord(k));
  const { math, scopes, emitter, buffers } = kernelEmitter(spec, (node, idx) => {
    if (!states.has(node)) return undefined;
    if (!done.has(node)) throw new Error(`kernel ${spec.name}: reduction ${node} is read before its sweep finished`);
    if (!isRowIndex(g, node, idx, co)) throw new Error(`kernel ${spec.name}: reduction ${node} is read outside its row`);
    return ref(states.get(node)!.result);
  });
  emitter.env.hasRegister = (node) => states.has(node) && done.has(node);
  const root = scopes.root;
  emitter.vec4 = vec4;
  const column = spec.column === true;
  const colQuads = column ? columnQuads(spec.axes) : undefined;
  /** Runs `f` once per lane of a column pass over quads (its coordinates, reductions and vec4 loads), else once. */
  const perLane = (loop: Scope, f: (l: number | undefined) => void): void => {
    if (!lanes) return f(undefined);
    for (let l = 0; l < QUAD_LANES; l++) {
      curLane = l;
      states = laneStates[l]!;
      lanes.enter(emitter, l, loop);
      f(l);
    }
    curLane = undefined;
    states = laneStates[0]!;
    lanes.enter(emitter, undefined, loop);
  };

  // the only reduced axis, when it is the last: sweeps take 4 of its elements per step (sweepRow)
  const quadAxis = red.length === 1 && red[0]!.k === spec.axes.length - 1 ? red[0]! : undefined;
  // the domain row's offset in rows: buffers whose rows start there share its vec4 boundaries
  const rowOffset = () => math.offset(kept.map((x) => x.a.dim), kept.map((x) => coord(x.k)));
  const sweep = (emitBody: (s: Scope, lane: QuadLane | undefined) => void): void =>
    sweepRow({ scopes, math, emitter, kept, red, L, column, noVec4, quadAxis, rowOffset, perLane }, emitBody);

  const body = root.lines;
  // column passes: consecutive invocations take consecutive rows (no barriers, so out-of-range ones return); over
  // quads, 4 consecutive rows each: `row` unravels to the other kept axes and `rq`, a quad of the run's positions
  // (geometry.ts columnQuads), and the lanes bind their coordinates of the run (quad-lanes.ts)
  body.push(letS('row', column ? bare('+', bare('*', bin('+', ref('wid.x'), bare('*', ref('wid.y'), ref('nwg.x'))), WG), LID) : WORKGROUP_INDEX));
  const invocations = column ? columnInvocations(spec.axes) : R;
  if (invocations !== 1) body.push(ifS(bare('>=', ref('row'), ixE(math.dim(invocations))), [RETURN]));
  const bound = colQuads ? kept.filter((x) => !colQuads.run.includes(x.k)) : kept;
  const keptCoords = math.unravel(ixVar('row'), colQuads ? [...colQuads.lead, colQuads.quads] : kept.map((x) => x.a.dim));
  bound.forEach((x, n) => {
    body.push(letS(coordName(x.k), ixE(keptCoords[n]!)));
    scopes.define(coordName(x.k), root);
    math.bindCoord(coordName(x.k), keptCoords[n]);
  });
  if (colQuads) {
    body.push(letS('rq', ixE(keptCoords[bound.length]!)));
    scopes.define('rq', root);
    math.bindRange('rq', math.dim(colQuads.quads));
    lanes = new QuadLanes(scopes, math, root, colQuads.run.map((k) => ({ k, dim: spec.axes[k]!.dim })), 'rq');
  }

  // ---- sweeps ----
  const elemStores = spec.stores.filter((s) => s.at === 'elem');
  const rowStores = spec.stores.filter((s) => s.at === 'row');
  const redPhases = spec.reductions.map((r) => r.phase);
  const elemPhase = elemStores.length ? spec.elemPhase ?? Math.max(-1, ...redPhases) + 1 : undefined;
  const phases = [...new Set([...redPhases, ...(elemPhase === undefined ? [] : [elemPhase])])].sort((a, b) => a - b);
  const shared = new Map<string, SharedArray>();
  const slot = (t: WgslType | 'u32', k: number) => {
    const name = `sh_${t}${k}`;
    shared.set(name, { name, elem: t, length: WG_SIZE });
    return name;
  };
  const coordsAll = spec.axes.map((_, k) => coord(k));
  // an f32 element output whose rows lie along the quad axis, the only store to its buffer
  // A quad sweep's element store as one vec4 of the 4 lanes' values: its vec4 index, where the output can be stored
  // so (vec4Storable) and lies along the quad — flat quads: any buffer laid out along the whole row; else rows
  // along the quad axis (sharing the domain row's vec4 boundaries where rows start mid-vec4).
  const quadStoreIndex = (s: StoreSpec, idx: Ix[], l: { loop: Scope; dim: Dim; misaligned: boolean; flat?: boolean }): Ix | undefined => {
    if (!vec4Storable(s, buffers, spec.stores)) return undefined;
    if (l.flat) return emitter.flatQuadIndex(s.shape, idx);
    const r = s.shape.length;
    if (r === 0 || emitter.quad === undefined || !isVar(idx[r - 1], emitter.quad.coord) || dimEq(s.shape[r - 1]!, l.dim) !== true) return undefined;
    if (scopes.scopeOf(idx.slice(0, -1)).depth >= l.loop.depth) return undefined;
    const row = math.offset(s.shape.slice(0, -1), idx.slice(0, -1));
    if (!l.misaligned) return ixAdd(ixMul(row, ixNode('/', math.dim(l.dim), ixLit(4))), ixVar('t'));
    return ixEq(row, rowOffset()) ? ixVar('t') : undefined;
  };
  // a lane's store (column pass over quads): the 4 lanes' values of a buffer laid out along the quad as one vec4
  const laneStore = (s: StoreSpec, idx: Ix[], l: number, scope: Scope): void => quadLaneStore(s, idx, l, scope, { emitter, math, buffers, vec4, stores: spec.stores });
  // Σ_j where(j == X, Y, 0) = Y at j = X when 0 ≤ X < L, else 0 (Y read at X clamped into the row)
  const oneHotValue = (h: OneHotSum, idx: Ix[], len: Dim): Expr => {
    const w = g.nodes[h.where]!;
    const L = ixE(math.dim(len));
    const x = scopes.bind(root, 'oh', emitter.as(emitter.value(h.index, math.broadcast(g.nodes[h.index]!.shape, w.shape, idx)), 'i32', 'i32'), 'i32');
    const at = [...idx];
    at[h.axis] = ixVar(scopes.bindName(root, 'oh', call('min', call('u32', call('max', x, i32(0))), bare('-', L, u32(1))), 'u32'));
    const y = g.nodes[h.value]!;
    const v = emitter.as(emitter.value(h.value, math.broadcast(y.shape, w.shape, at)), wgslType(y.dtype), 'f32');
    return call('select', f32(0), v, all(bare('>=', x, i32(0)), bare('<', call('u32', x), L)));
  };
  phases.forEach((phase, pi) => {
    const rs = spec.reductions.filter((r) => r.phase === phase).sort((a, b) => a.node - b.node);
    const partners = new Map<number, number[]>(); // max node → online sums
    for (const r of rs) if (r.online !== undefined) partners.set(r.online, [...(partners.get(r.online) ?? []), r.node]);
    // online maxima over x whose quad exps are powers of an earlier one's over x/k (scaled-exp.ts): max → (twin, log2 k)
    const twins = new Map<number, { max: number; squarings: number }>();
    for (const r of rs) {
      const tw = partners.has(r.node) ? scaledMax(g, r.node) : undefined;
      if (tw && tw.max < r.node && partners.has(tw.max)) twins.set(r.node, tw);
    }
    const twinSources = new Set([...twins.values()].map((t) => t.max));
    // sums of a one-hot row (one-hot-sum.ts): read once per row, before the sweep, instead of accumulated
    const hot = new Map<number, OneHotSum>();
    for (const r of rs) {
      const h = r.online === undefined && !partners.has(r.node) && red.length === 1 ? oneHotSum(g, r.node) : undefined;
      // the one-hot row computed here (not read from a buffer: unfused kernels sum the stored where)
      if (h && !emitter.env.buffer(h.where) && isVar(reductionInputIndex(g, r.node)[h.axis], coordName(red[0]!.k))) hot.set(r.node, h);
    }
    const list: ReductionState[] = [];
    perLane(root, (l) => {
      for (const r of rs) {
        const n = g.nodes[r.node]!;
        const st = reductionState(n, scopes, l, partners.has(r.node));
        states.set(r.node, st);
        const h = hot.get(r.node);
        if (h) {
          body.push(letS(st.result, oneHotValue(h, reductionInputIndex(g, r.node, co), red[0]!.a.dim)));
          scopes.define(st.result, root);
          done.add(r.node);
          continue;
        }
        list.push(st);
        if (compensated(st)) root.lines.push(...compensatedDecl(st.acc));
        else root.lines.push(varS(st.acc, st.type, identity(st)));
      }
    });
    // (accOf reads `states` when called: the current lane's, in a column pass over quads)
    const online: OnlineSums = { partners, twins, twinSources, accOf: (node) => states.get(node)!.acc };
    sweep((loop, lane) => {
      for (const r of rs) {
        if (r.online !== undefined || hot.has(r.node)) continue; // accumulated with its max; read once per row
        const n = g.nodes[r.node]!;
        const st = states.get(r.node)!;
        const v = emitter.value(n.inputs[0]!, reductionInputIndex(g, r.node, co));
        const vt = emitter.as(v, wgslType(g.nodes[n.inputs[0]!]!.dtype), st.type);
        const zs = (partners.get(r.node) ?? []).map((z) => states.get(z)!.acc); // online sums: f32, compensated
        accumulate(st, vt, zs, loop, lane, online);
      }
      if (phase === elemPhase)
        for (const s of elemStores) {
          const dom = lanes ? spec.axes.map((_, k) => co(k)) : coordsAll;
          const idx = alignedIndex(s.shape, s.coords ? s.coords.map((k) => dom[k]!) : dom);
          if (lanes && curLane !== undefined) {
            laneStore(s, idx, curLane, loop);
            continue;
          }
          const at = lane ? quadStoreIndex(s, idx, lane) : undefined;
          if (lane && at !== undefined) {
            // a vec4 store of the 4 lanes' values, after the lanes
            const w = `${s.buffer}_q`;
            if (lane.lane === 0) lane.loop.lines.push(varS(w, 'vec4<f32>'));
            loop.lines.push(assign(laneOf(ref(w), lane.lane), storedValue(s, idx, emitter, 'f32')));
            if (lane.lane === 3) lane.tail.push(assign(at4(s.buffer, ixE(at)), ref(w)));
          } else loop.lines.push(storeStmt(s, idx, emitter, math, buffers, vec4));
        }
    });
    if (!list.length) return;
    if (column) {
      // one thread saw the whole row: its accumulators are the results (an online sum is already at the row's max)
      for (const st of list) {
        body.push(letS(st.result, compensated(st) ? compensatedValue(st.acc) : ref(st.acc)));
        scopes.define(st.result, root);
        done.add(st.node);
      }
      return;
    }
    // combine the per-thread partials
    const onlineOf = new Map(rs.filter((r) => r.online !== undefined).map((r) => [r.node, r.online!]));
    const finished = (st: ReductionState) => {
      scopes.define(st.result, root);
      done.add(st.node);
    };
    if (combinePartials(list, onlineOf, { body, slot, subgroups: opts.subgroups === true, maxWorkgroupSize: spec.maxWorkgroupSize, finished })) subgroupOps ||= opts.subgroups === true;
    if (pi < phases.length - 1 && !column) body.push(barrier()); // the next sweep reuses the slots
  });

  // ---- per-row outputs ----
  if (rowStores.length && lanes) perLane(root, (l) => rowStores.forEach((s) => laneStore(s, alignedIndex(s.shape, kept.map((x) => co(x.k))), l!, root)));
  else if (rowStores.length) {
    const rowCoords = kept.map((x) => coord(x.k));
    const writes = rowStores.map((s) => storeStmt(s, alignedIndex(s.shape, rowCoords), emitter, math, buffers, vec4));
    if (column) body.push(...writes);
    else body.push(ifS(bare('==', LID, u32(0)), writes));
  }

  return { header: spec.header, symbols: spec.symbols, buffers: spec.buffers, shared: [...shared.values()], entry: 'linear', body, vec4, ...(subgroupOps ? { subgroups: true as const } : {}) };
}

/** What combinePartials needs of the row kernel being built. */
interface PartialsTarget {
  body: Stmt[];
  /** The name of workgroup array k of type t (one element per invocation), declared in the module. */
  slot: (t: WgslType | 'u32', k: number) => string;
  /** Combine with subgroup operations (subgroup-combine.ts). */
  subgroups: boolean;
  maxWorkgroupSize: number;
  /** Called for each reduction once its result variable holds the row's value in every invocation. */
  finished: (st: ReductionState) => void;
}

/**
 * Combines the invocations' partials of one sweep's reductions (`list`; `onlineOf`: online sum → its max) into
 * results every invocation holds, in chunks that fit the workgroup memory (an online sum with its max). Returns
 * whether it combined any.
 */
function combinePartials(list: ReductionState[], onlineOf: Map<number, number>, t: PartialsTarget): boolean {
  const { body, slot } = t;
  const chunks = packChunks(list, onlineOf, t.maxWorkgroupSize);
  chunks.forEach((chunk, ci) => {
    if (ci > 0) body.push(barrier()); // the previous chunk's slots are still being read
    const slots = chunk.map((st, k) => ({ st, v: slot(st.type, k) }));
    const slotOf = new Map(slots.map((x) => [x.st.node, x]));
    if (!t.subgroups) {
      for (const x of slots) body.push(assign(at(x.v, LID), compensated(x.st) ? compensatedValue(x.st.acc) : ref(x.st.acc)));
      body.push(barrier());
    }
    // results are declared here and assigned by whichever combine the workgroup size selects
    for (const x of slots) body.push(varS(x.st.result, x.st.type));
    // small workgroups: every thread folds the partials in the same order (identical results, one barrier);
    // larger ones: a tree (log2 steps). The branch is on an override constant: specialised at pipeline creation.
    const q = ref('q');
    // every thread folds slots 0 … n−1 (n: the workgroup size, or the number of subgroups)
    const foldsUpTo = (n: Expr): Stmt[] => {
      const folds: Stmt[] = [];
      for (const x of slots) {
        const res = ref(x.st.result);
        const m = onlineOf.get(x.st.node);
        const fold = ref(`${x.st.result}_f`);
        if (m !== undefined) {
          const ms = slotOf.get(m)!;
          const term = bare('*', at(x.v, q), clampExp(bare('-', at(ms.v, q), ref(ms.st.result))));
          folds.push(block([...compensatedDecl(`${x.st.result}_f`), upTo('q', u32(0), n, u32(1))(compensatedAddStmts(fold, ref(`${x.st.result}_f_c`), term)), assign(res, compensatedValue(`${x.st.result}_f`))]));
        } else if (compensated(x.st)) {
          folds.push(block([...compensatedDecl(`${x.st.result}_f`, at(x.v, u32(0))), upTo('q', u32(1), n, u32(1))(compensatedAddStmts(fold, ref(`${x.st.result}_f_c`), at(x.v, q))), assign(res, compensatedValue(`${x.st.result}_f`))]));
        } else {
          folds.push(block([varS(`${x.st.result}_f`, undefined, at(x.v, u32(0))), upTo('q', u32(1), n, u32(1))([assign(fold, combine(x.st, fold, at(x.v, q)))]), assign(res, fold)]));
        }
      }
      return folds;
    };
    const ws = ref('wg_s');
    const other = bare('+', LID, ws);
    const stmts: Stmt[] = [];
    // online sums first: they need both maxima before the max slot is overwritten
    for (const x of slots) {
      const m = onlineOf.get(x.st.node);
      if (m === undefined) continue;
      const ms = slotOf.get(m)!.v;
      const [m1, m2, mm] = [ref('m1'), ref('m2'), ref('mm')];
      stmts.push(
        block([
          letS('m1', at(ms, LID)),
          letS('m2', at(ms, other)),
          letS('mm', call('max', m1, m2)),
          assign(at(x.v, LID), bare('+', bare('*', at(x.v, LID), clampExp(bare('-', m1, mm))), bare('*', at(x.v, other), clampExp(bare('-', m2, mm))))),
        ]),
      );
    }
    for (const x of slots) {
      if (onlineOf.has(x.st.node)) continue;
      stmts.push(assign(at(x.v, LID), combine(x.st, at(x.v, LID), at(x.v, other))));
    }
    const tree: Stmt[] = [
      // half the smallest power of two ≥ the workgroup size, halved each step
      varS('wg_s', undefined, u32(1)),
      loop([ifS(bare('>=', ws, WG), [BREAK]), assign(ws, bare('*', ws, u32(2)))]),
      assign(ws, bare('/', ws, u32(2))),
      loop([ifS(bare('==', ws, u32(0)), [BREAK]), ifS(all(bare('<', LID, ws), bare('<', other, WG)), stmts), barrier(), assign(ws, bare('/', ws, u32(2)))]),
      ...slots.map((x) => assign(ref(x.st.result), at(x.v, u32(0)))),
    ];
    if (t.subgroups) body.push(...subgroupCombine(slots, onlineOf, (st) => (st.fn === 'sum' && st.type === 'f32' ? compensatedValue(st.acc) : ref(st.acc)), foldsUpTo));
    else body.push(ifS(bare('<=', WG, u32(SERIAL_COMBINE_MAX)), foldsUpTo(WG), tree));
    for (const x of slots) t.finished(x.st);
  });
  return chunks.length > 0;
}

/**
 * A quad sweep's lane as the sweep's body sees it: which of the 4, the quad loop (declarations before the lanes),
 * the statements after the 4 lanes (`tail`), the length of the axis the quads run along, whether rows start
 * mid-vec4, whether the quads are of the flattened row.
 */
interface QuadLane {
  lane: number;
  loop: Scope;
  tail: Stmt[];
  dim: Dim;
  misaligned: boolean;
  flat?: boolean;
}

/** What sweepRow needs of the row kernel being built. */
interface SweepContext {
  scopes: ScopeTree;
  math: IndexMath;
  emitter: Emitter;
  /** The domain's kept and reduced axes, with their positions. */
  kept: { a: DomainAxis; k: number }[];
  red: { a: DomainAxis; k: number }[];
  /** The row's length: the reduced dims' product. */
  L: Dim;
  column: boolean;
  /** No buffer is accessed as vec4 (rowKernelPass's `noVec4`). */
  noVec4: boolean;
  /** The only reduced axis when it is the last one. */
  quadAxis: { a: DomainAxis; k: number } | undefined;
  /** The domain row's offset in rows. */
  rowOffset: () => Ix;
  /** Runs `f` once per lane of a column pass over quads, else once. */
  perLane: (loop: Scope, f: (l: number | undefined) => void) => void;
}

/**
 * Sweeps walk the reduced coordinates. When the only reduced axis is the last one, threads take 4
 * consecutive elements per step (rows of buffers laid out along it are read and written as vec4) whenever
 * its size is a multiple of 4 — decided at compile time when the size is known, else by a uniform branch.
 * Work that needs all 4 lanes (an online max's update, a vec4 store) goes to `tail`, after the lanes.
 * Rows of other lengths start mid-vec4: their whole vec4s go the same way (misalignedQuads), the up to 3
 * elements before the row's first 16-byte boundary and after its last whole vec4 one at a time.
 * `emitBody` emits the body of one step of the sweep into the scope it is given (once per lane of a quad).
 */
function sweepRow(ctx: SweepContext, emitBody: (s: Scope, lane: QuadLane | undefined) => void): void {
  const { scopes, math, emitter, kept, red, L, column, noVec4, quadAxis, rowOffset, perLane } = ctx;
  const root = scopes.root;
  let lane: QuadLane | undefined;
  if (column) {
    const loop = openSweep(scopes, math, red, root);
    perLane(loop, () => emitBody(loop, undefined));
    scopes.close(loop, upTo('j', u32(0), ixE(math.dim(L)), u32(1)));
    return;
  }
  const scalarLoop = (parent: Scope) => {
    const loop = openSweep(scopes, math, red, parent);
    emitBody(loop, undefined);
    scopes.close(loop, upTo('j', LID, ixE(math.dim(L)), WG));
  };
  // `base`: the row's first element as a global element index, when rows may start mid-vec4 (then t is a
  // global quad index and j = 4t + lane − base)
  const quadLoop = (parent: Scope, q: { a: DomainAxis; k: number }, range?: { from: Expr; to: Expr; base: Expr }) => {
    // without vec4 accesses the lanes read element by element (no quad context for the emitter)
    const loop = scopes.open(parent);
    scopes.define('t', loop);
    const tail: Stmt[] = [];
    const off = range ? rowOffset() : undefined;
    for (let ln = 0; ln < 4; ln++) {
      const c = scopes.open(loop);
      const j = bare('+', bare('*', ref('t'), u32(4)), u32(ln));
      c.lines.push(letS('j', range ? bare('-', j, range.base) : j), letS(coordName(q.k), ref('j')));
      math.bindCoord(coordName(q.k), undefined);
      scopes.define('j', c);
      scopes.define(coordName(q.k), c);
      emitter.quad = noVec4 ? undefined : { coord: coordName(q.k), lane: ln, dim: q.a.dim, loop, t: 't', ...(off ? { rowOffset: off } : {}) };
      lane = { lane: ln, loop, tail, dim: q.a.dim, misaligned: range !== undefined };
      emitBody(c, lane);
      lane = undefined;
      emitter.quad = undefined;
      scopes.close(c, block);
    }
    loop.lines.push(...tail);
    scopes.close(loop, range ? upTo('t', bare('+', range.from, LID), range.to, WG) : upTo('t', LID, bare('/', ixE(math.dim(q.a.dim)), u32(4)), WG));
  };
  // Rows over several trailing axes (FitNet's MSE over [C, H, W]): quads of the flattened row, j = 4t + lane,
  // each lane unravelling its j into the reduced coordinates; buffers whose offset is x + j (x a multiple of 4,
  // the same for the 4 lanes: laid out along the whole row) are read and written as one vec4 per quad.
  const flatQuadLoop = (parent: Scope) => {
    const loop = scopes.open(parent);
    scopes.define('t', loop);
    const tail: Stmt[] = [];
    const laneVars = new Set(red.map((x) => coordName(x.k)));
    for (let ln = 0; ln < 4; ln++) {
      const c = scopes.open(loop);
      c.lines.push(letS('j', bare('+', bare('*', ref('t'), u32(4)), u32(ln))));
      scopes.define('j', c);
      bindReducedCoords(scopes, math, red, c);
      emitter.quad = noVec4 ? undefined : { coord: 'j', lane: ln, dim: L, loop, t: 't', flat: true, laneVars };
      lane = { lane: ln, loop, tail, dim: L, misaligned: false, flat: true };
      emitBody(c, lane);
      lane = undefined;
      emitter.quad = undefined;
      scopes.close(c, block);
    }
    loop.lines.push(...tail);
    scopes.close(loop, upTo('t', LID, bare('/', ixE(math.dim(L)), u32(4)), WG));
  };
  // rows of any length: the elements before the row's first vec4 boundary, its whole vec4s, the rest — each
  // lane still visits its elements in increasing order
  const misalignedQuads = (parent: Scope, q: { a: DomainAxis; k: number }) => {
    const len = ixE(math.dim(q.a.dim));
    const base = scopes.bind(parent, 'rb', ixE(ixMul(rowOffset(), math.dim(q.a.dim))), 'u32');
    const head = scopes.bind(parent, 'rh', call('min', len, bare('%', bin('-', u32(4), bin('%', base, u32(4))), u32(4))), 'u32');
    const from = scopes.bind(parent, 'rq', bare('/', bin('+', base, head), u32(4)), 'u32');
    const to = scopes.bind(parent, 'rq', bare('+', from, bare('/', bin('-', len, head), u32(4))), 'u32');
    const rest = scopes.bind(parent, 'rt', bare('-', bare('*', to, u32(4)), base), 'u32');
    edge(parent, LID, head);
    quadLoop(parent, q, { from, to, base });
    edge(parent, bare('+', rest, LID), len);
  };
  // the reduced elements from `first` (+ WG each step) to `end`, one at a time
  const edge = (parent: Scope, first: Expr, end: Expr) => {
    const loop = openSweep(scopes, math, red, parent);
    emitBody(loop, undefined);
    scopes.close(loop, upTo('j', first, end, WG));
  };
  // rows of any length when nothing is read or written as vec4: the row's whole quads (4 lanes each), then the
  // up to 3 elements after them one at a time — one copy of the lanes, no alignment split (each lane still
  // visits its elements in increasing order)
  const plainQuads = (parent: Scope, q: { a: DomainAxis; k: number }) => {
    quadLoop(parent, q);
    const len = ixE(math.dim(q.a.dim));
    if (typeof q.a.dim !== 'number' || q.a.dim % 4 !== 0) edge(parent, bare('+', bare('*', bare('/', len, u32(4)), u32(4)), LID), len);
  };
  if (red.length > 1 && red.every((x, n) => x.k === kept.length + n)) {
    // (a row whose length is not a multiple of 4 is walked one element at a time)
    if (typeof L === 'number') return L % 4 === 0 ? flatQuadLoop(root) : scalarLoop(root);
    const yes = scopes.open(root);
    flatQuadLoop(yes);
    const no = scopes.open(root);
    scalarLoop(no);
    root.lines.push(ifS(bare('==', bare('%', ixE(math.dim(L)), u32(4)), u32(0)), yes.lines, no.lines));
    return;
  }
  const d = quadAxis?.a.dim;
  // rows start mid-vec4 only where there are several (a whole reduction's one row starts at 0)
  const misaligned = kept.length > 0 && (typeof d !== 'number' || d >= MISALIGNED_QUADS_MIN);
  if (!quadAxis || d === undefined || (typeof d === 'number' && d % 4 !== 0 && !misaligned)) return scalarLoop(root);
  // a whole reduction over the batch (a loss's final sums: N elements of work in all) is one loop over it
  if (kept.length === 0 && isBatchDim(d)) return scalarLoop(root);
  if (typeof d === 'number') return d % 4 === 0 ? quadLoop(root, quadAxis) : noVec4 ? plainQuads(root, quadAxis) : misalignedQuads(root, quadAxis);
  // Rows along the batch axis (RKD's, DIST's, PKT's rows over N) are walked one element at a time where they
  // have no vec4 accesses, and where they have, when the batch is not a multiple of 4: one copy of the sweep's
  // body, where quads take 5 (4 lanes + the rest) or, split at 16-byte boundaries, 6 — up to a second of a
  // user's first step on lavapipe (LLVM compile) for no measurable gain in the steady state. Class and feature
  // rows keep their quads (no cliff for C not a multiple of 4).
  // (rows that would be split at 16-byte boundaries; a whole reduction's one row keeps its two branches)
  if (noVec4 && misaligned) return isBatchDim(d) ? scalarLoop(root) : plainQuads(root, quadAxis);
  // both branches are built before either is written: values they hoist must precede the `if`
  const yes = scopes.open(root);
  quadLoop(yes, quadAxis);
  const no = scopes.open(root);
  // (batch rows, as above)
  if (misaligned && !isBatchDim(d)) misalignedQuads(no, quadAxis);
  else scalarLoop(no);
  root.lines.push(ifS(bare('==', bare('%', ixE(math.dim(d)), u32(4)), u32(0)), yes.lines, no.lines));
}

/** A sweep's online softmax sums and their twins, as accumulate() needs them. */
interface OnlineSums {
  /** max node → its online sums (nodes). */
  partners: Map<number, number[]>;
  /** online maxima over x whose quad exps are powers of an earlier one's over x/k (scaled-exp.ts): max → (twin, log2 k). */
  twins: Map<number, { max: number; squarings: number }>;
  /** The maxima some twin's exps are computed from. */
  twinSources: Set<number>;
  /** The accumulator of a reduction of the sweep. */
  accOf: (node: number) => string;
}

/**
 * One sweep step's accumulation of reduction `st` with value `vt` (in `loop`; over a quad, lane `lane`): an online
 * maximum with its sums `zs` (rescaled when it grows; over a quad, one max update and 4 exps after the lanes), a
 * compensated f32 sum (over a quad, the 4 values summed plainly first), or a plain combine.
 */
function accumulate(st: ReductionState, vt: Expr, zs: string[], loop: Scope, lane: QuadLane | undefined, online: OnlineSums): void {
  const acc = ref(st.acc);
  if (zs.length && lane && st.type === 'f32') {
    // online softmax over a quad: lanes collect the 4 values; one max update and 4 exps after them
    const o = ref(`${st.acc}_q`);
    const twin = online.twins.get(st.node);
    // a twin's max is its source's times k (exact), updated in the source's branch: no quad max of its own
    if (!twin && lane.lane === 0) lane.loop.lines.push(varS(`${st.acc}_q`, 'vec4<f32>'));
    if (!twin) loop.lines.push(assign(laneOf(o, lane.lane), vt));
    if (lane.lane === 3) {
      const [qm, qe] = [ref('qm'), ref('qe')];
      const rescale = zs.flatMap((z) => compensatedScale(z, clampExp(bare('-', acc, qm))));
      const twinsOf = [...online.twins].filter(([, t]) => t.max === st.node);
      const twinUpdates = twinsOf.flatMap(([tn, t]) => {
        const ta = ref(online.accOf(tn));
        const tm = bare('*', qm, f32(2 ** t.squarings));
        return [...online.partners.get(tn)!.flatMap((z) => compensatedScale(online.accOf(z), clampExp(bare('-', ta, tm)))), assign(ta, tm)];
      });
      if (!twin) lane.tail.push(block([letS('qm', call('max', call('max', laneOf(o, 0), laneOf(o, 1)), call('max', laneOf(o, 2), laneOf(o, 3)))), ifS(bare('>', qm, acc), [...rescale, ...twinUpdates, assign(acc, qm)])]));
      const quadSum = (e: Expr) => bin('+', bin('+', laneOf(e, 0), laneOf(e, 1)), bin('+', laneOf(e, 2), laneOf(e, 3)));
      const exps = call('exp', bare('-', o, call('vec4<f32>', acc)));
      if (twin || online.twinSources.has(st.node)) {
        // the quad's exps stay in scope for the twin over x·k: theirs are these to the power k
        const e = `${st.acc}_e`;
        if (twin) {
          let p = ref(`${online.accOf(twin.max)}_e`);
          for (let k = 1; k < twin.squarings; k++) {
            lane.tail.push(letS(`${e}${k}`, bare('*', p, p)));
            p = ref(`${e}${k}`);
          }
          lane.tail.push(letS(e, bare('*', p, p)));
        } else lane.tail.push(letS(e, exps));
        lane.tail.push(block(zs.map((z) => compensatedAdd(z, quadSum(ref(e))))));
      } else lane.tail.push(block([letS('qe', exps), ...zs.map((z) => compensatedAdd(z, quadSum(qe)))]));
    }
  } else if (zs.length) {
    // online softmax: rescale the partial sums when the running max grows
    const rescale = zs.flatMap((z) => compensatedScale(z, clampExp(bare('-', acc, vt))));
    loop.lines.push(ifS(bare('>', vt, acc), [...rescale, assign(acc, vt)]));
    for (const z of zs) loop.lines.push(compensatedAdd(z, call('exp', bare('-', vt, acc))));
  } else if (compensated(st) && lane) {
    // a quad's 4 values summed plainly, then one compensated add (as the online sums do)
    const o = ref(`${st.acc}_s`);
    if (lane.lane === 0) lane.loop.lines.push(varS(`${st.acc}_s`, 'vec4<f32>'));
    loop.lines.push(assign(laneOf(o, lane.lane), vt));
    if (lane.lane === 3) lane.tail.push(compensatedAdd(st.acc, bin('+', bin('+', laneOf(o, 0), laneOf(o, 1)), bin('+', laneOf(o, 2), laneOf(o, 3)))));
  } else if (compensated(st)) loop.lines.push(compensatedAdd(st.acc, vt));
  else loop.lines.push(assign(acc, combine(st, acc, vt)));
}

/** Rows of a known length that is not a multiple of 4 take whole vec4s from this length on (shorter ones: one element per step). */
const MISALIGNED_QUADS_MIN = 64;

/** Workgroup sizes up to this combine partials by a serial fold in every thread (one barrier), larger ones by a tree. */
const SERIAL_COMBINE_MAX = 16;

/** WebGPU's default maxComputeWorkgroupStorageSize. */
const WORKGROUP_BYTES = 16384;

/** Reductions grouped so each group's partials fit in workgroup memory; an online sum stays with its max. */
function packChunks(list: ReductionState[], onlineOf: Map<number, number>, wg: number): ReductionState[][] {
  const blocks: ReductionState[][] = [];
  for (const st of list) {
    if (onlineOf.has(st.node)) continue;
    blocks.push([st, ...list.filter((z) => onlineOf.get(z.node) === st.node)]);
  }
  const bytes = (b: ReductionState[]) => 4 * wg * b.length;
  const chunks: ReductionState[][] = [];
  for (const b of blocks) {
    const last = chunks[chunks.length - 1];
    if (last && bytes(last) + bytes(b) <= WORKGROUP_BYTES) last.push(...b);
    else chunks.push([...b]);
  }
  return chunks;
}

/** The registers of reduction `n` (in quad lane `lane`, when a column pass keeps one per lane). */
function reductionState(n: Node, scopes: ScopeTree, lane: number | undefined, online: boolean): ReductionState {
  const x = n.op === 'reduce' ? n : undefined;
  if (!x) throw new Error(`node ${n.id} (${n.op}) is not a reduction`);
  const acc = scopes.fresh('a');
  const result = lane === undefined ? `r${n.id}` : `r${n.id}_${lane}`;
  const type = wgslType(n.dtype);
  return { node: n.id, fn: x.attrs.fn, type, acc, result, ...(torchExtremum(x.attrs.fn, type, online) ? { nan: true } : {}) };
}

/** A sweep over the reduced coordinates: `for (j = lid; j < L; j += WG)` with the coordinates bound. */
function openSweep(scopes: ScopeTree, math: IndexMath, red: { a: DomainAxis; k: number }[], parent: Scope = scopes.root): Scope {
  const loop = scopes.open(parent);
  scopes.define('j', loop);
  bindReducedCoords(scopes, math, red, loop);
  return loop;
}

/** The reduced coordinates in `scope`, unravelled from the row's flat index j. */
function bindReducedCoords(scopes: ScopeTree, math: IndexMath, red: { a: DomainAxis; k: number }[], scope: Scope): void {
  const cs = math.unravel(ixVar('j'), red.map((x) => x.a.dim));
  red.forEach((x, n) => {
    scope.lines.push(letS(coordName(x.k), ixE(cs[n]!)));
    scopes.define(coordName(x.k), scope);
    math.bindCoord(coordName(x.k), cs[n]);
  });
}

/** The value `s` stores at `idx`, in the buffer's type; a subnormal as ±0 where the store flushes them (StoreSpec.flushSubnormals). */
function storedValue(s: StoreSpec, idx: Ix[], emitter: Emitter, dtype: WgslType): Expr {
  const v = emitter.as(emitter.value(s.node, idx), wgslType(emitter.env.graph.nodes[s.node]!.dtype), dtype);
  return s.flushSubnormals ? call('flush_subnormal_f32', v) : v;
}

/** The statement storing a kernel output at `idx` (as vec4 where the buffer is accessed as vec4). */
export function storeStmt(
  s: StoreSpec,
  idx: Ix[],
  emitter: Emitter,
  math: IndexMath,
  buffers: Map<string, { dtype: WgslType }>,
  vec4?: ReadonlySet<string>,
): Stmt {
  const v = storedValue(s, idx, emitter, buffers.get(s.buffer)!.dtype);
  const off = ixE(math.offset(s.shape, idx));
  const i = s.base ? bare('+', u32(s.base), off) : off;
  if (s.keep) {
    // a state output: the state input's value when a device check of the run failed (StoreSpec.keep)
    if (vec4?.has(s.buffer)) throw new Error(`store into ${s.buffer}: a kept state output stored as vec4`);
    const { input, flags } = s.keep;
    return block([
      varS('kept', buffers.get(s.buffer)!.dtype, v),
      forS('c', u32(0), bare('<', ref('c'), arrayLength(flags)), u32(1), [ifS(bare('!=', at(flags, ref('c')), i32(-1)), [assign(ref('kept'), vec4?.has(input) ? at4s(input, off) : at(input, off))])]),
      assign(at(s.buffer, i), ref('kept')),
    ]);
  }
  return assign(vec4?.has(s.buffer) ? at4s(s.buffer, i) : at(s.buffer, i), v);
}

/**
 * Lane `l`'s store of `s` at `idx` where the lanes of a quad (quad-lanes.ts) each store their own position: when the
 * element lies in the vec4 the emitter's quad context gives (the buffer laid out along the quad's axes, f32, the
 * kernel's only store to it), the lanes collect their values in a vec4 (`<buffer>_q`, declared by lane 0) that lane
 * 3 stores — else a scalar store per lane.
 */
export function quadLaneStore(
  s: StoreSpec,
  idx: Ix[],
  l: number,
  scope: Scope,
  ctx: { emitter: Emitter; math: IndexMath; buffers: Map<string, { dtype: WgslType }>; vec4: ReadonlySet<string>; stores: readonly StoreSpec[] },
): void {
  const { emitter, math, buffers, vec4 } = ctx;
  const at = vec4Storable(s, buffers, ctx.stores) ? emitter.flatQuadIndex(s.shape, idx) : undefined;
  const w = `${s.buffer}_q`;
  // the 4 lanes take the same path (their indices differ only in the lanes' names)
  const open = quadStores.get(scope) ?? new Set<string>();
  quadStores.set(scope, open);
  if (l > 0 && open.has(w) !== (at !== undefined)) throw new Error(`store into ${s.buffer}: lane ${l} of a quad would store otherwise than lane 0`);
  if (at === undefined) {
    scope.lines.push(storeStmt(s, idx, emitter, math, buffers, vec4));
    return;
  }
  const v = storedValue(s, idx, emitter, 'f32');
  if (l === 0) {
    scope.lines.push(varS(w, 'vec4<f32>'));
    open.add(w);
  }
  scope.lines.push(assign(laneOf(ref(w), l), v));
  if (l === QUAD_LANES - 1) {
    scope.lines.push(assign(at4(s.buffer, ixE(at)), ref(w)));
    open.delete(w);
  }
}

/** Can `s` be stored as lanes of vec4s: a plain f32 element store (no offset, state kept, scatter), its buffer's only store? */
function vec4Storable(s: StoreSpec, buffers: Map<string, { dtype: WgslType }>, stores: readonly StoreSpec[]): boolean {
  return s.base === 0 && !s.keep && !s.scatter && buffers.get(s.buffer)!.dtype === 'f32' && stores.filter((x) => x.buffer === s.buffer).length === 1;
}

/** The vec4s of quad lane stores begun (by lane 0) and not yet stored (by lane 3), per scope. */
const quadStores = new WeakMap<Scope, Set<string>>();
