// Index-expression rewrite rules under range facts (src/compiler/schedule/index-simplify.ts): what they rewrite
// (the unravel-then-ravel chains of reshapes: ((((i0·N+i1)·N+i2)/N)%N)·N + (…)%N → i1·N + i2), what they must
// leave alone (no fact about a variable, a remainder not provably below the radix, a divisor the radix does not
// divide, subtraction), and that every rewrite evaluates equal to its input (u32 arithmetic as WGSL's) over all
// assignments the facts allow, for random expressions built the way IndexMath builds them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ixAdd, ixDiv, ixField, ixKey, ixLit, ixMod, ixMul, ixNode, ixSub, ixVar, type Ix } from '../src/compiler/schedule/index-expr.js';
import { IndexMath } from '../src/compiler/schedule/index-math.js';
import { simplifyIx, type RangeFacts } from '../src/compiler/schedule/index-simplify.js';
import { rng } from './helpers/fd.js';

const N = ixField('N');
const M = ixField('M');
const [i0, i1, i2, r] = ['ix0', 'ix1', 'ix2', 'row'].map(ixVar) as [Ix, Ix, Ix, Ix];
const facts = (...fs: [string, Ix][]): RangeFacts => new Map(fs);
const key = (e: Ix) => ixKey(e);

/** u32 evaluation with WGSL's integer division by zero (x / 0 = x, x % 0 = 0). */
function evalIx(e: Ix, vars: Record<string, number>, dims: Record<string, number>): number {
  switch (e.kind) {
    case 'lit':
      return e.value >>> 0;
    case 'var':
      return vars[e.name]! >>> 0;
    case 'dim':
      return dims[e.field]! >>> 0;
    case 'op': {
      const a = evalIx(e.a, vars, dims);
      const b = evalIx(e.b, vars, dims);
      switch (e.op) {
        case '+':
          return (a + b) >>> 0;
        case '-':
          return (a - b) >>> 0;
        case '*':
          return Math.imul(a, b) >>> 0;
        case '/':
          return b === 0 ? a : Math.floor(a / b);
        case '%':
          return b === 0 ? 0 : a % b;
        case 'min':
          return Math.min(a, b);
        case 'max':
          return Math.max(a, b);
      }
    }
  }
}

// ravel (i0, i1, i2) over [N, N, N]
const lin = ixAdd(ixMul(ixAdd(ixMul(i0, N), i1), N), i2);
const cube = facts(['ix0', N], ['ix1', N], ['ix2', N]);

test('the unravel-then-ravel chain of a reshape collapses to the coordinates it came from', () => {
  // RKD's angle kernel read [x/N % N, x % N] of an [N, N] buffer at x = ravel(i0, i1, i2)
  const off = ixAdd(ixMul(ixMod(ixDiv(lin, N), N), N), ixMod(lin, N));
  assert.is(key(simplifyIx(off, cube)), key(ixAdd(ixMul(i1, N), i2)));
  // x / (N·N) → i0 (the divisor split by the radix), x / N → i0·N + i1, x % N → i2
  assert.is(key(simplifyIx(ixDiv(lin, ixMul(N, N)), cube)), 'ix0');
  assert.is(key(simplifyIx(ixDiv(lin, N), cube)), key(ixAdd(ixMul(i0, N), i1)));
  assert.is(key(simplifyIx(ixMod(lin, N), cube)), 'ix2');
  // a remainder by the whole extent of what is below it: (i1·N + i2) % (N·N) → i1·N + i2
  assert.is(key(simplifyIx(ixMod(ixAdd(ixMul(i1, N), i2), ixMul(N, N)), cube)), key(ixAdd(ixMul(i1, N), i2)));
  // (x / N) % N with x < N·N: the remainder goes
  assert.is(key(simplifyIx(ixMod(ixDiv(ixAdd(ixMul(i1, N), i2), N), N), cube)), 'ix1');
  // a coordinate below its extent: i2 / N → 0, i2 % N → i2
  assert.is(key(simplifyIx(ixDiv(i2, N), cube)), '0');
  assert.is(key(simplifyIx(ixMod(i2, N), cube)), 'ix2');
});

