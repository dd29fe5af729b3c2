// The spec interpreter: evaluates loss bodies with kwargs as compile-time values. `if` on compile-time values
// picks a branch, `for` unrolls, helpers inline, and tensor expressions become graph nodes (tensors.ts).
// In reads-only mode, a condition that depends on shapes runs both branches (collecting every read).
import type { Block, Expr, FuncDecl, Literal, LossDecl, Stmt } from '../../../grammar/ast.js';
import type { Span } from '../../diagnostics/diagnostic.js';
import { didYouMean } from '../../diagnostics/suggest.js';
import { addDims, dimEq, divExactDims, mulDims, subDims } from '../../graph/dims.js';
import type { BinaryOp as GraphBinaryOp } from '../../graph/types.js';
import { getLowLevelLoss, homeScopeOf, registryKeys, scopeOf, type RegisteredLoss, type SpecScope } from '../../registry/registry.js';
import type { Side } from '../ir.js';
import { builtinSignature, renderBuiltin, requiredParams, type BuiltinName, type BuiltinSignature } from '../../../grammar/builtins.js';
import { withFieldDefaults } from '../../../grammar/field-defaults.js';
import { renderFuncSignature } from '../../../grammar/print.js';
import { BUILTINS, type BuiltinHost } from './builtins.js';
import { C } from './codes.js';
import { fail, type EvalContext } from './context.js';
import { checkListLength, checkStringLength, step } from './limits.js';
import { dtypeOf, op, PLACEHOLDER, toNode } from './tensors.js';
import { asDim, bool, dimValue, isTensorLike, kindName, list, NONE, num, numeric, show, str, tensor, UNKNOWN, type Truth, type Value } from './values.js';
export type { Truth } from './values.js';

const MAX_DEPTH = 200;

class Env {
  private readonly vars = new Map<string, Value>();
  constructor(readonly parent?: Env) {}
  get(name: string): Value | undefined {
    return this.vars.get(name) ?? this.parent?.get(name);
  }
  define(name: string, v: Value): void {
    this.vars.set(name, v);
  }
  assign(name: string, v: Value): boolean {
    if (this.vars.has(name)) {
      this.vars.set(name, v);
      return true;
    }
    return this.parent?.assign(name, v) ?? false;
  }
  names(): string[] {
    return [...this.vars.keys(), ...(this.parent?.names() ?? [])];
  }
}

/** How a block ended: with the value of a `return` (at: that statement), or undefined when it fell through. */
type Flow = { value: Value; at?: Span } | undefined;

export class Interpreter implements BuiltinHost {
  constructor(
    readonly ctx: EvalContext,
    readonly scope: SpecScope,
  ) {}

  // ---- entry points -------------------------------------------------------------------------------------

  /** Run a loss body with its parameters bound; returns what it returns (none if it falls off the end). */
  runLoss(decl: LossDecl, kwargs: Map<string, Value>, callArgs: Value[], callSite?: Span): Value {
    const env = new Env(this.globals());
    for (const p of decl.params) {
      const given = kwargs.get(p.name);
      if (given !== undefined) env.define(p.name, given);
      else if (p.default) env.define(p.name, literalValue(withFieldDefaults(p.default, p.type, this.scope.structs)));
      else fail(this.ctx, C.args, `${decl.name}: missing required argument '${p.name}'`, callSite ?? decl.nameSpan);
    }
    if (decl.rest) {
      const rest = new Map<string, Value>();
      const declared = new Set(decl.params.map((p) => p.name));
      for (const [k, v] of kwargs) if (!declared.has(k)) rest.set(k, v);
      env.define(decl.rest.name, { t: 'map', entries: rest });
    } else {
      const declared = new Set(decl.params.map((p) => p.name));
      for (const k of kwargs.keys())
        if (!declared.has(k))
          fail(this.ctx, C.args, `${decl.name}: unexpected keyword argument '${k}'`, callSite ?? decl.nameSpan, {
            ...(didYouMean(k, declared) ? { hint: didYouMean(k, declared)! } : {}),
          });
    }
    if (callArgs.length !== decl.callParams.length)
      fail(
        this.ctx,
        C.args,
        `${decl.name} takes ${decl.callParams.length} tensor argument${decl.callParams.length === 1 ? '' : 's'}${decl.callParams.length ? ` (${decl.callParams.map((c) => c.name).join(', ')})` : ''}, got ${callArgs.length}`,
        callSite,
        decl.level === 'low' && decl.callParams.length > 2 && callArgs.length === 2
          ? {
              hint:
                "torchdistill's loss wrappers (SimpleLossWrapper, DictLossWrapper) call a low-level loss with two tensors (input, target), " +
                `so no torchdistill config can feed ${decl.name}; call it from a custom spec (--spec) that passes all ${decl.callParams.length}`,
            }
          : undefined,
      );
    decl.callParams.forEach((c, i) => env.define(c.name, callArgs[i]!));
    return this.enter(decl.name, 'loss', callSite, () => this.runBody(decl.body, env));
  }

