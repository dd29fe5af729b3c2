// Newline significance. The lexer emits every '\n'; this pass keeps only those that can end a statement:
// not inside () or [], not after a token that cannot end a statement (`,` `(` an operator `=` ...), not
// before a token that cannot start one (`else` `{` `.` `?` `:` a binary operator ...), and never two in a row.
import type { IToken, TokenType } from 'chevrotain';
import * as T from './lexer.js';

const CANNOT_END = new Set<TokenType>([
  T.Comma, T.LParen, T.LBracket, T.LCurly, T.Plus, T.Minus, T.Star, T.Slash, T.Percent, T.StarStar,
  T.EqEq, T.NotEq, T.Less, T.LessEq, T.Greater, T.GreaterEq, T.And, T.Or, T.Not, T.QQ, T.Question, T.Colon,
  T.Equals, T.Pipe, T.Dot, T.In, T.Let, T.Return, T.If, T.Else, T.For, T.Def, T.Struct, ...T.LEVEL_TOKENS,
]);
const CANNOT_START = new Set<TokenType>([
  T.Else, T.LCurly, T.Dot, T.Question, T.Colon, T.QQ, T.And, T.Or, T.Pipe, T.RParen, T.RBracket,
  T.Plus, T.Star, T.Slash, T.Percent, T.StarStar, T.EqEq, T.NotEq, T.Less, T.LessEq, T.Greater, T.GreaterEq,
]);
/** Statement keywords never appear inside () or []: seeing one closes any bracket left open (better recovery). */
const STATEMENT_START = new Set<TokenType>([T.Let, T.Return, T.For, T.If]);
const DECL_START = new Set<TokenType>(T.DECL_TOKENS);

export function significantNewlines(tokens: IToken[]): IToken[] {
  const out: IToken[] = [];
  const open: ('paren' | 'brace')[] = [];
  for (const tok of tokens) {
    const type = tok.tokenType;
    if (type === T.Newline) {
      const prev = out[out.length - 1];
      if (prev === undefined || prev.tokenType === T.Newline || open[open.length - 1] === 'paren' || CANNOT_END.has(prev.tokenType)) continue;
      out.push(tok);
      continue;
    }
    if (CANNOT_START.has(type) && out[out.length - 1]?.tokenType === T.Newline) out.pop();
    if (DECL_START.has(type)) open.length = 0;
    else if (STATEMENT_START.has(type)) while (open[open.length - 1] === 'paren') open.pop();
    if (type === T.LParen || type === T.LBracket) open.push('paren');
    else if (type === T.LCurly) open.push('brace');
    else if (type === T.RParen || type === T.RBracket) {
      if (open[open.length - 1] === 'paren') open.pop();
    } else if (type === T.RCurly) {
      while (open.length > 0 && open.pop() !== 'brace');
    }
    out.push(tok);
  }
  return out;
}
