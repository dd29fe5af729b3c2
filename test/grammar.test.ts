// The loss-spec language front end: parser (grammar/parser.ts) and static checker (grammar/check.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Block, Expr, FuncDecl, LossDecl, SpecFile, Stmt, StructDecl } from '../grammar/ast.js';
import { BUILTIN_FUNCTIONS, renderBuiltinDocs } from '../grammar/builtins.js';
import { checkSpec } from '../grammar/check.js';
import { SpecCstParser } from '../grammar/cst-parser.js';
import { buildLexer } from '../grammar/lexer.js';
import { messageProvider } from '../grammar/messages.js';
import { parseSpec } from '../grammar/parser.js';
import type { Diagnostic } from '../src/diagnostics/index.js';

const SPEC_DIR = fileURLToPath(new URL('../../src/losses-spec/', import.meta.url));
/** Every shipped spec file, relative to SPEC_DIR (`<level folder>/<Key>.tdl`). */
const specFiles = (): string[] =>
  existsSync(SPEC_DIR) ? readdirSync(SPEC_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tdl')).sort() : [];

// ---- helpers -------------------------------------------------------------------------------------------------
function parseOk(text: string): SpecFile {
  const r = parseSpec(text, 't.tdl');
  assert.equal(r.diagnostics.map((d) => `${d.span?.start.line}:${d.span?.start.col} ${d.code} ${d.message}`), [], 'unexpected diagnostics');
  return r.spec;
}
const loss = (s: SpecFile, i = 0): LossDecl => s.decls[i] as LossDecl;
const func = (s: SpecFile, i = 0): FuncDecl => s.decls[i] as FuncDecl;
/** The single returned expression of `def f(...) = <expr>`. */
function exprOf(src: string): Expr {
  const f = func(parseOk(`def f(a, b, c, d, e, x, y, z) = ${src}\n`));
  const s = f.body.stmts[0]!;
  assert.is(s.kind, 'return');
  return (s as Stmt & { kind: 'return' }).value;
}
/** Compact s-expression of an expression, for shape assertions. */
function sx(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return String(e.value);
    case 'string':
      return JSON.stringify(e.value);
    case 'bool':
      return String(e.value);
    case 'none':
      return 'none';
    case 'ident':
      return e.name;
    case 'list':
      return `[${e.items.map(sx).join(' ')}]`;
    case 'unary':
      return `(${e.op} ${sx(e.arg)})`;
    case 'binary':
      return `(${e.op} ${sx(e.left)} ${sx(e.right)})`;
    case 'cond':
      return `(? ${sx(e.cond)} ${sx(e.then)} ${sx(e.else)})`;
    case 'call':
      return `(call ${sx(e.callee)}${e.args.map((a) => ' ' + sx(a)).join('')}${e.kwargs.map((k) => ` ${k.name}=${sx(k.value)}`).join('')})`;
    case 'member':
      return `(. ${sx(e.object)} ${e.name})`;
    case 'index':
      return `(idx ${sx(e.object)} ${sx(e.index)})`;
  }
}
/** Statement kinds of a block, nested blocks in braces. */
function shape(b: Block): string {
  return b.stmts
    .map((s) => {
      if (s.kind === 'if') return `if{${shape(s.then)}}${s.else ? `else{${shape(s.else)}}` : ''}`;
      if (s.kind === 'for') return `for ${s.vars.join(',')}{${shape(s.body)}}`;
      if (s.kind === 'let' || s.kind === 'assign') return `${s.kind} ${s.name}`;
      return s.kind;
    })
    .join('; ');
}
const lines = (ds: Diagnostic[]): number[] => ds.map((d) => d.span!.start.line);
const codes = (ds: Diagnostic[]): string[] => ds.map((d) => d.code);

test('the grammar and the token set pass chevrotain\'s validations (skipped at startup)', () => {
  buildLexer(true);
  new SpecCstParser(messageProvider({ currentDecl: () => undefined }), true); // throws on ambiguities / left recursion
});

// ---- the documented syntax ------------------------------------------------------------------------------------
const DOC_EXAMPLE = `struct Ref { path: path, io: io }                      # a kwargs record type (a YAML mapping)

# Hinton et al. 2014
mid KDLoss(student_module_path: path, student_module_io: io,
           teacher_module_path: path, teacher_module_io: io,
           temperature: float, alpha: float? = none, beta: float? = none,
           reduction: "batchmean" | "mean" | "sum" | "none" = "batchmean",
           **ce: CrossEntropyLoss) {              # extra kwargs forwarded to CrossEntropyLoss
  let zs = student[student_module_path][student_module_io]      # [N, C, ...]
  let soft = kl_div(log_softmax(zs / temperature, 1), softmax(teacher[teacher_module_path][teacher_module_io] / temperature, 1), reduction)
  if alpha == none or alpha == 0 { return soft }
  return alpha * ce(zs, targets) + (beta ?? 1 - alpha) * temperature ** 2 * soft
}

low MSELoss(size_average: any? = none, reduce: any? = none,
            reduction: "none" | "mean" | "sum" = "mean")(input, target) { return mean((input - target) ** 2) }

wrapper SimpleLossWrapper(input: Side, target: Target? = none)(loss) { return loss(input, target) }
high WeightedSumLoss(model_term: ModelTerm? = none, sub_terms: map<SubTerm>? = none) { return 0 }
extract extract_model_loss_dict() { return model_loss }

def at_map(x) = normalize(mean(x ** 2, 1).flatten(1), 2, 1)     # expression helper
def kl_bm(logq, p) { let n = p.shape[0]; return sum(xlogy(p, p) - p * logq) / n }   # block helper
`;

