// Loop-invariant code motion over a kernel body, by def-use: a `let` whose operands are all defined outside a
// loop is evaluated once before the loop instead of on every iteration. Templates build each value where it is
// used; this pass moves it out. Pure: returns new statement lists, never changes its input.
//
// Rules (each keeps every invocation's results the same):
// - Only `let` bindings move (immutable, no side effects). Assignments, `var`s, stores, atomics, barriers and
//   subgroup operations never move, so the control flow a barrier or a subgroup operation sits in (which WGSL
//   requires to be uniform) is unchanged, and every value keeps its uniformity.
// - Def-use: a let leaves a region (a loop body, an `if` branch, a block) only when every variable it reads is
//   declared outside the region (a let that stays behind keeps the lets reading it), is not the region's loop
//   variable, and is not assigned anywhere in the region (a `var` the loop updates is not invariant).
// - Where to: just before the outermost region it leaves, after everything that defines its operands (a loop's
//   preheader); lets keep their order (values: the order the Emitter made them in, also ahead of a declaration
//   without initialiser made after them). A let moves only when it
//   leaves a loop (leaving only branches would compute a branch's value on the other path too), except that a
//   graph value the Emitter bound (Stmt `let` with `value`) may leave blocks alone (they only scope names).
// - Names: only a let whose name is declared once in the whole body moves (template names reused in sibling
//   blocks, e.g. a lane's `j`, stay where they are: moving them would redeclare or capture a name).
// - Memory: a let that reads an element of array A (storage, workgroup or private) does not leave a region that
//   stores to A or runs an atomic on it, nor one that holds a barrier (another invocation may write A between
//   iterations); atomicLoad never moves.
// - Guards: a let that reads memory does not leave an `if` branch (the condition may be what keeps its index in
//   bounds), nor a region where a statement before it may leave the loop or the kernel (`break`, `return`): that
//   exit guards it. Pure arithmetic may be evaluated speculatively (WGSL arithmetic and builtins never trap:
//   integer division by zero is defined), so it leaves branches and passes exits.
// - A load that leaves a loop is evaluated even when the loop runs no iteration: its index is built from values
//   defined outside the loop (the templates clamp or guard those before any loop), and WGSL storage reads never trap.
import { exprVars, subExprs, type Expr, type Stmt } from './ir.js';

type Let = Extract<Stmt, { k: 'let' }>;

/** The kernel body with loop-invariant lets moved out of their loops. */
export function hoistInvariants(body: readonly Stmt[]): Stmt[] {
  const counts = new Map<string, number>();
  countDecls(body, counts);
  const root: Region = { kind: 'block', facts: regionFacts(body, []), exitSeen: false, names: new Map() };
  return rewrite(body, [root], (n) => counts.get(n) === 1).body;
}

/** An enclosing statement list: the root, a loop body, an `if` branch or a block. */
interface Region {
  kind: 'loop' | 'branch' | 'block';
  facts: RegionFacts;
  /** A statement that may leave the loop or the kernel was seen in this list (before the one being rewritten). */
  exitSeen: boolean;
  /** Names declared in this list so far (lets that moved here included): their depth. */
  names: Map<string, number>;
}

/** A let leaving its list, and the depth of the list it lands in (before the statement it came out of). */
interface Up {
  stmt: Let;
  target: number;
}

/** A list at depth path.length − 1, rewritten; the lets that leave it. */
function rewrite(stmts: readonly Stmt[], path: Region[], unique: (name: string) => boolean): { body: Stmt[]; up: Up[] } {
  const depth = path.length - 1;
  const here = path[depth]!;
  const body: Stmt[] = [];
  const up: Up[] = [];
  /** Lets that came out of a nested region: those landing here go just before its statement. */
  const land = (lets: Up[]): void => {
    for (const u of lets) {
      if (u.target !== depth) up.push(u);
      else body.splice(landing(body, u.stmt), 0, u.stmt);
    }
  };
  const nested = (ss: readonly Stmt[], kind: Region['kind'], loopVars: string[]) => {
    const names = new Map(loopVars.map((v) => [v, depth + 1]));
    return rewrite(ss, [...path, { kind, facts: regionFacts(ss, loopVars), exitSeen: false, names }], unique);
  };
  for (const s of stmts) {
    switch (s.k) {
      case 'let': {
        const target = targetDepth(s, path, unique);
        if (target < depth) {
          up.push({ stmt: s, target });
          path[target]!.names.set(s.name, target);
        } else {
          body.push(s);
          here.names.set(s.name, depth);
        }
        break;
      }
      case 'for':
      case 'loop':
      case 'block': {
        const r = nested(s.body, s.k === 'block' ? 'block' : 'loop', s.k === 'for' ? [s.v] : []);
        land(r.up);
        body.push({ ...s, body: r.body });
        break;
      }
      case 'if': {
        const then = nested(s.then, 'branch', []);
        land(then.up);
        if (s.else) {
          const other = nested(s.else, 'branch', []);
          land(other.up);
          body.push({ ...s, then: then.body, else: other.body });
        } else body.push({ ...s, then: then.body });
        break;
      }
      case 'var':
      case 'subgroup':
        here.names.set(s.name, depth);
        body.push(s);
        break;
      default:
        body.push(s);
    }
    if (mayExit(s)) here.exitSeen = true;
  }
  return { body, up };
}

/**
 * Where a let coming out of the region about to be appended to `body` lands: just before that region, except that a
 * value goes before the values the Emitter made after it and bound directly in this list, and before declarations
 * without initialiser it does not read (values stay in the order they were made: the text reads in build order).
 */