test('literal extents: 1000-wide rows, and a remainder below a multiple of the radix', () => {
  const f = facts(['ix0', ixLit(32)], ['ix1', ixLit(1000)]);
  const x = ixAdd(ixMul(i0, ixLit(1000)), i1);
  assert.is(key(simplifyIx(ixDiv(x, ixLit(1000)), f)), 'ix0');
  assert.is(key(simplifyIx(ixMod(x, ixLit(1000)), f)), 'ix1');
  // b < 1000 ≤ 2000: (i0·2000 + i1) / 2000 → i0
  assert.is(key(simplifyIx(ixDiv(ixAdd(ixMul(i0, ixLit(2000)), i1), ixLit(2000)), f)), 'ix0');
  // (i0·1000 + i1) % 500: 500 divides 1000 → i1 % 500 (i1 may exceed 500: the remainder stays)
  assert.is(key(simplifyIx(ixMod(x, ixLit(500)), f)), key(ixMod(i1, ixLit(500))));
  // the product in either order, the sum in either order
  assert.is(key(simplifyIx(ixDiv(ixAdd(i1, ixMul(ixLit(1000), i0)), ixLit(1000)), f)), 'ix0');
});

test('rules that must not fire', () => {
  // no facts at all: nothing changes (the scheduler's analysis has none)
  const off = ixAdd(ixMul(ixMod(ixDiv(lin, N), N), N), ixMod(lin, N));
  assert.is(simplifyIx(off, new Map()), off);
  // a fact missing for the remainder's variable: (i0·N + row) / N stays
  const x = ixAdd(ixMul(i0, N), r);
  assert.is(key(simplifyIx(ixDiv(x, N), cube)), key(ixDiv(x, N)));
  assert.is(key(simplifyIx(ixMod(x, N), cube)), key(ixMod(x, N)));
  // the remainder's extent is another symbol: i1 < M says nothing about i1 < N
  const fm = facts(['ix0', N], ['ix1', M]);
  const y = ixAdd(ixMul(i0, N), i1);
  assert.is(key(simplifyIx(ixDiv(y, N), fm)), key(ixDiv(y, N)));
  assert.is(key(simplifyIx(ixMod(y, N), fm)), key(ixMod(y, N)));
  // a remainder bound larger than the radix: i1 < 2N
  const f2 = facts(['ix0', N], ['ix1', ixMul(ixLit(2), N)]);
  assert.is(key(simplifyIx(ixDiv(y, N), f2)), key(ixDiv(y, N)));
  // literal: i1 < 1001 with radix 1000
  const fl = facts(['ix0', ixLit(32)], ['ix1', ixLit(1001)]);
  const z = ixAdd(ixMul(i0, ixLit(1000)), i1);
  assert.is(key(simplifyIx(ixDiv(z, ixLit(1000)), fl)), key(ixDiv(z, ixLit(1000))));
  // … where the remainder stays: (i0·1000 + i1) % 1000 = i1 % 1000, not i1 (i1 may be 1000)
  assert.is(key(simplifyIx(ixMod(z, ixLit(1000)), fl)), key(ixMod(i1, ixLit(1000))));
  // a divisor the radix does not divide: (i0·N + i1) / M
  assert.is(key(simplifyIx(ixDiv(y, M), cube)), key(ixDiv(y, M)));
  // (i0·1000 + i1) / 300: 1000 is no multiple of 300 and 300 no multiple of 1000
  const f3 = facts(['ix0', ixLit(32)], ['ix1', ixLit(1000)]);
  assert.is(key(simplifyIx(ixDiv(z, ixLit(300)), f3)), key(ixDiv(z, ixLit(300))));
  // subtraction has no bound (it may wrap): (i1 − 1) % N stays
  const s = ixSub(i1, ixLit(1));
  assert.is(key(simplifyIx(ixMod(s, N), cube)), key(ixMod(s, N)));
  // a divisor that is not a product of dims and literals: x / i1
  assert.is(key(simplifyIx(ixDiv(lin, i1), cube)), key(ixDiv(lin, i1)));
  // a node kept exactly as built when nothing applies (ixNode forms, min with a bare operand)
  const clamp = ixNode('min', r, { kind: 'op', op: '-', a: N, b: ixLit(1), bare: true });
  assert.is(simplifyIx(clamp, cube), clamp);
});

test('IndexMath simplifies its offsets and unravelled coordinates only under the facts it was given', () => {
  const plain = new IndexMath((s) => s);
  const withFacts = new IndexMath((s) => s);
  for (const k of [0, 1, 2]) withFacts.bindRange(`ix${k}`, N);
  const shape = [{ sym: 'N' }, { sym: 'N' }, { sym: 'N' }];
  const coords = (m: IndexMath) => m.unravel(lin, shape).map(key);
  assert.equal(coords(withFacts), ['ix0', 'ix1', 'ix2']);
  assert.equal(coords(plain), [key(ixDiv(lin, ixMul(N, N))), key(ixMod(ixDiv(lin, N), N)), key(ixMod(lin, N))]);
  // an [N, N] buffer read at the last two coordinates of x = ravel(i0, i1, i2): offset = i1·N + i2
  const at = [ixMod(ixDiv(lin, N), N), ixMod(lin, N)];
  assert.is(key(withFacts.offset(shape.slice(1), at)), key(ixAdd(ixMul(i1, N), i2)));
  assert.is(key(plain.offset(shape.slice(1), at)), key(ixAdd(ixMul(at[0]!, N), at[1]!)));
});

