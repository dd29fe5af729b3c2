// Fusion pass after build: row kernels over the same rows that do not depend on each other become one kernel
// of row passes run one after the other (RowSegmentsKernelSpec) — SRD's pass over the logits and its pass over
// the features, AT's per-layer statistics, KR's per-level pools. They share the dispatch (one workgroup per row
// of the same rows) and the workgroup size, so each workgroup runs every part over its row in turn: one dispatch
// instead of several, the same work. Kernels between them in execution order may be passed over only where
// neither touches a buffer the other writes, and a kernel storing a computed index checked on the device is never
// moved past a kernel storing state (check-order.ts). Each merge is checked against the storage-binding budget exactly:
// the merged kernel binds the union of the parts' buffers.
import type { Dim } from '../../graph/types.js';
import type { BufferDecl, RowKernelSpec, RowSegmentsKernelSpec } from './kernel-spec.js';
import type { KernelBinding } from './plan.js';
import type { ScheduledKernel } from './schedule.js';
import { kernelName } from './kernel-header.js';

/** The kernels of a schedule with sibling row kernels merged, renumbered in execution order. `checked`: the
 *  buffers of computed indices checked on the device, whose kernels stay before the kernels storing state
 *  (check-order.ts). */
export function mergeRowSiblings(kernels: readonly ScheduledKernel[], limit: number, checked: ReadonlySet<number> = new Set()): ScheduledKernel[] {
  // a kernel storing a checked index moves down past no kernel reading the check flags
  const passes = (k: ScheduledKernel, x: ScheduledKernel) => independent(k, x) && !(x.checkFlags !== undefined && written(k).some((b) => checked.has(b)));
  let ks = [...kernels];
  let merged = false;
  search: for (;;) {
    for (let i = 0; i < ks.length; i++)
      for (let j = i + 1; j < ks.length; j++) {
        const a = ks[i]!;
        const b = ks[j]!;
        if (!siblings(a, b, limit)) continue;
        const between = ks.slice(i + 1, j);
        // b moves up to a's place, or a down to b's, past kernels neither of which touches what the other writes
        if (between.every((x) => independent(b, x))) ks = [...ks.slice(0, i), mergedKernel(a, b), ...between, ...ks.slice(j + 1)];
        else if (between.every((x) => passes(a, x))) ks = [...ks.slice(0, i), ...between, mergedKernel(a, b), ...ks.slice(j + 1)];
        else continue;
        merged = true;
        continue search;
      }
    break;
  }
  return merged ? ks.map(renumbered) : ks;
}

/** A row kernel (one workgroup per row; column passes have another geometry) or a kernel of row passes. */
function rowParts(k: ScheduledKernel): RowKernelSpec[] | undefined {
  if (k.checkFlags !== undefined) return undefined;
  if (k.spec.kind === 'segments') return k.spec.parts;
  return k.spec.kind === 'row' && !k.spec.column ? [k.spec] : undefined;
}

const same = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);

/** Can `a` and `b` run as one kernel: both row passes over the same rows, independent, within the budget? */
function siblings(a: ScheduledKernel, b: ScheduledKernel, limit: number): boolean {
  if (!rowParts(a) || !rowParts(b)) return false;
  if (!same(a.dispatch, b.dispatch) || !same(a.overrides, b.overrides) || !same(a.spec.symbols, b.spec.symbols)) return false;
  if (!independent(a, b)) return false;
  return new Set([...a.bindings, ...b.bindings].map((x) => x.buffer)).size <= limit;
}

const written = (k: ScheduledKernel): number[] => k.bindings.filter((x) => x.access === 'read_write').map((x) => x.buffer);

/** Neither kernel reads or writes a buffer the other writes (so they may run in either order, or together). */
function independent(a: ScheduledKernel, b: ScheduledKernel): boolean {
  const touches = (k: ScheduledKernel, bufs: number[]) => k.bindings.some((x) => bufs.includes(x.buffer));
  return !touches(b, written(a)) && !touches(a, written(b));
}

/** One kernel running `a`'s row passes, then `b`'s: the union of their buffers, bound in first-use order. */
function mergedKernel(a: ScheduledKernel, b: ScheduledKernel): ScheduledKernel {
  const decls: BufferDecl[] = [];
  const bindings: KernelBinding[] = [];
  for (const k of [a, b])
    for (const d of k.spec.buffers) {
      const buffer = k.bindings.find((x) => x.binding === d.binding)!;
      // bound already: both read it (independent kernels never share a buffer one of them writes)
      if (bindings.some((x) => x.buffer === buffer.buffer)) continue;
      decls.push({ ...d, binding: decls.length + 1 });
      bindings.push({ ...buffer, binding: decls.length });
    }
  const parts = [...rowParts(a)!, ...rowParts(b)!];
  const terms = [...new Set([...a.terms, ...b.terms])];
  // each part's own summary (its header's first line, after the kernel name it had)
  const summary = `${parts.length} row passes in one dispatch, one after the other: ${parts.map((p) => p.header[0]!.replace(/^[^:]*: /, '')).join(' | ')}`;
  const spec: RowSegmentsKernelSpec = {
    kind: 'segments',
    name: a.name,
    header: [`${a.name}: ${summary}`, `terms: ${terms.length ? terms.join(', ') : '(none)'}`],
    graph: a.spec.graph,
    symbols: a.spec.symbols,
    maxWorkgroupSize: Math.min(a.spec.maxWorkgroupSize, b.spec.maxWorkgroupSize),
    buffers: decls,
    loads: new Map([...a.spec.loads, ...b.spec.loads]),
    dimValues: a.spec.dimValues,
    parts,
  };
  return {
    name: a.name,
    spec,
    summary,
    terms,
    bindings,
    dispatch: a.dispatch,
    ...(a.overrides ? { overrides: a.overrides } : {}),
    bytesRead: addDims(a.bytesRead, b.bytesRead),
    bytesWritten: addDims(a.bytesWritten, b.bytesWritten),
  };
}

/** Kernel `i` of the merged schedule under its new name (kN_…, N its place in execution order). */
function renumbered(k: ScheduledKernel, i: number): ScheduledKernel {
  const whole = k.dispatch.every((d) => d === 1);
  const name = k.spec.kind === 'segments' ? kernelName(i, whole ? 'reduce' : 'row', k.terms) : k.name.replace(/^k\d+_/, `k${i}_`);
  const header = [`${name}: ${k.summary}`, ...k.spec.header.slice(1)];
  return { ...k, name, spec: { ...k.spec, name, header } };
}

function addDims(a: Dim, b: Dim): Dim {
  return typeof a === 'number' && typeof b === 'number' ? a + b : { op: 'add', a, b };
}
