// Facts about a kernel read off its IR: which arrays it reads, which it accesses as vec4s, which helper functions
// it calls.
import { exprVars, type Expr, type Helper, type Stmt } from './ir.js';
import { HELPERS, isHelper } from './helpers.js';

/** Calls `visit` on every expression of the statements (nested ones included) and on every assignment target. */
function walk(body: readonly Stmt[], visit: (e: Expr, target: boolean) => void): void {
  const expr = (e: Expr, target = false): void => {
    visit(e, target);
    switch (e.k) {
      case 'bin':
        expr(e.a);
        expr(e.b);
        break;
      case 'neg':
      case 'not':
      case 'lane':
        expr(e.a, target && e.k === 'lane');
        break;
      case 'call':
        for (const a of e.args) expr(a);
        break;
      case 'at':
      case 'at4s':
      case 'at4':
      case 'atomicLoad':
        expr(e.i);
        break;
    }
  };
  for (const s of body)
    switch (s.k) {
      case 'let':
        expr(s.e);
        break;
      case 'subgroup':
        expr(s.e);
        if (s.mask) expr(s.mask);
        break;
      case 'var':
        if (s.init) expr(s.init);
        break;
      case 'assign':
        expr(s.to, true);
        expr(s.e);
        break;
      case 'block':
      case 'loop':
        walk(s.body, visit);
        break;
      case 'if':
        expr(s.cond);
        walk(s.then, visit);
        if (s.else) walk(s.else, visit);
        break;
      case 'for':
        expr(s.from);
        expr(s.cond);
        expr(s.step);
        walk(s.body, visit);
        break;
      case 'return':
        if (s.e) expr(s.e);
        break;
      case 'atomic':
        expr(s.i);
        expr(s.e);
        break;
    }
}

/** Arrays (storage buffers, workgroup and private arrays) some expression reads an element of. */
export function arraysRead(body: readonly Stmt[]): Set<string> {
  const out = new Set<string>();
  walk(body, (e, target) => {
    if (!target && (e.k === 'at' || e.k === 'at4s' || e.k === 'at4')) out.add(e.array);
  });
  return out;
}

/** Variables the statements read (in expressions and index expressions, nested statements included). */
export function varsRead(body: readonly Stmt[]): Set<string> {
  const out = new Set<string>();
  walk(body, (e) => {
    if (e.k === 'var' || e.k === 'ix') for (const v of exprVars(e)) out.add(v);
  });
  return out;
}

/** Arrays read or written as whole vec4s (their declarations must be vec4 arrays). */
export function vec4Arrays(body: readonly Stmt[]): Set<string> {
  const out = new Set<string>();
  walk(body, (e) => {
    if (e.k === 'at4') out.add(e.array);
  });
  return out;
}

/** The helper functions the statements call, directly or through other helpers, sorted by name. */
export function helpersCalled(body: readonly Stmt[]): Helper[] {
  const out = new Set<Helper>();
  const visit = (stmts: readonly Stmt[]): void =>
    walk(stmts, (e) => {
      if (e.k !== 'call' || !isHelper(e.fn) || out.has(e.fn)) return;
      out.add(e.fn);
      visit(HELPERS[e.fn].body);
    });
  visit(body);
  return [...out].sort();
}
