// Nodes without tensor inputs: graph inputs, scalar constants, iota.
import { hostTensor } from '../host-tensor.js';
import { stridesOf, walk } from '../host-tensor.js';
import { normAxis, ShapeRuleError, type OpDef } from './op-def.js';

export const input: OpDef<'input'> = {
  kind: 'source',
  arity: 0,
  infer() {
    throw new ShapeRuleError('input: use GraphBuilder.input()');
  },
  vjp: () => [],
  cpu() {
    throw new Error('input: the executor binds inputs itself');
  },
};

export const constant: OpDef<'const'> = {
  kind: 'source',
  arity: 0,
  infer: () => ({ shape: [], dtype: 'float' }),
  vjp: () => [],
  cpu: (_ins, attrs) => hostTensor([], 'float', [attrs.value]),
};

export const iota: OpDef<'iota'> = {
  kind: 'source',
  arity: 0,
  infer(_ins, attrs) {
    const axis = normAxis('iota', attrs.axis, attrs.shape.length);
    return { shape: [...attrs.shape], dtype: attrs.dtype, attrs: { ...attrs, axis } };
  },
  vjp: () => [],
  cpu(_ins, attrs, ctx) {
    const shape = ctx.outShape;
    const strides = shape.map((_, i) => (i === attrs.axis ? 1 : 0));
    const idx = walk(shape, strides);
    void stridesOf;
    return hostTensor(shape, attrs.dtype, Float64Array.from(idx));
  },
};
