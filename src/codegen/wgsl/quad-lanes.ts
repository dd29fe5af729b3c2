// Lanes of a quad of positions (geometry.ts quadRun): an invocation computes 4 consecutive positions of a domain's
// trailing axes, position 4·q + l in lane l. Each lane binds those axes' coordinates under names of its own
// (`ix2_1`: coordinate 2 in lane 1), so the 4 lanes' values live side by side in one scope: what a lane computes
// from coordinates bound outside a loop is computed once, before it (the hoisting pass moves only lets whose names
// are unique), and every buffer laid out along the quad's axes is read as one vec4 shared by the 4 lanes
// (Emitter quad context, flat: an element's offset x + position, x a multiple of 4, is lane l of vec4 x/4 + q).
import { mulDims } from '../../graph/dims.js';
import type { Dim } from '../../graph/types.js';
import { coord, coordName } from '../../compiler/schedule/coords.js';
import { ixAdd, ixLit, ixMul, ixVar, type Ix } from '../../compiler/schedule/index-expr.js';
import type { IndexMath } from '../../compiler/schedule/index-math.js';
import type { Emitter } from './emitter.js';
import type { Scope, ScopeTree } from './scope.js';
import { ixE, letS } from '../kernel-ir/ir.js';

export const QUAD_LANES = 4;

export class QuadLanes {
  /** Every name a lane binds (positions and coordinates of all lanes). */
  readonly vars = new Set<string>();
  private readonly axes: ReadonlySet<number>;

  /**
   * Binds in `scope`, for each lane l, its position `4·q + l` and its coordinates of the domain axes `axes`
   * (indices, extents; consecutive, row-major over the positions) — unravelled from the position when there are
   * several. `q`: the quad index variable (positions 4q … 4q + 3).
   */
  constructor(
    private readonly scopes: ScopeTree,
    private readonly math: IndexMath,
    scope: Scope,
    axes: readonly { k: number; dim: Dim }[],
    readonly q: string,
  ) {
    this.axes = new Set(axes.map((a) => a.k));
    const run = axes.map((a) => a.dim);
    for (let l = 0; l < QUAD_LANES; l++) {
      const at = ixAdd(ixMul(ixVar(q), ixLit(QUAD_LANES)), ixLit(l));
      const pos = this.pos(l);
      scope.lines.push(letS(pos, ixE(at)));
      this.bind(pos, scope, math.dim(mulDims(...run)));
      if (axes.length === 1) continue;
      const cs = math.unravel(ixVar(pos), run);
      axes.forEach((a, n) => {
        const name = this.name(l, a.k);
        scope.lines.push(letS(name, ixE(cs[n]!)));
        this.bind(name, scope, math.dim(a.dim));
        math.bindCoord(name, cs[n]);
      });
    }
  }

  /** Lane l's position: the coordinate itself where the quad runs along one axis. */
  pos(l: number): string {
    return this.axes.size === 1 ? this.name(l, [...this.axes][0]!) : `p${l}`;
  }

  /** Domain coordinate k in lane l (the shared one for axes outside the quad). */
  coord(l: number, k: number): Ix {
    return this.axes.has(k) ? ixVar(this.name(l, k)) : coord(k);
  }

  /** Lane l's coordinates of a domain with `rank` axes. */
  coords(l: number, rank: number): Ix[] {
    return Array.from({ length: rank }, (_, k) => this.coord(l, k));
  }

  /** Point the emitter at lane l (vec4 loads of the buffers laid out along the quad); `undefined`: no lane. */
  enter(emitter: Emitter, l: number | undefined, loop: Scope): void {
    emitter.quad = l === undefined ? undefined : { coord: this.pos(l), lane: l, dim: 4, loop, t: this.q, flat: true, local: true, laneVars: this.vars };
  }

  private name(l: number, k: number): string {
    return `${coordName(k)}_${l}`;
  }

  private bind(name: string, scope: Scope, extent: Ix): void {
    this.vars.add(name);
    this.scopes.define(name, scope);
    this.math.bindRange(name, extent);
  }
}
