// Data-dependent checks on the device, by small runtime-owned kernels in the run's own command buffer:
// - class-index inputs (plan.indexInputs) given as GPUBuffers (the host cannot look): the first element outside
//   [0, size) other than ignore_index;
// - Cholesky factors the plan computes (plan.factorChecks), after the plan's kernels: the first diagonal entry
//   that is not positive and finite (the leading minor of that order is not positive-definite; torch raises);
// - probabilities (plan.unitInputs) given as GPUBuffers: the first element outside [0, 1] or NaN.
// Each records into an error-flag buffer. The flags are copied into the readback buffer right after the scalars,
// so they come back with them: no extra synchronisation.
// Host inputs are checked on the host before dispatch instead (executor.checkIndices / checkUnitInputs), with the
// same messages (indexCheckProblem, unitCheckProblem).
//
// Flags: 3 · checks u32. flags[slot]: the first offending element's index (atomicMin; for factors
// matrix · size + j), 0xffffffff when none. flags[checks + slot]: the bits of that element's value, stored by the
// kernel's second entry point `offending_value` (one invocation, dispatched right after `main` in the same pass:
// dispatches in a pass are ordered), so a message names the value as well as the index; flags[2 · checks + slot]:
// the index whose value that is (a later run without a new, earlier failure keeps the value of the run that
// failed). They are reset after each readback that reported them, so a run without readback is reported by the
// next one that reads.
/// <reference types="@webgpu/types" preserve="true" />

export const NO_ERROR = 0xffffffff;
const WG = 64;
const MAX_GROUPS = 65535;

/** A check kernel: the shared prelude (Params, the checked buffer as `x`, the flags, the index guard) around a body
 *  that tests element i and records the first failure with `atomicMin(&flags[params.slot], i)`; and the entry point
 *  `offending_value` storing the bits of the flagged element (`at`: where flagged index f's value lies in x). */
function checkKernel(comment: string, element: 'i32' | 'u32', body: string, at = 'f'): string {
  return `
// tdc-runtime: ${comment}
struct Params { n: u32, size: u32, ignore: i32, has_ignore: u32, slot: u32, row: u32, values_at: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<${element}>;
@group(0) @binding(2) var<storage, read_write> flags: array<atomic<u32>>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.row;
  if (i >= params.n) { return; }
${body}
}
@compute @workgroup_size(1)
fn offending_value() {
  let f = atomicLoad(&flags[params.slot]);
  let owner = params.values_at * 2u + params.slot;
  if (f == ${NO_ERROR}u || atomicLoad(&flags[owner]) == f) { return; }
  atomicStore(&flags[params.values_at + params.slot], bitcast<u32>(x[${at}]));
  atomicStore(&flags[owner], f);
}`;
}

export const INDEX_CHECK_WGSL = checkKernel(
  'class indices in [0, size) or equal to ignore (when has_ignore); the first bad element → flags[slot]',
  'i32',
  /* wgsl */ `  let v = x[i];
  let ok = (v >= 0i && u32(v) < params.size) || (params.has_ignore != 0u && v == params.ignore);
  if (!ok) { atomicMin(&flags[params.slot], i); }`,
);

export const FACTOR_CHECK_WGSL = checkKernel(
  `diagonal entries of count lower factors (size × size) positive and finite, tested on the bits
// (float comparisons may be folded under finite-math assumptions); the first bad (matrix · size + j) → flags[slot]`,
  'u32',
  /* wgsl */ `  let j = i % params.size;
  let bits = x[i * params.size + j];
  let ok = bits != 0u && (bits >> 31u) == 0u && (bits & 0x7f800000u) != 0x7f800000u;
  if (!ok) { atomicMin(&flags[params.slot], i); }`,
  'f * params.size + f % params.size',
);