test('IndexMath ravels a block offset plus a lane offset back: (c + q / D, q % D) over [C, D] → c·D + q', () => {
  // a block map's lane (map-kernel.ts blockLoopMap): axis-1 index 4g + p / 49, trailing index p % 49 of [N, 512, 49]
  const m = new IndexMath((s) => s);
  const [g, p] = [ixVar('g'), ixVar('p0')];
  m.bindCoord('c0', ixAdd(ixMul(g, ixLit(4)), ixDiv(p, ixLit(49))));
  m.bindCoord('w0', ixMod(p, ixLit(49)));
  const off = m.offset([{ sym: 'N' }, 512, 49], [i0, ixVar('c0'), ixVar('w0')]);
  assert.not.match(key(off), /\/|%/);
  for (const [vi0, vg, vp] of [[0, 0, 0], [1, 3, 7], [2, 127, 195], [5, 64, 48]] as const) {
    const want = (vi0 * 512 + (4 * vg + Math.floor(vp / 49))) * 49 + (vp % 49);
    assert.is(evalIx(off, { ix0: vi0, g: vg, p0: vp }, { N: 8 }), want);
  }
});

// ---- every rewrite is an identity under the facts ----

test('random index maps (ravel, unravel, div/mod by products of extents): simplified ≡ original over every allowed assignment', () => {
  const rand = rng(9).u;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const extents: Ix[] = [N, M, ixLit(3), ixLit(4), ixMul(N, M), ixLit(1)];
  let rewritten = 0;
  let checked = 0;
  for (let trial = 0; trial < 400; trial++) {
    const nv = 1 + Math.floor(rand() * 3);
    const vars = Array.from({ length: nv }, (_, k) => ({ name: `ix${k}`, ext: pick(extents), fact: rand() < 0.85 }));
    const f: RangeFacts = new Map(vars.filter((v) => v.fact).map((v) => [v.name, v.ext]));
    // ravel the variables over their extents (or a wrong radix now and then), then take quotients and remainders
    let e: Ix = ixVar(vars[0]!.name);
    for (const v of vars.slice(1)) e = ixAdd(ixMul(e, rand() < 0.85 ? v.ext : pick(extents)), ixVar(v.name));
    for (let k = 0, n = 1 + Math.floor(rand() * 4); k < n; k++) {
      const d = pick(extents);
      const op = rand();
      e = op < 0.4 ? ixDiv(e, d) : op < 0.8 ? ixMod(e, d) : op < 0.9 ? ixAdd(ixMul(e, d), ixMod(ixVar(vars[0]!.name), d)) : ixSub(e, ixLit(1));
    }
    const s = simplifyIx(e, f);
    if (key(s) !== key(e)) rewritten++;
    // every assignment: dims N, M in 1..4, variables below their extents (any value below 9 without a fact)
    for (const dn of [1, 2, 3, 4])
      for (const dm of [1, 2, 3]) {
        const dims = { N: dn, M: dm };
        const bound = (v: { ext: Ix; fact: boolean }) => (v.fact ? evalIx(v.ext, {}, dims) : 9);
        const assign = (k: number, acc: Record<string, number>): void => {
          if (k === vars.length) {
            checked++;
            const want = evalIx(e, acc, dims);
            const got = evalIx(s, acc, dims);
            if (want !== got) assert.unreachable(`${key(e)} → ${key(s)} under ${JSON.stringify([...f].map(([n, x]) => [n, key(x)]))}: ${want} ≠ ${got} at ${JSON.stringify({ ...acc, ...dims })}`);
            return;
          }
          for (let x = 0; x < bound(vars[k]!); x++) assign(k + 1, { ...acc, [vars[k]!.name]: x });
        };
        assign(0, {});
      }
  }
  // the property is not vacuous: many expressions were rewritten and checked
  assert.ok(rewritten > 100, `only ${rewritten} of 400 random expressions were rewritten`);
  assert.ok(checked > 10000);
});

test.run();
