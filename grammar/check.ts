// Static checks of a parsed spec file that need no registry: names, types of defaults, scoping in bodies.
// Codes: TDC310 duplicate declaration, TDC311 duplicate parameter/field, TDC312 unknown type,
// TDC313 default does not fit its type, TDC314 body may not return (warning), TDC315 undeclared name,
// TDC316 `let` of a name already bound in the block, TDC317 assignment to an unbound name, TDC318 a built-in
// called with arguments its signature (grammar/builtins.ts) does not take, TDC320 an expression statement whose
// value is dropped (warning), TDC321 code after `return` or error(...) (warning), TDC322 a field read that the
// struct type of a parameter does not declare (`p.b` with `p: P`), TDC323 a flag (a parameter whose default is
// true or false) passed by position (warning).
import { BUILTIN_FUNCTIONS, BUILTIN_VALUES, builtinSignature, renderBuiltin, requiredParams, type BuiltinSignature } from './builtins.js';
import { renderFuncSignature, renderLiteral, renderType } from './print.js';
import { diag, didYouMean, type Diagnostic, type Span } from '../src/diagnostics/index.js';
import type { Block, Decl, Expr, FuncDecl, Literal, SpecFile, Stmt, StructDecl, TypeExpr } from './ast.js';

export interface CheckOptions {
  /** Structs declared elsewhere (the prelude). */
  knownStructs?: Set<string>;
  /** Their declarations, where known: a default of such a struct type is checked against its fields too. */
  sharedStructs?: ReadonlyMap<string, StructDecl>;
  /** The declarations of helpers declared elsewhere (the prelude's), where known: their flags are checked too. */
  sharedHelpers?: ReadonlyMap<string, FuncDecl>;
  /** Functions callable from bodies (primitives, prelude helpers) — they may also be used as values. */
  knownFunctions?: Set<string>;
}

/** Names every body can read without declaring them: the built-in values and functions (grammar/builtins.ts). */
export const BUILTIN_NAMES: readonly string[] = [...BUILTIN_VALUES, ...Object.keys(BUILTIN_FUNCTIONS)];

const AFTER: Partial<Record<Stmt['kind'], string>> = { expr: 'error(...)', if: 'an if/else whose branches all return' };

/** Built-ins called for their effect, whose value may be dropped: a diagnostic, a run-time check, a state update. */
const EFFECTS = new Set(['error', 'assert_shape', 'assert_broadcasts', 'warn_rows', 'state_out']);

const PRIM_NAMES = ['float', 'int', 'bool', 'str', 'path', 'io', 'any', 'criterion', 'wrapper_config', 'tensor', 'scale_tensor', 'numeric_tensor'];

export function checkSpec(spec: SpecFile, opts: CheckOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const structs = new Map<string, Decl>(opts.sharedStructs);
  for (const d of spec.decls) if (d.kind === 'struct') structs.set(d.name, d);
  const knownStructs = new Set([...(opts.knownStructs ?? []), ...structs.keys()]);

  // Duplicate declarations.
  const seen = new Map<string, Decl>();
  for (const d of spec.decls) {
    const prev = seen.get(d.name);
    if (prev) out.push(diag('error', 'TDC310', `'${d.name}' is already declared`, nameSpan(d), { related: [{ message: `first declared here`, span: nameSpan(prev) }] }));
    else seen.set(d.name, d);
  }

  const globals = new Set<string>([...BUILTIN_NAMES, ...(opts.knownFunctions ?? [])]);
  const declared = new Set<string>(opts.knownFunctions ?? []);
  for (const d of spec.decls) if (d.kind !== 'struct') globals.add(d.name);
  for (const d of spec.decls) if (d.kind === 'def') declared.add(d.name);
  const helpers = new Map<string, FuncDecl>(opts.sharedHelpers);
  for (const d of spec.decls) if (d.kind === 'def') helpers.set(d.name, d);

  for (const d of spec.decls) {
    if (d.kind === 'struct') {
      dupNames(d.fields, `field of struct ${d.name}`, out);
      for (const f of d.fields) checkTyped(f.name, f.type, f.default, knownStructs, structs, out);
      continue;
    }
    const bound: { name: string; span: Span }[] = [];
    if (d.kind === 'loss') {
      bound.push(...d.params);
      if (d.rest) bound.push(d.rest);
      bound.push(...d.callParams);
      for (const p of d.params) checkTyped(p.name, p.type, p.default, knownStructs, structs, out);
    } else bound.push(...d.params);
    dupNames(bound, `parameter of ${d.name}`, out);

    const typed = new Map(d.kind === 'loss' ? d.params.map((p) => [p.name, p.type] as const) : []);
    new BodyChecker(globals, declared, out, typed, structs, helpers).run(d.body, bound.map((b) => b.name));
    if (!alwaysReturns(d.body)) {
      const what = d.kind === 'loss' ? `the body of ${d.level} ${d.name}` : `the body of ${d.name}`;
      out.push(diag('warning', 'TDC314', `${what} can end without a 'return'`, d.kind === 'loss' ? d.nameSpan : d.span));
    }
  }
  return out;
}

