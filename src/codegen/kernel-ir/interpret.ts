// The kernel IR interpreter: runs one dispatch of a KernelModule on the CPU, with WGSL's semantics where the
// kernels depend on them — f32 arithmetic rounded after every operation (Math.fround), wrapping u32/i32
// integers, workgroup memory shared by the invocations of a workgroup, and barriers. The invocations of a
// workgroup run as phases between barriers: each is a generator that yields at a barrier, and the workgroup
// advances all of them to the next one before any goes past it. The IR is compiled once per dispatch into
// closures (typed at compile time, variables resolved to frame slots); statements that contain no barrier run
// as plain functions. Out-of-bounds accesses are errors (the generated code never relies on robust access).
// Builtins mean what builtins.ts says; helper functions run from their IR definitions (helpers.ts), the same
// statements the printer prints.
// Subgroups are consecutive runs of `subgroupSize` local invocation indices (the last one partial when the
// workgroup size is not a multiple; what lavapipe does): a subgroup operation is a statement where the
// invocations of a subgroup that have not returned meet, as at a barrier, and each gets the result.
import { SUBGROUP_BUILTINS, type BinOp, type CheckModule, type Expr, type Fn, type Helper, type KernelModule, type Stmt, type SubgroupOp, type VarType } from './ir.js';
import type { Ix } from '../../compiler/schedule/index-expr.js';
import { BUILTINS, type Ev, type Frame, type Ty, type Value } from './builtins.js';
import { HELPERS, isHelper } from './helpers.js';

type Arr = Float32Array | Int32Array | Uint32Array;

/** What a statement did: continue with the next one, leave the innermost loop, or leave the kernel. */
const NEXT = 0;
const BREAK = 1;
const RETURN = 2;
type Ctl = 0 | 1 | 2;

export interface Dispatch {
  /** Storage buffers by their name in the module. */
  buffers: ReadonlyMap<string, Arr>;
  /** The dims uniform: member name → value. */
  dims: Readonly<Record<string, number>>;
  /** The workgroup size override. */
  wgSize: number;
  /** Workgroup counts. */
  grid: readonly [number, number, number];
  /** Invocations per subgroup (modules with subgroups; default 8, lavapipe's). */
  subgroupSize?: number;
}

/** What an invocation yields: undefined at a barrier, a request at a subgroup operation. */
interface SubgroupRequest {
  op: SubgroupOp;
  ty: 'f32' | 'i32' | 'u32';
  v: number;
  mask: number;
}
type Inv = Generator<SubgroupRequest | undefined, Ctl, number | undefined>;

class Compiler {
  private readonly slots: Map<string, { slot: number; ty: Ty | { array: Ty } }>[] = [new Map()];
  nslots = 0;
  /** Workgroup arrays and storage buffers, looked up at run time (the workgroup arrays change per workgroup). */
  readonly arrays: Record<string, Arr> = Object.create(null) as Record<string, Arr>;
  readonly arrayTypes = new Map<string, Ty>();
  /** Where `return e;` stores its value (helper function bodies only). */
  returnSlot: number | undefined;

  constructor(
    private readonly dims: Readonly<Record<string, number>>,
    /** The helper functions compiled so far (shared by a kernel and the helpers it calls). */
    private readonly functions = new Map<Helper, (args: Value[]) => Value>(),
  ) {}

  declare(name: string, ty: Ty | { array: Ty }): number {
    const slot = this.nslots++;
    this.slots[this.slots.length - 1]!.set(name, { slot, ty });
    return slot;
  }

  lookup(name: string): { slot: number; ty: Ty | { array: Ty } } | undefined {
    for (let k = this.slots.length - 1; k >= 0; k--) {
      const v = this.slots[k]!.get(name);
      if (v) return v;
    }
    return undefined;
  }

  scoped<T>(fn: () => T): T {
    this.slots.push(new Map());
    try {
      return fn();
    } finally {
      this.slots.pop();
    }
  }