test('the example of docs/spec-language.md parses into the documented declarations', () => {
  const s = parseOk(DOC_EXAMPLE);
  assert.equal(
    s.decls.map((d) => `${d.kind === 'loss' ? d.level : d.kind} ${d.name}`),
    ['struct Ref', 'mid KDLoss', 'low MSELoss', 'wrapper SimpleLossWrapper', 'high WeightedSumLoss', 'extract extract_model_loss_dict', 'def at_map', 'def kl_bm'],
  );
  assert.is(s.file, 't.tdl');
  const ref = s.decls[0] as StructDecl;
  assert.equal(ref.fields.map((f) => [f.name, f.type.kind === 'prim' && f.type.name]), [['path', 'path'], ['io', 'io']]);
  assert.is(ref.doc, undefined, 'a trailing comment on the line is not a doc');

  const kd = loss(s, 1);
  assert.is(kd.doc, 'Hinton et al. 2014');
  assert.equal(kd.params.map((p) => p.name), ['student_module_path', 'student_module_io', 'teacher_module_path', 'teacher_module_io', 'temperature', 'alpha', 'beta', 'reduction']);
  assert.equal(kd.rest && { name: kd.rest.name, forwardTo: kd.rest.forwardTo }, { name: 'ce', forwardTo: 'CrossEntropyLoss' });
  assert.equal(kd.callParams, []);
  const alpha = kd.params[5]!;
  assert.equal(alpha.type.kind === 'optional' && alpha.type.inner.kind === 'prim' && alpha.type.inner.name, 'float');
  assert.is(alpha.default?.kind, 'none');
  assert.is(kd.params[4]!.default, undefined, 'required');
  const red = kd.params[7]!;
  assert.equal(red.type.kind === 'literals' && red.type.values, ['batchmean', 'mean', 'sum', 'none']);
  assert.equal(red.default, { kind: 'string', value: 'batchmean', span: red.default!.span });
  assert.is(shape(kd.body), 'let zs; let soft; if{return}; return');

  const mse = loss(s, 2);
  assert.equal(mse.callParams.map((p) => p.name), ['input', 'target']);
  assert.is(loss(s, 3).callParams[0]!.name, 'loss');
  const w = loss(s, 3).params;
  assert.equal(w[0]!.type, { kind: 'named', name: 'Side', span: w[0]!.type.span });
  const ws = loss(s, 4).params[1]!.type;
  assert.ok(ws.kind === 'optional' && ws.inner.kind === 'map' && ws.inner.value.kind === 'named' && ws.inner.value.name === 'SubTerm');
  assert.equal(loss(s, 5).params, []);

  const atMap = func(s, 6);
  assert.equal(atMap.params.map((p) => p.name), ['x']);
  assert.is(atMap.body.stmts.length, 1);
  assert.is(sx((atMap.body.stmts[0] as Stmt & { kind: 'return' }).value), '(call normalize (call (. (call mean (** x 2) 1) flatten) 1) 2 1)');
  assert.is(shape(func(s, 7).body), 'let n; return');
});

test('spans: 1-based line/col, 0-based offsets, end exclusive', () => {
  const text = 'low L(a: int = 3)(input, target) {\n  return input + target\n}\n';
  const l = loss(parseOk(text));
  assert.equal(l.nameSpan, { file: 't.tdl', start: { line: 1, col: 5, offset: 4 }, end: { line: 1, col: 6, offset: 5 } });
  assert.equal(l.span.start, { line: 1, col: 1, offset: 0 });
  assert.equal(l.span.end, { line: 3, col: 2, offset: text.lastIndexOf('}') + 1 });
  const p = l.params[0]!;
  assert.is(text.slice(p.span.start.offset, p.span.end.offset), 'a: int = 3');
  assert.is(text.slice(p.default!.span.start.offset, p.default!.span.end.offset), '3');
  assert.equal(l.callParams.map((c) => text.slice(c.span.start.offset, c.span.end.offset)), ['input', 'target']);
  const ret = l.body.stmts[0] as Stmt & { kind: 'return' };
  assert.is(text.slice(ret.span.start.offset, ret.span.end.offset), 'return input + target');
  assert.equal(ret.value.span.start, { line: 2, col: 10, offset: text.indexOf('input +') });
  assert.is(text.slice(ret.value.span.start.offset, ret.value.span.end.offset), 'input + target');
  const call = exprOf('x.flatten(1)[0]');
  assert.ok(call.kind === 'index' && call.object.kind === 'call');
});

test('precedence and associativity', () => {
  assert.is(sx(exprOf('a + b * c ** d ** e')), '(+ a (* b (** c (** d e))))');
  assert.is(sx(exprOf('a - b - c')), '(- (- a b) c)');
  assert.is(sx(exprOf('a / b % c * d')), '(* (% (/ a b) c) d)');
  assert.is(sx(exprOf('x ?? y or z')), '(?? x (or y z))');
  assert.is(sx(exprOf('x or y and not z')), '(or x (and y (not z)))');
  assert.is(sx(exprOf('not a == b')), '(not (== a b))');
  assert.is(sx(exprOf('a < b + 1 and c >= d')), '(and (< a (+ b 1)) (>= c d))');
  assert.is(sx(exprOf('a != b or c <= d or e > x')), '(or (or (!= a b) (<= c d)) (> e x))');
  assert.is(sx(exprOf('a ? b : c ? d : e')), '(? a b (? c d e))');
  assert.is(sx(exprOf('a == "x" ? b ?? c : d')), '(? (== a "x") (?? b c) d)');
  assert.is(sx(exprOf('-x ** 2')), '(- (** x 2))');
  assert.is(sx(exprOf('-a * b')), '(* (- a) b)');
  assert.is(sx(exprOf('2 ** -x')), '(** 2 (- x))');
  assert.is(sx(exprOf('- -100')), '(- (- 100))');
  assert.is(sx(exprOf('(a + b) * c')), '(* (+ a b) c)');
  assert.is(sx(exprOf('beta ?? 1 - alpha')), '(?? beta (- 1 alpha))');
  assert.is(sx(exprOf('2 ** -x * 3')), '(* (** 2 (- x)) 3)');
  assert.is(sx(exprOf('2 ** -x ** 2')), '(** 2 (- (** x 2)))');
  assert.is(sx(exprOf('a - -b')), '(- a (- b))');
  assert.is(sx(exprOf('not not a and b')), '(and (not (not a)) b)');
  assert.is(sx(exprOf('a and not b or c')), '(or (and a (not b)) c)');
  assert.is(sx(exprOf('a < b == c')), '(== (< a b) c)');
  const neg = exprOf('-x ** 2');
  assert.equal([neg.span.start.col, neg.span.end.col], [33, 40], 'a unary span starts at its operator');
  const bad = parseSpec('def f(a, b) = a * not b', 't.tdl').diagnostics;
  assert.equal(bad.map((d) => [d.code, d.span!.start.col]), [['TDC304', 19]]);
  assert.match(bad[0]!.message, /'not' binds looser than the operator before it: add parentheses/);
});