const nameSpan = (d: Decl): Span => (d.kind === 'loss' ? d.nameSpan : d.span);

function dupNames(items: readonly { name: string; span: Span }[], what: string, out: Diagnostic[]): void {
  const seen = new Map<string, Span>();
  for (const it of items) {
    const prev = seen.get(it.name);
    if (prev) out.push(diag('error', 'TDC311', `duplicate ${what}: '${it.name}'`, it.span, { related: [{ message: 'first declared here', span: prev }] }));
    else seen.set(it.name, it.span);
  }
}

// ---- types and defaults -----------------------------------------------------------------------------------
function checkTyped(name: string, type: TypeExpr, dflt: Literal | undefined, knownStructs: Set<string>, structs: Map<string, Decl>, out: Diagnostic[]): void {
  const before = out.length;
  checkTypeNames(type, knownStructs, out);
  if (dflt === undefined || out.length > before) return;
  const why = misfit(dflt, type, structs);
  if (why !== undefined) out.push(diag('error', 'TDC313', `default of '${name}' does not fit its type ${renderType(type)}: ${why}`, dflt.span));
}

function checkTypeNames(t: TypeExpr, knownStructs: Set<string>, out: Diagnostic[]): void {
  switch (t.kind) {
    case 'optional':
      return checkTypeNames(t.inner, knownStructs, out);
    case 'list':
      return checkTypeNames(t.elem, knownStructs, out);
    case 'map':
      return checkTypeNames(t.value, knownStructs, out);
    case 'named':
      if (!knownStructs.has(t.name)) {
        const hint = didYouMean(t.name, [...PRIM_NAMES, 'list', 'map', ...knownStructs]);
        out.push(diag('error', 'TDC312', `unknown type '${t.name}'`, t.span, hint ? { hint } : { hint: `types: ${PRIM_NAMES.join(', ')}, list<T>, map<T>, "a" | "b", T?, or a struct` }));
      }
  }
}

export { renderType as typeToString } from './print.js';