  // ---- expressions ----
  expr(e: Expr): [Ev, Ty] {
    switch (e.k) {
      case 'f32': {
        const v = Math.fround(e.v);
        return [() => v, 'f32'];
      }
      case 'i32': {
        const v = e.v | 0;
        return [() => v, 'i32'];
      }
      case 'u32': {
        const v = e.v >>> 0;
        return [() => v, 'u32'];
      }
      case 'bool': {
        const v = e.v;
        return [() => v, 'bool'];
      }
      case 'var': {
        const s = this.lookup(e.name);
        if (!s) throw new Error(`interpreter: unknown variable ${e.name}`);
        if (typeof s.ty !== 'string') throw new Error(`interpreter: array ${e.name} used as a value`);
        const slot = s.slot;
        return [(f) => f[slot]!, s.ty];
      }
      case 'ix':
        return [this.ix(e.ix), 'u32'];
      case 'bin':
        return this.bin(e.op, this.expr(e.a), this.expr(e.b));
      case 'neg': {
        const [a, t] = this.expr(e.a);
        if (t === 'f32') return [(f) => -(a(f) as number), 'f32'];
        if (t === 'i32') return [(f) => -(a(f) as number) | 0, 'i32'];
        if (t === 'vec4') return [(f) => (a(f) as Float32Array).map((x) => -x), 'vec4'];
        throw new Error(`interpreter: negation of ${t}`);
      }
      case 'not': {
        const [a] = this.expr(e.a);
        return [(f) => !(a(f) as boolean), 'bool'];
      }
      case 'call':
        return this.call(e.fn, e.args.map((a) => this.expr(a)));
      case 'at': {
        const [i] = this.expr(e.i);
        const local = this.lookup(e.array);
        if (local) {
          if (typeof local.ty === 'string') throw new Error(`interpreter: ${e.array} is not an array`);
          const slot = local.slot;
          return [(f) => checked(f[slot] as Arr, i(f) as number, e.array), local.ty.array];
        }
        const arrays = this.arrays;
        const name = e.array;
        return [(f) => checked(arrays[name]!, i(f) as number, name), this.arrayType(name)];
      }
      case 'at4s': {
        const [i] = this.expr(e.i);
        const arrays = this.arrays;
        const name = e.array;
        return [(f) => checked(arrays[name]!, i(f) as number, name), this.arrayType(name)];
      }
      case 'at4': {
        const [i] = this.expr(e.i);
        const arrays = this.arrays;
        const name = e.array;
        return [
          (f) => {
            const a = arrays[name]!;
            const k = (i(f) as number) * 4;
            if (k + 4 > a.length) throw new Error(`interpreter: vec4 ${name}[${k / 4}] out of bounds (${a.length} elements)`);
            return Float32Array.from(a.subarray(k, k + 4));
          },
          'vec4',
        ];
      }
      case 'lane': {
        const [a] = this.expr(e.a);
        const l = e.lane;
        return [(f) => (a(f) as Float32Array)[l]!, 'f32'];
      }
      case 'atomicLoad': {
        const [i] = this.expr(e.i);
        const arrays = this.arrays;
        const name = e.array;
        return [(f) => checked(arrays[name]!, i(f) as number, name), 'u32'];
      }
      case 'arrayLength': {
        const arrays = this.arrays;
        const name = e.array;
        return [() => arrays[name]!.length, 'u32'];
      }
    }
  }

  private arrayType(name: string): Ty {
    const t = this.arrayTypes.get(name);
    if (!t) throw new Error(`interpreter: unknown array ${name}`);
    return t;
  }

  ix(a: Ix): Ev {
    switch (a.kind) {
      case 'lit': {
        const v = a.value >>> 0;
        return () => v;
      }
      case 'var':
        return this.expr({ k: 'var', name: a.name })[0];
      case 'dim': {
        const v = this.dims[a.field];
        if (v === undefined) throw new Error(`interpreter: dims.${a.field} unbound`);
        return () => v;
      }
      case 'op': {
        const x = this.ix(a.a);
        const y = this.ix(a.b);
        if (a.op === 'min') return (f) => Math.min(x(f) as number, y(f) as number);
        if (a.op === 'max') return (f) => Math.max(x(f) as number, y(f) as number);
        return this.bin(a.op, [x, 'u32'], [y, 'u32'])[0];
      }
    }
  }

