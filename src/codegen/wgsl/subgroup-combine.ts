// The lane-combine step of row kernels with subgroup operations (the kernel variant for adapters with the
// `subgroups` feature; row-kernel.ts builds both). Each invocation holds its partials of a chunk of
// reductions; instead of writing all of them to workgroup memory and folding wg_size slots, the invocations of
// a subgroup combine theirs with subgroup operations, and only when the workgroup has several subgroups do
// their leaders write one slot each (at the subgroup's index), folded after one barrier by the row kernel's
// serial fold over `num_subgroups` slots (same representation as its per-thread slots, so it is reused).
//
// Accuracy: f32 sums stay compensated (compensated.ts). Where every invocation of the subgroup is active, the
// partials are combined by a butterfly of Neumaier additions over subgroupShuffleXor: each step adds the
// partner's sum with its rounding error into the compensation, and the partner's compensation too. Both
// partners compute the same values (IEEE addition is commutative, and the error term is symmetric in its two
// operands), so every invocation ends with the same sum. A subgroup with inactive invocations (a workgroup
// size that is not a multiple of the subgroup size; the runtime avoids choosing one) cannot shuffle with them
// and falls back to subgroupAdd of the compensated values (correct, rounded in the implementation's order).
// max/min are exact with subgroupMax/Min (a NaN lane makes a plain f32 max/min NaN, as torch). Online softmax sums
// are rescaled to the subgroup's max first.
import { compensatedSum } from './compensated.js';
import {
  assign, at, bare, bin, block, call, f32, forS, hex, ifS, letS, ref, SUBGROUP_BUILTINS, subgroupS, u32, varS, barrier,
  type Expr, type Stmt,
} from '../kernel-ir/ir.js';

/** A reduction of the chunk, as row-kernel.ts tracks it (accumulator registers and the result's name). */
export interface LaneReduction {
  node: number;
  fn: 'sum' | 'max' | 'min';
  type: 'f32' | 'i32' | 'u32' | 'bool';
  acc: string;
  result: string;
  /** An f32 max/min with torch's NaN semantics (row-kernel.ts torchExtremum). */
  nan?: boolean;
}

/** A reduction with its workgroup-memory slot. */
export interface LaneSlot {
  st: LaneReduction;
  v: string;
}

const SG_LANE = ref(SUBGROUP_BUILTINS.lane);
const SG_SIZE = ref(SUBGROUP_BUILTINS.size);
const SG_ID = ref(SUBGROUP_BUILTINS.id);
const SG_COUNT = ref(SUBGROUP_BUILTINS.count);

const clampExp = (x: Expr): Expr => call('exp', call('max', x, f32(-88)));

/**
 * The statements combining `slots` (the results are declared before them, as `var <result>`), given the
 * lane's value of each (`laneValue`: the compensated accumulator's value for f32 sums) and the row kernel's
 * serial fold of `n` slots (`foldsUpTo`). One block: its names are local, so chunks and phases repeat it.
 */
export function subgroupCombine(
  slots: readonly LaneSlot[],
  onlineOf: ReadonlyMap<number, number>,
  laneValue: (st: LaneReduction) => Expr,
  foldsUpTo: (n: Expr) => Stmt[],
): Stmt[] {
  const out: Stmt[] = [];
  const g = (x: LaneSlot) => `${x.st.result}_g`;
  const byNode = new Map(slots.map((x) => [x.st.node, x]));
  // exact subgroup reductions first: online sums need their max
  const sums: { x: LaneSlot; v: Expr }[] = [];
  for (const x of slots) {
    const st = x.st;
    const m = onlineOf.get(st.node);
    if (m !== undefined) {
      const max = byNode.get(m)!;
      sums.push({ x, v: bare('*', laneValue(st), clampExp(bare('-', ref(max.st.acc), ref(g(max))))) });
    } else if ((st.fn === 'max' || st.fn === 'min') && st.nan) out.push(...subgroupExtremum(g(x), st.fn, ref(st.acc)));
    else if (st.fn === 'max' || st.fn === 'min') out.push(subgroupS(g(x), st.fn, ref(st.acc)));
    else if (st.type !== 'f32') out.push(subgroupS(g(x), 'add', ref(st.acc)));
    else sums.push({ x, v: laneValue(st) });
  }
  if (sums.length) out.push(...compensatedSubgroupSums(sums.map(({ x, v }) => ({ name: g(x), v }))));

  // one subgroup: its result is the workgroup's; else the leaders' slots, folded
  const direct = slots.map((x) => assign(ref(x.st.result), ref(g(x))));
  const leaders = slots.map((x) => assign(at(x.v, SG_ID), ref(g(x))));
  out.push(ifS(bare('==', SG_COUNT, u32(1)), direct, [ifS(bare('==', SG_LANE, u32(0)), leaders), barrier(), ...foldsUpTo(SG_COUNT)]));
  return [block(out)];
}

/**
 * `let <name> = subgroupMax(v)` (Min) with torch's NaN semantics: subgroupMax/Min may drop a NaN operand, so
 * whether any lane holds NaN is a subgroupMax of a flag decided on the bits (is_nan_f32), and then the result is NaN.
 */
function subgroupExtremum(name: string, fn: 'max' | 'min', v: Expr): Stmt[] {
  return [
    subgroupS(`${name}_m`, fn, v),
    subgroupS(`${name}_n`, 'max', call('select', u32(0), u32(1), call('is_nan_f32', v))),
    letS(name, call('select', ref(`${name}_m`), call('f32_bits', hex(0x7fc00000)), bare('==', ref(`${name}_n`), u32(1)))),
  ];
}

/** Compensated subgroup sums of f32 values: `let <name> = Σ v` over the subgroup, for each. */
function compensatedSubgroupSums(sums: readonly { name: string; v: Expr }[]): Stmt[] {
  const s = (k: number) => ref(`sg_s${k}`);
  const c = (k: number) => ref(`sg_c${k}`);
  const out: Stmt[] = [subgroupS('sg_active', 'add', u32(1))];
  sums.forEach(({ v }, k) => out.push(varS(`sg_s${k}`, 'f32', v), varS(`sg_c${k}`, 'f32', f32(0))));
  const m = ref('sg_m');
  const butterfly = sums.flatMap((_, k): Stmt[] => {
    const [os, oc, t] = [ref(`sg_os${k}`), ref(`sg_oc${k}`), ref(`sg_t${k}`)];
    return [
      subgroupS(`sg_os${k}`, 'shuffleXor', s(k), m),
      subgroupS(`sg_oc${k}`, 'shuffleXor', c(k), m),
      letS(`sg_t${k}`, bare('+', s(k), os)),
      // (c + oc) first: the same in both partners, as is the error term
      assign(c(k), bare('+', bin('+', c(k), oc), call('select', bare('+', bin('-', os, t), s(k)), bare('+', bin('-', s(k), t), os), bare('>=', call('abs', s(k)), call('abs', os))))),
      assign(s(k), t),
    ];
  });
  const partial = sums.flatMap((_, k): Stmt[] => [subgroupS(`sg_p${k}`, 'add', compensatedSum(s(k), c(k))), assign(s(k), ref(`sg_p${k}`)), assign(c(k), f32(0))]);
  // mask 1, 2, 4, … (the for loop's step is added: sg_m + sg_m doubles it)
  out.push(ifS(bare('==', ref('sg_active'), SG_SIZE), [forS('sg_m', u32(1), bare('<', m, SG_SIZE), m, butterfly)], partial));
  sums.forEach(({ name }, k) => out.push(letS(name, compensatedSum(s(k), c(k)))));
  return out;
}