/** Why literal `l` is not a value of type `t`, or undefined when it is. */
function misfit(l: Literal, t: TypeExpr, structs: Map<string, Decl>): string | undefined {
  const shown = renderLiteral(l);
  if (t.kind === 'optional') return l.kind === 'none' ? undefined : misfit(l, t.inner, structs);
  if (t.kind === 'prim' && t.name === 'any') return undefined;
  if (l.kind === 'none') return `none is not allowed (write ${renderType(t)}? to make it optional)`;
  const not = (what: string): string => `${shown} is not ${what}`;
  switch (t.kind) {
    case 'literals':
      return l.kind === 'string' && t.values.includes(l.value) ? undefined : not(`one of ${renderType(t)}`);
    case 'list': {
      if (l.kind !== 'list') return not('a list');
      for (const it of l.items) {
        const why = misfit(it, t.elem, structs);
        if (why) return why;
      }
      return undefined;
    }
    case 'map':
      if (l.kind !== 'map') return not('a mapping');
      for (const e of l.entries) {
        const why = misfit(e.value, t.value, structs);
        if (why) return why;
      }
      return undefined;
    case 'named': {
      if (l.kind !== 'map') return not(`a ${t.name} mapping`);
      const s = structs.get(t.name);
      if (s?.kind !== 'struct') return undefined; // a struct declared elsewhere and not given: checked where it is declared
      for (const e of l.entries) {
        const f = s.fields.find((x) => x.name === e.key);
        if (!f) return `${t.name} has no field '${e.key}'`;
        const why = misfit(e.value, f.type, structs);
        if (why) return why;
      }
      const missing = s.fields.filter((f) => f.default === undefined && !l.entries.some((e) => e.key === f.name)).map((f) => `'${f.name}'`);
      return missing.length ? `${shown} is missing the required field${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${t.name}` : undefined;
    }
    case 'prim':
      switch (t.name) {
        case 'float':
          return l.kind === 'number' ? undefined : not('a number');
        case 'int':
          return l.kind === 'number' && l.isInt ? undefined : not('an int');
        case 'bool':
          return l.kind === 'bool' ? undefined : not('true or false');
        case 'str':
        case 'path':
          return l.kind === 'string' ? undefined : not('a string');
        case 'io':
          return l.kind === 'string' && (l.value === 'input' || l.value === 'output') ? undefined : not('"input" or "output"');
        case 'criterion':
        case 'wrapper_config':
          return l.kind === 'map' ? undefined : not(`a ${t.name} mapping`);
        default:
          return undefined;
      }
  }
}

// ---- bodies -------------------------------------------------------------------------------------------------
/** Lexical scoping: a block sees its own `let`s and those of the blocks around it; params form the outermost block. */
class BodyChecker {
  private readonly scopes: Set<string>[] = [];

  constructor(
    private readonly globals: Set<string>,
    /** Helpers (`def`s) visible to the body: they shadow built-ins of the same name. */
    private readonly defs: Set<string>,
    private readonly out: Diagnostic[],
    /** The declared types of the loss's parameters (a `def`'s are untyped). */
    private readonly paramTypes: ReadonlyMap<string, TypeExpr> = new Map(),
    private readonly structs: ReadonlyMap<string, Decl> = new Map(),
    /** The helpers' declarations (the file's and the prelude's, where known), for their flags. */
    private readonly helpers: ReadonlyMap<string, FuncDecl> = new Map(),
  ) {}

  /** Parameters the body assigns (`p = ...`): their type is no longer known statically. */
  private reassigned = new Set<string>();

  run(body: Block, params: string[]): void {
    this.reassigned = assignedNames(body);
    this.scopes.push(new Set(params));
    this.stmts(body.stmts); // the body block shares the params' scope: `let <param> = ...` is a re-binding
    this.scopes.pop();
  }

  private bound(name: string): boolean {
    return this.scopes.some((s) => s.has(name)) || this.globals.has(name);
  }

  private visible(): string[] {
    return [...new Set([...this.scopes.flatMap((s) => [...s]), ...this.globals])];
  }

  /** A direct call of a helper or a built-in (not shadowed by a local): flags passed by position (TDC323). */
  private call(name: string, e: Extract<Expr, { kind: 'call' }>): void {
    if (this.scopes.some((s) => s.has(name))) return;
    const helper = this.helpers.get(name);
    if (helper) {
      const flags = helper.params.map((p) => p.default?.kind === 'bool');
      return this.positionalFlags(renderFuncSignature(helper), helper.params.map((p) => p.name), flags, e);
    }
    if (this.defs.has(name)) return; // a helper whose declaration is not known here
    const sig = builtinSignature(name);
    if (!sig) return;
    this.builtinCall(name, sig, e);
    this.positionalFlags(renderBuiltin(name, sig), sig.params, sig.params.map((p) => sig.defaults?.[p] === 'true' || sig.defaults?.[p] === 'false'), e);
  }