test('postfix: method-call sugar, members, io indexing, kwargs, lists', () => {
  assert.is(sx(exprOf('x.flatten(1)')), '(call (. x flatten) 1)');
  assert.is(sx(exprOf('x.sum(1).mean()')), '(call (. (call (. x sum) 1) mean))');
  assert.is(sx(exprOf('x.shape[1]')), '(idx (. x shape) 1)');
  assert.is(sx(exprOf('student[a][b][0]')), '(idx (idx (idx student a) b) 0)');
  assert.is(sx(exprOf('teacher[a][b]["out"]')), '(idx (idx (idx teacher a) b) "out")');
  assert.is(sx(exprOf('side(x)[a][b]')), '(idx (idx (call side x) a) b)');
  assert.is(sx(exprOf('k.field.sub')), '(. (. k field) sub)');
  assert.is(sx(exprOf('f(a, b, dim=1, keepdim=true)')), '(call f a b dim=1 keepdim=true)');
  assert.is(sx(exprOf('f(a,)')), '(call f a)');
  assert.is(sx(exprOf('[a, [1, 2.5], "s", none, false]')), '[a [1 2.5] "s" none false]');
  assert.is(sx(exprOf('[]')), '[]');
  assert.is(sx(exprOf("'single' + \"dq\\\"esc\"")), '(+ "single" "dq\\"esc")');
  const n = exprOf('1e-7 + 1.0e-12 + 0.5 + 3');
  const nums: Expr[] = [];
  const walk = (e: Expr): void => (e.kind === 'binary' ? (walk(e.left), walk(e.right)) : void nums.push(e));
  walk(n);
  assert.equal(nums.map((x) => x.kind === 'number' && [x.value, x.isInt]), [[1e-7, false], [1e-12, false], [0.5, false], [3, true]]);
});

test('statements: let/assign, if / else if / else, for k, v in m, for x in list, error(), ;', () => {
  const s = parseOk(`mid M(m: map<float>, xs: list<float>, n: int) {
  let total = 0
  for k, v in m {
    total = total + v
  }
  for x in xs { total = total + x }
  for i in range(n) {}
  if n == 1 {
    return total
  } else if n == 2 {
    return 2 * total
  }
  else {
    error("bad n")
  }
  let a = 1; let b = 2;
}
`);
  const b = loss(s).body;
  assert.is(shape(b), 'let total; for k,v{assign total}; for x{assign total}; for i{}; if{return}else{if{return}else{expr}}; let a; let b');
  const f = b.stmts[1] as Stmt & { kind: 'for' };
  assert.equal(f.vars, ['k', 'v']);
  assert.is(sx(f.iter), 'm');
  const r = b.stmts[3] as Stmt & { kind: 'for' };
  assert.is(sx(r.iter), '(call range n)');
});

test('newlines: insignificant inside () and [] and after operators, significant between statements', () => {
  const s = parseOk(`def f(a,
      b) {
  let x = g(a,
            b,
  )
  let y = a +
    b *
    [1,
     2]
  let z = a
    .flatten(1)
  let w = a == 1
    ? b
    : x
  return x + y + z + w
}
`);
  assert.is(shape(func(s).body), 'let x; let y; let z; let w; return');
  const y = func(s).body.stmts[1] as Stmt & { kind: 'let' };
  assert.is(sx(y.value), '(+ a (* b [1 2]))');
  const w = func(s).body.stmts[3] as Stmt & { kind: 'let' };
  assert.is(sx(w.value), '(? (== a 1) b x)');
  // two statements on one line need a `;`
  const bad = parseSpec('def f(a) {\n  let x = a let y = a\n  return x\n}\n', 't.tdl');
  assert.equal(codes(bad.diagnostics), ['TDC304']);
  assert.match(bad.diagnostics[0]!.message, /expected a newline or ';' after the statement in f, found 'let'/);
});

test('parameters: **rest with and without a forward key, defaults of every literal kind, struct types', () => {
  const s = parseOk(`mid X(a: int = -100, b: float = 1e-7, c: list<int> = [1, 2], d: map<float> = {}, e: Ref = {path: "x", "io": "output"},
        f: bool = true, g: str = 'q', h: list<list<float?>>? = none, **kwargs) { return 0 }
`);
  const l = loss(s);
  assert.equal(l.rest && { name: l.rest.name, forwardTo: l.rest.forwardTo }, { name: 'kwargs', forwardTo: undefined });
  const d = l.params.map((p) => p.default!);
  assert.equal(d[0], { kind: 'number', value: -100, isInt: true, span: d[0]!.span });
  assert.is(d[0]!.span.start.col, 16, 'a negative default spans its minus');
  assert.equal(d[1]!.kind === 'number' && [d[1]!.value, d[1]!.isInt], [1e-7, false]);
  assert.equal(d[2]!.kind === 'list' && d[2]!.items.map((i) => i.kind === 'number' && i.value), [1, 2]);
  assert.equal(d[3]!.kind === 'map' && d[3]!.entries, []);
  assert.equal(d[4]!.kind === 'map' && d[4]!.entries.map((e) => [e.key, e.value.kind === 'string' && e.value.value]), [['path', 'x'], ['io', 'output']]);
  assert.equal(d[5]!.kind === 'bool' && d[5]!.value, true);
  assert.equal(d[6]!.kind === 'string' && d[6]!.value, 'q');
  const h = l.params[7]!.type;
  assert.ok(h.kind === 'optional' && h.inner.kind === 'list' && h.inner.elem.kind === 'list' && h.inner.elem.elem.kind === 'optional');
});

test('struct declarations: comma- or newline-separated fields, defaults, optional literal unions', () => {
  const s = parseOk(`struct KernelConfig { type: "bilinear" | "gaussian", gamma: float? = none, max_p: int? = none }
struct Pair {
  student: Ref
  teacher: Ref
  weight: float = 1
}
`);
  const k = s.decls[0] as StructDecl;
  assert.equal(k.fields.map((f) => f.name), ['type', 'gamma', 'max_p']);
  assert.equal(k.fields[0]!.type.kind === 'literals' && k.fields[0]!.type.values, ['bilinear', 'gaussian']);
  const p = s.decls[1] as StructDecl;
  assert.equal(p.fields.map((f) => [f.name, f.default?.kind]), [['student', undefined], ['teacher', undefined], ['weight', 'number']]);
  const opt = parseOk('struct S { r: "a" | "b"? = none }\n').decls[0] as StructDecl;
  const t = opt.fields[0]!.type;
  assert.ok(t.kind === 'optional' && t.inner.kind === 'literals' && t.inner.values.length === 2, 'T? applies to the whole union');
});

