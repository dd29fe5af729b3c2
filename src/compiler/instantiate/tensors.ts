// Tensor-level operations of the interpreter: turning values into graph nodes (materializing io_dict reads
// into graph inputs), building ops with their spec/config origin, and converting the builder's shape errors
// into diagnostics that name the tensors involved. In reads-only mode every tensor is the placeholder -1.
import { GraphLimitError, ShapeError } from '../../graph/builder.js';
import { dimToString, shapeToString } from '../../graph/dims.js';
import type { Dim, DType, OpAttrs, OpName, Shape } from '../../graph/types.js';
import { tensorName, type TensorRef } from '../ir.js';
import { C } from './codes.js';
import { DiagnosticError, diag } from '../../diagnostics/diagnostic.js';
import { fail, locate, recordRead, type EvalContext } from './context.js';
import { kindName, type Value } from './values.js';

export const PLACEHOLDER = -1;

/** The graph node of a tensor reference: a graph input, created on first use. */
export function materialize(ctx: EvalContext, ref: TensorRef): number {
  const name = recordRead(ctx, ref);
  if (ctx.mode === 'reads') return PLACEHOLDER;
  const known = ctx.inputNodes.get(name);
  if (known !== undefined) return known;
  const info = ctx.inputs(name);
  if (!info) {
    // reported at the config term (what asks for the tensor); the spec line that first uses it is related
    const where = locate(ctx, ctx.curSpan);
    const related = [...(where.span ? [{ message: 'first used here', span: where.span }] : []), ...where.related.filter((r) => r.span !== ctx.configSpan)];
    throw new DiagnosticError(
      diag('error', C.missingInput, `missing input tensor '${name}' (${describeRef(ref)})`, ctx.configSpan ?? where.span, {
        hint:
          ref.kind === 'io'
            ? `the loss reads io_dict['${ref.side}']['${ref.path}']['${ref.io}']${ref.sub === undefined ? '' : `[${JSON.stringify(ref.sub)}]`}; provide it as '${name}'`
            : `provide it as '${name}'`,
        related,
      }),
    );
  }
  const trainable =
    info.dtype === 'float' &&
    (ref.kind === 'model_loss' ? true : ref.kind === 'targets' ? false : ref.side === 'student' ? ctx.trainable.student : ctx.trainable.teacher);
  const origin = { ...(ctx.curSpan ? { spec: ctx.curSpan } : {}), ...(ctx.configSpan ? { config: ctx.configSpan } : {}) };
  let id: number;
  try {
    id = ctx.builder!.input(name, info.shape, info.dtype, trainable, origin);
  } catch (e) {
    if (e instanceof ShapeError) fail(ctx, C.badInput, e.message);
    throw e;
  }
  ctx.inputNodes.set(name, id);
  return id;
}

function describeRef(ref: TensorRef): string {
  switch (ref.kind) {
    case 'io':
      return `the ${ref.io} of module '${ref.path}' on the ${ref.side} side${ref.sub === undefined ? '' : `, element ${JSON.stringify(ref.sub)}`}`;
    case 'targets':
      return 'the label batch';
    case 'model_loss':
      return `model loss '${ref.key}'`;
  }
}

/** Build one op, tagged with the current spec and config positions; shape errors become diagnostics. */
export function op<K extends OpName>(ctx: EvalContext, kind: K, inputs: number[], attrs: OpAttrs[K]): number {
  if (ctx.mode === 'reads' || inputs.some((i) => i === PLACEHOLDER)) return PLACEHOLDER;
  const b = ctx.builder!;
  const origin = { ...(ctx.curSpan ? { spec: ctx.curSpan } : {}), ...(ctx.configSpan ? { config: ctx.configSpan } : {}) };
  try {
    return b.op(kind, inputs, attrs, origin);
  } catch (e) {
    if (e instanceof ShapeError) {
      const operands = e.nodes.length ? e.nodes : inputs;
      fail(ctx, C.shape, `${e.message}; operands: ${operands.map((n) => describeNode(ctx, n)).join(', ')}`, undefined, e.hint ? { hint: e.hint } : undefined);
    }
    if (e instanceof GraphLimitError) fail(ctx, C.limit, e.message, undefined, { hint: 'a loop or sum this long cannot be compiled into kernels; is a config value (e.g. a count) far too large?' });
    throw e;
  }
}

