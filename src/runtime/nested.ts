// Between the flat tensor names of a plan (`student/<path>/<io>[/<sub>]`, `targets`, `model_loss/<key>`) and
// the nested objects generated glue exposes (inputs.student['layer4.1'].output).
import { GpuInputError, GpuUsageError } from './errors.js';
import { describeValue } from './argument-checks.js';

/**
 * Looks up every plan input name in `nested` by its '/'-separated segments; `targets` comes separately. A key of
 * `nested` that leads to no plan input (a misspelt module path or io: `teacher: { fc: { outptu } }`) is kept under
 * its flat name ('teacher/fc/outptu'), so that the executor refuses it as it refuses any unknown name, with the
 * closest plan input as did-you-mean, instead of the run going ahead without it. `nested` itself, or a level on the
 * way to a name, being null or no object (`student: { '.': null }`) is a GpuInputError naming it, not a missing input.
 */
export function flattenInputs<T>(nested: unknown, names: readonly string[], targets?: T): Map<string, T> {
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))
    throw new GpuUsageError(`flattenInputs: names must be an Array of the plan's input names (strings), got ${describeValue(names)}`, 'e.g. plan.inputs.map((i) => i.name)');
  if (!isBranch(nested) && names.some((n) => n !== 'targets'))
    throw new GpuInputError(`the inputs must be an object of nested tensors (inputs.student['.'].output), got ${describeValue(nested)}`);
  const out = new Map<string, T>();
  for (const name of names) {
    if (name === 'targets') {
      if (targets !== undefined) out.set(name, targets);
      continue;
    }
    let cur: unknown = nested;
    const segs = name.split('/');
    // own properties only: a module path '__proto__' must not find Object.prototype
    segs.forEach((seg, i) => {
      if (i > 0 && cur !== undefined && !isBranch(cur))
        throw new GpuInputError(`'${segs.slice(0, i).join('/')}' is ${describeValue(cur)}, not an object of the tensors under it (it should hold '${name}')`);
      cur = cur !== null && typeof cur === 'object' && Object.prototype.hasOwnProperty.call(cur, seg) ? (cur as Record<string, unknown>)[seg] : undefined;
    });
    if (cur !== undefined) out.set(name, cur as T);
  }
  for (const [name, value] of unknownKeys(nested, names)) out.set(name, value as T);
  return out;
}

/** The keys of `nested` (flat names, with their values) on no path to a name of `names`. An unknown key holding a
 *  plain object is followed (at most as deep as the deepest name) to the names under it, for a did-you-mean that
 *  compares whole paths. */
function unknownKeys(nested: unknown, names: readonly string[]): Map<string, unknown> {
  const known = new Set(names);
  const prefixes = new Set<string>();
  let depth = 0;
  for (const name of names) {
    const segs = name.split('/');
    depth = Math.max(depth, segs.length);
    for (let i = 1; i < segs.length; i++) prefixes.add(segs.slice(0, i).join('/'));
  }
  const found = new Map<string, unknown>();
  const walk = (node: object, path: string, level: number, unknown: boolean): void => {
    for (const key of Object.keys(node)) {
      const flat = path === '' ? key : `${path}/${key}`;
      const value = (node as Record<string, unknown>)[key];
      if (value === undefined || (!unknown && known.has(flat))) continue;
      const onPath = !unknown && prefixes.has(flat);
      if (isBranch(value) && level + 1 < depth && (onPath || Object.keys(value).length > 0)) walk(value, flat, level + 1, !onPath);
      else if (!onPath) found.set(flat, value);
    }
  };
  if (isBranch(nested)) walk(nested, '', 0, false);
  return found;
}

/** A plain object that is no tensor: a level of the nesting. */
const isBranch = (v: unknown): v is object =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) && !('shape' in v) && !('data' in v) && !('buffer' in v) && !(v instanceof Map);

/** The nested object of a flat name → value map (names split at '/'). */
export function nestByName<T>(flat: ReadonlyMap<string, T>): Record<string, unknown> {
  if (!(flat instanceof Map))
    throw new GpuUsageError(`nestByName: expected a Map of '/'-separated name → value, got ${describeValue(flat)}`, flat !== null && typeof flat === 'object' && !Array.isArray(flat) ? 'from an object: new Map(Object.entries(obj))' : undefined);
  // objects without a prototype: a module path '__proto__' is an ordinary key, never a way to Object.prototype
  const root = Object.create(null) as Record<string, unknown>;
  const levels = new WeakSet<object>();
  const level = (): Record<string, unknown> => {
    const o = Object.create(null) as Record<string, unknown>;
    levels.add(o);
    return o;
  };
  for (const [name, value] of flat) {
    if (typeof name !== 'string') throw new GpuUsageError(`nestByName: the Map's keys must be names (strings), got ${describeValue(name)}`);
    const segs = name.split('/');
    let cur = root;
    segs.slice(0, -1).forEach((seg, i) => {
      const next = (cur[seg] ??= level()) as unknown;
      // 'a' and 'a/b' both given: 'a' cannot be a value and a level at once
      if (next === null || typeof next !== 'object' || !levels.has(next)) throw new GpuUsageError(`nestByName: '${name}' lies under '${segs.slice(0, i + 1).join('/')}', which is given a value of its own`);
      cur = next as Record<string, unknown>;
    });
    const last = segs[segs.length - 1]!;
    if (levels.has(cur[last] as object)) throw new GpuUsageError(`nestByName: '${name}' is given a value and has names under it`);
    cur[last] = value;
  }
  return root;
}
