// Every tensor a term reads must be in the stage's io_dict: `'.'`/output always is; anything else only when
// the side's forward_hook lists its path under that io (torchdistill #481: otherwise a KeyError mid-training).
// A TrainingBox has no teacher: io_dict['teacher'] is {}.
import { diag, type Related } from '../../diagnostics/index.js';
import { get, keyString, type ConfigNode } from '../load/config-node.js';
import { tensorName, type IoRef, type TermIR } from '../ir.js';
import { R } from './codes.js';
import { sideSection, type StageContext } from './context.js';

/**
 * The config node that names `r.path` in the term's kwargs (the likeliest culprit): among the scalars equal to the
 * path, prefer one whose key, enclosing keys or `is_from_teacher` sibling say it is on r's side, with r's io.
 */
function findPathNode(term: TermIR, r: IoRef): ConfigNode | undefined {
  const other = r.side === 'student' ? 'teacher' : 'student';
  let best: { node: ConfigNode; score: number } | undefined;
  const visit = (n: ConfigNode, keys: string[], sibling: (k: string) => ConfigNode | undefined): void => {
    if (n.kind === 'scalar') {
      if (n.value !== r.path) return;
      let score = 0;
      const key = keys[keys.length - 1] ?? '';
      if (key.startsWith(r.side)) score += 2;
      else if (key.startsWith(other)) score -= 4;
      if (keys.includes(r.side)) score += 2;
      else if (keys.includes(other)) score -= 4;
      const ift = sibling('is_from_teacher');
      if (ift?.kind === 'scalar' && typeof ift.value === 'boolean') score += ift.value === (r.side === 'teacher') ? 2 : -4;
      const io = sibling('io');
      if (io?.kind === 'scalar' && typeof io.value === 'string') score += io.value === r.io ? 1 : -1;
      if (!best || score > best.score) best = { node: n, score };
    } else if (n.kind === 'seq') {
      for (const item of n.items) visit(item, keys, () => undefined);
    } else {
      for (const e of n.entries) visit(e.value, [...keys, keyString(e) ?? ''], (k) => get(n, k));
    }
  };
  for (const nodes of [term.criterion.kwargNodes, term.wrapper?.kwargNodes ?? {}]) {
    for (const [k, n] of Object.entries(nodes)) visit(n, [k], (s) => nodes[s]);
  }
  return best?.node;
}

/** ` (FTLoss's translator_path defaults to 'translator')` when the path comes from a parameter default. */
function defaultedParam(term: TermIR, path: string): string {
  for (const [k, v] of Object.entries(term.criterion.kwargs)) {
    if (v === path && !(k in term.criterion.kwargNodes)) return ` (${term.criterion.key}'s ${k} defaults to '${path}')`;
  }
  return '';
}

function isCaptured(ctx: StageContext, r: IoRef): boolean {
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
    const node = findPathNode(term, r);
    const at = node?.span ?? term.criterion.span;
    const byDefault = node ? '' : defaultedParam(term, r.path);
    const name = tensorName({ ...r, sub: undefined });
    if (r.side === 'teacher' && ctx.sides.teacher === null) {
      ctx.diags.push(
        diag('error', R.NO_TEACHER, `sub-term '${term.name}' reads the teacher tensor ${name}${byDefault}, but stage '${ctx.name}' trains a single model (TrainingBox: io_dict['teacher'] is {}, so torchdistill raises KeyError)`, at, {
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
        : `sub-term '${term.name}' reads ${name}${byDefault}, which ${section}.forward_hook.${r.io} does not capture (torchdistill raises KeyError '${r.path}' during training; #481)`;
    ctx.diags.push(
      diag('error', R.NOT_HOOKED, message, at, {
        hint: r.path === '.' ? `use io: 'output'` : `add '${r.path}' to ${section}.forward_hook.${r.io}`,
        related,
      }),
    );
  }
}