  private bin(op: BinOp, [a, ta]: [Ev, Ty], [b, tb]: [Ev, Ty]): [Ev, Ty] {
    const t: Ty = ta === 'vec4' || tb === 'vec4' ? 'vec4' : ta;
    switch (op) {
      case '<':
        return [(f) => (a(f) as number) < (b(f) as number), 'bool'];
      case '<=':
        return [(f) => (a(f) as number) <= (b(f) as number), 'bool'];
      case '>':
        return [(f) => (a(f) as number) > (b(f) as number), 'bool'];
      case '>=':
        return [(f) => (a(f) as number) >= (b(f) as number), 'bool'];
      case '==':
        return [(f) => a(f) === b(f), 'bool'];
      case '!=':
        return [(f) => a(f) !== b(f), 'bool'];
      case '&&':
        return [(f) => (a(f) as boolean) && (b(f) as boolean), 'bool'];
      case '||':
        return [(f) => (a(f) as boolean) || (b(f) as boolean), 'bool'];
      case '>>':
        return t === 'u32' ? [(f) => (a(f) as number) >>> ((b(f) as number) & 31), 'u32'] : [(f) => (a(f) as number) >> ((b(f) as number) & 31), 'i32'];
      case '&':
        return t === 'u32' ? [(f) => ((a(f) as number) & (b(f) as number)) >>> 0, 'u32'] : [(f) => (a(f) as number) & (b(f) as number), 'i32'];
      case '^':
        return t === 'u32' ? [(f) => ((a(f) as number) ^ (b(f) as number)) >>> 0, 'u32'] : [(f) => (a(f) as number) ^ (b(f) as number), 'i32'];
    }
    const arith = ARITH[t]?.[op];
    if (!arith) throw new Error(`interpreter: ${t} ${op}`);
    if (t === 'vec4') {
      const fa = ta === 'vec4' ? a : (x: Frame) => Float32Array.of(a(x) as number, a(x) as number, a(x) as number, a(x) as number);
      const fb = tb === 'vec4' ? b : (x: Frame) => Float32Array.of(b(x) as number, b(x) as number, b(x) as number, b(x) as number);
      return [(f) => (fa(f) as Float32Array).map((x, k) => arith(x, (fb(f) as Float32Array)[k]!)), 'vec4'];
    }
    return [(f) => arith(a(f) as number, b(f) as number), t];
  }

  private call(fn: Fn, args: [Ev, Ty][]): [Ev, Ty] {
    if (!isHelper(fn)) return BUILTINS[fn](args);
    const h = this.helper(fn);
    const evs = args.map((x) => x[0]);
    if (args[0]?.[1] === 'vec4' && args.length === 1) {
      const [a] = evs as [Ev];
      return [(f) => (a(f) as Float32Array).map((x) => h([x]) as number), 'vec4'];
    }
    return [(f) => h(evs.map((e) => e(f))), HELPERS[fn].ret];
  }

  /** A helper function (helpers.ts), compiled once per dispatch from its IR: arguments in, its return value out. */
  private helper(name: Helper): (args: Value[]) => Value {
    const hit = this.functions.get(name);
    if (hit) return hit;
    const def = HELPERS[name];
    // a function body sees its parameters and the other helpers, nothing of the kernel
    const c = new Compiler({}, this.functions);
    const params = def.params.map((p) => c.declare(p.name, p.ty));
    const result = (c.returnSlot = c.declare('<return>', def.ret));
    const body = c.stmts(def.body);
    if (body.gen) throw new Error(`interpreter: helper ${name} has a barrier`);
    const run = body.run!;
    const fn = (args: Value[]): Value => {
      const f: Frame = new Array(c.nslots);
      params.forEach((s, k) => (f[s] = args[k]!));
      if (run(f) !== RETURN) throw new Error(`interpreter: helper ${name} ended without returning a value`);
      return f[result]!;
    };
    this.functions.set(name, fn);
    return fn;
  }

  // ---- statements ----
  /** A statement list: a plain function when it has no barrier, else a generator function. */
  stmts(body: readonly Stmt[]): Runner {
    return this.scoped(() => seq(body.map((s) => this.stmt(s))));
  }

