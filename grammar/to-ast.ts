// CST (grammar/cst-parser.ts) → AST (grammar/ast.ts). Also reports the few syntax rules that are easier to
// check on the tree than in the grammar (`**rest` last, union types of string literals only, ...).
import type { CstNode, IToken } from 'chevrotain';
import { diag, posAt, type Diagnostic, type Span } from '../src/diagnostics/diagnostic.js';
import type * as A from './ast.js';
import { docComments } from './doc-comments.js';
import { climb } from './precedence.js';

const PRIMS = new Set<string>(['float', 'int', 'bool', 'str', 'path', 'io', 'any', 'criterion', 'wrapper_config', 'tensor', 'scale_tensor', 'numeric_tensor']);

/** A required CST piece is missing: only happens in trees chevrotain recovered from a syntax error. */
class Incomplete extends Error {}

type Kids = CstNode['children'];
const nodesOf = (c: Kids, key: string): CstNode[] => (c[key] ?? []) as CstNode[];
const toksOf = (c: Kids, key: string): IToken[] => (c[key] ?? []) as IToken[];
function node(c: Kids, key: string): CstNode {
  const n = nodesOf(c, key)[0];
  if (!n) throw new Incomplete(key);
  return n;
}
function tok(c: Kids, key: string): IToken {
  const t = toksOf(c, key)[0];
  if (!t || t.isInsertedInRecovery) throw new Incomplete(key);
  return t;
}

export interface AstContext {
  file: string;
  text: string;
  lineStarts: number[];
  comments: IToken[];
  /** Syntax errors already reported: an incomplete tree is then expected, not an internal error. */
  hadSyntaxErrors: boolean;
  /** Deepest nesting accepted (parser.ts MAX_AST_DEPTH): the caller reports and drops a deeper declaration. */
  maxDepth: number;
}

/** `units`: one `declUnit` CST per declaration, in source order. */
export function cstToAst(units: CstNode[], ctx: AstContext): { spec: A.SpecFile; diagnostics: Diagnostic[] } {
  return new AstBuilder(ctx).specFile(units);
}

class AstBuilder {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly docs: (startOffset: number) => string | undefined;

  constructor(private readonly ctx: AstContext) {
    this.docs = docComments(ctx.text, ctx.comments);
  }

  // ---- spans --------------------------------------------------------------------------------------------
  private span(start: number, endExclusive: number): Span {
    const max = this.ctx.text.length;
    const s = Number.isFinite(start) ? Math.min(start, max) : max;
    const e = Number.isFinite(endExclusive) ? Math.min(Math.max(endExclusive, s), max) : s;
    return { file: this.ctx.file, start: posAt(this.ctx.lineStarts, s), end: posAt(this.ctx.lineStarts, e) };
  }
  private nodeSpan(n: CstNode): Span {
    const loc = n.location;
    return this.span(loc?.startOffset ?? NaN, (loc?.endOffset ?? NaN) + 1);
  }
  private tokSpan(t: IToken): Span {
    return this.span(t.startOffset, (t.endOffset ?? t.startOffset) + 1);
  }
  private join(a: Span, b: Span): Span {
    return { file: a.file, start: a.start, end: b.end.offset >= a.end.offset ? b.end : a.end };
  }
  private error(code: string, message: string, span: Span): void {
    this.diagnostics.push(diag('error', code, message, span));
  }

  // ---- declarations ---------------------------------------------------------------------------------------
  specFile(units: CstNode[]): { spec: A.SpecFile; diagnostics: Diagnostic[] } {
    const decls: A.Decl[] = [];
    for (const u of units) {
      try {
        decls.push(this.decl(node(u.children, 'decl')));
      } catch (e) {
        if (e instanceof RangeError) {
          // the JS stack overflowed building the tree: nesting far deeper than maxDepth
          this.error('TDC310', `this declaration nests too deeply to parse (more than ${this.ctx.maxDepth} levels)`, this.nodeSpan(u));
          continue;
        }
        if (!(e instanceof Incomplete)) throw e;
        if (!this.ctx.hadSyntaxErrors) this.error('TDC309', `internal: incomplete syntax tree (${e.message})`, this.nodeSpan(u));
      }
    }
    return { spec: { file: this.ctx.file, decls }, diagnostics: this.diagnostics };
  }

