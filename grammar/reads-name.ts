// Whether a body reads a name: `**kwargs` that the body uses (forwarding them to low_loss) are not ignored.
import type { Block } from './ast.js';

const cache = new WeakMap<Block, Map<string, boolean>>();

/** Whether an identifier `name` appears anywhere in `body` (a `let` of the same name is not told apart). */
export function readsName(body: Block, name: string): boolean {
  let known = cache.get(body);
  if (!known) cache.set(body, (known = new Map()));
  let r = known.get(name);
  if (r === undefined) known.set(name, (r = search(body, name)));
  return r;
}

function search(body: Block, name: string): boolean {
  const stack: unknown[] = [body]; // iterative: bodies may nest deeply (grammar/parser.ts caps them at MAX_AST_DEPTH)
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    const node = v as { kind?: unknown; name?: unknown };
    if (node.kind === 'ident' && node.name === name) return true;
    for (const [k, x] of Object.entries(v)) if (k !== 'span' && x !== null && typeof x === 'object') stack.push(x);
  }
  return false;
}