export const UNIT_CHECK_WGSL = checkKernel(
  `every element in [0, 1] (NaN refused), tested on the bits: +0 … 1.0 are 0 … 0x3f800000, -0 is
// 0x80000000 (float comparisons may be folded under finite-math assumptions); the first bad element → flags[slot]`,
  'u32',
  /* wgsl */ `  let bits = x[i];
  if (!(bits <= 0x3f800000u || bits == 0x80000000u)) { atomicMin(&flags[params.slot], i); }`,
);

export function unitParams(n: number, slot: number, valuesAt: number): ArrayBuffer {
  return checkParams({ n, size: 0 }, slot, valuesAt);
}

/** Said after a problem found on the device: the run went ahead (the check runs with it), its results did not. */
const ON_DEVICE = '; the results of this run were discarded';

/** A probability outside [0, 1] (or NaN): `value` as float32 holds it (host and device alike). */
export function unitCheckProblem(c: { input: string; message: string }, element: number, value: number, onDevice: boolean): string {
  return `'${c.input}' element ${element} is ${value}, outside [0, 1] (torch raises "${c.message}")${onDevice ? ON_DEVICE : ''}`;
}

/** One factor check of one run: n = count · size diagonal entries of the factors in `buffer`. */
export interface DeviceFactorCheck {
  buffer: GPUBuffer;
  n: number;
  size: number;
  terms: string[];
}

export function factorParams(c: DeviceFactorCheck, slot: number, valuesAt: number): ArrayBuffer {
  return checkParams(c, slot, valuesAt);
}

/** A Cholesky factor with a diagonal entry `value` (float32) that is not positive and finite at flagged = matrix · size + j. */
export function factorCheckProblem(c: { size: number; terms: string[] }, flagged: number, value: number): string {
  const m = Math.floor(flagged / c.size);
  const j = flagged % c.size;
  return `${c.terms.length ? `term ${c.terms.map((t) => `'${t}'`).join(', ')}: ` : ''}cholesky of matrix ${m} (${c.size} × ${c.size}): the factorization could not be completed because the input is not positive-definite (the leading minor of order ${j + 1} is not positive-definite: the factor's diagonal entry ${j} came out ${value}; torch raises)${ON_DEVICE}`;
}

/** One index check of one run: the buffer holding the indices (i32), how many, and the valid range. */
export interface DeviceIndexCheck {
  input: string;
  buffer: GPUBuffer;
  n: number;
  size: number;
  ignore?: number;
}

/** Workgroup counts covering n invocations of WG threads, 2-D beyond the per-dimension limit. */
export function checkDispatch(n: number): { x: number; y: number; row: number } {
  const groups = Math.max(1, Math.ceil(n / WG));
  const x = Math.min(groups, MAX_GROUPS);
  return { x, y: Math.ceil(groups / x), row: x * WG };
}

/** The uniform contents of a check (Params above), 32 bytes; `valuesAt`: where the values start in flags (the check count). */
export function checkParams(c: { n: number; size: number; ignore?: number }, slot: number, valuesAt: number): ArrayBuffer {
  const buf = new ArrayBuffer(32);
  const u = new Uint32Array(buf);
  const i = new Int32Array(buf);
  u[0] = c.n;
  u[1] = c.size;
  i[2] = c.ignore ?? 0;
  u[3] = c.ignore === undefined ? 0 : 1;
  u[4] = slot;
  u[5] = checkDispatch(c.n).row;
  u[6] = valuesAt;
  return buf;
}

/** A class index (or a length: `what`) outside [0, size) that is not the ignore value (host and device alike). */
export function indexCheckProblem(c: { input: string; size: number; ignore?: number; what?: string; torch?: string }, element: number, value: number, onDevice: boolean): string {
  const torch = c.what === undefined ? `Target ${value} is out of bounds` : c.torch?.replaceAll('{max}', String(c.size - 1)).replaceAll('{value}', String(value));
  return `'${c.input}' element ${element} is ${value}: ${c.what ?? 'a class index'} must lie in [0, ${c.size})${c.ignore !== undefined ? ` or be ignore_index ${c.ignore}` : ''}${torch ? ` (torch raises "${torch}")` : ''}${onDevice ? ON_DEVICE : ''}`;
}