  private stmt(s: Stmt): Runner {
    switch (s.k) {
      case 'let': {
        const [e, t] = this.expr(s.e);
        const slot = this.declare(s.name, t);
        return plain((f) => {
          f[slot] = copy(e(f));
          return NEXT;
        });
      }
      case 'var': {
        const init = s.init ? this.expr(s.init) : undefined;
        const ty = s.ty ? varTy(s.ty) : init![1];
        const slot = this.declare(s.name, ty);
        const make = typeof ty === 'string' ? undefined : s.ty && typeof s.ty !== 'string' ? s.ty : undefined;
        if (make) return plain((f) => ((f[slot] = newArray(make.array, make.length)), NEXT));
        const zero: Value = ty === 'vec4' ? new Float32Array(4) : ty === 'bool' ? false : 0;
        const e = init?.[0];
        return plain((f) => {
          f[slot] = e ? copy(e(f)) : copy(zero);
          return NEXT;
        });
      }
      case 'assign':
        return plain(this.assign(s.to, s.e));
      case 'block':
        return this.stmts(s.body);
      case 'if': {
        const [c] = this.expr(s.cond);
        const then = this.stmts(s.then);
        const other = s.else ? this.stmts(s.else) : undefined;
        if (!then.gen && !other?.gen) {
          const t = then.run!;
          const o = other?.run;
          return plain((f) => (c(f) ? t(f) : o ? o(f) : NEXT));
        }
        return gen(function* (f) {
          if (c(f)) return yield* runGen(then, f);
          return other ? yield* runGen(other, f) : NEXT;
        });
      }
      case 'for':
        return this.scoped(() => {
          const [from, t] = this.expr(s.from);
          const slot = this.declare(s.v, t);
          const [cond] = this.expr(s.cond);
          const [step] = this.expr(s.step);
          const add = ARITH[t]!['+']!;
          const body = this.stmts(s.body);
          if (!body.gen) {
            const run = body.run!;
            return plain((f) => {
              for (f[slot] = from(f); cond(f); f[slot] = add(f[slot] as number, step(f) as number)) {
                const r = run(f);
                if (r === BREAK) break;
                if (r === RETURN) return RETURN;
              }
              return NEXT;
            });
          }
          return gen(function* (f) {
            for (f[slot] = from(f); cond(f); f[slot] = add(f[slot] as number, step(f) as number)) {
              const r = yield* runGen(body, f);
              if (r === BREAK) break;
              if (r === RETURN) return RETURN;
            }
            return NEXT;
          });
        });
      case 'loop': {
        const body = this.stmts(s.body);
        if (!body.gen) {
          const run = body.run!;
          return plain((f) => {
            for (let guard = 0; ; guard++) {
              if (guard > 1e8) throw new Error('interpreter: loop does not terminate');
              const r = run(f);
              if (r === BREAK) return NEXT;
              if (r === RETURN) return RETURN;
            }
          });
        }
        return gen(function* (f) {
          for (;;) {
            const r = yield* runGen(body, f);
            if (r === BREAK) return NEXT;
            if (r === RETURN) return RETURN;
          }
        });
      }
      case 'break':
        return plain(() => BREAK);
      case 'return': {
        if (!s.e) return plain(() => RETURN);
        const slot = this.returnSlot;
        if (slot === undefined) throw new Error('interpreter: a kernel returns a value');
        const [e] = this.expr(s.e);
        return plain((f) => ((f[slot] = e(f)), RETURN));
      }
      case 'barrier':
        return gen(function* () {
          yield;
          return NEXT;
        });
      case 'atomic': {
        // invocations run one at a time: an atomic is a plain read-modify-write
        const [i] = this.expr(s.i);
        const [v] = this.expr(s.e);
        const arrays = this.arrays;
        const name = s.array;
        const min = s.op === 'min';
        return plain((f) => {
          const a = arrays[name]!;
          const k = i(f) as number;
          checked(a, k, name);
          a[k] = min ? Math.min(a[k]!, v(f) as number) : (v(f) as number);
          return NEXT;
        });
      }
      case 'subgroup': {
        const [e, t] = this.expr(s.e);
        if (t === 'vec4' || t === 'bool') throw new Error(`interpreter: subgroup ${s.op} of ${t}`);
        const ty = t;
        const mask = s.mask ? this.expr(s.mask)[0] : undefined;
        const slot = this.declare(s.name, t);
        const op = s.op;
        return gen(function* (f): Inv {
          f[slot] = (yield { op, ty, v: e(f) as number, mask: mask ? (mask(f) as number) : 0 }) as number;
          return NEXT;
        });
      }
    }
  }

