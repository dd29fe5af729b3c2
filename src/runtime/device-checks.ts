// Data-dependent checks on the device, by small runtime-owned kernels in the run's own command buffer:
// - index inputs (plan.indexInputs: class indices, CTC lengths, rows of CRD's banks) given as GPUBuffers (the host
//   cannot look): the first element outside [0, size) other than ignore_index;
// - Cholesky factors the plan computes (plan.factorChecks), after the plan's kernels: the first diagonal entry
//   that is not positive and finite (the leading minor of that order is not positive-definite; torch raises);
// - probabilities (plan.unitInputs) given as GPUBuffers: the first element outside [0, 1] or NaN;
// - indices the plan's kernels compute (plan.computedIndexChecks), right after the kernel that stores them (the
//   last one writing their scratch buffer), by the index check's kernel over that buffer: the first element outside
//   [0, size).
// Each records into an error-flag buffer. The flags are copied into the readback buffer right after the scalars,
// so they come back with them: no extra synchronisation.
// Host inputs are checked on the host before dispatch instead (executor.checkIndices / checkUnitInputs), with the
// same messages (indexCheckProblem, unitCheckProblem).
//
// The kernels themselves come with the plan (KernelPlan.checkKernels: WGSL made by the compiler's printer from its
// kernel IR, src/codegen/wgsl/device-check-kernels.ts); this file is their contract: the bindings (0: the uniform
// Params struct of CHECK_PARAMS, 1: the checked buffer, read-only, 2: the flags, array<atomic<u32>>), the entry
// points `main` (CHECK_WORKGROUP_SIZE invocations per workgroup over a 2-D grid, element i = gid.x + gid.y · row)
// and `offending_value` (one invocation), and what they record.
//
// Slots: the index inputs', then the factors', the probabilities' and the computed indices' (in plan order).
// Flags: 3 · checks u32. flags[slot]: the first offending element's index (atomicMin; for factors
// matrix · size + j), 0xffffffff when none. flags[checks + slot]: the bits of that element's value, stored by the
// kernel's second entry point `offending_value` (one invocation, dispatched right after `main` in the same pass:
// dispatches in a pass are ordered), so a message names the value as well as the index; flags[2 · checks + slot]:
// the index whose value that is (a later run without a new, earlier failure keeps the value of the run that
// failed). They are reset after each readback that reported them, so a run without readback is reported by the
// next one that reads.
// The plan's kernels that update state in place (PlanKernel.checkFlags: CRD's bank scatter) read flags[0, checks)
// and store nothing while any is set: the input checks (index, unit) are dispatched before the plan's kernels, so
// a run with a refused input leaves that state as it was (torch raises before updating it), as does every run
// after it until a readback has reported the failure. The kernels storing the other state outputs (CRD's params)
// read them too and store the state inputs' values instead. A computed index's check runs before those kernels
// when the index is stored by an earlier kernel (so an index_copy into state at a computed index out of range
// leaves the state as it was, as the in-place update's own index always is); a factor check runs after the plan's
// kernels: it holds back only the later runs.
/// <reference types="@webgpu/types" preserve="true" />
import { f32Text } from './float-text.js';
import { expectArgument, isRecord } from './argument-checks.js';

export const NO_ERROR = 0xffffffff;
/** Invocations per workgroup of a check kernel's `main` entry point. */
export const CHECK_WORKGROUP_SIZE = 64;
const MAX_GROUPS = 65535;

/**
 * The fields of the checks' uniform struct `Params`, in order (32 bytes; checkParams writes them): n elements to
 * check, size (the class count; the factor size), ignore (i32) and has_ignore, the check's flag slot, the row
 * length of the 2-D grid, and values_at (where the offending values start in the flags: the check count).
 */
export const CHECK_PARAMS = [
  { name: 'n', ty: 'u32' },
  { name: 'size', ty: 'u32' },
  { name: 'ignore', ty: 'i32' },
  { name: 'has_ignore', ty: 'u32' },
  { name: 'slot', ty: 'u32' },
  { name: 'row', ty: 'u32' },
  { name: 'values_at', ty: 'u32' },
] as const;

/** The device checks a plan may carry kernels for (KernelPlan.checkKernels): defined with the plan format. */
export type { DeviceCheckKind } from './plan.js';

export function unitParams(n: number, slot: number, valuesAt: number): ArrayBuffer {
  return checkParams({ n, size: 0 }, slot, valuesAt);
}

