// Compensated float32 summation (Neumaier's variant of Kahan's): every f32 sum a kernel accumulates over a
// loop carries a second register collecting the rounding error of each addition, folded in at the end. A
// lane that adds 100 000 values sequentially is then as accurate as a float64 sum rounded to float32 (error
// ~1 ulp instead of ~n·ulp), whatever the workgroup size. Partials combined across lanes in a tree are
// already pairwise; serial folds of partials use the same compensation.
//
// The correction term is `(a - t) + v` (or `(v - t) + a`): it must not be algebraically simplified. WGSL has
// no fast-math flags, Tint emits no reassociation, and the test suite checks the effect on lavapipe.

/** Declarations of a compensated f32 accumulator `acc` starting at `init` (its compensation is `acc_c`). */
export function compensatedDecl(acc: string, init = '0.0'): string[] {
  return [`var ${acc}: f32 = ${init};`, `var ${acc}_c: f32 = 0.0;`];
}

/** `acc += v` with the rounding error added to `acc_c` (one statement block). */
export function compensatedAdd(acc: string, v: string): string {
  return compensatedAddInto(acc, `${acc}_c`, v);
}

/** `acc += v` with the rounding error added to `comp` (any lvalues, e.g. array elements). */
export function compensatedAddInto(acc: string, comp: string, v: string): string {
  return (
    `{ let cs_v = ${v}; let cs_t = ${acc} + cs_v; ` +
    `${comp} = ${comp} + select((cs_v - cs_t) + ${acc}, (${acc} - cs_t) + cs_v, abs(${acc}) >= abs(cs_v)); ${acc} = cs_t; }`
  );
}

/** `acc *= f` for a compensated accumulator (online softmax rescaling): both parts scale. */
export function compensatedScale(acc: string, f: string): string {
  return `${acc} = ${acc} * ${f}; ${acc}_c = ${acc}_c * ${f};`;
}

/** The accumulated value: sum plus its compensation. */
export function compensatedValue(acc: string): string {
  return `(${acc} + ${acc}_c)`;
}