  private assign(to: Expr, e: Expr): (f: Frame) => Ctl {
    const [v] = this.expr(e);
    switch (to.k) {
      case 'var': {
        const s = this.lookup(to.name);
        if (!s) throw new Error(`interpreter: assignment to unknown ${to.name}`);
        const slot = s.slot;
        const round = s.ty === 'f32';
        return (f) => {
          f[slot] = round ? Math.fround(v(f) as number) : copy(v(f));
          return NEXT;
        };
      }
      case 'at':
      case 'at4s': {
        const [i] = this.expr(to.i);
        const local = this.lookup(to.array);
        const arrays = this.arrays;
        const name = to.array;
        const arr = local ? (f: Frame) => f[local.slot] as Arr : () => arrays[name]!;
        return (f) => {
          const a = arr(f);
          const k = i(f) as number;
          if (!(k >= 0 && k < a.length)) throw new Error(`interpreter: store ${name}[${k}] out of bounds (${a.length} elements)`);
          a[k] = v(f) as number;
          return NEXT;
        };
      }
      case 'at4': {
        const [i] = this.expr(to.i);
        const arrays = this.arrays;
        const name = to.array;
        return (f) => {
          const a = arrays[name]!;
          const k = (i(f) as number) * 4;
          if (k + 4 > a.length) throw new Error(`interpreter: vec4 store ${name}[${k / 4}] out of bounds`);
          a.set(v(f) as Float32Array, k);
          return NEXT;
        };
      }
      case 'lane': {
        if (to.a.k !== 'var') throw new Error('interpreter: lane of a non-variable');
        const s = this.lookup(to.a.name)!;
        const l = to.lane;
        return (f) => {
          (f[s.slot] as Float32Array)[l] = v(f) as number;
          return NEXT;
        };
      }
      default:
        throw new Error(`interpreter: cannot assign to ${to.k}`);
    }
  }
}

interface Runner {
  run?: (f: Frame) => Ctl;
  gen?: (f: Frame) => Inv;
}

const plain = (run: (f: Frame) => Ctl): Runner => ({ run });
const gen = (g: (f: Frame) => Inv): Runner => ({ gen: g });

function* runGen(r: Runner, f: Frame): Inv {
  if (r.gen) return yield* r.gen(f);
  return r.run!(f);
}

function seq(rs: Runner[]): Runner {
  if (rs.every((r) => !r.gen)) {
    const runs = rs.map((r) => r.run!);
    return plain((f) => {
      for (const r of runs) {
        const c = r(f);
        if (c !== NEXT) return c;
      }
      return NEXT;
    });
  }
  return gen(function* (f) {
    for (const r of rs) {
      const c = r.gen ? yield* r.gen(f) : r.run!(f);
      if (c !== NEXT) return c;
    }
    return NEXT;
  });
}

const copy = (v: Value): Value => (v instanceof Float32Array ? Float32Array.from(v) : v);

function checked(a: Arr, k: number, name: string): number {
  if (!(k >= 0 && k < a.length)) throw new Error(`interpreter: ${name}[${k}] out of bounds (${a.length} elements)`);
  return a[k]!;
}

function varTy(t: VarType): Ty | { array: Ty } {
  if (typeof t !== 'string') return { array: t.array };
  return t === 'vec4<f32>' ? 'vec4' : t;
}

function newArray(t: 'f32' | 'i32' | 'u32', n: number): Arr {
  return t === 'f32' ? new Float32Array(n) : t === 'i32' ? new Int32Array(n) : new Uint32Array(n);
}