  private decl(n: CstNode): A.Decl {
    const c = n.children;
    const inner = nodesOf(c, 'structDecl')[0] ?? nodesOf(c, 'lossDecl')[0] ?? node(c, 'funcDecl');
    const decl = inner.name === 'structDecl' ? this.structDecl(inner) : inner.name === 'lossDecl' ? this.lossDecl(inner) : this.funcDecl(inner);
    const doc = this.docs(inner.location?.startOffset ?? NaN);
    if (doc !== undefined) decl.doc = doc;
    return decl;
  }

  private structDecl(n: CstNode): A.StructDecl {
    const c = n.children;
    const fields = nodesOf(c, 'structField').map((f): A.StructField => {
      const fc = f.children;
      const field: A.StructField = { name: tok(fc, 'name').image, type: this.typeExpr(node(fc, 'typeExpr')), span: this.nodeSpan(f) };
      if (fc.literal) field.default = this.literal(node(fc, 'literal'));
      return field;
    });
    return { kind: 'struct', name: tok(c, 'name').image, fields, span: this.nodeSpan(n) };
  }

  private lossDecl(n: CstNode): A.LossDecl {
    const c = n.children;
    const nameTok = tok(c, 'name');
    const params: A.Param[] = [];
    let rest: A.RestParam | undefined;
    for (const item of nodesOf(node(c, 'paramList').children, 'paramItem')) {
      const r = nodesOf(item.children, 'restParam')[0];
      if (r) {
        const rc = r.children;
        const rp: A.RestParam = { name: tok(rc, 'name').image, span: this.nodeSpan(r) };
        if (rc.forwardTo) {
          rp.forwardTo = tok(rc, 'forwardTo').image;
          rp.forwardSpan = this.tokSpan(tok(rc, 'forwardTo'));
        }
        if (rest) this.error('TDC306', `only one '**' parameter is allowed (already have '**${rest.name}')`, rp.span);
        else rest = rp;
        continue;
      }
      const p = node(item.children, 'param');
      const pc = p.children;
      const param: A.Param = { name: tok(pc, 'name').image, type: this.typeExpr(node(pc, 'typeExpr')), span: this.nodeSpan(p) };
      if (pc.literal) param.default = this.literal(node(pc, 'literal'));
      if (rest) this.error('TDC306', `'**${rest.name}' must be the last parameter`, rest.span);
      params.push(param);
    }
    const callList = nodesOf(c, 'callParamList')[0];
    const decl: A.LossDecl = {
      kind: 'loss',
      level: tok(c, 'level').image as A.LossLevel,
      name: nameTok.image,
      params,
      callParams: callList ? this.nameList(callList) : [],
      body: this.block(node(c, 'block')),
      span: this.nodeSpan(n),
      nameSpan: this.tokSpan(nameTok),
    };
    if (rest) decl.rest = rest;
    return decl;
  }

  private nameList(parent: CstNode): { name: string; span: Span }[] {
    const list = nodesOf(parent.children, 'nameList')[0];
    if (!list) return [];
    return toksOf(list.children, 'name')
      .filter((t) => !t.isInsertedInRecovery)
      .map((t) => ({ name: t.image, span: this.tokSpan(t) }));
  }

  private funcDecl(n: CstNode): A.FuncDecl {
    const c = n.children;
    let body: A.Block;
    if (c.block) body = this.block(node(c, 'block'));
    else {
      const e = this.expr(node(c, 'expr'));
      body = { stmts: [{ kind: 'return', value: e, span: e.span }], span: e.span };
    }
    const params: A.FuncParam[] = [];
    let defaulted: A.FuncParam | undefined;
    const list = nodesOf(c, 'defParamList')[0];
    for (const p of list ? nodesOf(list.children, 'defParam') : []) {
      const nameTok = tok(p.children, 'name');
      if (nameTok.isInsertedInRecovery) continue;
      const param: A.FuncParam = { name: nameTok.image, span: this.tokSpan(nameTok) };
      if (p.children.literal) param.default = this.literal(node(p.children, 'literal'));
      if (param.default) defaulted = param;
      else if (defaulted) this.error('TDC306', `parameter '${param.name}' without a default follows '${defaulted.name}', which has one`, param.span);
      params.push(param);
    }
    return { kind: 'def', name: tok(c, 'name').image, params, body, span: this.nodeSpan(n) };
  }

