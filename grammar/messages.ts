// Human syntax-error messages, replacing chevrotain's token dumps: "expected ',' or ')' to close the parameter
// list of KDLoss, found 'b'".
import type { IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';
import { chevrotain } from './chevrotain.js';
import * as T from './lexer.js';

export function describeToken(tok: IToken): string {
  if (tok.tokenType === EOF) return 'end of file';
  if (tok.tokenType === T.Newline) return 'end of line';
  return `'${tok.image}'`;
}

const { EOF } = chevrotain;

const tokenName = (t: TokenType): string => (t === EOF ? 'end of file' : (t.LABEL ?? t.name));

/** What a rule is, for "in <what>" / "to close <what>". */
const RULE_WHAT: Record<string, string> = {
  structDecl: 'struct',
  structField: 'struct field',
  lossDecl: 'declaration',
  funcDecl: 'function',
  paramList: 'parameter list',
  paramItem: 'parameter',
  param: 'parameter',
  restParam: '`**` parameter',
  callParamList: 'call-argument names',
  nameList: 'parameter names',
  typeExpr: 'type',
  typeAtom: 'type',
  literal: 'default value',
  listLiteral: 'list',
  mapLiteral: 'mapping',
  mapEntry: 'mapping entry',
  block: 'block',
  letStmt: '`let` statement',
  assignStmt: 'assignment',
  ifStmt: '`if` statement',
  forStmt: '`for` loop',
  returnStmt: '`return` statement',
  callSuffix: 'argument list',
  argument: 'argument',
  indexSuffix: 'index',
  parenExpr: 'parenthesized expression',
  listExpr: 'list',
  memberSuffix: 'field access',
};

/** Token expected at the end of a rule: the error is about closing it. */
const CLOSERS: Record<string, { tok: TokenType; what: string; sep?: string; item?: string }> = {
  paramList: { tok: T.RParen, what: 'the parameter list', sep: "','", item: 'a parameter' },
  callParamList: { tok: T.RParen, what: 'the call-argument names', sep: "','", item: 'a name' },
  funcDecl: { tok: T.RParen, what: 'the parameter list', sep: "','", item: 'a parameter name' },
  callSuffix: { tok: T.RParen, what: 'the argument list', sep: "','", item: 'an argument' },
  parenExpr: { tok: T.RParen, what: 'the parenthesized expression' },
  indexSuffix: { tok: T.RBracket, what: 'the index' },
  listExpr: { tok: T.RBracket, what: 'the list', sep: "','", item: 'an element' },
  listLiteral: { tok: T.RBracket, what: 'the list', sep: "','", item: 'an element' },
  mapLiteral: { tok: T.RCurly, what: 'the mapping', sep: "','", item: 'an entry' },
  block: { tok: T.RCurly, what: 'the block' },
  structDecl: { tok: T.RCurly, what: 'the struct' },
  typeAtom: { tok: T.Greater, what: 'the type arguments' },
};

export const DECLARATION = 'a declaration (low, mid, high, wrapper, extract, struct or def)';

const NO_VIABLE: Record<string, string> = {
  decl: DECLARATION,
  lossDecl: 'a level (low, mid, high, wrapper, extract)',
  statement: 'a statement',
  statementEnd: "a newline or ';' after the statement",
  primary: 'an expression',
  operand: 'an expression',
  literal: 'a literal default value (number, string, true, false, none, [...] or {...})',
  typeAtom: "a type (a name or a string literal like \"mean\")",
  paramItem: 'a parameter (`name: Type` or `**name`)',
  mapEntry: 'a mapping key',
  funcDecl: "'=' or '{' after the parameters",
  argument: 'an argument',
};

export function messageProvider(ctx: { currentDecl: () => string | undefined }): IParserErrorMessageProvider {
  const of = (): string => {
    const d = ctx.currentDecl();
    return d ? ` of ${d}` : '';
  };
  const inWhat = (rule: string): string => {
    const what = RULE_WHAT[rule];
    const d = ctx.currentDecl();
    if (!what) return d ? ` in ${d}` : '';
    return ` in the ${what}${d && !['structDecl', 'lossDecl', 'funcDecl'].includes(rule) ? ` of ${d}` : d ? ` ${d}` : ''}`;
  };
  const unexpectedAfter = (tok: IToken): string => {
    const d = ctx.currentDecl();
    return d ? `unexpected ${describeToken(tok)} after the end of ${d}` : `expected ${NO_VIABLE['decl']}, found ${describeToken(tok)}`;
  };
  return {
    buildMismatchTokenMessage({ expected, actual, ruleName }) {
      if (expected === EOF) return unexpectedAfter(actual);
      if ((ruleName === 'block' || ruleName === 'structDecl') && T.DECL_TOKENS.includes(actual.tokenType)) return nestedDeclaration(actual, ctx.currentDecl(), ruleName === 'structDecl');
      const closer = CLOSERS[ruleName];
      if (closer && closer.tok === expected) {
        const lead = actual.tokenType === T.Comma && closer.item ? closer.item : closer.sep;
        const exp = lead ? `${lead} or ${tokenName(expected)}` : tokenName(expected);
        return `expected ${exp} to close ${closer.what}${of()}, found ${describeToken(actual)}`;
      }
      return `expected ${tokenName(expected)}${inWhat(ruleName)}, found ${describeToken(actual)}`;
    },
    buildNotAllInputParsedMessage({ firstRedundant }) {
      return unexpectedAfter(firstRedundant);
    },
    buildNoViableAltMessage({ expectedPathsPerAlt, actual, ruleName }) {
      const what = NO_VIABLE[ruleName] ?? firstTokens(expectedPathsPerAlt.flat());
      return `expected ${what}${inWhat(ruleName)}, found ${describeToken(actual[0]!)}`;
    },
    buildEarlyExitMessage({ expectedIterationPaths, actual, ruleName }) {
      return `expected ${firstTokens(expectedIterationPaths)}${inWhat(ruleName)}, found ${describeToken(actual[0]!)}`;
    },
  };
}

/** A declaration keyword inside a body or a struct (grammar/parser.ts keeps an indented one in that piece). */
function nestedDeclaration(tok: IToken, inDecl: string | undefined, inStruct: boolean): string {
  const where = inStruct ? `struct ${inDecl}` : inDecl ? `the body of ${inDecl}` : 'a body';
  return tok.tokenType === T.Def
    ? `a 'def' cannot be declared inside ${where}: declare the helper at the top level of the file (a body can call every top-level def)`
    : `'${tok.image}' cannot be declared inside ${where}: declarations go at the top level of the file`;
}

function firstTokens(paths: TokenType[][]): string {
  const names = [...new Set(paths.map((p) => (p[0] ? tokenName(p[0]) : 'nothing')))];
  return names.length <= 1 ? (names[0] ?? 'something else') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}