const F = Math.fround;
const ARITH: Partial<Record<Ty, Partial<Record<BinOp, (a: number, b: number) => number>>>> = {
  f32: { '+': (a, b) => F(a + b), '-': (a, b) => F(a - b), '*': (a, b) => F(a * b), '/': (a, b) => F(a / b), '%': (a, b) => F(a % b) },
  vec4: { '+': (a, b) => F(a + b), '-': (a, b) => F(a - b), '*': (a, b) => F(a * b), '/': (a, b) => F(a / b) },
  i32: {
    '+': (a, b) => (a + b) | 0,
    '-': (a, b) => (a - b) | 0,
    '*': (a, b) => Math.imul(a, b),
    // WGSL: division by zero gives the dividend; the most negative value divided by -1 gives itself
    '/': (a, b) => (b === 0 ? a : (a / b) | 0),
    '%': (a, b) => (b === 0 ? 0 : a % b | 0),
  },
  u32: {
    '+': (a, b) => (a + b) >>> 0,
    '-': (a, b) => (a - b) >>> 0,
    '*': (a, b) => Math.imul(a, b) >>> 0,
    '/': (a, b) => (b === 0 ? a : Math.floor(a / b)),
    '%': (a, b) => (b === 0 ? 0 : a % b),
  },
};

/** Run one dispatch of `m` over the grid, reading and writing `d.buffers` in place. */
export function interpretDispatch(m: KernelModule, d: Dispatch): void {
  const c = new Compiler(d.dims);
  for (const b of m.buffers) {
    const a = d.buffers.get(b.name);
    if (!a) throw new Error(`interpreter: no buffer bound to ${b.name}`);
    c.arrays[b.name] = a;
    c.arrayTypes.set(b.name, b.dtype);
  }
  for (const s of m.shared) c.arrayTypes.set(s.name, s.elem);
  const builtins = m.entry === 'linear' ? ['wid.x', 'wid.y', 'wid.z', 'nwg.x', 'nwg.y', 'nwg.z', 'lid', 'wg_size'] : ['wid.x', 'wid.y', 'wid.z', 'lid3.x', 'lid3.y', 'lid3.z', 'wg_size'];
  const sg = m.subgroups ? (d.subgroupSize ?? 8) : 0;
  if (m.subgroups && !(sg >= 1 && (sg & (sg - 1)) === 0)) throw new Error(`interpreter: subgroup size ${sg} is not a power of two`);
  if (m.subgroups) builtins.push(SUBGROUP_BUILTINS.lane, SUBGROUP_BUILTINS.size, SUBGROUP_BUILTINS.id, SUBGROUP_BUILTINS.count);
  const slots = builtins.map((b) => c.declare(b, 'u32'));
  const body = c.stmts(m.body);
  const [gx, gy, gz] = d.grid;
  const wg = d.wgSize;
  const count = wg;
  for (let z = 0; z < gz; z++)
    for (let y = 0; y < gy; y++)
      for (let x = 0; x < gx; x++) {
        for (const s of m.shared) c.arrays[s.name] = newArray(s.elem, wg);
        const frames: Frame[] = [];
        for (let i = 0; i < count; i++) {
          const f: Frame = new Array(c.nslots);
          const vals = m.entry === 'linear' ? [x, y, z, gx, gy, gz, i, wg] : [x, y, z, i, 0, 0, wg];
          if (sg) vals.push(i % sg, sg, Math.floor(i / sg), Math.ceil(wg / sg));
          slots.forEach((s, k) => (f[s] = vals[k]!));
          frames.push(f);
        }
        if (!body.gen) {
          for (const f of frames) body.run!(f);
          continue;
        }
        runWorkgroup(frames.map((f) => body.gen!(f)), sg);
      }
}

/** Run one entry point of a device-check kernel over `groups` workgroups (x, y), reading `x` and updating `flags`. */
export function interpretCheck(
  m: CheckModule,
  entryPoint: string,
  d: { params: Readonly<Record<string, number>>; x: Int32Array | Uint32Array; flags: Uint32Array; groups: readonly [number, number] },
): void {
  const entry = m.entries.find((e) => e.name === entryPoint);
  if (!entry) throw new Error(`interpreter: no entry point ${entryPoint}`);
  const c = new Compiler({});
  c.arrays['x'] = d.x;
  c.arrayTypes.set('x', m.element);
  c.arrays['flags'] = d.flags;
  c.arrayTypes.set('flags', 'u32');
  const params = m.params.map((p) => {
    const v = d.params[p.name];
    if (v === undefined) throw new Error(`interpreter: params.${p.name} unbound`);
    return [c.declare(`params.${p.name}`, p.ty), p.ty === 'i32' ? v | 0 : v >>> 0] as const;
  });
  const gid = entry.gid ? ['gid.x', 'gid.y', 'gid.z'].map((g) => c.declare(g, 'u32')) : [];
  const body = c.stmts(entry.body);
  if (body.gen) throw new Error('interpreter: a device check with a barrier');
  const wg = entry.workgroupSize;
  for (let y = 0; y < d.groups[1]; y++)
    for (let x = 0; x < d.groups[0]; x++)
      for (let l = 0; l < wg; l++) {
        const f: Frame = new Array(c.nslots);
        for (const [slot, v] of params) f[slot] = v;
        if (entry.gid) [x * wg + l, y, 0].forEach((v, k) => (f[gid[k]!] = v));
        body.run!(f);
      }
}

