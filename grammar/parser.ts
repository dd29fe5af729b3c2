// Entry point: loss-spec source text → AST + diagnostics. Never throws for bad input.
// Lexer and parser instances are built once (performSelfAnalysis is costly) and reused.
import type { CstNode, IRecognitionException, IToken } from 'chevrotain';
import { computeLineStarts, diag, posAt, type Diagnostic, type Span } from '../src/diagnostics/diagnostic.js';
import type { SpecFile } from './ast.js';
import { SpecCstParser } from './cst-parser.js';
import * as T from './lexer.js';
import { DECLARATION, describeToken, messageProvider } from './messages.js';
import { significantNewlines } from './newlines.js';
import { cstToAst } from './to-ast.js';

/* Syntax codes: TDC301 unexpected character, TDC302 unterminated string, TDC303 expected a token,
   TDC304 expected a construct (statement, expression, ...), TDC305 not a declaration, TDC306 misplaced `**` or a parameter without a default
   after one with a default,
   TDC307 malformed type, TDC308 positional after keyword argument, TDC309 internal, TDC310 nested too deeply. */

/** Deepest expression/statement nesting accepted (real specs stay below 40): deeper ASTs would overflow the
 *  recursive checker, printer and interpreter, so such a declaration is reported and dropped. */
export const MAX_AST_DEPTH = 256;

let parser: SpecCstParser | undefined;
function specParser(): SpecCstParser {
  if (!parser) {
    const p: SpecCstParser = new SpecCstParser(messageProvider({ currentDecl: () => p.currentDecl }));
    parser = p;
  }
  return parser;
}

export function parseSpec(text: string, file: string): { spec: SpecFile; diagnostics: Diagnostic[] } {
  const lineStarts = computeLineStarts(text);
  const span = (start: number, end: number): Span => ({ file, start: posAt(lineStarts, start), end: posAt(lineStarts, Math.max(start, end)) });
  const diagnostics: Diagnostic[] = [];

  const lexed = T.specLexer().tokenize(text);
  for (const e of lexed.errors) {
    const chars = text.slice(e.offset, e.offset + e.length);
    diagnostics.push(diag('error', 'TDC301', `unexpected character${[...chars].length > 1 ? 's' : ''} '${chars}'`, span(e.offset, e.offset + e.length)));
  }
  for (const t of lexed.tokens) {
    t.endOffset = t.startOffset + t.image.length - 1; // the lexer tracks only start offsets (cheaper)
    if (t.tokenType !== T.UnterminatedString) continue;
    diagnostics.push(diag('error', 'TDC302', 'unterminated string: missing closing quote before the end of the line', span(t.startOffset, t.endOffset! + 1), { hint: `close it with ${t.image[0]}` }));
    t.tokenType = T.StringLit;
    t.tokenTypeIdx = T.StringLit.tokenTypeIdx!;
  }

  const p = specParser();
  const { leading, units } = splitAtDeclarations(significantNewlines(lexed.tokens), (offset) => posAt(lineStarts, offset).col);
  const stray = leading.find((t) => t.tokenType !== T.Newline && t.tokenType !== T.Semi);
  if (stray) diagnostics.push(diag('error', 'TDC305', `expected ${DECLARATION}, found ${describeToken(stray)}`, span(stray.startOffset, stray.endOffset! + 1)));
  const seenLines = new Set(diagnostics.map((d) => d.span!.start.line));
  const unitCsts: CstNode[] = [];
  for (const unit of units) {
    p.currentDecl = undefined;
    p.input = unit;
    let cst: CstNode;
    try {
      cst = p.declUnit();
    } catch (e) {
      if (!(e instanceof RangeError)) throw e; // the JS stack overflowed: brackets or prefix operators nested thousands deep
      diagnostics.push(diag('error', 'TDC310', `this declaration nests too deeply to parse (more than ${MAX_AST_DEPTH} levels)`, span(unit[0]!.startOffset, unit[0]!.endOffset! + 1)));
      continue;
    }
    unitCsts.push(cst);
    for (const [i, e] of p.errors.entries()) {
      // Tokens left after the declaration (an error at the declUnit level): the rest of the piece is skipped,
      // so report it once, and not at all when the declaration itself was broken (it is then an echo).
      const trailing = e.context.ruleStack.length <= 1;
      if (trailing && i > 0) break;
      const d = syntaxDiagnostic(e, text, span);
      const line = d.span!.start.line;
      if (!seenLines.has(line)) diagnostics.push(d); // one error per line: the rest are usually echoes of it
      seenLines.add(line);
      if (trailing) break;
    }
  }

  const comments = (lexed.groups['comments'] ?? []) as IToken[];
  const ast = cstToAst(unitCsts, { file, text, lineStarts, comments, hadSyntaxErrors: diagnostics.length > 0, maxDepth: MAX_AST_DEPTH });
  diagnostics.push(...ast.diagnostics);
  ast.spec.decls = ast.spec.decls.filter((d) => {
    const deep = deepestNode(d, MAX_AST_DEPTH);
    if (deep) diagnostics.push(diag('error', 'TDC310', `expression nested more than ${MAX_AST_DEPTH} levels deep (e.g. a very long chain of operators); split it with \`let\``, deep.span));
    return !deep;
  });
  diagnostics.sort((a, b) => (a.span?.start.offset ?? 0) - (b.span?.start.offset ?? 0));
  return { spec: ast.spec, diagnostics };
}

