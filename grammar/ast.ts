// AST of the loss-spec language (docs/spec-language.md). Produced by grammar/parser.ts, consumed by the
// registry (headers) and by src/compiler/instantiate (bodies). Every node carries its span.
import type { Span } from '../src/diagnostics/diagnostic.js';

export type LossLevel = 'low' | 'mid' | 'high' | 'wrapper' | 'extract';

// ---- types -------------------------------------------------------------------------------------------
export type PrimTypeName = 'float' | 'int' | 'bool' | 'str' | 'path' | 'io' | 'any' | 'criterion' | 'wrapper_config' | 'tensor' | 'scale_tensor' | 'numeric_tensor';

export type TypeExpr =
  | { kind: 'prim'; name: PrimTypeName; span: Span }
  | { kind: 'literals'; values: string[]; span: Span }
  | { kind: 'optional'; inner: TypeExpr; span: Span }
  | { kind: 'list'; elem: TypeExpr; span: Span }
  | { kind: 'map'; value: TypeExpr; span: Span }
  | { kind: 'named'; name: string; span: Span }; // a struct declared in the same file or the prelude

// ---- literals (defaults) ------------------------------------------------------------------------------
export type Literal =
  | { kind: 'none'; span: Span }
  | { kind: 'bool'; value: boolean; span: Span }
  | { kind: 'number'; value: number; isInt: boolean; span: Span }
  | { kind: 'string'; value: string; span: Span }
  | { kind: 'list'; items: Literal[]; span: Span }
  | { kind: 'map'; entries: { key: string; value: Literal }[]; span: Span };

export interface Param {
  name: string;
  type: TypeExpr;
  default?: Literal; // absent: required
  span: Span;
}

/** `**name` or `**name: LossKey` */
export interface RestParam {
  name: string;
  forwardTo?: string;
  /** The span of `forwardTo`'s name (`**ce: CrossEntropyLoss`). */
  forwardSpan?: Span;
  span: Span;
}

export interface StructField {
  name: string;
  type: TypeExpr;
  default?: Literal;
  span: Span;
}

export interface StructDecl {
  kind: 'struct';
  name: string;
  fields: StructField[];
  doc?: string;
  span: Span;
}

export interface LossDecl {
  kind: 'loss';
  level: LossLevel;
  name: string;
  params: Param[];
  rest?: RestParam;
  /** `low X(...)(input, target)` / `wrapper W(...)(loss)`: names of the call-time arguments. */
  callParams: { name: string; span: Span }[];
  body: Block;
  doc?: string;
  span: Span;
  nameSpan: Span;
}

/** A `def` parameter: `name` or `name=literal`. An argument left out takes the default, else none. */
export interface FuncParam {
  name: string;
  default?: Literal;
  span: Span;
}

export interface FuncDecl {
  kind: 'def';
  name: string;
  params: FuncParam[];
  /** `def f(x) = expr` is stored as a block with a single return. */
  body: Block;
  doc?: string;
  span: Span;
}

export type Decl = StructDecl | LossDecl | FuncDecl;

export interface SpecFile {
  file: string;
  decls: Decl[];
}

// ---- statements ---------------------------------------------------------------------------------------
export interface Block {
  stmts: Stmt[];
  span: Span;
}

export type Stmt =
  | { kind: 'let'; name: string; value: Expr; span: Span }
  | { kind: 'assign'; name: string; value: Expr; span: Span }
  | { kind: 'if'; cond: Expr; then: Block; else?: Block; span: Span }
  | { kind: 'for'; vars: string[]; iter: Expr; body: Block; span: Span }
  | { kind: 'return'; value: Expr; span: Span }
  | { kind: 'expr'; value: Expr; span: Span };

// ---- expressions --------------------------------------------------------------------------------------
export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '**' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or' | '??';

export type Expr =
  | { kind: 'number'; value: number; isInt: boolean; span: Span }
  | { kind: 'string'; value: string; span: Span }
  | { kind: 'bool'; value: boolean; span: Span }
  | { kind: 'none'; span: Span }
  | { kind: 'ident'; name: string; span: Span }
  | { kind: 'list'; items: Expr[]; span: Span }
  | { kind: 'unary'; op: '-' | 'not'; arg: Expr; span: Span }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; span: Span }
  | { kind: 'cond'; cond: Expr; then: Expr; else: Expr; span: Span }
  | { kind: 'call'; callee: Expr; args: Expr[]; kwargs: { name: string; value: Expr; span: Span }[]; span: Span }
  | { kind: 'member'; object: Expr; name: string; span: Span }
  | { kind: 'index'; object: Expr; index: Expr; span: Span };
