// Binding a plan's symbols (N, C, …) from the shapes of the tensors given, checking every dim.
import { dimToString, evalDim, type Dim } from './dims.js';
import type { PlanInput } from './plan.js';
import { expectArgument } from './argument-checks.js';

export type SymbolEnv = Record<string, number>;

/**
 * Symbol values from actual shapes (plan order: the first input that has a symbol as a whole dim binds it),
 * or the list of every mismatch found. `shapes` holds an entry for each plan input.
 */
export function bindSymbols(
  inputs: readonly PlanInput[],
  shapes: ReadonlyMap<string, readonly number[]>,
  symbols: readonly string[],
  equalDims: readonly (readonly [Dim, Dim])[] = [],
): { env: SymbolEnv; problems: string[] } {
  expectArgument(Array.isArray(inputs), inputs, 'bindSymbols', 'inputs', "an Array of the plan's inputs (plan.inputs)");
  expectArgument(shapes instanceof Map, shapes, 'bindSymbols', 'shapes', 'a Map of input name → shape');
  expectArgument(Array.isArray(symbols), symbols, 'bindSymbols', 'symbols', "an Array of the plan's size symbols (plan.symbols)");
  expectArgument(Array.isArray(equalDims), equalDims, 'bindSymbols', 'equalDims', 'an Array of dim pairs or left out');
  const env: SymbolEnv = {};
  const source: Record<string, string> = {};
  const problems: string[] = [];
  const deferred: { input: string; axis: number; dim: Dim; actual: number }[] = [];

  for (const input of inputs) {
    const actual = shapes.get(input.name);
    if (!actual) continue;
    if (actual.length !== input.shape.length) {
      problems.push(`'${input.name}' has rank ${actual.length} (shape [${actual.join(', ')}]), the plan expects rank ${input.shape.length}: ${fmtShape(input.shape)}`);
      continue;
    }
    input.shape.forEach((dim, axis) => {
      const v = actual[axis]!;
      if (typeof dim === 'object' && 'sym' in dim) {
        const prev = env[dim.sym];
        if (prev === undefined) {
          env[dim.sym] = v;
          source[dim.sym] = `'${input.name}' dim ${axis}`;
        } else if (prev !== v) {
          // the default [N, C] ties sizes the loss may let differ (AT's channels, CRD's embeddings), but also sizes it
          // compares element-wise (KD's student and teacher logits): pinning then only moves the error to equalDims
          const shared =
            dim.sym === 'C'
              ? ` (tdc compile gives every io tensor it was not told about the shape [N, C], so they share C. If the loss lets the two differ (feature maps, embeddings), pin this one with its own letters, --shape '${input.name}=NxD…', or compile with --like; if it compares them element-wise (e.g. KDLoss's student and teacher logits), they must have the same size: check the tensors)`
              : '';
          problems.push(`'${input.name}' dim ${axis} is ${v}, but ${dim.sym} = ${prev} (from ${source[dim.sym]})${shared}`);
        }
      } else deferred.push({ input: input.name, axis, dim, actual: v });
    });
  }
  for (const d of deferred) {
    let want: number;
    try {
      want = evalDim(d.dim, env);
    } catch {
      problems.push(`'${d.input}' dim ${d.axis} is ${dimToString(d.dim)}, which no input binds as a plain dim`);
      continue;
    }
    if (want !== d.actual) {
      const expr = typeof d.dim === 'number' ? '' : ` = ${dimToString(d.dim)}`;
      problems.push(`'${d.input}' dim ${d.axis} is ${d.actual}, the plan expects ${want}${expr}`);
    }
  }
  for (const s of symbols) if (env[s] === undefined && !problems.length) problems.push(`symbol ${s} is not bound by any input shape`);
  if (!problems.length) problems.push(...checkEqualDims(inputs, shapes, env, equalDims));
  return { env, problems };
}

/** Pairs of dims the compiler assumed equal (a broadcast, a matmul's inner dims, a reshape's element count, a shape the
 *  loss asserts…): each mismatch names an input holding either dim, its shape and the symbol. */
function checkEqualDims(inputs: readonly PlanInput[], shapes: ReadonlyMap<string, readonly number[]>, env: SymbolEnv, pairs: readonly (readonly [Dim, Dim])[]): string[] {
  const problems: string[] = [];
  const holder = (d: Dim): string => {
    const text = dimToString(d);
    for (const i of inputs) {
      const axis = i.shape.findIndex((x) => dimToString(x) === text);
      const actual = shapes.get(i.name);
      if (axis >= 0 && actual) return `'${i.name}' [${actual.join(', ')}] (dim ${axis} = ${text})`;
    }
    return text;
  };
  for (const [a, b] of pairs) {
    let va: number;
    let vb: number;
    try {
      va = evalDim(a, env);
      vb = evalDim(b, env);
    } catch {
      continue;
    }
    if (va !== vb)
      problems.push(`${holder(a)} and ${holder(b)} do not match: the plan assumes ${typeof a === 'number' ? a : `${dimToString(a)} = ${va}`} equals ${typeof b === 'number' ? b : `${dimToString(b)} = ${vb}`}`);
  }
  return problems;
}

function fmtShape(s: readonly Dim[]): string {
  return `[${s.map(dimToString).join(', ')}]`;
}

/** Stable key of an environment over the plan's symbols (same key ⇔ same buffer sizes and dispatches). */
export const envKey = (env: SymbolEnv, symbols: readonly string[]): string => symbols.map((s) => env[s]).join(',');
