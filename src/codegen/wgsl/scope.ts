// Statement scopes of a kernel body: each value is `let`-bound once in the outermost scope where every
// variable it reads is defined (loop-invariant code is hoisted out of sweeps for free), and memoised there.
import { ixVars, type Ix } from '../../compiler/schedule/index-expr.js';

export class Scope {
  readonly lines: string[] = [];
  readonly memo = new Map<string, string>();
  readonly depth: number;

  constructor(readonly parent?: Scope) {
    this.depth = parent ? parent.depth + 1 : 0;
  }
}

/** Identifiers (not keywords, not builtins) appearing in WGSL expression text. */
function identifiersOf(e: string): string[] {
  return e.match(/\b[A-Za-z_][A-Za-z0-9_]*\b/g) ?? [];
}

export class ScopeTree {
  readonly root = new Scope();
  private readonly varScope = new Map<string, Scope>();
  private counter = 0;

  /** A fresh identifier with the given prefix (deterministic per kernel). */
  fresh(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  /** Declare that `name` is defined in `scope` (kernel coordinates, loop variables, lets). */
  define(name: string, scope: Scope): void {
    this.varScope.set(name, scope);
  }

  /** The deepest scope any variable of `exprs` (index expressions or WGSL text) belongs to (root when none is local). */
  scopeOf(exprs: readonly (string | Ix)[]): Scope {
    let best = this.root;
    for (const e of exprs)
      for (const id of typeof e === 'string' ? identifiersOf(e) : ixVars(e)) {
        const s = this.varScope.get(id);
        if (s && s.depth > best.depth) best = s;
      }
    return best;
  }

  open(parent: Scope): Scope {
    return new Scope(parent);
  }

  /** Append `header { …lines… }` to the parent's lines. */
  close(s: Scope, header: string, footer: string[] = []): void {
    const p = s.parent!;
    p.lines.push(header ? `${header} {` : '{', ...s.lines.map((l) => `  ${l}`), ...footer.map((l) => `  ${l}`), '}');
  }

  /** `let name = expr;` in `scope`. */
  bind(scope: Scope, prefix: string, expr: string, type?: string): string {
    const name = this.fresh(prefix);
    scope.lines.push(`let ${name}${type ? `: ${type}` : ''} = ${expr};`);
    this.define(name, scope);
    return name;
  }
}
