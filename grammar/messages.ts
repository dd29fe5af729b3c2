// Human syntax-error messages, replacing chevrotain's token dumps: "expected ',' or ')' to close the parameter
// list of KDLoss, found 'b'".
import { EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';
import * as T from './lexer.js';

export function describeToken(tok: IToken): string {
  if (tok.tokenType === EOF) return 'end of file';
  if (tok.tokenType === T.Newline) return 'end of line';
  return `'${tok.image}'`;
}

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
const CLOSERS: Record<string, { tok: TokenType; what: string; sep?: string }> = {
  paramList: { tok: T.RParen, what: 'the parameter list', sep: "','" },
  callParamList: { tok: T.RParen, what: 'the call-argument names', sep: "','" },
  funcDecl: { tok: T.RParen, what: 'the parameter list', sep: "','" },
  callSuffix: { tok: T.RParen, what: 'the argument list', sep: "','" },
  parenExpr: { tok: T.RParen, what: 'the parenthesized expression' },
  indexSuffix: { tok: T.RBracket, what: 'the index' },
  listExpr: { tok: T.RBracket, what: 'the list', sep: "','" },
  listLiteral: { tok: T.RBracket, what: 'the list', sep: "','" },
  mapLiteral: { tok: T.RCurly, what: 'the mapping', sep: "','" },
  block: { tok: T.RCurly, what: 'the block' },
  structDecl: { tok: T.RCurly, what: 'the struct' },
  typeAtom: { tok: T.Greater, what: 'the type arguments' },
};

const NO_VIABLE: Record<string, string> = {
  decl: 'a declaration (low, mid, high, wrapper, extract, struct or def)',
  lossDecl: 'a level (low, mid, high, wrapper, extract)',
  statement: 'a statement',
  statementEnd: "a newline or ';' after the statement",
  primary: 'an expression',
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
  return {
    buildMismatchTokenMessage({ expected, actual, ruleName }) {
      const closer = CLOSERS[ruleName];
      if (closer && closer.tok === expected) {
        const exp = closer.sep ? `${closer.sep} or ${tokenName(expected)}` : tokenName(expected);
        return `expected ${exp} to close ${closer.what}${of()}, found ${describeToken(actual)}`;
      }
      return `expected ${tokenName(expected)}${inWhat(ruleName)}, found ${describeToken(actual)}`;
    },
    buildNotAllInputParsedMessage({ firstRedundant }) {
      return `unexpected ${describeToken(firstRedundant)}: expected a declaration`;
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

function firstTokens(paths: TokenType[][]): string {
  const names = [...new Set(paths.map((p) => (p[0] ? tokenName(p[0]) : 'nothing')))];
  return names.length <= 1 ? (names[0] ?? 'something else') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}
