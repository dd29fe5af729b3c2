// Index expressions (src/compiler/schedule/index-expr.ts) printed as WGSL u32 expressions.
import type { Ix } from '../../compiler/schedule/index-expr.js';

export function ixWgsl(a: Ix): string {
  switch (a.kind) {
    case 'lit':
      return `${a.value}u`;
    case 'var':
      return a.name;
    case 'dim':
      return `dims.${a.field}`;
    case 'op':
      if (a.op === 'min' || a.op === 'max') return `${a.op}(${ixWgsl(a.a)}, ${ixWgsl(a.b)})`;
      return a.bare ? `${ixWgsl(a.a)} ${a.op} ${ixWgsl(a.b)}` : `(${ixWgsl(a.a)} ${a.op} ${ixWgsl(a.b)})`;
  }
}
