// A literal default read as its declared type: a struct mapping gets the defaults of the fields it leaves out, at
// any depth (`p: P = {}` with `struct P { a: int = 3 }` is {a: 3}), as a struct given in a config does.
import type { Literal, StructDecl, TypeExpr } from './ast.js';

/** `inside`: the structs being filled on the way here (a struct whose field defaults to itself is filled once). */
export function withFieldDefaults(l: Literal, t: TypeExpr, structs: ReadonlyMap<string, StructDecl>, inside: ReadonlySet<string> = new Set()): Literal {
  const fill = (x: Literal, u: TypeExpr, within = inside): Literal => withFieldDefaults(x, u, structs, within);
  switch (t.kind) {
    case 'optional':
      return fill(l, t.inner);
    case 'list':
      return l.kind === 'list' ? { ...l, items: l.items.map((x) => fill(x, t.elem)) } : l;
    case 'map':
      return l.kind === 'map' ? { ...l, entries: l.entries.map((e) => ({ key: e.key, value: fill(e.value, t.value) })) } : l;
    case 'named': {
      const s = structs.get(t.name);
      if (!s || l.kind !== 'map' || inside.has(s.name)) return l;
      const within = new Set([...inside, s.name]);
      const entries = l.entries.map((e) => {
        const f = s.fields.find((x) => x.name === e.key);
        return f ? { key: e.key, value: fill(e.value, f.type, within) } : e;
      });
      for (const f of s.fields)
        if (f.default !== undefined && !l.entries.some((e) => e.key === f.name)) entries.push({ key: f.name, value: fill(f.default, f.type, within) });
      return { ...l, entries };
    }
    default:
      return l;
  }
}
