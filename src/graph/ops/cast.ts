// dtype conversion (float → int truncates toward zero like Tensor.long()) and detach.
import { hostTensor } from '../host-tensor.js';
import type { OpDef } from './op-def.js';

export const cast: OpDef<'cast'> = {
  kind: 'layout',
  arity: 1,
  infer: ([x], attrs) => ({ shape: [...x!.shape], dtype: attrs.dtype }),
  // float → float is the identity (folded by the builder); anything touching int carries no gradient
  diffInputs: (node, dts) => [dts[0] === 'float' && node.attrs.dtype === 'float'],
  vjp: (_b, _node, g) => [g],
  cpu([x], attrs, ctx) {
    if (attrs.dtype === 'float' || x!.dtype === 'int') return hostTensor(ctx.outShape, attrs.dtype, x!.data);
    return hostTensor(ctx.outShape, 'int', x!.data.map(Math.trunc));
  },
};

export const detach: OpDef<'detach'> = {
  kind: 'layout',
  arity: 1,
  infer: ([x]) => ({ shape: [...x!.shape], dtype: x!.dtype }),
  diffInputs: () => [false],
  vjp: () => [null],
  cpu: ([x], _attrs, ctx) => hostTensor(ctx.outShape, x!.dtype, x!.data),
};
