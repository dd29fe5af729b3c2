// Tokens of the loss-spec language (docs/spec-language.md, "Lexical").
import type { Lexer as LexerT, TokenType } from 'chevrotain';
import { chevrotain } from './chevrotain.js';

const { createToken, Lexer } = chevrotain;

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r]+/, group: Lexer.SKIPPED });
export const Newline = createToken({ name: 'Newline', pattern: /\n/, line_breaks: true, label: 'a newline' });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: 'comments' });

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: 'a name' });
const kw = (word: string): TokenType =>
  createToken({ name: word[0]!.toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Identifier, label: `'${word}'` });

export const Low = kw('low');
export const Mid = kw('mid');
export const High = kw('high');
export const Wrapper = kw('wrapper');
export const Extract = kw('extract');
export const Struct = kw('struct');
export const Def = kw('def');
export const Let = kw('let');
export const If = kw('if');
export const Else = kw('else');
export const For = kw('for');
export const In = kw('in');
export const Return = kw('return');
export const None = kw('none');
export const True = kw('true');
export const False = kw('false');
export const And = kw('and');
export const Or = kw('or');
export const Not = kw('not');

export const NumberLit = createToken({ name: 'NumberLit', pattern: /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/, label: 'a number' });
export const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/, label: 'a string' });
/** Matches only where StringLit failed: a quote with no closing quote on its line. Reported, then treated as a string. */
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /["'](?:[^\\\n]|\\.)*/, label: 'a string' });

export const StarStar = createToken({ name: 'StarStar', pattern: /\*\*/, label: "'**'" });
export const Star = createToken({ name: 'Star', pattern: /\*/, label: "'*'" });
export const Slash = createToken({ name: 'Slash', pattern: /\//, label: "'/'" });
export const Percent = createToken({ name: 'Percent', pattern: /%/, label: "'%'" });
export const Plus = createToken({ name: 'Plus', pattern: /\+/, label: "'+'" });
export const Minus = createToken({ name: 'Minus', pattern: /-/, label: "'-'" });
export const EqEq = createToken({ name: 'EqEq', pattern: /==/, label: "'=='" });
export const NotEq = createToken({ name: 'NotEq', pattern: /!=/, label: "'!='" });
export const LessEq = createToken({ name: 'LessEq', pattern: /<=/, label: "'<='" });
export const GreaterEq = createToken({ name: 'GreaterEq', pattern: />=/, label: "'>='" });
export const Less = createToken({ name: 'Less', pattern: /</, label: "'<'" });
export const Greater = createToken({ name: 'Greater', pattern: />/, label: "'>'" });
export const Equals = createToken({ name: 'Equals', pattern: /=/, label: "'='" });
export const QQ = createToken({ name: 'QQ', pattern: /\?\?/, label: "'??'" });
export const Question = createToken({ name: 'Question', pattern: /\?/, label: "'?'" });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });
export const Semi = createToken({ name: 'Semi', pattern: /;/, label: "';'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
export const Dot = createToken({ name: 'Dot', pattern: /\./, label: "'.'" });
export const Pipe = createToken({ name: 'Pipe', pattern: /\|/, label: "'|'" });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/, label: "']'" });
export const LCurly = createToken({ name: 'LCurly', pattern: /\{/, label: "'{'" });
export const RCurly = createToken({ name: 'RCurly', pattern: /\}/, label: "'}'" });

/** Infix operators, in no particular order (precedence: grammar/precedence.ts). */
export const BINARY_OPERATORS = [QQ, Or, And, EqEq, NotEq, LessEq, GreaterEq, Less, Greater, Plus, Minus, Star, Slash, Percent, StarStar];

export const LEVEL_TOKENS = [Low, Mid, High, Wrapper, Extract];
export const DECL_TOKENS = [...LEVEL_TOKENS, Struct, Def];

export const allTokens: TokenType[] = [
  WhiteSpace, Newline, Comment,
  Low, Mid, High, Wrapper, Extract, Struct, Def, Let, If, Else, For, In, Return, None, True, False, And, Or, Not,
  Identifier, NumberLit, StringLit, UnterminatedString,
  StarStar, Star, Slash, Percent, Plus, Minus, EqEq, NotEq, LessEq, GreaterEq, Less, Greater, Equals,
  QQ, Question, Colon, Semi, Comma, Dot, Pipe, LParen, RParen, LBracket, RBracket, LCurly, RCurly,
];

/** `validate`: run chevrotain's token-pattern checks (costly at startup; test/grammar.test.ts runs them). */
export function buildLexer(validate = false): LexerT {
  return new Lexer(allTokens, { ensureOptimizations: true, positionTracking: 'onlyOffset', skipValidations: !validate });
}

let lexer: LexerT | undefined;
/** Built once, lazily, and reused. */
export function specLexer(): LexerT {
  return (lexer ??= buildLexer());
}