  /** TDC323 (warning): `sum(s, 1, true)` — a flag read by position is easily taken for a dim; the docs ask for
   *  `sum(s, 1, keepdim=true)`. */
  private positionalFlags(what: string, params: readonly string[], isFlag: readonly boolean[], e: Extract<Expr, { kind: 'call' }>): void {
    e.args.forEach((a, i) => {
      if (!isFlag[i]) return;
      const value = a.kind === 'bool' ? String(a.value) : '...';
      this.out.push(
        diag('warning', 'TDC323', `the flag '${params[i]}' of ${what} is passed by position`, a.span, {
          hint: `pass it by keyword: ${params[i]}=${value}${i + 1 < e.args.length ? ` (and the arguments after it too)` : ''}`,
        }),
      );
    });
  }

  /** A direct call of a built-in: its arguments against its signature. */
  private builtinCall(name: string, sig: BuiltinSignature, e: Extract<Expr, { kind: 'call' }>): void {
    const what = renderBuiltin(name, sig);
    if (!sig.rest && e.args.length > sig.params.length)
      this.out.push(diag('error', 'TDC318', `${what} takes at most ${sig.params.length} argument${sig.params.length === 1 ? '' : 's'}, got ${e.args.length}`, e.span));
    const missing = requiredParams(sig).filter((p) => sig.params.indexOf(p) >= e.args.length && !e.kwargs.some((k) => k.name === p));
    if (missing.length)
      this.out.push(diag('error', 'TDC318', `${what} is missing the argument${missing.length > 1 ? 's' : ''} ${missing.map((p) => `'${p}'`).join(', ')}`, e.span));
    for (const k of e.kwargs) {
      const i = sig.params.indexOf(k.name);
      if (i < 0 && !sig.rest) {
        const hint = didYouMean(k.name, sig.params);
        this.out.push(diag('error', 'TDC318', `${what} has no parameter '${k.name}'`, k.span, hint ? { hint } : undefined));
      } else if (i >= 0 && i < e.args.length) this.out.push(diag('error', 'TDC318', `${what}: '${k.name}' is given both by position and by keyword`, k.span));
    }
  }

  private block(b: Block, extra: string[] = []): void {
    this.scopes.push(new Set(extra));
    this.stmts(b.stmts);
    this.scopes.pop();
  }

  private stmts(stmts: Stmt[]): void {
    const scope = this.scopes[this.scopes.length - 1]!;
    for (const [i, s] of stmts.entries()) {
      const prev = stmts[i - 1];
      if (prev && stmtReturns(prev))
        this.out.push(
          diag('warning', 'TDC321', `unreachable: this code comes after ${AFTER[prev.kind] ?? "'return'"} and never runs`, s.span, {
            related: [{ message: prev.kind === 'expr' ? 'the error is raised here' : prev.kind === 'if' ? 'every branch returns here' : 'the body returns here', span: prev.span }],
          }),
        );
      if (s.kind === 'expr') this.unusedValue(s);
      switch (s.kind) {
        case 'let':
          this.expr(s.value);
          if (scope.has(s.name)) this.out.push(diag('error', 'TDC316', `'${s.name}' is already bound in this block; to change it write '${s.name} = ...' without 'let'`, s.span));
          scope.add(s.name);
          break;
        case 'assign':
          this.expr(s.value);
          if (!this.scopes.some((sc) => sc.has(s.name))) {
            this.out.push(diag('error', 'TDC317', `assignment to '${s.name}', which is not bound; declare it first with 'let ${s.name} = ...'`, s.span));
            scope.add(s.name); // report once
          }
          break;
        case 'if':
          this.expr(s.cond);
          this.block(s.then);
          if (s.else) this.block(s.else);
          break;
        case 'for':
          this.expr(s.iter);
          this.block(s.body, s.vars);
          break;
        case 'return':
        case 'expr':
          this.expr(s.value);
          break;
      }
    }
  }