/** The first AST node (an object with `kind`) deeper than `limit` below `root`, found without recursion. */
function deepestNode(root: object, limit: number): { span?: Span } | undefined {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const isNode = 'kind' in v;
    const d = isNode ? depth + 1 : depth;
    if (isNode && d > limit) return v as { span?: Span };
    for (const [k, x] of Object.entries(v)) if (k !== 'span' && x !== null && typeof x === 'object') stack.push([x, d]);
  }
  return undefined;
}

const DECL_START = new Set(T.DECL_TOKENS);

/**
 * Declaration keywords appear nowhere else, so each one starts an independently parsed piece (an error never spills
 * into the next declaration) — except one indented further than its declaration while a `{` of it is open: a `def`
 * written inside a body stays in that body's piece, where the parser reports it as such (not as a block left open
 * at the end of the file followed by statements after the end of the `def`).
 */
function splitAtDeclarations(tokens: IToken[], column: (offset: number) => number): { leading: IToken[]; units: IToken[][] } {
  const leading: IToken[] = [];
  const units: IToken[][] = [];
  let open = 0; // `{` not yet closed in the current piece
  let indent = 0; // the column of the current piece's declaration keyword
  for (const t of tokens) {
    if (DECL_START.has(t.tokenType) && !(open > 0 && column(t.startOffset) > indent)) {
      units.push([t]);
      open = 0;
      indent = column(t.startOffset);
      continue;
    }
    (units[units.length - 1] ?? leading).push(t);
    if (t.tokenType === T.LCurly) open++;
    else if (t.tokenType === T.RCurly && open > 0) open--;
  }
  return { leading, units };
}

function syntaxDiagnostic(e: IRecognitionException, text: string, span: (s: number, e: number) => Span): Diagnostic {
  const t = e.token;
  const prev = (e as { previousToken?: IToken }).previousToken;
  const prevEnd = prev && Number.isFinite(prev.startOffset) ? prev.startOffset + (prev.tokenType === T.Newline ? 0 : prev.image.length) : undefined;
  let start: number;
  let end: number;
  if (!Number.isFinite(t.startOffset)) start = end = prevEnd ?? text.trimEnd().length; // end of file: just after the last token
  else if (DECL_START.has(t.tokenType)) [start, end] = [t.startOffset, t.startOffset + t.image.length]; // a declaration inside a body: at its keyword
  else if (prevEnd !== undefined && text.slice(prevEnd, t.startOffset).includes('\n')) start = end = prevEnd; // something is missing at the end of the previous line
  else [start, end] = [t.startOffset, t.startOffset + t.image.length];
  const code = e.name === 'MismatchedTokenException' ? 'TDC303' : 'TDC304';
  return diag('error', code, e.message, span(start, end));
}
