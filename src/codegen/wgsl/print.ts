// The WGSL printer: kernel IR (src/codegen/kernel-ir/ir.ts) → WGSL text. Every operator is parenthesised
// unless the IR marks it bare, so the text's meaning never depends on WGSL's precedence rules.
import type { Expr, FnDef, Stmt, SubgroupOp, VarType } from '../kernel-ir/ir.js';
import { f32Operand, i32Literal } from './literals.js';
import { ixWgsl } from './print-ix.js';

function printExpr(e: Expr): string {
  switch (e.k) {
    case 'f32':
      return f32Operand(e.v);
    case 'i32':
      return i32Literal(e.v);
    case 'u32':
      return e.hex ? `0x${e.v.toString(16).padStart(8, '0')}u` : `${e.v}u`;
    case 'bool':
      return `${e.v}`;
    case 'var':
      return e.name;
    case 'ix':
      return ixWgsl(e.ix);
    case 'bin':
      return e.bare ? `${printExpr(e.a)} ${e.op} ${printExpr(e.b)}` : `(${printExpr(e.a)} ${e.op} ${printExpr(e.b)})`;
    case 'neg':
      return e.bare ? `-${printExpr(e.a)}` : `(-${printExpr(e.a)})`;
    case 'not':
      // a parenthesised operator or an atom/call as is; a bare operator gets parentheses
      return e.a.k === 'bin' && e.a.bare ? `!(${printExpr(e.a)})` : `!${printExpr(e.a)}`;
    case 'call':
      return `${e.fn}(${e.args.map(printExpr).join(', ')})`;
    case 'at':
    case 'at4':
      return `${e.array}[${printExpr(e.i)}]`;
    case 'at4s': {
      const i = printExpr(e.i);
      return `${e.array}[(${i}) / 4u][(${i}) % 4u]`;
    }
    case 'lane':
      return `${printExpr(e.a)}.${'xyzw'[e.lane]}`;
    case 'atomicLoad':
      return `atomicLoad(&${e.array}[${printExpr(e.i)}])`;
    case 'arrayLength':
      return `arrayLength(&${e.array})`;
  }
}

const SUBGROUP_FN: Record<SubgroupOp, string> = { add: 'subgroupAdd', max: 'subgroupMax', min: 'subgroupMin', shuffleXor: 'subgroupShuffleXor' };

function printType(t: VarType): string {
  return typeof t === 'string' ? t : `array<${t.array}, ${t.length}>`;
}

/** Statements as lines, indented by `indent` levels of two spaces. */
export function printStmts(body: readonly Stmt[], indent = 0, out: string[] = []): string[] {
  const pad = '  '.repeat(indent);
  const nested = (header: string, inner: readonly Stmt[]) => {
    out.push(`${pad}${header}{`);
    printStmts(inner, indent + 1, out);
    out.push(`${pad}}`);
  };
  for (const s of body) {
    switch (s.k) {
      case 'let':
        out.push(`${pad}let ${s.name}${s.ty ? `: ${s.ty}` : ''} = ${printExpr(s.e)};`);
        break;
      case 'var':
        out.push(`${pad}var ${s.name}${s.ty ? `: ${printType(s.ty)}` : ''}${s.init ? ` = ${printExpr(s.init)}` : ''};`);
        break;
      case 'assign':
        out.push(`${pad}${printExpr(s.to)} = ${printExpr(s.e)};`);
        break;
      case 'block':
        nested('', s.body);
        break;
      case 'if': {
        nested(`if (${printExpr(s.cond)}) `, s.then);
        // an else branch that is one if: `} else if (…) {` chains
        let other = s.else;
        while (other?.length === 1 && other[0]!.k === 'if') {
          const next: Stmt & { k: 'if' } = other[0];
          out.pop();
          nested(`} else if (${printExpr(next.cond)}) `, next.then);
          other = next.else;
        }
        if (other) {
          out.pop();
          nested('} else ', other);
        }
        break;
      }
      case 'for':
        nested(`for (var ${s.v} = ${printExpr(s.from)}; ${printExpr(s.cond)}; ${s.v} = ${s.v} + ${printExpr(s.step)}) `, s.body);
        break;
      case 'loop':
        nested('loop ', s.body);
        break;
      case 'break':
        out.push(`${pad}break;`);
        break;
      case 'return':
        out.push(s.e ? `${pad}return ${printExpr(s.e)};` : `${pad}return;`);
        break;
      case 'barrier':
        out.push(`${pad}${s.scope}Barrier();`);
        break;
      case 'atomic':
        out.push(`${pad}atomic${s.op === 'min' ? 'Min' : 'Store'}(&${s.array}[${printExpr(s.i)}], ${printExpr(s.e)});`);
        break;
      case 'subgroup':
        out.push(`${pad}let ${s.name} = ${SUBGROUP_FN[s.op]}(${printExpr(s.e)}${s.mask ? `, ${printExpr(s.mask)}` : ''});`);
        break;
    }
  }
  return out;
}

/** A helper function (kernel-ir/helpers.ts) as lines. */
export function printFn(f: FnDef, out: string[] = []): string[] {
  out.push(`fn ${f.name}(${f.params.map((p) => `${p.name}: ${p.ty}`).join(', ')}) -> ${f.ret} {`);
  printStmts(f.body, 1, out);
  out.push('}');
  return out;
}