/** Said after a problem found on the device: the run went ahead (the check runs with it), its results did not. */
const ON_DEVICE = '; the results of this run were discarded';

/** A probability outside [0, 1] (or NaN): `value` as float32 holds it (host and device alike). */
export function unitCheckProblem(c: { input: string; message: string }, element: number, value: number, onDevice: boolean): string {
  expectArgument(isRecord(c), c, 'unitCheckProblem', 'the check', "an object (one of the plan's unitChecks)");
  return `'${c.input}' element ${element} is ${f32Text(value)}, outside [0, 1] (torch raises "${c.message}")${onDevice ? ON_DEVICE : ''}`;
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

/** Workgroup counts covering n invocations of CHECK_WORKGROUP_SIZE threads, 2-D beyond the per-dimension limit. */
export function checkDispatch(n: number): { x: number; y: number; row: number } {
  const groups = Math.max(1, Math.ceil(n / CHECK_WORKGROUP_SIZE));
  const x = Math.min(groups, MAX_GROUPS);
  return { x, y: Math.ceil(groups / x), row: x * CHECK_WORKGROUP_SIZE };
}

/** The uniform contents of a check (CHECK_PARAMS), 32 bytes; `valuesAt`: where the values start in flags (the check count). */
export function checkParams(c: { n: number; size: number; ignore?: number }, slot: number, valuesAt: number): ArrayBuffer {
  const buf = new ArrayBuffer(32);
  const u = new Uint32Array(buf);
  const i = new Int32Array(buf);
  const values: Record<(typeof CHECK_PARAMS)[number]['name'], number> = {
    n: c.n,
    size: c.size,
    ignore: c.ignore ?? 0,
    has_ignore: c.ignore === undefined ? 0 : 1,
    slot,
    row: checkDispatch(c.n).row,
    values_at: valuesAt,
  };
  CHECK_PARAMS.forEach((p, k) => ((p.ty === 'i32' ? i : u)[k] = values[p.name]));
  return buf;
}

/** The first element of an index input given as host data that lies outside [0, size) and is not the ignore value,
 *  worded as indexCheckProblem words it; undefined when every element is valid. */
export function hostIndexProblem(c: { input: string; size: number; ignore?: number; what?: string; torch?: string }, data: ArrayLike<number | bigint>): string | undefined {
  expectArgument(isRecord(c), c, 'hostIndexProblem', 'the check', "an object (one of the plan's indexChecks)");
  expectArgument(data !== null && typeof data === 'object' && typeof data.length === 'number', data, 'hostIndexProblem', 'data', 'an Array or typed array of indices');
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (v !== c.ignore && !(v >= 0 && v < c.size)) return indexCheckProblem(c, i, data instanceof Float32Array ? f32Text(v) : v, false);
  }
  return undefined;
}

/** A class index (or what `what` says: a CTC length, an index into a CRD bank) outside [0, size) that is not the ignore value (host and device alike). */
export function indexCheckProblem(c: { input: string; size: number; ignore?: number; what?: string; torch?: string }, element: number, value: number | string, onDevice: boolean): string {
  expectArgument(isRecord(c), c, 'indexCheckProblem', 'the check', "an object (one of the plan's indexChecks)");
  const torch = c.what === undefined ? `Target ${value} is out of bounds` : c.torch && torchText(c.torch, c.size, value);
  return `'${c.input}' element ${element} is ${value}: ${c.what ?? 'a class index'} must lie in [0, ${c.size})${c.ignore !== undefined ? ` or be ${c.what === undefined ? 'ignore_index ' : ''}${c.ignore}` : ''}${torch ? ` (torch raises "${torch}")` : ''}${onDevice ? ON_DEVICE : ''}`;
}

/** An index the plan's kernels compute (plan.computedIndexChecks) with a value outside [0, size), found on the device. */
export function computedIndexProblem(c: { what: string; size: number; torch?: string }, element: number, value: number): string {
  expectArgument(isRecord(c), c, 'computedIndexProblem', 'the check', "an object (one of the plan's computedIndexChecks)");
  return `${c.what}: element ${element} is ${value}, outside [0, ${c.size})${c.torch ? ` (torch raises "${torchText(c.torch, c.size, value)}")` : ''}${ON_DEVICE}`;
}

/** torch's message for a bad index: {max} stands for size − 1, {size} for size, {value} for the value. */
function torchText(template: string, size: number, value: number | string): string {
  return template.replaceAll('{max}', String(size - 1)).replaceAll('{size}', String(size)).replaceAll('{value}', String(value));
}