function landing(body: readonly Stmt[], s: Let): number {
  let i = body.length;
  if (s.value === undefined) return i;
  const reads = exprVars(s.e);
  while (i > 0) {
    const prev = body[i - 1]!;
    const laterValue = prev.k === 'let' && prev.value !== undefined && prev.value > s.value;
    // a declaration without an initialiser does nothing where it stands
    const declaration = prev.k === 'var' && prev.init === undefined && !reads.includes(prev.name);
    if (!laterValue && !declaration) break;
    i--;
  }
  return i;
}

/** The depth of the outermost list the let may move to (its own depth when it stays). */
function targetDepth(s: Let, path: Region[], unique: (name: string) => boolean): number {
  const depth = path.length - 1;
  if (!unique(s.name)) return depth;
  const arrays = arraysIn(s.e);
  const memory = arrays.length > 0;
  if (hasAtomicLoad(s.e)) return depth;
  // variables and private arrays it reads (storage and workgroup arrays are declared by no statement: depth 0)
  const reads = exprVars(s.e);
  let target = depth;
  for (let j = depth; j >= 1; j--) {
    const r = path[j]!;
    const operandsOutside = reads.every((v) => (declaredDepth(v, path) ?? 0) < j && !r.facts.assigned.has(v));
    const memoryOk = !memory || (r.kind !== 'branch' && !r.exitSeen && !r.facts.barrier && arrays.every((a) => !r.facts.stored.has(a)));
    if (!operandsOutside || !memoryOk) break;
    target = j - 1;
  }
  // the outermost list it may land in: leaving only blocks and branches saves no work (a branch's value would be
  // computed on the other path too), so it moves only when it leaves a loop — except a value leaving only blocks
  // (its scope widens to where its operands are, as an Emitter's value is placed)
  for (let t = target; t < depth; t++) {
    const left = path.slice(t + 1);
    if (left.some((r) => r.kind === 'loop') || (s.value !== undefined && left.every((r) => r.kind === 'block'))) return t;
  }
  return depth;
}

/** The depth of the innermost visible declaration of a name (undefined: a builtin, a dims field, an array). */
function declaredDepth(name: string, path: Region[]): number | undefined {
  for (let j = path.length - 1; j >= 0; j--) {
    const d = path[j]!.names.get(name);
    if (d !== undefined) return d;
  }
  return undefined;
}

/** What a region assigns and stores to, and whether it holds a barrier, at any depth. */
interface RegionFacts {
  /** Variables assigned in the region (a `var` it updates is not invariant in it); its loop variable. */
  assigned: Set<string>;
  /** Arrays stored to (assignments, atomics). */
  stored: Set<string>;
  barrier: boolean;
}

function regionFacts(body: readonly Stmt[], loopVars: string[]): RegionFacts {
  const f: RegionFacts = { assigned: new Set(loopVars), stored: new Set(), barrier: false };
  const visit = (ss: readonly Stmt[]): void => {
    for (const s of ss)
      switch (s.k) {
        case 'assign': {
          let t: Expr = s.to;
          while (t.k === 'lane') t = t.a;
          if (t.k === 'var') f.assigned.add(t.name);
          else if (t.k === 'at' || t.k === 'at4' || t.k === 'at4s') f.stored.add(t.array);
          break;
        }
        case 'atomic':
          f.stored.add(s.array);
          break;
        case 'barrier':
          f.barrier = true;
          break;
        case 'for':
          f.assigned.add(s.v);
          visit(s.body);
          break;
        case 'loop':
        case 'block':
          visit(s.body);
          break;
        case 'if':
          visit(s.then);
          if (s.else) visit(s.else);
          break;
      }
  };
  visit(body);
  return f;
}

/** Can the statement leave the enclosing loop or the kernel (a break or return at any depth)? */
function mayExit(s: Stmt): boolean {
  switch (s.k) {
    case 'break':
    case 'return':
      return true;
    case 'if':
      return s.then.some(mayExit) || (s.else ?? []).some(mayExit);
    case 'block':
      return s.body.some(mayExit);
    case 'for':
    case 'loop':
      // a break inside a nested loop leaves that loop only
      return s.body.some(returns);
    default:
      return false;
  }
}

function returns(s: Stmt): boolean {
  switch (s.k) {
    case 'return':
      return true;
    case 'if':
      return s.then.some(returns) || (s.else ?? []).some(returns);
    case 'block':
    case 'for':
    case 'loop':
      return s.body.some(returns);
    default:
      return false;
  }
}

/** Arrays an expression reads an element of. */
function arraysIn(e: Expr, out: string[] = []): string[] {
  if (e.k === 'at' || e.k === 'at4s' || e.k === 'at4' || e.k === 'atomicLoad' || e.k === 'arrayLength') out.push(e.array);
  for (const c of subExprs(e)) arraysIn(c, out);
  return out;
}

function hasAtomicLoad(e: Expr): boolean {
  return e.k === 'atomicLoad' || subExprs(e).some(hasAtomicLoad);
}

/** How many times each name is declared in the body (lets, vars, subgroup results, loop variables). */
function countDecls(body: readonly Stmt[], counts: Map<string, number>): void {
  const add = (n: string) => counts.set(n, (counts.get(n) ?? 0) + 1);
  for (const s of body)
    switch (s.k) {
      case 'let':
      case 'var':
      case 'subgroup':
        add(s.name);
        break;
      case 'for':
        add(s.v);
        countDecls(s.body, counts);
        break;
      case 'loop':
      case 'block':
        countDecls(s.body, counts);
        break;
      case 'if':
        countDecls(s.then, counts);
        if (s.else) countDecls(s.else, counts);
        break;
    }
}
