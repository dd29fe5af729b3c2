// What the serial kernel generator (serial-kernel.ts) hands each serial template, its own and ctc-kernel.ts's.
import type { IndexMath } from '../../compiler/schedule/index-math.js';
import type { SerialKernelSpec } from '../../compiler/schedule/kernel-spec.js';
import type { Emitter } from './emitter.js';
import type { ScopeTree } from './scope.js';

export interface SerialCtx {
  spec: SerialKernelSpec;
  math: IndexMath;
  scopes: ScopeTree;
  emitter: Emitter;
  /** The store buffer (also read back). */
  out: string;
  /** The kernel's own f32 scratch buffer, when the scheduler gave it one (spec.workspace). */
  workspace?: string;
}