  /** TDC320 (warning): an expression statement whose value is dropped (`- 2.0` on a line of its own). */
  private unusedValue(s: Extract<Stmt, { kind: 'expr' }>): void {
    const e = s.value;
    if (e.kind === 'call') {
      const f = e.callee.kind === 'ident' ? e.callee.name : undefined;
      // a helper, a loss value or a built-in with an effect (error, warn_rows, state_out, ...)
      if (f === undefined || this.scopes.some((sc) => sc.has(f)) || this.defs.has(f) || !builtinSignature(f) || EFFECTS.has(f)) return;
    }
    const continued = e.kind === 'unary' && e.op === '-';
    this.out.push(
      diag('warning', 'TDC320', `this expression's value is not used${continued ? '; did you mean to continue the previous line?' : ''}`, e.span, {
        hint: continued
          ? "a line that starts with '-' is a statement of its own: end the previous line with the operator, or wrap the expression in parentheses"
          : "bind it with 'let', return it, or remove it",
      }),
    );
  }

  /** The struct a parameter (or a field of one) is declared with, where the body has not re-bound it. */
  private structOf(e: Expr): Extract<Decl, { kind: 'struct' }> | undefined {
    let t: TypeExpr | undefined;
    if (e.kind === 'ident') {
      const inner = this.scopes.slice(1).some((s) => s.has(e.name)); // a `let` or loop variable of the same name
      t = inner || this.reassigned.has(e.name) ? undefined : this.paramTypes.get(e.name);
    } else if (e.kind === 'member') t = this.structOf(e.object)?.fields.find((f) => f.name === e.name)?.type;
    while (t?.kind === 'optional') t = t.inner;
    const s = t?.kind === 'named' ? this.structs.get(t.name) : undefined;
    return s?.kind === 'struct' ? s : undefined;
  }

  /** TDC322: `p.b` where p's struct declares no field b (it would read none and fail later, far from here). */
  private fieldRead(e: Extract<Expr, { kind: 'member' }>): void {
    const s = this.structOf(e.object);
    if (!s || s.fields.some((f) => f.name === e.name)) return;
    const names = s.fields.map((f) => f.name);
    const hint = didYouMean(e.name, names);
    this.out.push(diag('error', 'TDC322', `struct ${s.name} has no field '${e.name}'`, e.span, { hint: hint ?? `${s.name}'s fields: ${names.join(', ') || 'none'}` }));
  }

  private expr(e: Expr): void {
    switch (e.kind) {
      case 'ident':
        if (!this.bound(e.name)) {
          const hint = didYouMean(e.name, this.visible());
          this.out.push(diag('error', 'TDC315', `'${e.name}' is not defined`, e.span, hint ? { hint } : undefined));
        }
        return;
      case 'list':
        return e.items.forEach((x) => this.expr(x));
      case 'unary':
        return this.expr(e.arg);
      case 'binary':
        this.expr(e.left);
        return this.expr(e.right);
      case 'cond':
        this.expr(e.cond);
        this.expr(e.then);
        return this.expr(e.else);
      case 'call':
        if (e.callee.kind !== 'ident') this.expr(e.callee); // unknown functions are the instantiator's to report
        else this.call(e.callee.name, e);
        e.args.forEach((x) => this.expr(x));
        e.kwargs.forEach((k) => this.expr(k.value));
        return;
      case 'member':
        this.expr(e.object);
        return this.fieldRead(e);
      case 'index':
        this.expr(e.object);
        return this.expr(e.index);
      default:
        return;
    }
  }
}

/** Names assigned (`x = ...`, not `let`) anywhere in `b`. */
function assignedNames(b: Block): Set<string> {
  const out = new Set<string>();
  const walk = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (s.kind === 'assign') out.add(s.name);
      else if (s.kind === 'if') {
        walk(s.then.stmts);
        if (s.else) walk(s.else.stmts);
      } else if (s.kind === 'for') walk(s.body.stmts);
    }
  };
  walk(b.stmts);
  return out;
}

/** Whether every path through `b` ends in `return` (or `error(...)`, which aborts instantiation). */
function alwaysReturns(b: Block): boolean {
  return b.stmts.some(stmtReturns);
}

/** Whether `s` never lets control reach the statement after it. */
function stmtReturns(s: Stmt): boolean {
  if (s.kind === 'return') return true;
  if (s.kind === 'expr') return s.value.kind === 'call' && s.value.callee.kind === 'ident' && s.value.callee.name === 'error';
  if (s.kind === 'if') return s.else !== undefined && alwaysReturns(s.then) && alwaysReturns(s.else);
  return false;
}
