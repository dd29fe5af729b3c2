// The runtime's device-check kernels as kernel IR (the runtime dispatches them; src/runtime/device-checks.ts is
// their contract: bindings, Params fields, entry points, what the flags record). The compiler prints them into
// the plan it hands the runtime (KernelPlan.checkKernels), so the runtime carries no WGSL and imports nothing of
// the compiler. Each kernel: `main` tests element i = gid.x + gid.y · row and records the first failure with
// atomicMin(&flags[slot], i); `offending_value` (one invocation) stores the bits of the flagged element.
import { CHECK_PARAMS, CHECK_WORKGROUP_SIZE, NO_ERROR, type DeviceCheckKind, type KernelPlan } from 'tdc-runtime';
import { all, atomic, atomicLoad, at, bare, bin, call, hex, i32, ifS, letS, not, ref, RETURN, u32, type CheckModule, type Expr, type Stmt } from '../kernel-ir/ir.js';
import { printCheckModule } from './print-check.js';

const P = Object.fromEntries(CHECK_PARAMS.map((p) => [p.name, ref(`params.${p.name}`)])) as Record<(typeof CHECK_PARAMS)[number]['name'], Expr>;
const [i, v, ok, bits, j, f, owner] = ['i', 'v', 'ok', 'bits', 'j', 'f', 'owner'].map(ref) as [Expr, Expr, Expr, Expr, Expr, Expr, Expr];
const EXPONENT = hex(0x7f800000);

/** `if (!cond) { atomicMin(&flags[params.slot], i); }` */
const flagUnless = (cond: Expr): Stmt => ifS(not(cond), [atomic('min', 'flags', P.slot, i)]);

/** The shared frame around a check's test of element i, and `offending_value` reading the flagged element at `valueAt(f)`. */
function check(what: string, element: 'i32' | 'u32', test: Stmt[], valueAt: (flagged: Expr) => Expr): CheckModule {
  return {
    header: what.split('\n'),
    params: CHECK_PARAMS,
    element,
    entries: [
      {
        name: 'main',
        workgroupSize: CHECK_WORKGROUP_SIZE,
        gid: true,
        body: [letS('i', bare('+', ref('gid.x'), bare('*', ref('gid.y'), P.row))), ifS(bare('>=', i, P.n), [RETURN]), ...test],
      },
      {
        name: 'offending_value',
        workgroupSize: 1,
        gid: false,
        body: [
          letS('f', atomicLoad('flags', P.slot)),
          letS('owner', bare('+', bare('*', P.values_at, u32(2)), P.slot)),
          ifS(bare('||', bare('==', f, u32(NO_ERROR)), bare('==', atomicLoad('flags', owner), f)), [RETURN]),
          atomic('store', 'flags', bare('+', P.values_at, P.slot), call('bitcast<u32>', at('x', valueAt(f)))),
          atomic('store', 'flags', owner, f),
        ],
      },
    ],
  };
}

/** The kernel of each device check, as IR. */
export const DEVICE_CHECKS: { readonly [K in DeviceCheckKind]: CheckModule } = {
  index: check(
    'class indices in [0, size) or equal to ignore (when has_ignore); the first bad element → flags[slot]',
    'i32',
    [
      letS('v', at('x', i)),
      letS('ok', bare('||', bin('&&', bare('>=', v, i32(0)), bare('<', call('u32', v), P.size)), bin('&&', bare('!=', P.has_ignore, u32(0)), bare('==', v, P.ignore)))),
      flagUnless(ok),
    ],
    (x) => x,
  ),
  factor: check(
    `diagonal entries of count lower factors (size × size) positive and finite, tested on the bits
(float comparisons may be folded under finite-math assumptions); the first bad (matrix · size + j) → flags[slot]`,
    'u32',
    [
      letS('j', bare('%', i, P.size)),
      letS('bits', at('x', bare('+', bare('*', i, P.size), j))),
      letS('ok', all(bare('!=', bits, u32(0)), bare('==', bin('>>', bits, u32(31)), u32(0)), bare('!=', bin('&', bits, EXPONENT), EXPONENT))),
      flagUnless(ok),
    ],
    (x) => bare('+', bare('*', x, P.size), bare('%', x, P.size)),
  ),
  unit: check(
    `every element in [0, 1] (NaN refused), tested on the bits: +0 … 1.0 are 0 … 0x3f800000, -0 is
0x80000000 (float comparisons may be folded under finite-math assumptions); the first bad element → flags[slot]`,
    'u32',
    [letS('bits', at('x', i)), flagUnless(bare('||', bare('<=', bits, hex(0x3f800000)), bare('==', bits, hex(0x80000000))))],
    (x) => x,
  ),
};

/** The printed kernels of the device checks `plan` lists (KernelPlan.checkKernels), or undefined when it lists none. */
export function deviceCheckKernels(plan: Pick<KernelPlan, 'indexInputs' | 'computedIndexChecks' | 'factorChecks' | 'unitInputs'>): KernelPlan['checkKernels'] {
  const need: [DeviceCheckKind, unknown[] | undefined][] = [
    ['index', [...(plan.indexInputs ?? []), ...(plan.computedIndexChecks ?? [])]],
    ['factor', plan.factorChecks],
    ['unit', plan.unitInputs],
  ];
  const out = Object.fromEntries(need.filter(([, list]) => list?.length).map(([kind]) => [kind, printCheckModule(DEVICE_CHECKS[kind])]));
  return Object.keys(out).length ? out : undefined;
}