test('doc comments: the whole-line # block directly above a declaration', () => {
  const s = parseOk(`# file header

# line one
#   indented two
#
# four
def a(x) = x
def b(x) = x   # trailing comment: not the doc of c
  # indented doc
def c(x) = x
# separated by a blank line

def d(x) = x
`);
  assert.equal(s.decls.map((d) => d.doc), ['line one\n  indented two\n\nfour', undefined, 'indented doc', undefined]);
});

test('keywords are not identifiers, but names may start with one (longer_alt)', () => {
  assert.is(sx(exprOf('lowest + iffy + nonet + format + index')), '(+ (+ (+ (+ lowest iffy) nonet) format) index)');
  const r = parseSpec('def f(x) { let if = 1\n return x }\n', 't.tdl');
  assert.ok(r.diagnostics.length >= 1);
  assert.is(r.diagnostics[0]!.span!.start.line, 1);
});

// ---- syntax errors ----------------------------------------------------------------------------------------------
test('three independent syntax errors give three positioned diagnostics', () => {
  const text = `mid KDLoss(a: float, b: int c: float) {
  let x = a * 2
  let y = (x + )
  return y
}

def ok(x) = x + 1

def g(p) {
  let q = p
  return q +* 2
}
`;
  const r = parseSpec(text, 'e.tdl');
  assert.equal(lines(r.diagnostics), [1, 3, 11], r.diagnostics.map((d) => d.message).join('\n'));
  assert.ok(r.diagnostics.every((d) => d.severity === 'error' && /^TDC30\d$/.test(d.code)));
  assert.is(r.diagnostics[0]!.message, "expected ',' or ')' to close the parameter list of KDLoss, found 'c'");
  assert.equal(r.diagnostics[0]!.span!.start, { line: 1, col: 29, offset: 28 });
  assert.match(r.diagnostics[1]!.message, /expected an expression in KDLoss, found '\)'/);
  assert.match(r.diagnostics[2]!.message, /expected an expression in g, found '\*'/);
  // recovery keeps the good declarations
  assert.ok(r.spec.decls.some((d) => d.name === 'ok'));
});

test('errors stay inside their declaration; a missing token is reported at the end of its line', () => {
  const text = `stray tokens here
mid A(x: float) | "oops" | 3 {
  return x
}
mid B(x: float) {
  return x +
}
def c(x) = x)
def d(x) = x
`;
  const r = parseSpec(text, 'e.tdl');
  assert.equal(
    r.diagnostics.map((d) => [d.code, d.span!.start.line, d.span!.start.col]),
    [
      ['TDC305', 1, 1],
      ['TDC303', 2, 17],
      ['TDC304', 6, 13],
      ['TDC303', 8, 13],
    ],
    r.diagnostics.map((d) => d.message).join('\n'),
  );
  assert.match(r.diagnostics[0]!.message, /expected a declaration .*, found 'stray'/);
  assert.match(r.diagnostics[2]!.message, /expected an expression in B, found '}'/);
  assert.is(r.diagnostics[3]!.message, "unexpected ')' after the end of c");
  assert.ok(r.spec.decls.some((d) => d.name === 'd'));
});

test('mutated specs never throw and every diagnostic has a span inside the file', () => {
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  const junk = ['(', ')', '{', '}', '[', ']', ',', '\n', '=', '**', '"', '?', ':', 'let ', 'mid ', '$', '-', 'not ', '.', ';', ''];
  const dir = specFiles();
  const sources = [DOC_EXAMPLE, ...dir.map((f) => readFileSync(SPEC_DIR + f, 'utf8'))];
  for (let i = 0; i < 400; i++) {
    let t = sources[rnd(sources.length)]!;
    for (let k = 1 + rnd(3); k > 0; k--) {
      const at = rnd(t.length);
      t = t.slice(0, at) + junk[rnd(junk.length)] + t.slice(at + rnd(4));
    }
    const r = parseSpec(t, 'm.tdl');
    checkSpec(r.spec, {});
    for (const d of r.diagnostics) {
      assert.ok(d.span && d.span.start.offset >= 0 && d.span.end.offset <= t.length && d.span.start.offset <= d.span.end.offset, JSON.stringify(d));
      assert.is.not(d.code, 'TDC309', d.message);
      assert.not.match(d.message, /-->|<--|\bToken\b|tokenType/, 'raw chevrotain message');
    }
  }
});

test('syntax error messages name what was expected and what was found', () => {
  const msg = (src: string): string => {
    const r = parseSpec(src, 'e.tdl');
    assert.ok(r.diagnostics.length > 0, `no diagnostic for ${src}`);
    return r.diagnostics[0]!.message;
  };
  assert.is(msg('mid A(x: float = ) { return x }'), 'expected a literal default value (number, string, true, false, none, [...] or {...}) in the default value of A, found \')\'');
  assert.is(msg('def f(x) {\n  let = 3\n  return x\n}'), "expected a name in the `let` statement of f, found '='");
  assert.is(msg('def f(x) = foo(x,, 2)'), "expected an argument or ')' to close the argument list of f, found ','");
  assert.is(msg('mid C(x: list<float, y: int) { return 0 }'), "expected '>' to close the type arguments of C, found ','");
  assert.is(msg('def f(x) {\n  for in x { }\n  return 0\n}'), "expected a name in the `for` loop of f, found 'in'");
  assert.is(msg('low L(a: int)(input target) { return input }'), "expected ',' or ')' to close the call-argument names of L, found 'target'");
  assert.is(msg('mid D(x: float) {\n  return x\n'), "expected '}' to close the block of D, found end of file");
  assert.is(msg('def f(x) = x)'), "unexpected ')' after the end of f");
  assert.is(msg('foo(1)'), "expected a declaration (low, mid, high, wrapper, extract, struct or def), found 'foo'");
  assert.is(msg('def f(x) {\n  return x +\n}'), "expected an expression in f, found '}'");
  const eof = parseSpec('mid D(x: float) {\n  return x\n\n', 'e.tdl').diagnostics[0]!;
  assert.equal(eof.span!.start, { line: 2, col: 11, offset: 28 }, 'end of file points just after the last token');
});

