// The loop-invariant hoisting pass (src/codegen/kernel-ir/hoist.ts) on small kernel IR: what moves (invariant
// lets, to the loop's preheader), what stays (loop-variant values, loads after a store to their array or across
// a barrier, loads under a guard or after a conditional exit, reused names, a template's let that would only leave
// a block), and that the moved module computes the same buffers under the IR interpreter.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hoistInvariants } from '../src/codegen/kernel-ir/hoist.js';
import { interpretDispatch } from '../src/codegen/kernel-ir/interpret.js';
import {
  assign, at, bare, barrier, bin, block, BREAK, call, f32, forS, ifS, letS, ref, u32, valueS, varS,
  type KernelModule, type Stmt,
} from '../src/codegen/kernel-ir/ir.js';
import { printStmts } from '../src/codegen/wgsl/print.js';

const lid = ref('lid');
const i = ref('i');
/** `for (var i = 0u; i < n; i = i + 1u) { body }` */
const upTo = (n: number, body: Stmt[]): Stmt => forS('i', u32(0), bare('<', i, u32(n)), u32(1), body);
const text = (body: readonly Stmt[]): string => {
  const out: string[] = [];
  printStmts(body, 0, out);
  return out.join('\n');
};

/** A one-workgroup module over storage buffers `inp` (read) and `out` (read_write), 4 invocations. */
function run(body: Stmt[], shared = false): Float32Array {
  const m: KernelModule = {
    header: [],
    symbols: [],
    buffers: [
      { name: 'inp', binding: 1, access: 'read', dtype: 'f32', label: 'inp', shape: [16] },
      { name: 'out', binding: 2, access: 'read_write', dtype: 'f32', label: 'out', shape: [16] },
    ],
    shared: shared ? [{ name: 'sh', elem: 'f32', length: 'wg_size' }] : [],
    entry: 'linear',
    body,
    vec4: new Set(),
  };
  const out = new Float32Array(16);
  interpretDispatch(m, { buffers: new Map([['inp', Float32Array.from({ length: 16 }, (_, k) => k + 1)], ['out', out]]), dims: {}, wgSize: 4, grid: [1, 1, 1] });
  return out;
}

test('an invariant let leaves the loop (to just before it, in order); a variant one stays', () => {
  const body: Stmt[] = [
    letS('a', bin('*', call('f32', lid), f32(2))),
    upTo(4, [
      letS('inv', bin('+', ref('a'), f32(1))),
      letS('inv2', call('exp', bin('*', ref('inv'), f32(0.01)))),
      letS('var1', bin('+', ref('inv2'), call('f32', i))),
      assign(at('out', bin('+', bin('*', lid, u32(4)), i)), ref('var1')),
    ]),
  ];
  const before = text(body);
  const moved = hoistInvariants(body);
  assert.is(text(body), before, 'the input is not changed');
  assert.equal(
    moved.map((s) => (s.k === 'let' ? s.name : s.k)),
    ['a', 'inv', 'inv2', 'for'],
  );
  const loop = moved[3] as Extract<Stmt, { k: 'for' }>;
  assert.equal(loop.body.map((s) => (s.k === 'let' ? s.name : s.k)), ['var1', 'assign']);
  assert.equal(run(moved), run(body));
});

test('a let reading a var the loop assigns, or a let that stays behind, stays', () => {
  const body: Stmt[] = [
    varS('acc', 'f32', f32(0)),
    upTo(4, [
      letS('prev', bin('*', ref('acc'), f32(0.5))), // acc changes every iteration
      letS('k', bin('+', i, u32(1))), // the loop variable
      letS('kk', bin('*', ref('k'), u32(2))), // reads a let that stays
      assign(ref('acc'), bin('+', ref('prev'), call('f32', ref('kk')))),
    ]),
    assign(at('out', lid), ref('acc')),
  ];
  const moved = hoistInvariants(body);
  assert.is(text(moved), text(body));
});

test('a load after a store to its array stays; a load of an array the loop does not write leaves', () => {
  const body: Stmt[] = [
    upTo(4, [
      assign(at('out', bin('+', bin('*', lid, u32(4)), i)), call('f32', i)),
      letS('o', at('out', bin('*', lid, u32(4)))), // out[4·lid] is written in iteration 0: not invariant
      letS('x', at('inp', lid)),
      assign(at('out', bin('+', bin('*', lid, u32(4)), i)), bin('+', ref('o'), ref('x'))),
    ]),
  ];
  const moved = hoistInvariants(body);
  assert.equal(moved.map((s) => (s.k === 'let' ? s.name : s.k)), ['x', 'for']);
  assert.equal((moved[1] as Extract<Stmt, { k: 'for' }>).body.map((s) => (s.k === 'let' ? s.name : s.k)), ['assign', 'o', 'assign']);
  assert.equal(run(moved), run(body));
});

