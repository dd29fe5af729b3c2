// Every tensor a term reads must be in the stage's io_dict: `'.'`/output always is; anything else only when
// the side's forward_hook lists its path under that io (torchdistill #481: otherwise a KeyError mid-training).
// A TrainingBox has no teacher: io_dict['teacher'] is {}.
import { diag, type Related } from '../../diagnostics/index.js';
import type { ConfigNode } from '../load/config-node.js';
import { tensorName, type IoRef, type TermIR } from '../ir.js';
import { R } from './codes.js';
import { sideSection, type StageContext } from './context.js';

/** The config node that names `path` in the term's kwargs (the likeliest culprit), if any. */
function findPathNode(term: TermIR, path: string): ConfigNode | undefined {
  const roots = [...Object.values(term.criterion.kwargNodes), ...Object.values(term.wrapper?.kwargNodes ?? {})];
  const stack = [...roots].reverse();
  while (stack.length) {
    const n = stack.pop()!;
    if (n.kind === 'scalar') {
      if (n.value === path) return n;
    } else if (n.kind === 'seq') stack.push(...[...n.items].reverse());
    else for (let i = n.entries.length - 1; i >= 0; i--) stack.push(n.entries[i]!.value);
  }
  return undefined;
}

export function isCaptured(ctx: StageContext, r: IoRef): boolean {
  if (r.path === '.' && r.io === 'output') return true;
  const hooks = r.side === 'student' ? ctx.hooks.student : ctx.hooks.teacher;
  return hooks !== null && hooks[r.io].includes(r.path);
}

export function checkTermReads(ctx: StageContext, term: TermIR): void {
  const seen = new Set<string>();
  for (const r of term.reads) {
    if (r.kind !== 'io') continue;
    const id = `${r.side}/${r.path}/${r.io}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (isCaptured(ctx, r)) continue;
    const at = findPathNode(term, r.path)?.span ?? term.criterion.span;
    const name = tensorName({ ...r, sub: undefined });
    if (r.side === 'teacher' && ctx.sides.teacher === null) {
      ctx.diags.push(
        diag('error', R.NO_TEACHER, `sub-term '${term.name}' reads the teacher tensor ${name}, but stage '${ctx.name}' trains a single model (TrainingBox: io_dict['teacher'] is {}, so torchdistill raises KeyError)`, at, {
          hint: 'read the model side (is_from_teacher: False / student_* paths), or configure teacher and student sections',
        }),
      );
      continue;
    }
    const side = r.side === 'student' ? ctx.sides.student : ctx.sides.teacher!;
    const section = sideSection(ctx, r.side);
    const related: Related[] = [];
    const listNode = side.hookNodes[r.io];
    if (listNode) related.push({ message: `${section}.forward_hook.${r.io} of stage '${ctx.name}'`, span: listNode.span });
    else if (side.forwardHookSpan) related.push({ message: `${section}.forward_hook of stage '${ctx.name}' (no ${r.io} list)`, span: side.forwardHookSpan });
    else if (side.sectionSpan) related.push({ message: `${section} section of stage '${ctx.name}' (no forward_hook)`, span: side.sectionSpan });
    const message =
      r.path === '.'
        ? `sub-term '${term.name}' reads ${name}, but '.' (the model itself) only has an 'output' entry in the io_dict`
        : `sub-term '${term.name}' reads ${name}, which ${section}.forward_hook.${r.io} does not capture (torchdistill raises KeyError '${r.path}' during training; #481)`;
    ctx.diags.push(
      diag('error', R.NOT_HOOKED, message, at, {
        hint: r.path === '.' ? `use io: 'output'` : `add '${r.path}' to ${section}.forward_hook.${r.io}`,
        related,
      }),
    );
  }
}