test('a def (or another declaration) written inside a body: one error at its keyword, saying so', () => {
  const only = (src: string) => {
    const r = parseSpec(src, 'e.tdl');
    assert.is(r.diagnostics.length, 1, r.diagnostics.map((d) => `${d.span?.start.line}:${d.span?.start.col} ${d.message}`).join('\n'));
    return r.diagnostics[0]!;
  };
  // was: "expected '}' to close the block of X, found end of file" at 1:10, then "unexpected 'return' after the end of f"
  const d = only('mid X() {\n  def f(x) = x\n  return 1.0\n}\nmid Y() {\n  return 2.0\n}\n');
  assert.is(d.code, 'TDC303');
  assert.is(d.message, "a 'def' cannot be declared inside the body of X: declare the helper at the top level of the file (a body can call every top-level def)");
  assert.equal([d.span!.start.line, d.span!.start.col, d.span!.end.col], [2, 3, 6]);
  const nested = only('mid X(a: int) {\n  let b = 1\n  if a == 1 {\n    def f(x) {\n      return x\n    }\n  }\n  return 1.0\n}\n');
  assert.equal([nested.span!.start.line, nested.span!.start.col], [4, 5]);
  assert.match(only('def g(x) {\n  struct S { a: int }\n  return x\n}\n').message, /^'struct' cannot be declared inside the body of g: declarations go at the top level/);
  assert.match(only('struct S {\n  a: int\n  def f(x) = x\n}\n').message, /^a 'def' cannot be declared inside struct S: declare the helper at the top level/);
  // a block left open before a top-level declaration (not indented) is still the open block, and the next one parses
  const open = parseSpec('mid X() {\n  return 1.0\ndef f(x) = x\nmid Y() {\n  return 2.0\n}\n', 'e.tdl');
  assert.equal(open.diagnostics.map((x) => x.message), ["expected '}' to close the block of X, found end of file"]);
  assert.equal(open.spec.decls.map((x) => x.name).slice(-2), ['f', 'Y']);
});

test('syntax rules checked on the tree: ** last, unions of literals, list/map arguments, kwargs order', () => {
  const c = (src: string): string[] => codes(parseSpec(src, 'e.tdl').diagnostics);
  assert.equal(c('mid A(**k, a: int) { return 0 }'), ['TDC306']);
  assert.equal(c('mid A(**k, **j) { return 0 }'), ['TDC306']);
  assert.equal(c('mid A(a: "x" | int) { return 0 }'), ['TDC307']);
  assert.equal(c('mid A(a: list) { return 0 }'), ['TDC307']);
  assert.equal(c('mid A(a: float<int>) { return 0 }'), ['TDC307']);
  assert.equal(c('def f(x) = g(a=1, x)'), ['TDC308']);
});

test('lexer errors: unknown characters and unterminated strings are positioned', () => {
  const r = parseSpec('def f(x) {\n  return x $ 2\n}\ndef g(x) = "abc\ndef h(x) = x\n', 'e.tdl');
  assert.equal(
    r.diagnostics.map((d) => [d.code, d.span!.start.line, d.span!.start.col]),
    [
      ['TDC301', 2, 12],
      ['TDC302', 4, 12],
    ],
    r.diagnostics.map((d) => d.message).join('\n'),
  );
  assert.is(r.diagnostics[0]!.message, "unexpected character '$'");
  assert.match(r.diagnostics[1]!.message, /unterminated string/);
  assert.is(r.diagnostics[1]!.span!.end.col, 16);
  assert.ok(r.spec.decls.some((d) => d.name === 'h'), 'parsing goes on after a lexer error');
});

test('the parser instance is reused: a failed parse leaves nothing behind', () => {
  const bad = parseSpec('mid A(x: int { return x }', 'a.tdl');
  assert.ok(bad.diagnostics.length > 0);
  const good = parseSpec('def f(x) = x\n', 'b.tdl');
  assert.equal(good.diagnostics, []);
  assert.is(good.spec.file, 'b.tdl');
  assert.is(good.spec.decls[0]!.name, 'f');
  assert.is(parseSpec('', 'c.tdl').spec.decls.length, 0);
  assert.is(parseSpec('# only a comment', 'c.tdl').diagnostics.length, 0);
});

// ---- the checker -------------------------------------------------------------------------------------------------
function check(src: string, opts: Parameters<typeof checkSpec>[1] = {}): Diagnostic[] {
  return checkSpec(parseOk(src), opts);
}
const checkCodes = (src: string, opts: Parameters<typeof checkSpec>[1] = {}): string[] => codes(check(src, opts));

test('check: a clean spec gives nothing', () => {
  assert.equal(
    check(DOC_EXAMPLE, { knownStructs: new Set(['Side', 'Target', 'ModelTerm', 'SubTerm']), knownFunctions: new Set() }).map((d) => d.message),
    [],
  );
});

test('prefix operators thousands deep (- - - x, not not x): TDC310 at the chain, never a stack overflow', () => {
  for (const [what, n] of [
    ['- ', 4000],
    ['- ', 50_000],
    ['not ', 10_000],
    ['-', 20_000],
  ] as const) {
    const src = `def ok(x) = x\ndef f(x) = ${what.repeat(n)}x\ndef g(x) = -x\n`;
    const r = parseSpec(src, 'deep.tdl');
    const errs = r.diagnostics.filter((d) => d.severity === 'error');
    assert.equal(
      errs.map((d) => `${d.code} ${d.span?.start.line}`),
      ['TDC310 2'],
      `${n} × '${what}': ${errs.map((d) => d.message).join('; ')}`,
    );
    assert.match(errs[0]!.message, /nested more than 256 levels deep/);
    assert.equal(
      r.spec.decls.map((d) => d.name),
      ['ok', 'g'],
      'the deep declaration is dropped, the others kept',
    );
  }
});

test('check TDC310: duplicate declarations', () => {
  const ds = check('def f(x) = x\nstruct f { a: int }\n');
  assert.equal(codes(ds), ['TDC310']);
  assert.is(ds[0]!.span!.start.line, 2);
  assert.is(ds[0]!.related?.[0]?.span?.start.line, 1);
});

test('check TDC311: duplicate parameter, call parameter and field names', () => {
  assert.equal(checkCodes('mid A(a: int, a: float) { return a }'), ['TDC311']);
  assert.equal(checkCodes('low A(input: int)(input, target) { return input }'), ['TDC311']);
  assert.equal(checkCodes('mid A(a: int, **a) { return a }'), ['TDC311']);
  assert.equal(checkCodes('def f(x, x) = x'), ['TDC311']);
  assert.equal(checkCodes('struct S { a: int, a: int }'), ['TDC311']);
});