  callFunc(f: FuncDecl, args: Value[], kwargs: Map<string, Value>, span: Span): Value {
    const env = new Env(this.globals());
    if (args.length > f.params.length)
      fail(this.ctx, C.args, `${f.name} takes at most ${f.params.length} argument${f.params.length === 1 ? '' : 's'}, got ${args.length}`, span);
    const names = f.params.map((p) => p.name);
    for (const [k, v] of kwargs) {
      const i = names.indexOf(k);
      if (i < 0) fail(this.ctx, C.args, `${f.name}: unexpected keyword argument '${k}'`, span, didYouMean(k, names) ? { hint: didYouMean(k, names)! } : undefined);
      if (i < args.length) fail(this.ctx, C.args, `${f.name}: got multiple values for argument '${k}'`, span);
      env.define(k, v);
    }
    // as in Python, a parameter without a default must be given: `softmax(x)` is no softmax over every element
    const missing = f.params.filter((p, i) => i >= args.length && !p.default && !kwargs.has(p.name)).map((p) => `'${p.name}'`);
    if (missing.length) fail(this.ctx, C.args, `${renderFuncSignature(f)} is missing the argument${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, span);
    f.params.forEach((p, i) => {
      if (i < args.length) env.define(p.name, args[i]!);
      else if (!kwargs.has(p.name)) env.define(p.name, literalValue(p.default!));
    });
    // the body resolves names where the helper is declared: a prelude helper never sees a spec's own defs
    const home = homeScopeOf(f);
    const it = home && home !== this.scope ? new Interpreter(this.ctx, home) : this;
    return it.enter(f.name, 'def', span, () => it.runBody(f.body, env));
  }

  private enter(name: string, kind: 'loss' | 'def', callSite: Span | undefined, body: () => Value): Value {
    const ctx = this.ctx;
    if (ctx.frames.length >= MAX_DEPTH && ctx.mode === 'reads' && !ctx.certain) return UNKNOWN; // a recursion cut by a shape-dependent base case
    if (ctx.frames.length >= MAX_DEPTH) fail(ctx, C.recursion, `calls nested more than ${MAX_DEPTH} deep (recursive helper?)`, callSite);
    step(ctx);
    const savedCertain = ctx.certain;
    ctx.frames.push({ name, kind, ...(callSite ? { callSite } : {}) });
    try {
      return body();
    } finally {
      ctx.frames.pop();
      ctx.certain = savedCertain;
    }
  }

  private globalEnv?: Env;
  globals(): Env {
    if (this.globalEnv) return this.globalEnv;
    const g = new Env();
    g.define('student', { t: 'iodict', side: 'student' });
    g.define('teacher', { t: 'iodict', side: 'teacher' });
    g.define('targets', { t: 'ref', ref: { kind: 'targets' } });
    g.define('model_loss', { t: 'modelloss', keys: this.ctx.modelLossKeys });
    g.define('model_loss_keys', list(this.ctx.modelLossKeys.map(str)));
    return (this.globalEnv = g);
  }

  // ---- statements ---------------------------------------------------------------------------------------

  runBody(block: Block, env: Env): Value {
    const flow = this.execBlock(block, env);
    if (flow?.at) this.ctx.returnedAt = flow.at;
    else delete this.ctx.returnedAt;
    return flow ? flow.value : NONE;
  }

  private execBlock(block: Block, env: Env): Flow {
    for (const s of block.stmts) {
      const flow = this.exec(s, env);
      if (flow) return flow;
    }
    return undefined;
  }

  private exec(s: Stmt, env: Env): Flow {
    const ctx = this.ctx;
    switch (s.kind) {
      case 'let':
        env.define(s.name, this.eval(s.value, env));
        return undefined;
      case 'assign': {
        const v = this.eval(s.value, env);
        if (!env.assign(s.name, v)) fail(ctx, C.unknownName, `assignment to '${s.name}', which is not bound (use 'let ${s.name} = ...')`, s.span);
        return undefined;
      }
      case 'return':
        return { value: this.eval(s.value, env), at: s.span };
      case 'expr':
        this.eval(s.value, env);
        return undefined;
      case 'if': {
        const t = this.truth(this.eval(s.cond, env), s.cond.span);
        if (t === true) return this.execBlock(s.then, new Env(env));
        if (t === false) return s.else ? this.execBlock(s.else, new Env(env)) : undefined;
        // reads mode, shape-dependent condition: both branches, nothing after them is certain
        const saved = ctx.certain;
        ctx.certain = false;
        const a = this.execBlock(s.then, new Env(env));
        const b = s.else ? this.execBlock(s.else, new Env(env)) : undefined;
        ctx.certain = saved && !a && !b;
        if (a && b) return { value: isTensorLike(a.value) ? a.value : UNKNOWN };
        return undefined;
      }
      case 'for':
        return this.execFor(s, env);
    }
  }

  private execFor(s: Extract<Stmt, { kind: 'for' }>, env: Env): Flow {
    const ctx = this.ctx;
    const it = this.eval(s.iter, env);
    const rows: Value[][] = [];
    const two = s.vars.length === 2;
    switch (it.t) {
      case 'list':
        for (const x of it.items) {
          if (!two) rows.push([x]);
          else if (x.t === 'list' && x.items.length === 2) rows.push(x.items);
          else fail(ctx, C.type, `cannot unpack ${kindName(x)} into ${s.vars.join(', ')}`, s.iter.span);
        }
        break;
      case 'map':
        for (const [k, v] of it.entries) rows.push(two ? [str(k), v] : [str(k)]);
        break;
      case 'modelloss':
        for (const k of it.keys) rows.push(two ? [str(k), { t: 'ref', ref: { kind: 'model_loss', key: k } }] : [str(k)]);
        break;
      case 'unknown': {
        if (ctx.mode === 'graph') fail(ctx, C.notCompileTime, 'the loop range cannot be computed at compile time', s.iter.span);
        const saved = ctx.certain;
        ctx.certain = false;
        const e = new Env(env);
        for (const v of s.vars) e.define(v, UNKNOWN);
        const flow = this.execBlock(s.body, e);
        ctx.certain = saved && !flow;
        return undefined;
      }
      case 'none':
        return fail(ctx, C.type, `cannot iterate over none`, s.iter.span);
      default:
        if (isTensorLike(it)) fail(ctx, C.notCompileTime, 'a for loop needs a compile-time list or mapping, not a run-time tensor', s.iter.span);
        return fail(ctx, C.type, `cannot iterate over ${kindName(it)}`, s.iter.span);
    }
    for (const row of rows) {
      step(ctx);
      const e = new Env(env);
      s.vars.forEach((v, i) => e.define(v, row[i]!));
      const flow = this.execBlock(s.body, e);
      if (flow) return flow;
    }
    return undefined;
  }

  // ---- expressions --------------------------------------------------------------------------------------

  eval(e: Expr, env: Env): Value {
    const ctx = this.ctx;
    switch (e.kind) {
      case 'number':
        return num(e.value, e.isInt);
      case 'string':
        return str(e.value);
      case 'bool':
        return bool(e.value);
      case 'none':
        return NONE;
      case 'list':
        return list(e.items.map((x) => this.eval(x, env)));
      case 'ident': {
        const v = env.get(e.name);
        if (v !== undefined) return v;
        const f = this.scope.funcs.get(e.name);
        if (f || builtinSignature(e.name)) fail(ctx, C.type, `'${e.name}' is a function; call it`, e.span);
        const candidates = [...env.names(), ...this.scope.funcs.keys(), ...Object.keys(BUILTINS)];
        const hint = didYouMean(e.name, candidates);
        return fail(ctx, C.unknownName, `unknown name '${e.name}'`, e.span, hint ? { hint } : undefined);
      }
      case 'unary': {
        const a = this.eval(e.arg, env);
        ctx.curSpan = e.span;
        if (e.op === 'not') {
          const t = this.truth(a, e.arg.span);
          return t === 'unknown' ? UNKNOWN : bool(!t);
        }
        return this.negate(a);
      }
      case 'binary':
        return this.evalBinary(e, env);
      case 'cond': {
        const t = this.truth(this.eval(e.cond, env), e.cond.span);
        if (t === true) return this.eval(e.then, env);
        if (t === false) return this.eval(e.else, env);
        const saved = ctx.certain;
        ctx.certain = false;
        const a = this.eval(e.then, env);
        const b = this.eval(e.else, env);
        ctx.certain = saved;
        return isTensorLike(a) || isTensorLike(b) ? tensor(PLACEHOLDER) : UNKNOWN;
      }
      case 'call':
        return this.evalCall(e, env);
      case 'member': {
        const o = this.eval(e.object, env);
        ctx.curSpan = e.span;
        return this.member(o, e.name, e.span);
      }
      case 'index': {
        const o = this.eval(e.object, env);
        const i = this.eval(e.index, env);
        ctx.curSpan = e.span;
        return this.index(o, i, e.span);
      }
    }
  }

  private evalBinary(e: Extract<Expr, { kind: 'binary' }>, env: Env): Value {
    const ctx = this.ctx;
    if (e.op === '??') {
      const a = this.eval(e.left, env);
      return a.t === 'none' ? this.eval(e.right, env) : a;
    }
    if (e.op === 'and' || e.op === 'or') {
      const a = this.eval(e.left, env);
      const ta = this.truth(a, e.left.span);
      if (ta !== 'unknown') {
        if (e.op === 'and' && !ta) return a;
        if (e.op === 'or' && ta) return a;
        return this.eval(e.right, env);
      }
      const b = this.eval(e.right, env);
      const tb = this.truth(b, e.right.span);
      if (e.op === 'and' && tb === false) return b;
      if (e.op === 'or' && tb === true) return b;
      return UNKNOWN;
    }
    const a = this.eval(e.left, env);
    const b = this.eval(e.right, env);
    ctx.curSpan = e.span;
    return this.binary(e.op, a, b);
  }

  /** Python truthiness of a compile-time value. */
  truth(v: Value, span: Span): Truth {
    const ctx = this.ctx;
    switch (v.t) {
      case 'bool':
        return v.v;
      case 'num':
        return v.v !== 0;
      case 'str':
        return v.v.length > 0;
      case 'none':
        return false;
      case 'list':
        return v.items.length > 0;
      case 'map':
        return v.entries.size > 0;
      case 'dim':
      case 'unknown':
        if (ctx.mode === 'graph')
          fail(ctx, C.notCompileTime, `this condition depends on ${v.t === 'dim' ? 'a symbolic dim' : 'a value'} that is only known at run time`, span, {
            hint: 'compile with concrete input shapes, or make the condition depend on kwargs only',
          });
        return 'unknown';
      case 'tensor':
      case 'ref':
        return fail(ctx, C.notCompileTime, 'a run-time tensor is used where a compile-time value is needed (a condition must depend on kwargs or shapes only)', span, {
          hint: 'use where(cond, a, b) to select between tensors elementwise',
        });
      default:
        return true;
    }
  }

  private negate(a: Value): Value {
    switch (a.t) {
      case 'num':
        return num(-a.v, a.int);
      case 'bool':
        return num(a.v ? -1 : 0, true);
      case 'dim':
        return dimValue(subDims(0, a.d));
      case 'unknown':
        return UNKNOWN;
      default:
        if (isTensorLike(a)) return tensor(op(this.ctx, 'unary', [toNode(this.ctx, a)], { fn: 'neg' }));
        return fail(this.ctx, C.type, `cannot negate ${kindName(a)}`);
    }
  }

  // ---- operators ----------------------------------------------------------------------------------------

  binary(opName: string, a: Value, b: Value): Value {
    const ctx = this.ctx;
    if (isTensorLike(a) || isTensorLike(b)) return this.tensorBinary(opName, a, b);
    if (a.t === 'unknown' || b.t === 'unknown') {
      if (ctx.mode === 'graph' && (opName === '==' || opName === '!=') && (a.t === 'none' || b.t === 'none')) return bool(opName === '!=');
      return UNKNOWN;
    }
    switch (opName) {
      case '==':
      case '!=': {
        const eq = this.equal(a, b);
        if (eq === 'unknown') return UNKNOWN;
        return bool(opName === '==' ? eq : !eq);
      }
      case '<':
      case '<=':
      case '>':
      case '>=':
        return this.order(opName, a, b);
    }
    if (a.t === 'str' && b.t === 'str' && opName === '+') {
      checkStringLength(this.ctx, a.v.length + b.v.length, 'this string');
      return str(a.v + b.v);
    }
    if (a.t === 'list' && b.t === 'list' && opName === '+') {
      checkListLength(this.ctx, a.items.length + b.items.length, 'this list');
      return list([...a.items, ...b.items]);
    }
    const x = numeric(a);
    const y = numeric(b);
    if (x !== undefined && y !== undefined) return this.arith(opName, x, y);
    const dx = asDim(a);
    const dy = asDim(b);
    if (dx !== undefined && dy !== undefined) {
      switch (opName) {
        case '+':
          return dimValue(addDims(dx, dy));
        case '-':
          return dimValue(subDims(dx, dy));
        case '*':
          return dimValue(mulDims(dx, dy));
        case '/': {
          const q = divExactDims(dx, dy);
          if (q !== undefined) return dimValue(q);
          break;
        }
        default:
          return ctx.mode === 'graph' ? this.dimTensorBinary(opName, a, b) : UNKNOWN;
      }
    }
    if ((a.t === 'dim' && b.t === 'num') || (a.t === 'num' && b.t === 'dim') || (a.t === 'dim' && b.t === 'dim'))
      return this.dimTensorBinary(opName, a, b);
    return fail(ctx, C.type, `unsupported operand types for ${opName}: ${kindName(a)} and ${kindName(b)}`);
  }

  /** Arithmetic on a symbolic dim that leaves the integers (e.g. 0.5 * N): computed as a scalar tensor. */
  private dimTensorBinary(opName: string, a: Value, b: Value): Value {
    if (opName === '%') return UNKNOWN;
    return this.tensorBinary(opName, a, b);
  }

  private arith(opName: string, x: { v: number; int: boolean }, y: { v: number; int: boolean }): Value {
    const int = x.int && y.int;
    switch (opName) {
      case '+':
        return num(x.v + y.v, int);
      case '-':
        return num(x.v - y.v, int);
      case '*':
        return num(x.v * y.v, int);
      case '/':
        if (y.v === 0) fail(this.ctx, C.type, 'division by zero');
        return num(x.v / y.v, false);
      case '%':
        if (y.v === 0) fail(this.ctx, C.type, 'modulo by zero');
        return num(x.v - Math.floor(x.v / y.v) * y.v, int);
      case '**':
        return num(x.v ** y.v, int && y.v >= 0);
    }
    return fail(this.ctx, C.internal, `unknown operator ${opName}`);
  }

  /**
   * Python's `==` on compile-time values. Lists and maps are compared without recursion, each pair of them counted
   * as a step: a list doubled 40 times (`z = [z, z]`) shares its halves, so its tree has 2^40 leaves, and walking
   * that ends in TDC414 instead of running for hours. The same list object on both sides is equal without a walk.
   */
  private equal(a: Value, b: Value): boolean | 'unknown' {
    const todo: [Value, Value, boolean][] = [[a, b, false]];
    let unknown = false;
    while (todo.length) {
      const [x, y, nested] = todo.pop()!;
      if ((x.t === 'list' && y.t === 'list') || (x.t === 'map' && y.t === 'map')) {
        step(this.ctx, 'comparing these values with == (nested lists or mappings too large to walk)');
        if (x === y) continue;
        if (x.t === 'list' && y.t === 'list') {
          if (x.items.length !== y.items.length) return false;
          for (let i = x.items.length - 1; i >= 0; i--) todo.push([x.items[i]!, y.items[i]!, true]);
        } else if (x.t === 'map' && y.t === 'map') {
          if (x.entries.size !== y.entries.size) return false;
          for (const [k, v] of x.entries) {
            const w = y.entries.get(k);
            if (w === undefined) return false;
            todo.push([v, w, true]);
          }
        }
        continue;
      }
      const r = nested && (x.t === 'unknown' || y.t === 'unknown') ? 'unknown' : this.equalScalar(x, y);
      if (r === false) return false;
      if (r === 'unknown') unknown = true;
    }
    return unknown ? 'unknown' : true;
  }

  /** `==` on two values that are not both lists or both maps. */
  private equalScalar(a: Value, b: Value): boolean | 'unknown' {
    if (a.t === 'none' || b.t === 'none') return a.t === b.t;
    const x = numeric(a);
    const y = numeric(b);
    if (x !== undefined && y !== undefined) return x.v === y.v;
    const dx = asDim(a);
    const dy = asDim(b);
    if (dx !== undefined && dy !== undefined) return dimEq(dx, dy) ?? 'unknown';
    if (a.t === 'str' && b.t === 'str') return a.v === b.v;
    return false;
  }

  private order(opName: string, a: Value, b: Value): Value {
    const x = numeric(a);
    const y = numeric(b);
    const cmp = (p: number, q: number) => (opName === '<' ? p < q : opName === '<=' ? p <= q : opName === '>' ? p > q : p >= q);
    if (x !== undefined && y !== undefined) return bool(cmp(x.v, y.v));
    const dx = asDim(a);
    const dy = asDim(b);
    if (dx !== undefined && dy !== undefined) {
      if (opName === '<=' || opName === '>=') if (dimEq(dx, dy) === true) return bool(true);
      const diff = subDims(dx, dy);
      if (typeof diff === 'number') return bool(cmp(diff, 0));
      return UNKNOWN;
    }
    if (a.t === 'str' && b.t === 'str') return bool(cmp(a.v < b.v ? -1 : a.v > b.v ? 1 : 0, 0));
    return fail(this.ctx, C.type, `cannot compare ${kindName(a)} and ${kindName(b)} with ${opName}`);
  }

  tensorBinary(opName: string, a: Value, b: Value): Value {
    const ctx = this.ctx;
    const fn = TENSOR_OPS[opName];
    if (!fn) {
      if (opName === '%') {
        // a - floor(a / b) * b (python's sign convention)
        const q = this.tensorBinary('/', a, b);
        const f = tensor(op(ctx, 'unary', [toNode(ctx, q)], { fn: 'floor' }));
        return this.tensorBinary('-', a, this.tensorBinary('*', f, b));
      }
      return fail(ctx, C.type, `operator ${opName} is not defined on tensors`);
    }
    const na = isTensorLike(a) ? toNode(ctx, a) : undefined;
    const nb = isTensorLike(b) ? toNode(ctx, b) : undefined;
    const dts = [na, nb].filter((n): n is number => n !== undefined).map((n) => dtypeOf(ctx, n));
    const like = dts.length && dts.every((d) => d === 'int') ? 'int' : 'float';
    const x = na ?? toNode(ctx, a, like);
    const y = nb ?? toNode(ctx, b, like);
    return tensor(op(ctx, 'binary', [x, y], { fn }));
  }

  // ---- member / index -----------------------------------------------------------------------------------

  private member(o: Value, name: string, span: Span): Value {
    const ctx = this.ctx;
    if (o.t === 'map') return o.entries.get(name) ?? NONE;
    if (isTensorLike(o)) {
      if (name === 'shape') return BUILTINS['shape']!.fn(this, [o], span, new Map());
      if (builtinSignature(name) || this.scope.funcs.has(name)) return fail(ctx, C.type, `'${name}' is a function; call it as x.${name}(...)`, span);
      return fail(ctx, C.unknownName, `a tensor has no field '${name}'`, span, didYouMean(name, ['shape']) ? { hint: didYouMean(name, ['shape'])! } : undefined);
    }
    if (o.t === 'unknown') return UNKNOWN;
    if (o.t === 'none') return fail(ctx, C.type, `cannot read field '${name}' of none`, span);
    return fail(ctx, C.type, `cannot read field '${name}' of ${kindName(o)}`, span);
  }

  index(o: Value, i: Value, span: Span): Value {
    const ctx = this.ctx;
    switch (o.t) {
      case 'iodict': {
        if (o.path === undefined) {
          if (i.t !== 'str') return fail(ctx, C.type, `a module path must be a string, got ${kindName(i)}`, span);
          return { t: 'iodict', side: o.side, path: i.v };
        }
        if (i.t !== 'str' || (i.v !== 'input' && i.v !== 'output'))
          return fail(ctx, C.type, `io must be 'input' or 'output', got ${i.t === 'str' ? `'${i.v}'` : kindName(i)}`, span);
        return { t: 'ref', ref: { kind: 'io', side: o.side as Side, path: o.path, io: i.v } };
      }
      case 'ref': {
        if (o.ref.kind === 'io' && o.ref.sub === undefined) {
          if (i.t === 'str') return { t: 'ref', ref: { ...o.ref, sub: i.v } };
          if (i.t === 'num' && i.int) return { t: 'ref', ref: { ...o.ref, sub: i.v } };
          if (i.t === 'unknown') return tensor(PLACEHOLDER);
          return fail(ctx, C.type, `an io value is indexed by a tuple position or a dict key, got ${kindName(i)}`, span);
        }
        return fail(ctx, C.type, 'indexing a tensor is not supported; use gather(x, dim, index) or slice(x, dim, start, end)', span);
      }
      case 'tensor':
        if (o.id === PLACEHOLDER && ctx.mode === 'reads') return tensor(PLACEHOLDER);
        return fail(ctx, C.type, 'indexing a tensor is not supported; use gather(x, dim, index) or slice(x, dim, start, end)', span);
      case 'modelloss': {
        if (i.t !== 'str') return fail(ctx, C.type, `model losses are indexed by key, got ${kindName(i)}`, span);
        if (!o.keys.includes(i.v))
          return fail(ctx, C.key, `the model-loss dict has no key '${i.v}' (keys: ${o.keys.map((k) => `'${k}'`).join(', ') || 'none'})`, span);
        return { t: 'ref', ref: { kind: 'model_loss', key: i.v } };
      }
      case 'list': {
        if (i.t === 'unknown') return UNKNOWN;
        const k = numeric(i);
        if (k === undefined || !k.int) return fail(ctx, C.type, `list indices must be integers, got ${kindName(i)}`, span);
        const j = k.v < 0 ? k.v + o.items.length : k.v;
        if (j < 0 || j >= o.items.length) return fail(ctx, C.key, `list index ${k.v} out of range (length ${o.items.length})`, span);
        return o.items[j]!;
      }
      case 'map': {
        const key = i.t === 'str' ? i.v : i.t === 'num' ? String(i.v) : undefined;
        if (key === undefined) return fail(ctx, C.type, `mapping keys are strings, got ${kindName(i)}`, span);
        const v = o.entries.get(key);
        if (v === undefined) {
          const hint = didYouMean(key, o.entries.keys());
          return fail(ctx, C.key, `no key '${key}' in ${show(o)}`, span, hint ? { hint } : undefined);
        }
        return v;
      }
      case 'unknown':
        return UNKNOWN;
      default:
        return fail(ctx, C.type, `cannot index ${kindName(o)}`, span);
    }
  }

  // ---- calls --------------------------------------------------------------------------------------------

  private evalCall(e: Extract<Expr, { kind: 'call' }>, env: Env): Value {
    const ctx = this.ctx;
    const evalArgs = (): [Value[], Map<string, Value>] => {
      const args = e.args.map((a) => this.eval(a, env));
      const kwargs = new Map<string, Value>();
      for (const k of e.kwargs) {
        if (kwargs.has(k.name)) fail(ctx, C.args, `keyword argument '${k.name}' repeated`, k.span);
        kwargs.set(k.name, this.eval(k.value, env));
      }
      return [args, kwargs];
    };
    if (e.callee.kind === 'ident') {
      const name = e.callee.name;
      const local = env.get(name);
      if (local && local.t === 'loss') {
        const [args, kwargs] = evalArgs();
        return this.callLoss(local, args, kwargs, e.span);
      }
      const [args, kwargs] = evalArgs();
      return this.callNamed(name, args, kwargs, e.span, e.callee.span, local);
    }
    if (e.callee.kind === 'member') {
      const obj = this.eval(e.callee.object, env);
      if (isTensorLike(obj) || (obj.t === 'unknown' && ctx.mode === 'reads')) {
        const [args, kwargs] = evalArgs();
        return this.callNamed(e.callee.name, [obj, ...args], kwargs, e.span, e.callee.span, undefined);
      }
      ctx.curSpan = e.callee.span;
      const f = this.member(obj, e.callee.name, e.callee.span);
      const [args, kwargs] = evalArgs();
      if (f.t === 'loss') return this.callLoss(f, args, kwargs, e.span);
      return fail(ctx, C.type, `'${e.callee.name}' is ${kindName(f)}, not a function`, e.callee.span);
    }
    const f = this.eval(e.callee, env);
    const [args, kwargs] = evalArgs();
    if (f.t === 'loss') return this.callLoss(f, args, kwargs, e.span);
    return fail(ctx, C.type, `${kindName(f)} is not callable`, e.callee.span);
  }

  /** `low_loss(key, kwargs, ...)`: torch's built-in (or a custom) low-level loss as a callable value. */
  lowLoss(key: string, kwargs: Map<string, Value>, span: Span): Value {
    const reg = getLowLevelLoss(key);
    if (!reg) {
      const hint = didYouMean(key, registryKeys('low'));
      fail(this.ctx, C.loss, `unknown low-level loss '${key}'`, span, hint ? { hint } : undefined);
    }
    return lossValue(this.ctx, reg, kwargs);
  }

  callLoss(f: Extract<Value, { t: 'loss' }>, args: Value[], kwargs: Map<string, Value>, span: Span): Value {
    if (kwargs.size) fail(this.ctx, C.args, `${f.name} takes positional tensor arguments only`, span);
    return f.call(args, span);
  }

  callNamed(name: string, args: Value[], kwargs: Map<string, Value>, span: Span, nameSpan: Span, local: Value | undefined): Value {
    const ctx = this.ctx;
    const f = this.scope.funcs.get(name);
    if (f) return this.callFunc(f, args, kwargs, span);
    const sig = builtinSignature(name);
    if (sig) {
      const b = BUILTINS[name as BuiltinName];
      const bound = bindBuiltin(ctx, name, sig, args, kwargs, span);
      ctx.curSpan = span;
      return b.fn(this, bound, span, kwargs);
    }
    if (local) return fail(ctx, C.type, `'${name}' is ${kindName(local)}, not a function`, nameSpan);
    const hint = didYouMean(name, [...this.scope.funcs.keys(), ...Object.keys(BUILTINS)]);
    return fail(ctx, C.unknownName, `unknown function '${name}'`, nameSpan, hint ? { hint } : undefined);
  }
}

export type LossValue = Extract<Value, { t: 'loss' }>;

/** A registered loss with fixed kwargs, as a callable value: calling it runs the loss's spec in its own scope. */
export function lossValue(ctx: EvalContext, reg: RegisteredLoss, kwargs: Map<string, Value>, name = reg.key): LossValue {
  return {
    t: 'loss',
    name,
    arity: reg.decl.callParams.length,
    call: (args: Value[], span?: Span) => new Interpreter(ctx, scopeOf(reg)).runLoss(reg.decl, kwargs, args, span),
  };
}

const TENSOR_OPS: Record<string, GraphBinaryOp> = {
  '+': 'add',
  '-': 'sub',
  '*': 'mul',
  '/': 'div',
  '**': 'pow',
  '==': 'eq',
  '!=': 'ne',
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
};

function bindBuiltin(ctx: EvalContext, name: string, sig: BuiltinSignature, args: Value[], kwargs: Map<string, Value>, span: Span): Value[] {
  const { params } = sig;
  const rest = sig.rest ?? false;
  if (args.length > params.length && !rest)
    fail(ctx, C.args, `${name}(${params.join(', ')}) takes at most ${params.length} argument${params.length === 1 ? '' : 's'}, got ${args.length}`, span);
  const out = params.map((_, i) => args[i] ?? NONE);
  if (rest) out.push(...args.slice(params.length));
  for (const [k, v] of kwargs) {
    const i = params.indexOf(k);
    if (i < 0) {
      if (rest) continue; // builtins with rest take their own keyword arguments (low_loss overrides)
      const hint = didYouMean(k, params);
      fail(ctx, C.args, `${name}(${params.join(', ')}): unexpected keyword argument '${k}'`, span, hint ? { hint } : undefined);
    }
    if (i < args.length) fail(ctx, C.args, `${name}: got multiple values for argument '${k}'`, span);
    out[i] = v;
  }
  const missing = requiredParams(sig).filter((p) => params.indexOf(p) >= args.length && !kwargs.has(p));
  if (missing.length)
    fail(ctx, C.args, `${renderBuiltin(name, sig)} is missing the argument${missing.length > 1 ? 's' : ''} ${missing.map((p) => `'${p}'`).join(', ')}`, span);
  return out;
}

// ---- value helpers ----------------------------------------------------------------------------------------

function literalValue(l: Literal): Value {
  switch (l.kind) {
    case 'none':
      return NONE;
    case 'bool':
      return bool(l.value);
    case 'number':
      return num(l.value, l.isInt);
    case 'string':
      return str(l.value);
    case 'list':
      return list(l.items.map(literalValue));
    case 'map': {
      const entries = new Map<string, Value>();
      for (const e of l.entries) entries.set(e.key, literalValue(e.value));
      return { t: 'map', entries };
    }
  }
}
