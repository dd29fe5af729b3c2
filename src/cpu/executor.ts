// The float64 reference executor: binds symbolic dims from the input tensors, then interprets every node
// the outputs (loss, terms, model term, grads, updated state) depend on, in topological order.
import { dimSymbols, dimToString, evalDim, evalShape, shapeToString } from '../graph/dims.js';
import { OPS } from '../graph/ops/index.js';
import type { OpDef } from '../graph/ops/op-def.js';
import type { Dim, Graph, Node, OpName } from '../graph/types.js';
import type { HostTensor } from '../graph/host-tensor.js';

export type { HostTensor } from '../graph/host-tensor.js';
export { hostTensor } from '../graph/host-tensor.js';

/** An input tensor is missing or does not fit the graph's (symbolic) input type. */
/** An op refused its operands' values (an index out of range): the node, whose origin is the spec call that made it. */
export class NodeValueError extends Error {
  constructor(
    message: string,
    readonly node: Node,
  ) {
    super(message);
    this.name = 'NodeValueError';
  }
}

export class InputBindingError extends Error {
  constructor(
    message: string,
    readonly tensor: string,
  ) {
    super(message);
    this.name = 'InputBindingError';
  }
}

export interface ExecResult {
  values: (HostTensor | undefined)[];
  loss: number;
  terms: Record<string, number>;
  grads: Map<string, HostTensor>;
  /** Stateful losses' updated buffers: `state_out/<term>/<buffer>` → value (empty when the graph has none). */
  state: Map<string, HostTensor>;
}

/** Bind every symbol of the graph inputs' shapes to the actual sizes. */
function bindDims(g: Graph, inputs: Map<string, HostTensor>): Record<string, number> {
  const env: Record<string, number> = {};
  const pending: { name: string; d: Dim; actual: number; shape: Dim[]; got: number[] }[] = [];
  const mismatch = (name: string, shape: Dim[], got: number[], why = '') =>
    new InputBindingError(`input '${name}': expected shape ${shapeToString(shape)}, got [${got.join(', ')}]${why}`, name);
  for (const inp of g.inputs) {
    const node = g.nodes[inp.node]!;
    const t = inputs.get(inp.name);
    if (!t) throw new InputBindingError(`missing input tensor '${inp.name}' (shape ${shapeToString(node.shape)})`, inp.name);
    if (t.dtype !== node.dtype) throw new InputBindingError(`input '${inp.name}': expected a ${node.dtype} tensor, got ${t.dtype}`, inp.name);
    if (t.shape.length !== node.shape.length) throw mismatch(inp.name, node.shape, t.shape);
    node.shape.forEach((d, i) => {
      const actual = t.shape[i]!;
      if (typeof d === 'number') {
        if (d !== actual) throw mismatch(inp.name, node.shape, t.shape);
      } else if ('sym' in d) {
        const prev = env[d.sym];
        if (prev === undefined) env[d.sym] = actual;
        else if (prev !== actual) throw mismatch(inp.name, node.shape, t.shape, ` (${d.sym} is already ${prev})`);
      } else pending.push({ name: inp.name, d, actual, shape: node.shape, got: t.shape });
    });
  }
  // expressions: check, or solve a single unbound symbol when the expression is linear in it
  for (let progress = true; progress && pending.length; ) {
    progress = false;
    for (let k = 0; k < pending.length; k++) {
      const p = pending[k]!;
      const unbound = [...dimSymbols(p.d)].filter((s) => env[s] === undefined);
      if (unbound.length > 1) continue;
      if (unbound.length === 1) {
        const s = unbound[0]!;
        const f = (v: number) => evalDim(p.d, { ...env, [s]: v });
        const f0 = f(0);
        const slope = f(1) - f0;
        const v = slope === 0 ? NaN : (p.actual - f0) / slope;
        if (!(Number.isInteger(v) && v >= 0 && f(v) === p.actual))
          throw mismatch(p.name, p.shape, p.got, ` (cannot solve ${dimToString(p.d)} = ${p.actual} for ${s})`);
        env[s] = v;
      } else if (evalDim(p.d, env) !== p.actual) throw mismatch(p.name, p.shape, p.got, ` (${dimToString(p.d)} = ${evalDim(p.d, env)})`);
      pending.splice(k--, 1);
      progress = true;
    }
  }
  if (pending.length) {
    const p = pending[0]!;
    throw mismatch(p.name, p.shape, p.got, ` (cannot bind ${dimToString(p.d)})`);
  }
  return env;
}