test('check TDC312: unknown type names, with a suggestion; prelude structs are known', () => {
  const ds = check('mid A(a: flaot, b: list<Reff>, c: Ref) { return 0 }', { knownStructs: new Set(['Ref']) });
  assert.equal(codes(ds), ['TDC312', 'TDC312']);
  assert.is(ds[0]!.hint, "did you mean 'float'?");
  assert.is(ds[1]!.hint, "did you mean 'Ref'?");
  assert.equal(checkCodes('struct R { p: path }\nmid A(a: R?) { return 0 }'), []);
});

test('check TDC313: defaults must fit their declared type', () => {
  const bad: [string, RegExp][] = [
    ['x: int = "a"', /"a" is not an int/],
    ['x: int = 0.5', /0\.5 is not an int/],
    ['r: "mean" | "sum" = "max"', /"max" is not one of "mean" \| "sum"/],
    ['x: float = none', /none is not allowed \(write float\? /],
    ['x: bool = 1', /1 is not true or false/],
    ['x: io = "in"', /"in" is not "input" or "output"/],
    ['x: list<int> = [1, "b"]', /"b" is not an int/],
    ['x: map<float> = {a: true}', /true is not a number/],
    ['x: S = {c: 1}', /S has no field 'c'/],
    ['x: S = {a: "q"}', /"q" is not an int/],
    ['x: path = 3', /3 is not a string/],
    ['x: S = {}', /\{\} is missing the required field 'a' of S/],
    ['x: list<S> = [{a: 1}, {}]', /missing the required field 'a' of S/],
    ['x: T = {s: {}}', /missing the required field 'a' of S/],
  ];
  for (const [param, re] of bad) {
    const ds = check(`struct S { a: int }\nstruct T { s: S }\nmid A(${param}) { return 0 }`);
    assert.equal(codes(ds), ['TDC313'], param);
    assert.match(ds[0]!.message, re);
  }
  const good = ['x: float = 1', 'x: float? = none', 'x: any = "z"', 'x: "a" | "b"? = none', 'x: list<float> = []', 'x: S = {a: 2}', 'x: io = "output"', 'x: int = -100'];
  for (const param of good) assert.equal(checkCodes(`struct S { a: int }\nmid A(${param}) { return 0 }`), [], param);
  assert.equal(checkCodes('struct S { a: int = "x" }'), ['TDC313']);
  // a field with a default may be left out; a prelude struct is checked where its declaration is known
  assert.equal(checkCodes('struct S { a: int = 3, b: float? = none }\nmid A(x: S = {}) { return 0 }'), []);
  const side = parseOk('struct Side { path: path }').decls[0]! as StructDecl;
  assert.equal(checkCodes('mid A(x: Side = {}) { return 0 }', { knownStructs: new Set(['Side']) }), []);
  assert.equal(checkCodes('mid A(x: Side = {}) { return 0 }', { knownStructs: new Set(['Side']), sharedStructs: new Map([['Side', side]]) }), ['TDC313']);
});

test('check TDC323: a flag (a parameter defaulting to true or false) passed by position is a warning with the keyword fix', () => {
  const ds = check('mid A(p: path) {\n  let s = student[p]["output"]\n  return sum(sum(s, 1, true) * s)\n}');
  assert.equal(ds.map((d) => [d.code, d.severity, d.span!.start.line, d.span!.start.col]), [['TDC323', 'warning', 3, 24]]);
  assert.is(ds[0]!.message, "the flag 'keepdim' of sum(x, dims=none, keepdim=false) is passed by position");
  assert.is(ds[0]!.hint, 'pass it by keyword: keepdim=true');
  // a helper's flags: the file's own def, and a prelude helper where its declaration is known
  const own = check('def m(x, dims=none, keepdim=false) = sum(x, dims, keepdim=keepdim)\nmid A(k: bool) {\n  return m(student["."]["output"], 1, k)\n}');
  assert.equal(codes(own), ['TDC323']);
  assert.is(own[0]!.message, "the flag 'keepdim' of m(x, dims=none, keepdim=false) is passed by position");
  assert.is(own[0]!.hint, 'pass it by keyword: keepdim=...');
  const prelude = parseOk('def mean(x, dims=none, keepdim=false) = sum(x, dims, keepdim=keepdim)').decls[0]! as FuncDecl;
  const usesMean = 'mid A() {\n  return sum(mean(student["."]["output"], 1, false))\n}';
  assert.equal(checkCodes(usesMean, { knownFunctions: new Set(['mean']), sharedHelpers: new Map([['mean', prelude]]) }), ['TDC323']);
  assert.equal(checkCodes(usesMean, { knownFunctions: new Set(['mean']) }), [], 'a helper whose declaration is not known');
  // by keyword, non-flag positions, and a local of the same name are fine
  for (const body of ['sum(s, 1, keepdim=true)', 'sum(s, [0, 1])', 'sort(s, -1, descending=true).sum()', 'triangular_solve(s, s, lower=false).sum()'])
    assert.equal(checkCodes(`mid A() {\n  let s = student["."]["output"]\n  return ${body}\n}`), [], body);
  assert.equal(checkCodes('mid A() {\n  let sum = low_loss("MSELoss")\n  return sum(1, 2, true)\n}'), []);
});

test('check TDC322: reading a field that the struct type of a parameter does not declare', () => {
  const ds = check('struct P { a: int, q: Q? = none }\nstruct Q { depth: int = 1 }\nmid A(p: P) {\n  return p.b * 1.0\n}');
  assert.equal(codes(ds), ['TDC322']);
  assert.is(ds[0]!.message, "struct P has no field 'b'");
  assert.equal([ds[0]!.span!.start.line, ds[0]!.span!.start.col], [4, 10]);
  assert.is(ds[0]!.hint, "did you mean 'a'?");
  assert.is(check('struct P { a: int }\nmid A(p: P) {\n  return p.zzzz\n}')[0]!.hint, "P's fields: a");
  assert.equal(codes(check('struct P { a: int, q: Q? = none }\nstruct Q { depth: int = 1 }\nmid A(p: P) {\n  return p.q.dept + p.a\n}')), ['TDC322'], 'a nested struct (optional)');
  // declared fields, maps, untyped values and re-bound names are not checked
  for (const body of ['return p.a + p.q.depth', 'for k, v in m { let z = v.anything }\n  return 0', 'let p = 1\n  return 0', 'p = m\n  return p.zzz', 'for p in [m] { let z = p.zzz }\n  return 0'])
    assert.equal(checkCodes(`struct P { a: int, q: Q? = none }\nstruct Q { depth: int = 1 }\nmid A(p: P, m: map<any>) {\n  ${body}\n}`).filter((c) => c === 'TDC322'), [], body);
});

test('check TDC314: a body that can end without return is a warning', () => {
  const ds = check('mid A(a: int) { let x = a }');
  assert.equal(ds.map((d) => [d.code, d.severity]), [['TDC314', 'warning']]);
  assert.equal(checkCodes('mid A(a: int) { if a == 1 { return 1 } }'), ['TDC314']);
  assert.equal(checkCodes('mid A(a: int) { if a == 1 { return 1 } else if a == 2 { return 2 } }'), ['TDC314']);
  assert.equal(checkCodes('mid A(a: int) { if a == 1 { return 1 } else { return 2 } }'), []);
  assert.equal(checkCodes('mid A(a: int) { error("not supported") }'), []);
  assert.equal(checkCodes('def f(a) { let b = a }'), ['TDC314']);
});

test('check TDC315: names must be bound (params, let, for, call params, builtins, known functions)', () => {
  const ds = check('mid A(alpha: float) { let x = alpah * 2\n return x }');
  assert.equal(codes(ds), ['TDC315']);
  assert.is(ds[0]!.hint, "did you mean 'alpha'?");
  assert.equal(ds[0]!.span!.start.col, 31);
  assert.equal(checkCodes('mid A(m: map<float>) { let t = 0\n for k, v in m { t = t + v }\n return t + k }'), ['TDC315'], 'for variables are scoped to the loop');
  assert.equal(checkCodes('mid A(a: int) { if a == 1 { let y = 2 }\n return y }'), ['TDC315'], 'let is block-scoped');
  assert.equal(checkCodes('low L(a: int)(input, target) { return detach(input) - target + targets.shape[0] + student[a]["output"] }'), []);
  assert.equal(checkCodes('mid A(**kw) { return kw }'), []);
  assert.equal(checkCodes('mid A(a: int) { return unknown_fn(a) + g(a) }\ndef g(x) = x'), [], 'callees are the instantiator’s business');
  assert.equal(checkCodes('mid A(a: int) { return softmax }'), ['TDC315']);
  assert.equal(checkCodes('mid A(a: int) { return softmax }', { knownFunctions: new Set(['softmax']) }), []);
  assert.equal(checkCodes('mid A(a: int) { return sum }'), [], 'built-ins (grammar/builtins.ts) are always known');
  assert.equal(checkCodes('mid A(a: int) { return x.f(a) }'), ['TDC315'], 'the object of a method call is checked');
});

test('check TDC316 / TDC317: let re-binding and assignment to unbound names', () => {
  const ds = check('mid A(a: int) { let x = 1\n let x = 2\n return x }');
  assert.equal(codes(ds), ['TDC316']);
  assert.is(ds[0]!.span!.start.line, 2);
  assert.match(ds[0]!.message, /x = \.\.\./);
  assert.equal(checkCodes('mid A(a: int) { let a = 1\n return a }'), ['TDC316'], 'params share the body block');
  assert.equal(checkCodes('mid A(a: int) { let x = 1\n if a == 1 { let x = 2 }\n return x }'), [], 'a nested block may shadow');
  assert.equal(checkCodes('mid A(a: int) { y = 1\n return a }'), ['TDC317']);
  assert.equal(checkCodes('mid A(a: int) { student = 1\n return a }'), ['TDC317'], 'builtins cannot be assigned');
  assert.equal(checkCodes('mid A(a: int) { let t = 0\n for i in range(a) { t = t + i }\n return t }'), []);
});

test('def parameters take literal defaults; a required one may not follow a defaulted one (TDC306)', () => {
  const r = parseSpec('def f(x, dims=none, keepdim=false, p=2) = x\n', 't.tdl');
  assert.equal(r.diagnostics, []);
  const f = r.spec.decls[0] as FuncDecl;
  assert.equal(
    f.params.map((p) => [p.name, p.default?.kind ?? '-']),
    [['x', '-'], ['dims', 'none'], ['keepdim', 'bool'], ['p', 'number']],
  );
  const bad = parseSpec('def g(x, k=1, y) = x\n', 't.tdl').diagnostics;
  assert.equal(bad.map((d) => d.code), ['TDC306']);
  assert.match(bad[0]!.message, /'y' without a default follows 'k'/);
});

test('the shipped specs pass flags by keyword (no positional `none, false)`), the prelude writes no `x ?? default`', () => {
  for (const f of specFiles()) {
    const text = readFileSync(SPEC_DIR + f, 'utf8');
    assert.not.match(text, /none, false\)/, `${f} passes flags positionally`);
    assert.not.match(text, /\b(sum|mean|amax|amin|vector_norm|logsumexp|var|std)\([^()]*(\([^()]*\))*[^()]*, (true|false)\)/, `${f}: a positional keepdim flag`);
  }
  const prelude = readFileSync(SPEC_DIR + 'prelude/prelude.tdl', 'utf8');
  const coalesced = [...prelude.matchAll(/(\w+) \?\? /g)].map((m) => m[1]);
  assert.equal(coalesced, ['size_average', 'reduce_'], "only torch's legacy None-means-default arguments use ??");
});

