// Statement scopes of a kernel body: each value is `let`-bound in the scope of its index (where the variables of
// its index are defined) and memoised there; the hoisting pass (kernel-ir/hoist.ts) then moves it out of the loops
// and blocks its operands do not depend on.
import { ixVars, type Ix } from '../../compiler/schedule/index-expr.js';
import { exprVars, ref, valueS, type Expr, type Stmt } from '../kernel-ir/ir.js';

export class Scope {
  readonly lines: Stmt[] = [];
  readonly memo = new Map<string, Expr>();
  readonly depth: number;

  constructor(readonly parent?: Scope) {
    this.depth = parent ? parent.depth + 1 : 0;
  }
}

export class ScopeTree {
  readonly root = new Scope();
  private readonly varScope = new Map<string, Scope>();
  private counter = 0;
  private values = 0;

  /** A fresh identifier with the given prefix (deterministic per kernel). */
  fresh(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  /** Declare that `name` is defined in `scope` (kernel coordinates, loop variables, lets). */
  define(name: string, scope: Scope): void {
    this.varScope.set(name, scope);
  }

  /** The deepest scope any variable of `exprs` (IR or index expressions) belongs to (root when none is local). */
  scopeOf(exprs: readonly (Expr | Ix)[]): Scope {
    let best = this.root;
    for (const e of exprs)
      for (const id of 'k' in e ? exprVars(e) : ixVars(e)) {
        const s = this.varScope.get(id);
        if (s && s.depth > best.depth) best = s;
      }
    return best;
  }

  open(parent: Scope): Scope {
    return new Scope(parent);
  }

  /** Append the statement `wrap` makes of the scope's statements (a loop, an if, a block) to the parent. */
  close(s: Scope, wrap: (body: Stmt[]) => Stmt): void {
    s.parent!.lines.push(wrap(s.lines));
  }

  /** `let name = expr;` (a value: valueS) in `scope`; the name. */
  bindName(scope: Scope, prefix: string, expr: Expr, type?: 'f32' | 'i32' | 'u32'): string {
    const name = this.fresh(prefix);
    scope.lines.push(valueS(name, expr, this.values++, type));
    this.define(name, scope);
    return name;
  }

  /** `let name = expr;` in `scope`; the name's reference. */
  bind(scope: Scope, prefix: string, expr: Expr, type?: 'f32' | 'i32' | 'u32'): Expr {
    return ref(this.bindName(scope, prefix, expr, type));
  }
}
