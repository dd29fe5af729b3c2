// Text forms of declared types, default literals and loss signatures: for messages, `tdc list` and docs.
import type { FuncDecl, Literal, LossDecl, TypeExpr } from './ast.js';

export function renderType(t: TypeExpr): string {
  switch (t.kind) {
    case 'prim':
      return t.name;
    case 'literals':
      return t.values.map((v) => JSON.stringify(v)).join(' | ');
    case 'optional': {
      const inner = renderType(t.inner);
      return t.inner.kind === 'literals' ? `(${inner})?` : `${inner}?`;
    }
    case 'list':
      return `list<${renderType(t.elem)}>`;
    case 'map':
      return `map<${renderType(t.value)}>`;
    case 'named':
      return t.name;
  }
}

export function renderLiteral(l: Literal): string {
  switch (l.kind) {
    case 'none':
      return 'none';
    case 'bool':
      return String(l.value);
    case 'number':
      return l.isInt || !Number.isInteger(l.value) ? String(l.value) : `${l.value}.0`;
    case 'string':
      return JSON.stringify(l.value);
    case 'list':
      return `[${l.items.map(renderLiteral).join(', ')}]`;
    case 'map':
      return `{${l.entries.map((e) => `${e.key}: ${renderLiteral(e.value)}`).join(', ')}}`;
  }
}

/** `KDLoss(student_module_path: path, ..., temperature: float, alpha: float? = none, **ce: CrossEntropyLoss)` */
export function renderSignature(d: LossDecl): string {
  const ps = d.params.map((p) => `${p.name}: ${renderType(p.type)}${p.default ? ` = ${renderLiteral(p.default)}` : ''}`);
  if (d.rest) ps.push(`**${d.rest.name}${d.rest.forwardTo ? `: ${d.rest.forwardTo}` : ''}`);
  return `${d.name}(${ps.join(', ')})`;
}

/** `mean(x, dims=none, keepdim=false)`: a helper's signature as a call would write it. */
export function renderFuncSignature(f: FuncDecl): string {
  return `${f.name}(${f.params.map((p) => (p.default ? `${p.name}=${renderLiteral(p.default)}` : p.name)).join(', ')})`;
}