test('check TDC320: an expression statement whose value is dropped (`- 2.0` on its own line); calls for their effect are fine', () => {
  const minus = check('mid A(a: float) {\n  let x = a\n  - 2.0\n  return x\n}\n');
  assert.equal(codes(minus), ['TDC320']);
  assert.is(minus[0]!.severity, 'warning');
  assert.is(minus[0]!.span!.start.line, 3);
  assert.match(minus[0]!.message, /this expression's value is not used; did you mean to continue the previous line\?/);
  assert.equal(checkCodes('mid A(a: float) {\n  a + 1\n  return a\n}'), ['TDC320']);
  assert.equal(checkCodes('mid A(a: float) {\n  exp(student)\n  return a\n}'), ['TDC320'], 'a pure built-in');
  assert.equal(checkCodes('mid A(a: float) {\n  "note"\n  return a\n}'), ['TDC320']);
  // called for an effect: a diagnostic, a run-time check, a state update, a helper (it may call error), a loss value
  assert.equal(
    checkCodes(
      'def h(x) {\n  error("no")\n}\nmid A(a: float) {\n  if a > 1 { error("too big") }\n  assert_shape(student, [2], "s")\n  warn_rows(student, "w")\n  state_out("m", student)\n  h(a)\n  let f = low_loss("L1Loss", none)\n  f(student, teacher)\n  return a\n}',
    ),
    [],
  );
  assert.equal(checkCodes('def exp(x) = x\nmid A(a: float) {\n  exp(a)\n  return a\n}'), [], "a def named like a built-in is the def's call");
});

test('check TDC321: code after return or error(...) is unreachable (once per block); such a body does not end without a return', () => {
  const after = check('mid A(a: float) {\n  return a\n  let z = foo(1)\n  let w = 2\n}\n');
  assert.equal(codes(after), ['TDC321'], 'and no TDC314');
  assert.is(after[0]!.severity, 'warning');
  assert.is(after[0]!.span!.start.line, 3);
  assert.is(after[0]!.related?.[0]?.span?.start.line, 2);
  assert.equal(checkCodes('mid A(a: float) {\n  error("x")\n  return a\n}'), ['TDC321']);
  assert.equal(checkCodes('mid A(a: float) {\n  if a > 1 { return a } else { return 2 * a }\n  return 0.0\n}'), ['TDC321']);
  assert.equal(checkCodes('mid A(a: float) {\n  if a > 1 { return a }\n  return 0.0\n}'), []);
  assert.equal(checkCodes('mid A(a: float) {\n  for i in range(3) {\n    return a\n    a = 2\n  }\n  return a\n}'), ['TDC321']);
});

test('the shipped specs trigger neither TDC320 nor TDC321', () => {
  const files = specFiles();
  assert.ok(files.length > 40, `${files.length} spec files`);
  for (const f of files) {
    const ds = checkSpec(parseSpec(readFileSync(SPEC_DIR + f, 'utf8'), f).spec, {});
    assert.equal(
      ds.filter((d) => d.code === 'TDC320' || d.code === 'TDC321').map((d) => `${f}:${d.span?.start.line} ${d.message}`),
      [],
    );
  }
});

test('the checker reads the built-in signature table: argument counts and keyword names (TDC318)', () => {
  assert.equal(checkCodes('mid A(a: int) { return sum(student, 1, keepdim=true) }'), []);
  assert.equal(checkCodes('mid A(a: int) { return sum(student, 1, keep_dim=true) }'), ['TDC318']);
  assert.equal(checkCodes('mid A(a: int) { return sum(student, 1, false, 2) }'), ['TDC318', 'TDC323'], 'too many, and the flag keepdim by position');
  assert.equal(checkCodes('mid A(a: int) { return sum(student, 1, dims=2) }'), ['TDC318']);
  assert.equal(checkCodes('mid A(a: int) { return error("x", student, teacher) }'), [], 'error takes extra arguments');
  assert.equal(checkCodes('def sum(x, y, z, w) = x\nmid A(a: int) { return sum(1, 2, 3, 4) }'), [], 'a helper shadows the built-in');
  assert.equal(checkCodes('mid A(a: int) { return exp }'), [], 'built-ins are known names without knownFunctions');
});

test('TDC318 also for too few arguments: a parameter without a default that is left out is named', () => {
  const missing = (call: string): string[] =>
    check(`mid A(a: int) {\n  return ${call}\n}`)
      .filter((d) => d.code === 'TDC318')
      .map((d) => d.message);
  assert.equal(missing('exp()'), ["exp(x) is missing the argument 'x'"]);
  assert.equal(missing('sum()'), ["sum(x, dims=none, keepdim=false) is missing the argument 'x'"]);
  assert.equal(missing('maximum(student)'), ["maximum(a, b) is missing the argument 'b'"]);
  assert.equal(missing('where(student > 0, student)'), ["where(cond, a, b) is missing the argument 'b'"]);
  assert.equal(missing('gather(student, 1)'), ["gather(x, dim, index) is missing the argument 'index'"]);
  assert.equal(missing('gather(student)'), ["gather(x, dim, index) is missing the arguments 'dim', 'index'"]);
  assert.equal(missing('range()'), ["range(a, b, step=1) is missing the argument 'a'"]);
  assert.equal(missing('error()'), ["error(message, ...) is missing the argument 'message'"]);
  // given by keyword, defaulted or optional: fine
  for (const ok of ['gather(student, 1, index=targets)', 'sum(student)', 'range(3)', 'size(student)', 'min([1, 2])', 'low_loss("L1Loss")', 'squeeze(student)'])
    assert.equal(missing(ok), [], ok);
  const d = check('mid A(a: int) {\n  return gather(student, 1)\n}').find((x) => x.code === 'TDC318')!;
  assert.equal([d.span?.start.line, d.span?.start.col], [2, 10]);
});

test("docs/spec-language.md lists every built-in as grammar/builtins.ts declares it (UPDATE_SNAPSHOTS=1 rewrites)", () => {
  const file = fileURLToPath(new URL('../../docs/spec-language.md', import.meta.url));
  const text = readFileSync(file, 'utf8');
  const begin = '<!-- builtins:begin -->\n';
  const end = '<!-- builtins:end -->';
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  assert.ok(a >= 0 && b > a, 'docs/spec-language.md has the builtins markers');
  const want = renderBuiltinDocs() + '\n';
  if (process.env['UPDATE_SNAPSHOTS'] === '1') writeFileSync(file, text.slice(0, a + begin.length) + want + text.slice(b));
  else assert.fixture(text.slice(a + begin.length, b), want);
  for (const name of Object.keys(BUILTIN_FUNCTIONS)) assert.ok(want.includes(`\`${name}(`), name);
});

// ---- the shipped specs -----------------------------------------------------------------------------------------
test('every src/losses-spec/<level>/*.tdl parses with zero diagnostics', () => {
  const files = specFiles();
  assert.ok(files.length >= 50, `found only ${files.length} spec files`);
  for (const f of files) {
    const r = parseSpec(readFileSync(SPEC_DIR + f, 'utf8'), f);
    assert.equal(r.diagnostics.map((d) => `${f}:${d.span?.start.line}:${d.span?.start.col} ${d.code} ${d.message}`), []);
    assert.ok(r.spec.decls.length > 0, `${f} declares nothing`);
  }
});

test.run();