/**
 * Phases between barriers: every live invocation runs to its next barrier, subgroup operation or end, in turn.
 * Invocations waiting at subgroup operations get their results (from the subgroup's invocations that have not
 * returned) and run on; when all wait at a barrier, all pass it.
 */
function runWorkgroup(invs: Inv[], sg: number): void {
  const at: IteratorResult<SubgroupRequest | undefined, Ctl>[] = invs.map((g) => g.next());
  const request = (i: number): SubgroupRequest | undefined => (at[i]!.done ? undefined : (at[i]!.value as SubgroupRequest | undefined));
  for (;;) {
    const waiting = invs.map((_, i) => i).filter((i) => !at[i]!.done);
    if (!waiting.length) return;
    const sgWaiting = waiting.filter((i) => request(i) !== undefined);
    if (sgWaiting.length) {
      const groups = new Map<number, number[]>();
      for (const i of waiting) {
        const g = Math.floor(i / sg);
        groups.set(g, [...(groups.get(g) ?? []), i]);
      }
      for (const members of groups.values()) {
        const reqs = members.map(request);
        if (reqs.every((r) => r === undefined)) continue; // this subgroup waits at a barrier
        if (reqs.some((r) => r === undefined || r.op !== reqs[0]!.op)) throw new Error('interpreter: a subgroup operation is not reached by every active invocation of its subgroup');
        const results = subgroupResults(members, reqs as SubgroupRequest[], sg);
        members.forEach((i, k) => (at[i] = invs[i]!.next(results[k])));
      }
      continue;
    }
    // some invocations finished while others wait at a barrier: non-uniform control flow
    if (waiting.length !== invs.length) throw new Error('interpreter: a barrier is not reached by every invocation of the workgroup');
    for (const i of waiting) at[i] = invs[i]!.next(undefined);
  }
}

/** Each active member's result of one subgroup operation (members: local indices, ascending). */
function subgroupResults(members: number[], reqs: SubgroupRequest[], sg: number): number[] {
  const vs = reqs.map((r) => r.v);
  switch (reqs[0]!.op) {
    case 'add': {
      // the rounding order of a float sum is the implementation's: here pairwise; integers wrap
      const ty = reqs[0]!.ty;
      const total = pairwise(vs, ty === 'f32' ? (a, b) => Math.fround(a + b) : ty === 'i32' ? (a, b) => (a + b) | 0 : (a, b) => (a + b) >>> 0);
      return vs.map(() => total);
    }
    case 'max':
      return vs.map(() => Math.max(...vs));
    case 'min':
      return vs.map(() => Math.min(...vs));
    case 'shuffleXor': {
      const byLane = new Map(members.map((i, k) => [i % sg, vs[k]!]));
      return members.map((i, k) => {
        const v = byLane.get((i % sg) ^ reqs[k]!.mask);
        // reading an inactive invocation is undefined in WGSL: poison the result
        return v === undefined ? Number.NaN : v;
      });
    }
  }
}

function pairwise(vs: number[], add: (a: number, b: number) => number): number {
  let xs = vs;
  while (xs.length > 1) {
    const next: number[] = [];
    for (let i = 0; i < xs.length; i += 2) next.push(i + 1 < xs.length ? add(xs[i]!, xs[i + 1]!) : xs[i]!);
    xs = next;
  }
  return xs[0] ?? 0;
}
