// Operator precedence (docs/spec-language.md, "Expressions"), applied to the flat operand/operator sequence
// the grammar produces. Low → high: `??`, `or`, `and`, `not`, comparisons, `+ -`, `* / %`, unary `-`, `**`.
// (`c ? a : b` is below all of these and handled by the grammar.)
import type { BinaryOp } from './ast.js';

export const PREFIX_PRECEDENCE = { not: 4, '-': 8 } as const;

export const BINARY_PRECEDENCE: Record<BinaryOp, number> = {
  '??': 1,
  or: 2,
  and: 3,
  '==': 5,
  '!=': 5,
  '<': 5,
  '<=': 5,
  '>': 5,
  '>=': 5,
  '+': 6,
  '-': 6,
  '*': 7,
  '/': 7,
  '%': 7,
  '**': 9,
};

export const isRightAssociative = (op: BinaryOp): boolean => op === '**';

export interface Operand<E> {
  /** Prefix operators, outermost first. */
  prefixes: { op: 'not' | '-'; start: number }[];
  value: E;
}

export interface Builders<E> {
  unary(op: 'not' | '-', arg: E, start: number): E;
  binary(op: BinaryOp, left: E, right: E): E;
  /** A prefix operator that binds looser than the operator before it (`a * not b`): needs parentheses. */
  misplacedPrefix(op: 'not' | '-', start: number): void;
}

/** Precedence climbing over `operands[0] ops[0] operands[1] ... ops[n-1] operands[n]`. */
export function climb<E>(operands: Operand<E>[], ops: BinaryOp[], b: Builders<E>): E {
  let next = 0; // next operand to consume
  let prefix = 0; // next prefix of operands[next]

  const parse = (minPrec: number): E => {
    let left = parseOperand(minPrec);
    while (next - 1 < ops.length) {
      const op = ops[next - 1]!;
      const prec = BINARY_PRECEDENCE[op];
      if (prec < minPrec) break;
      const right = parse(isRightAssociative(op) ? prec : prec + 1);
      left = b.binary(op, left, right);
    }
    return left;
  };

  const parseOperand = (minPrec: number): E => {
    const o = operands[next]!;
    const p = o.prefixes[prefix];
    if (p) {
      prefix++;
      const prec = PREFIX_PRECEDENCE[p.op];
      if (prec < minPrec && p.op === 'not') b.misplacedPrefix(p.op, p.start);
      return b.unary(p.op, parse(prec), p.start);
    }
    next++;
    prefix = 0;
    return o.value;
  };

  return parse(0);
}