/** Nodes the outputs depend on. */
function liveNodes(g: Graph, roots: readonly number[] = outputNodes(g)): boolean[] {
  const live = new Array<boolean>(g.nodes.length).fill(false);
  for (const r of roots) live[r] = true;
  for (let id = g.nodes.length - 1; id >= 0; id--) if (live[id]) for (const i of g.nodes[id]!.inputs) live[i] = true;
  return live;
}

/** The nodes execute() returns: loss, terms, gradients, state outputs, model term. */
function outputNodes(g: Graph): number[] {
  const roots = [g.loss, ...g.terms.map((t) => t.node), ...g.grads.map((x) => x.node), ...(g.stateOut ?? []).map((s) => s.node)];
  if (g.modelTerm) roots.push(g.modelTerm.node);
  return roots;
}

/**
 * A hook called with each computed (non-input) node's value, its inputs' values and `rerun` (the node's own kernel
 * on other inputs of the same shapes); what it returns replaces the value. Used by error analysis (the differential
 * fuzz target models float32 rounding with it); absent, the float64 evaluation is exact op by op.
 */
export type ValueHook = (
  node: Graph['nodes'][number],
  value: HostTensor,
  inputs: readonly HostTensor[],
  rerun: (inputs: HostTensor[]) => HostTensor,
) => HostTensor;

export function execute(g: Graph, inputs: Map<string, HostTensor>, hook?: ValueHook): ExecResult {
  const values = evaluateNodes(g, inputs, outputNodes(g), hook);
  const scalarOf = (id: number, what: string) => {
    const t = values[id]!;
    if (t.data.length !== 1) throw new Error(`${what} is not a scalar: [${t.shape.join(', ')}]`);
    return t.data[0]!;
  };
  const terms: Record<string, number> = Object.create(null) as Record<string, number>; // user names: '__proto__' is a key
  for (const t of g.terms) terms[t.name] = scalarOf(t.node, `term '${t.name}'`);
  const grads = new Map<string, HostTensor>();
  for (const x of g.grads) grads.set(x.input, values[x.node]!);
  const state = new Map<string, HostTensor>();
  for (const s of g.stateOut ?? []) state.set(s.name, values[s.node]!);
  return { values, loss: scalarOf(g.loss, 'the loss'), terms, grads, state };
}

/** Values of `roots` and every node they depend on (others stay undefined). */
export function evaluateNodes(g: Graph, inputs: Map<string, HostTensor>, roots: readonly number[], hook?: ValueHook): (HostTensor | undefined)[] {
  const env = bindDims(g, inputs);
  const live = liveNodes(g, roots);
  const values: (HostTensor | undefined)[] = new Array(g.nodes.length).fill(undefined);
  const byNode = new Map(g.inputs.map((i) => [i.node, i.name]));
  const ev = (d: Dim) => evalDim(d, env);
  for (const n of g.nodes) {
    if (!live[n.id]) continue;
    if (n.op === 'input') {
      values[n.id] = inputs.get(byNode.get(n.id) ?? n.attrs.name);
      continue;
    }
    const outShape = evalShape(n.shape, env);
    const ins = n.inputs.map((i) => values[i]!);
    let v: HostTensor;
    try {
      v = (OPS[n.op] as OpDef<OpName>).cpu(ins, n.attrs as never, { outShape, outDtype: n.dtype, ev });
    } catch (e) {
      // the ops' messages name the op ("gather: index 11 is out of range …")
      const message = (e as Error).message;
      throw new NodeValueError(message.startsWith(`${n.op}:`) ? message : `${n.op}: ${message}`, n);
    }
    if (v.shape.length !== outShape.length || v.shape.some((d, i) => d !== outShape[i]))
      throw new Error(`node ${n.id} (${n.op}): kernel produced [${v.shape.join(', ')}], expected [${outShape.join(', ')}]`);
    values[n.id] = hook ? hook(n, v, ins, (other) => (OPS[n.op] as OpDef<OpName>).cpu(other, n.attrs as never, { outShape, outDtype: n.dtype, ev })) : v;
  }
  return values;
}
