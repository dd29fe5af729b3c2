// Between the flat tensor names of a plan (`student/<path>/<io>[/<sub>]`, `targets`, `model_loss/<key>`) and
// the nested objects generated glue exposes (inputs.student['layer4.1'].output).

/** Looks up every plan input name in `nested` by its '/'-separated segments; `targets` comes separately. */
export function flattenInputs<T>(nested: unknown, names: readonly string[], targets?: T): Map<string, T> {
  const out = new Map<string, T>();
  for (const name of names) {
    if (name === 'targets') {
      if (targets !== undefined) out.set(name, targets);
      continue;
    }
    let cur: unknown = nested;
    // own properties only: a module path '__proto__' must not find Object.prototype
    for (const seg of name.split('/')) cur = cur !== null && typeof cur === 'object' && Object.prototype.hasOwnProperty.call(cur, seg) ? (cur as Record<string, unknown>)[seg] : undefined;
    if (cur !== undefined) out.set(name, cur as T);
  }
  return out;
}

/** The nested object of a flat name → value map (names split at '/'). */
export function nestByName<T>(flat: ReadonlyMap<string, T>): Record<string, unknown> {
  // objects without a prototype: a module path '__proto__' is an ordinary key, never a way to Object.prototype
  const root = Object.create(null) as Record<string, unknown>;
  for (const [name, value] of flat) {
    const segs = name.split('/');
    let cur = root;
    for (const seg of segs.slice(0, -1)) cur = (cur[seg] ??= Object.create(null)) as Record<string, unknown>;
    cur[segs[segs.length - 1]!] = value;
  }
  return root;
}