  // ---- types and literals ---------------------------------------------------------------------------------
  private typeExpr(n: CstNode): A.TypeExpr {
    const c = n.children;
    const atoms = nodesOf(c, 'typeAtom');
    const span = this.nodeSpan(n);
    let t: A.TypeExpr;
    if (atoms.length > 1 || atoms[0]?.children.StringLit) {
      const values: string[] = [];
      for (const a of atoms) {
        const s = toksOf(a.children, 'StringLit')[0];
        if (s) values.push(unquote(s.image));
        else this.error('TDC307', 'a union type may only combine string literals, like "mean" | "sum"', this.nodeSpan(a));
      }
      const last = atoms[atoms.length - 1]!;
      t = { kind: 'literals', values, span: this.join(this.nodeSpan(atoms[0]!), this.nodeSpan(last)) };
    } else {
      t = this.typeAtom(atoms[0] ?? node(c, 'typeAtom'));
    }
    if (c.Question) t = { kind: 'optional', inner: t, span };
    return t;
  }

  private typeAtom(n: CstNode): A.TypeExpr {
    const c = n.children;
    const name = tok(c, 'name').image;
    const span = this.nodeSpan(n);
    const arg = nodesOf(c, 'typeExpr')[0];
    if (name === 'list' || name === 'map') {
      if (!arg) {
        this.error('TDC307', `'${name}' needs an element type: ${name}<T>`, span);
        return { kind: name, ...(name === 'list' ? { elem: anyType(span) } : { value: anyType(span) }), span } as A.TypeExpr;
      }
      const inner = this.typeExpr(arg);
      return name === 'list' ? { kind: 'list', elem: inner, span } : { kind: 'map', value: inner, span };
    }
    if (arg) this.error('TDC307', `only list<T> and map<T> take a type argument, not '${name}'`, span);
    if (PRIMS.has(name)) return { kind: 'prim', name: name as A.PrimTypeName, span };
    return { kind: 'named', name, span };
  }

  private literal(n: CstNode): A.Literal {
    const c = n.children;
    const span = this.nodeSpan(n);
    if (c.NumberLit) {
      const t = tok(c, 'NumberLit');
      const v = Number(t.image);
      return { kind: 'number', value: c.Minus ? -v : v, isInt: isIntImage(t.image), span };
    }
    if (c.StringLit) return { kind: 'string', value: unquote(tok(c, 'StringLit').image), span };
    if (c.True) return { kind: 'bool', value: true, span };
    if (c.False) return { kind: 'bool', value: false, span };
    if (c.None) return { kind: 'none', span };
    if (c.listLiteral) return { kind: 'list', items: nodesOf(node(c, 'listLiteral').children, 'literal').map((l) => this.literal(l)), span };
    const m = node(c, 'mapLiteral');
    const entries = nodesOf(m.children, 'mapEntry').map((e) => {
      const k = tok(e.children, 'key');
      return { key: k.tokenType.name === 'StringLit' ? unquote(k.image) : k.image, value: this.literal(node(e.children, 'literal')) };
    });
    return { kind: 'map', entries, span };
  }

  // ---- statements -----------------------------------------------------------------------------------------
  private block(n: CstNode): A.Block {
    const stmts: A.Stmt[] = [];
    for (const s of nodesOf(n.children, 'statement')) {
      try {
        stmts.push(this.statement(s));
      } catch (e) {
        if (!(e instanceof Incomplete)) throw e;
        if (!this.ctx.hadSyntaxErrors) throw e;
      }
    }
    return { stmts, span: this.nodeSpan(n) };
  }

  private statement(n: CstNode): A.Stmt {
    const c = n.children;
    if (c.letStmt || c.assignStmt) {
      const s = node(c, c.letStmt ? 'letStmt' : 'assignStmt');
      return { kind: c.letStmt ? 'let' : 'assign', name: tok(s.children, 'name').image, value: this.expr(node(s.children, 'expr')), span: this.nodeSpan(s) };
    }
    if (c.ifStmt) return this.ifStmt(node(c, 'ifStmt'));
    if (c.forStmt) {
      const s = node(c, 'forStmt');
      const sc = s.children;
      return {
        kind: 'for',
        vars: toksOf(sc, 'var').map((t) => t.image),
        iter: this.expr(node(sc, 'expr')),
        body: this.block(node(sc, 'block')),
        span: this.nodeSpan(s),
      };
    }
    if (c.returnStmt) {
      const s = node(c, 'returnStmt');
      return { kind: 'return', value: this.expr(node(s.children, 'expr')), span: this.nodeSpan(s) };
    }
    const s = node(c, 'exprStmt');
    return { kind: 'expr', value: this.expr(node(s.children, 'expr')), span: this.nodeSpan(s) };
  }