test('a load across a barrier stays (another invocation writes the workgroup array between iterations)', () => {
  const body: Stmt[] = [
    upTo(3, [
      letS('s', at('sh', u32(0))),
      barrier(),
      ifS(bare('==', lid, u32(0)), [assign(at('sh', u32(0)), bin('+', ref('s'), f32(1)))]),
      barrier(),
    ]),
    assign(at('out', lid), at('sh', u32(0))),
  ];
  assert.is(text(hoistInvariants(body)), text(body));
  assert.equal(run(body, true).slice(0, 4), Float32Array.from([3, 3, 3, 3]));
});

test('a load under a guard stays in its branch; pure arithmetic of a value leaves it', () => {
  const body: Stmt[] = [
    upTo(4, [
      ifS(bare('<', lid, u32(2)), [
        letS('g', at('inp', bin('+', lid, u32(14)))), // in bounds only where lid < 2
        valueS('h', bin('*', call('f32', lid), f32(3)), 0),
        assign(at('out', bin('+', bin('*', lid, u32(4)), i)), bin('+', ref('g'), ref('h'))),
      ]),
    ]),
  ];
  const moved = hoistInvariants(body);
  assert.equal(moved.map((s) => (s.k === 'let' ? s.name : s.k)), ['h', 'for']);
  const loop = moved[1] as Extract<Stmt, { k: 'for' }>;
  const branch = (loop.body[0] as Extract<Stmt, { k: 'if' }>).then;
  assert.equal(branch.map((s) => (s.k === 'let' ? s.name : s.k)), ['g', 'assign']);
  assert.equal(run(moved), run(body));
  // the guarded load, hoisted by hand, reads out of bounds: the rule is what keeps it in
  assert.throws(() => run([letS('g', at('inp', bin('+', lid, u32(14)))), ...body]), /out of bounds/);
});

test('a load after a conditional exit stays; arithmetic passes it', () => {
  const body: Stmt[] = [
    upTo(4, [
      ifS(bare('>=', lid, u32(2)), [BREAK]),
      letS('x', at('inp', bin('+', lid, u32(14)))), // guarded by the break
      letS('y', bin('*', call('f32', lid), f32(2))),
      assign(at('out', bin('+', bin('*', lid, u32(4)), i)), bin('+', ref('x'), ref('y'))),
    ]),
  ];
  const moved = hoistInvariants(body);
  assert.equal(moved.map((s) => (s.k === 'let' ? s.name : s.k)), ['y', 'for']);
  assert.equal(run(moved), run(body));
});

test('names declared twice stay; a template let leaving only a block stays, a value leaves it', () => {
  const lane = (n: number): Stmt =>
    block([
      letS('j', bin('+', bin('*', i, u32(2)), u32(n))), // declared once per block: never moved
      letS(`t${n}`, bin('*', call('f32', ref('j')), f32(2))),
      valueS(`w${n}`, bin('*', call('f32', i), f32(3)), n), // invariant in the block only: a value, so it leaves the block
      letS(`u${n}`, bin('*', call('f32', i), f32(5))), // the same, a template's own let: stays
      assign(at('out', bin('+', bin('*', lid, u32(4)), ref('j'))), bin('+', bin('+', ref(`t${n}`), ref(`w${n}`)), ref(`u${n}`))),
    ]);
  const body: Stmt[] = [upTo(2, [lane(0), lane(1)])];
  const moved = hoistInvariants(body);
  const loop = moved[0] as Extract<Stmt, { k: 'for' }>;
  assert.equal(loop.body.map((s) => (s.k === 'let' ? s.name : s.k)), ['w0', 'block', 'w1', 'block']);
  assert.equal((loop.body[1] as Extract<Stmt, { k: 'block' }>).body.map((s) => (s.k === 'let' ? s.name : s.k)), ['j', 't0', 'u0', 'assign']);
  assert.equal(run(moved), run(body));
});

test('nested loops: a let leaves every loop it is invariant in, and stops at the one defining its operand', () => {
  const body: Stmt[] = [
    upTo(2, [
      forS('k', u32(0), bare('<', ref('k'), u32(2)), u32(1), [
        letS('top', bin('*', call('f32', lid), f32(7))),
        letS('mid', bin('+', ref('top'), call('f32', i))),
        letS('low', bin('+', ref('mid'), call('f32', ref('k')))),
        assign(at('out', bin('+', bin('*', lid, u32(4)), bin('+', bin('*', i, u32(2)), ref('k')))), ref('low')),
      ]),
    ]),
  ];
  const moved = hoistInvariants(body);
  assert.equal(moved.map((s) => (s.k === 'let' ? s.name : s.k)), ['top', 'for']);
  const outer = moved[1] as Extract<Stmt, { k: 'for' }>;
  assert.equal(outer.body.map((s) => (s.k === 'let' ? s.name : s.k)), ['mid', 'for']);
  assert.equal(run(moved), run(body));
});

test.run();