export function constant(ctx: EvalContext, value: number, dtype: DType = 'float'): number {
  if (ctx.mode === 'reads') return PLACEHOLDER;
  const c = op(ctx, 'const', [], { value });
  return dtype === 'int' ? op(ctx, 'cast', [c], { dtype: 'int' }) : c;
}

export function shapeOf(ctx: EvalContext, id: number): Shape | undefined {
  return ctx.mode === 'reads' || id === PLACEHOLDER ? undefined : ctx.builder!.shape(id);
}

export function dtypeOf(ctx: EvalContext, id: number): DType | undefined {
  return ctx.mode === 'reads' || id === PLACEHOLDER ? undefined : ctx.builder!.dtype(id);
}

/** A dim as a float scalar tensor (a symbolic dim: the sum of a broadcast 1 over it). */
function dimTensor(ctx: EvalContext, d: Dim): number {
  if (typeof d === 'number') return constant(ctx, d);
  const one = constant(ctx, 1);
  return op(ctx, 'reduce', [op(ctx, 'broadcast', [one], { shape: [d] })], { fn: 'sum', axes: [0], keepdim: false });
}

/** A value used as a tensor. `like`: dtype of the other operands (an integral number next to int tensors stays int). */
export function toNode(ctx: EvalContext, v: Value, like?: DType): number {
  switch (v.t) {
    case 'tensor':
      return v.id;
    case 'ref':
      return materialize(ctx, v.ref);
    case 'num':
      return constant(ctx, v.v, like === 'int' && Number.isInteger(v.v) ? 'int' : 'float');
    case 'bool':
      return constant(ctx, v.v ? 1 : 0, like === 'int' ? 'int' : 'float');
    case 'dim':
      return dimTensor(ctx, v.d);
    case 'unknown':
      if (ctx.mode === 'reads') return PLACEHOLDER;
      return fail(ctx, C.notCompileTime, 'this value cannot be computed at compile time');
    default:
      // a config's tensor constant (a `tensor` kwarg, or one an untyped **kwargs swallows) reaches the body as its
      // nested list of numbers
      return fail(ctx, C.type, `expected a tensor or a number, got ${kindName(v)}`, undefined, v.t === 'list' ? { hint: 'a list of numbers (such as a tensor constant from the config) becomes a tensor with tensor(v)' } : undefined);
  }
}

/** "student/./output [8, 37]" for an input, "[8, 37] (computed from student/./output)" otherwise. */
function describeNode(ctx: EvalContext, id: number): string {
  const b = ctx.builder!;
  const n = b.node(id);
  const shape = shapeToString(n.shape);
  if (n.op === 'input') return `'${n.attrs.name}' ${shape}`;
  if (n.op === 'const') return `the constant ${n.attrs.value}`;
  const names = new Set<string>();
  const seen = new Set<number>();
  const stack = [id];
  while (stack.length && names.size < 3) {
    const k = stack.pop()!;
    if (seen.has(k)) continue;
    seen.add(k);
    const m = b.node(k);
    if (m.op === 'input') names.add(m.attrs.name);
    else stack.push(...m.inputs);
  }
  return names.size ? `${shape} (computed from ${[...names].map((x) => `'${x}'`).join(', ')})` : shape;
}

export function describeValue(ctx: EvalContext, v: Value): string {
  if (v.t === 'ref') {
    const id = ctx.mode === 'graph' ? ctx.inputNodes.get(tensorName(v.ref)) : undefined;
    return id === undefined ? `'${tensorName(v.ref)}'` : describeNode(ctx, id);
  }
  if (v.t === 'tensor') return v.id === PLACEHOLDER ? 'a tensor' : describeNode(ctx, v.id);
  if (v.t === 'dim') return dimToString(v.d);
  return kindName(v);
}