  private ifStmt(n: CstNode): A.Stmt & { kind: 'if' } {
    const c = n.children;
    const stmt: A.Stmt & { kind: 'if' } = { kind: 'if', cond: this.expr(node(c, 'cond')), then: this.block(node(c, 'then')), span: this.nodeSpan(n) };
    if (c.elseIf) {
      const inner = this.ifStmt(node(c, 'elseIf'));
      stmt.else = { stmts: [inner], span: inner.span };
    } else if (c.else) stmt.else = this.block(node(c, 'else'));
    return stmt;
  }

  // ---- expressions ----------------------------------------------------------------------------------------
  private expr(n: CstNode): A.Expr {
    const c = n.children;
    const operands = nodesOf(c, 'operand').map((o) => ({
      // `- - - ... x` thousands deep: one more prefix than allowed is enough for the caller's depth check (TDC310),
      // and climb() recurses once per prefix
      prefixes: toksOf(o.children, 'prefix')
        .slice(0, this.ctx.maxDepth + 1)
        .map((t) => ({ op: t.image as 'not' | '-', start: t.startOffset })),
      value: this.postfix(node(o.children, 'postfix')),
    }));
    const ops = toksOf(c, 'op');
    if (operands.length === 0 || operands.length !== ops.length + 1) throw new Incomplete('operand');
    const value = climb<A.Expr>(
      operands,
      ops.map((t) => t.image as A.BinaryOp),
      {
        unary: (op, arg, start) => ({ kind: 'unary', op, arg, span: this.span(start, arg.span.end.offset) }),
        binary: (op, left, right) => ({ kind: 'binary', op, left, right, span: this.join(left.span, right.span) }),
        misplacedPrefix: (op, start) => this.error('TDC304', `'${op}' binds looser than the operator before it: add parentheses`, this.span(start, start + op.length)),
      },
    );
    if (!c.Question) return value;
    return { kind: 'cond', cond: value, then: this.expr(node(c, 'then')), else: this.expr(node(c, 'else')), span: this.nodeSpan(n) };
  }

  private postfix(n: CstNode): A.Expr {
    const c = n.children;
    let e = this.primary(node(c, 'primary'));
    for (const s of nodesOf(c, 'suffix')) {
      const sc = s.children;
      const span = this.join(e.span, this.nodeSpan(s));
      if (s.name === 'memberSuffix') e = { kind: 'member', object: e, name: tok(sc, 'name').image, span };
      else if (s.name === 'indexSuffix') e = { kind: 'index', object: e, index: this.expr(node(sc, 'expr')), span };
      else {
        const args: A.Expr[] = [];
        const kwargs: { name: string; value: A.Expr; span: Span }[] = [];
        for (const a of nodesOf(sc, 'argument')) {
          const ac = a.children;
          const value = this.expr(node(ac, 'value'));
          if (ac.name) kwargs.push({ name: tok(ac, 'name').image, value, span: this.nodeSpan(a) });
          else {
            if (kwargs.length > 0) this.error('TDC308', 'positional argument after a keyword argument', value.span);
            args.push(value);
          }
        }
        e = { kind: 'call', callee: e, args, kwargs, span };
      }
    }
    return e;
  }

  private primary(n: CstNode): A.Expr {
    const c = n.children;
    const span = this.nodeSpan(n);
    if (c.NumberLit) {
      const t = tok(c, 'NumberLit');
      return { kind: 'number', value: Number(t.image), isInt: isIntImage(t.image), span };
    }
    if (c.StringLit) return { kind: 'string', value: unquote(tok(c, 'StringLit').image), span };
    if (c.True) return { kind: 'bool', value: true, span };
    if (c.False) return { kind: 'bool', value: false, span };
    if (c.None) return { kind: 'none', span };
    if (c.Identifier) return { kind: 'ident', name: tok(c, 'Identifier').image, span };
    if (c.parenExpr) return this.expr(node(node(c, 'parenExpr').children, 'expr'));
    const l = node(c, 'listExpr');
    return { kind: 'list', items: nodesOf(l.children, 'expr').map((x) => this.expr(x)), span };
  }
}

const anyType = (span: Span): A.TypeExpr => ({ kind: 'prim', name: 'any', span });
const isIntImage = (image: string): boolean => /^\d+$/.test(image);

/** Strip quotes (an unterminated string has only the opening one) and resolve backslash escapes. */
export function unquote(image: string): string {
  const q = image[0];
  const body = image.length >= 2 && image[image.length - 1] === q ? image.slice(1, -1) : image.slice(1);
  return body.replace(/\\(.)/g, (_, ch: string) => (ch === 'n' ? '\n' : ch === 't' ? '\t' : ch === 'r' ? '\r' : ch));
}
