// Data-dependent checks on the device, by small runtime-owned kernels in the run's own command buffer:
// - class-index inputs (plan.indexInputs) given as GPUBuffers (the host cannot look): the first element outside
//   [0, size) other than ignore_index;
// - Cholesky factors the plan computes (plan.factorChecks), after the plan's kernels: the first diagonal entry
//   that is not positive and finite (the leading minor of that order is not positive-definite; torch raises).
// Each records into an error-flag buffer. The flags are
// copied into the readback buffer right after the scalars, so they come back with them: no extra
// synchronisation. Host inputs are checked on the host before dispatch instead (executor.checkIndices).
//
// Flags: one u32 per check, the first offending element's index (atomicMin; for factors matrix · size + j),
// 0xffffffff when none. They are
// reset after each readback that reported them, so a run without readback is reported by the next one that reads.
/// <reference types="@webgpu/types" preserve="true" />

export const NO_ERROR = 0xffffffff;
const WG = 64;
const MAX_GROUPS = 65535;

/** A check kernel: the shared prelude (Params, the checked buffer as `x`, the flags, the index guard) around a body
 *  that tests element i and records the first failure with `atomicMin(&flags[params.slot], i)`. */
function checkKernel(comment: string, element: 'i32' | 'u32', body: string): string {
  return `
// tdc-runtime: ${comment}
struct Params { n: u32, size: u32, ignore: i32, has_ignore: u32, slot: u32, row: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<${element}>;
@group(0) @binding(2) var<storage, read_write> flags: array<atomic<u32>>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.row;
  if (i >= params.n) { return; }
${body}
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
);

export const UNIT_CHECK_WGSL = checkKernel(
  `every element in [0, 1] (NaN refused), tested on the bits: +0 … 1.0 are 0 … 0x3f800000, -0 is
// 0x80000000 (float comparisons may be folded under finite-math assumptions); the first bad element → flags[slot]`,
  'u32',
  /* wgsl */ `  let bits = x[i];
  if (!(bits <= 0x3f800000u || bits == 0x80000000u)) { atomicMin(&flags[params.slot], i); }`,
);

export function unitParams(n: number, slot: number): ArrayBuffer {
  return checkParams({ n, size: 0 }, slot);
}

export function unitCheckProblem(c: { input: string; message: string }, element: number, onDevice: boolean, value?: number): string {
  return `'${c.input}' element ${element} ${onDevice ? 'lies outside [0, 1] on the device' : `is ${value}, outside [0, 1]`} (torch raises "${c.message}")${onDevice ? '; the results of this run were discarded' : ''}`;
}

/** One factor check of one run: n = count · size diagonal entries of the factors in `buffer`. */
export interface DeviceFactorCheck {
  buffer: GPUBuffer;
  n: number;
  size: number;
  terms: string[];
}

export function factorParams(c: DeviceFactorCheck, slot: number): ArrayBuffer {
  return checkParams(c, slot);
}

export function factorCheckProblem(c: { size: number; terms: string[] }, flagged: number): string {
  const m = Math.floor(flagged / c.size);
  const j = flagged % c.size;
  return `${c.terms.length ? `term ${c.terms.map((t) => `'${t}'`).join(', ')}: ` : ''}cholesky of matrix ${m} (${c.size} × ${c.size}): the factorization could not be completed because the input is not positive-definite (the leading minor of order ${j + 1} is not positive-definite; torch raises); the results of this run were discarded`;
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

/** The uniform contents of a check (Params above), 32 bytes. */
export function checkParams(c: { n: number; size: number; ignore?: number }, slot: number): ArrayBuffer {
  const buf = new ArrayBuffer(32);
  const u = new Uint32Array(buf);
  const i = new Int32Array(buf);
  u[0] = c.n;
  u[1] = c.size;
  i[2] = c.ignore ?? 0;
  u[3] = c.ignore === undefined ? 0 : 1;
  u[4] = slot;
  u[5] = checkDispatch(c.n).row;
  return buf;
}

/** The message for a flagged check (element index known; its value is on the device). */
export function indexCheckProblem(c: { input: string; size: number; ignore?: number }, element: number): string {
  return `'${c.input}' element ${element} is not a class index: on the device it lies outside [0, ${c.size})${
    c.ignore !== undefined ? ` and is not ignore_index ${c.ignore}` : ''
  } (torch raises "Target … is out of bounds"); the results of this run were discarded`;
}
