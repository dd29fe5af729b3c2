// What a public function of the runtime says when it is given an argument of the wrong kind (a plain object where
// a Map goes, null where a GPUDevice goes): a typed error naming the argument and what it is, never the TypeError
// that using it would raise inside ("inputs.keys is not a function").
import { GpuOptionsError, GpuUsageError } from './errors.js';

/** What `v` is, in words: 'null', 'undefined', 'the string "x"', 'a number (3)', 'an Array', 'a plain object', 'a Float32Array', … */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an Array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 39)}…` : v)}`;
  if (typeof v !== 'object') return `a ${typeof v}${typeof v === 'number' || typeof v === 'boolean' ? ` (${String(v)})` : ''}`;
  const ctor = (v as object).constructor?.name;
  return !ctor || ctor === 'Object' ? 'a plain object' : `${/^[AEIOU]/.test(ctor) ? 'an' : 'a'} ${ctor}`;
}

/** Why `v` is not a Map (undefined when it is one); `what` names it ("inputs"). A plain object gets the fix. */
export function notAMap(v: unknown, what: string): string | undefined {
  if (v instanceof Map) return undefined;
  const fix = v !== null && typeof v === 'object' && !Array.isArray(v) ? ` (from an object: new Map(Object.entries(${what})))` : '';
  return `${what} must be a Map of name → tensor, got ${describeValue(v)}${fix}`;
}

/** `v` is a GPUBuffer (as for GPUDevice below, no class to test against: what it has that nothing else here has). */
export const isGpuBuffer = (v: unknown): v is GPUBuffer =>
  v !== null && typeof v === 'object' && typeof (v as GPUBuffer).mapAsync === 'function' && typeof (v as GPUBuffer).usage === 'number';

/** `v` is usable as a GPUDevice (WebGPU gives no class to test against across realms and bindings). */
export const isGpuDevice = (v: unknown): v is GPUDevice =>
  v !== null && typeof v === 'object' && typeof (v as GPUDevice).createBuffer === 'function' && typeof (v as GPUDevice).queue === 'object';

/** `opts` as an options object (undefined: {}), else a GpuOptionsError naming `fn`: `open(null)` would otherwise
 *  read a field of null. */
export function optionsObject<T extends object>(opts: T | undefined, fn: string, what = 'GpuOptions'): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new GpuOptionsError(`${fn}: the options must be an object (${what}) or left out, got ${describeValue(opts)}`);
  return opts;
}

/** `v` is an object that is not null and not an Array (an options object, a plan's record, an adapter description). */
export const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A GpuUsageError unless `ok`: "`fn`: `what` must be `kind`, got <what v is>". What the exported helpers check
 *  their arguments with, before reading a field of one. */
export function expectArgument(ok: boolean, v: unknown, fn: string, what: string, kind: string): void {
  if (!ok) throw new GpuUsageError(`${fn}: ${what} must be ${kind}, got ${describeValue(v)}`);
}
