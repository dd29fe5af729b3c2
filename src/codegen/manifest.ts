// manifest.json: everything a host that is not TypeScript needs to drive the kernels of out/ — per stage the
// symbols, inputs (symbolic shapes, dtypes), the checks the runtime makes of them, outputs, buffers and the ordered
// dispatches of one forward+backward with their bindings. Deterministic: fixed key order, no timestamps or absolute paths.
import { createHash } from 'node:crypto';
import { kernelTuningKey } from 'tdc-runtime';
import { dimToString } from '../graph/dims.js';
import type { Dim } from '../graph/types.js';
import type { KernelPlan, PlanBuffer } from '../compiler/schedule/plan.js';
import { fileStem } from './escape.js';

export interface StagePlan {
  /** The torchdistill stage name, e.g. 'train' or 'stage1'. */
  stage: string;
  plan: KernelPlan;
}

export interface ManifestMeta {
  /** The config path as the user gave it (relative paths stay relative, for reproducible output). */
  configFile: string;
  tdcVersion: string;
}

const MANIFEST_FORMAT = 'tdc-manifest/1';

/** A stage name usable in file names and identifiers' stems (see escape.ts `fileStem`). */
const safeStem = fileStem;

/** Path of a kernel's WGSL inside out/: `kernels/<stage>.<kernel>.wgsl`; a variant's kernels (KernelPlan.variants)
 *  `kernels/<stage>.sb<minStorageBuffers>.<kernel>.wgsl`. */
export function kernelFile(stage: string, kernel: string, variant?: number): string {
  return `kernels/${safeStem(stage)}.${variant !== undefined ? `sb${variant}.` : ''}${safeStem(kernel)}.wgsl`;
}

/** Path of a kernel's subgroup variant (PlanKernel.wgslSubgroups): `kernels/<stage>.<kernel>.subgroups.wgsl`. */
export function kernelSubgroupsFile(stage: string, kernel: string, variant?: number): string {
  return kernelFile(stage, kernel, variant).replace(/\.wgsl$/, '.subgroups.wgsl');
}

/** A Dim for JSON: a number stays a number, an expression becomes a string ("N", "N*C", "ceil(N/8)"). */
export function dimJson(d: Dim): number | string {
  return typeof d === 'number' ? d : dimToString(d);
}

export function buildManifest(stages: readonly StagePlan[], meta: ManifestMeta): string {
  const doc = {
    format: MANIFEST_FORMAT,
    tdc: meta.tdcVersion,
    config: meta.configFile.split('\\').join('/'),
    conventions: {
      dims: 'a size is an integer, or a string over the stage symbols: + - *, floor(a/b), ceil(a/b), min(a, b), max(a, b)',
      uniform: 'group 0 binding 0 of every kernel is the dims uniform: one u32 per stage symbol, in `symbols` order, padded to 16 bytes',
      buffers: 'storage buffers of packed f32/i32 elements; `length` counts elements; kernels are dispatched in order in one compute pass',
      scalars: 'outputs.scalars.buffer holds [loss, term…, model term?] as f32 at the given indices',
      overrides:
        'each kernel declares its workgroup size as a WGSL override constant (no default in the WGSL): set every entry of `overrides` in the pipeline (GPUProgrammableStage.constants), ' +
        'choosing `default.software` on software rasterisers (lavapipe, SwiftShader) and `default.hardware` elsewhere, or any value up to `max`; dispatch sizes mention it by name',
      subgroups:
        'a kernel with `subgroups` has a second WGSL file, the same kernel combining partials with subgroup operations (`enable subgroups;`, the `subgroup_id` language feature): ' +
        'either file may be used with the same bindings, overrides and dispatch; use it where the device has the `subgroups` feature and the workgroup size is a multiple of the adapter\'s subgroupMaxSize',
      tuning:
        'a tdc tuning cache (`tdc tune`, format tdc-tuning/1) records per adapter and kernel name a `workgroupSize` and `subgroups` choice with the kernel\'s `key`: ' +
        'a recorded choice is for this kernel where its `key` is the kernel\'s `tuningKey` (its identity without sizes: the same for any batch size and for sizes fixed by --like)',
      state: !stages.some((s) => s.plan.outputs.state?.length)
        ? undefined
        : 'a stateful term (CRDLoss: its memory banks and params) reads its buffers as inputs `state_in/<term>/<buffer>` and writes the updated ones to `outputs.state`; ' +
          'before the next forward, copy each into the buffer of its `input` (the generated glue keeps them on the device and does this after every step). ' +
          'An output marked `inPlace` (a CRD bank: an index_copy of B rows) is its input\'s own buffer, updated in place by the kernels after every read of the old state: nothing to copy',
      checkFlags: !stages.some((s) => s.plan.kernels.some((k) => k.checkFlags !== undefined))
        ? undefined
        : 'a kernel binding `check_flags` (array<i32>, read; not in `buffers`) stores state: one updating it in place stores nothing unless every element is -1, ' +
          'one storing another state output stores its state input\'s values unless every element is -1: ' +
          'bind a buffer holding one -1, or -1 per check of your own on the inputs (a failed check: anything else), as the runtime binds the first failure of each device check of the run',
      checks: !stages.some(({ plan }) => hasChecks(plan) || plan.variants?.some((v) => hasChecks(v.plan)))
        ? undefined
        : 'what tdc-runtime (and the generated glue) checks in every run, and a host of its own should too: ' +
          '`equalDims` pairs of sizes that must be equal once the symbols are bound from the input shapes (the shapes alone do not say it: e.g. targets [N] against logits [4, C]); ' +
          '`indexInputs` integer inputs whose every value must lie in [0, size), or equal `ignore` (`torch`: torch\'s message for a bad one, {value} {max} {size} filled in); ' +
          '`unitInputs` float inputs whose every element must lie in [0, 1] (NaN refused); ' +
          '`factorChecks` buffers of `count` lower Cholesky factors of size × size whose diagonal must be positive and finite after the kernels ran. ' +
          'A failed check raises in torch: report it instead of the loss (tdc-runtime: GpuInputError)',
      variants: !stages.some((s) => s.plan.variants?.length)
        ? undefined
        : "a stage's own plan needs at most 8 storage buffers per shader stage (WebGPU's default limit); `variants` (when present) are plans of the same stage for devices allowing more, " +
          'each with inputs, outputs, buffers and kernels of its own: run the one with the largest `minStorageBuffers` not above the device\'s maxStorageBuffersPerShaderStage, else the stage\'s own plan',
    },
    stages: stages.map(({ stage, plan }) => stageJson(stage, plan)),
  };
  return prettyJson(doc) + '\n';
}

function stageJson(stage: string, plan: KernelPlan) {
  return {
    name: stage,
    ...(plan.workgroupSize !== undefined ? { workgroupSize: plan.workgroupSize } : {}),
    ...planJson(stage, plan),
    ...(plan.variants?.length ? { variants: plan.variants.map((v) => ({ minStorageBuffers: v.minStorageBuffers, ...planJson(stage, v.plan, v.minStorageBuffers) })) } : {}),
  };
}

function planJson(stage: string, plan: KernelPlan, variant?: number) {
  const byId = new Map<number, PlanBuffer>(plan.buffers.map((b) => [b.id, b]));
  const nameOf = (id: number): string => {
    const b = byId.get(id);
    if (!b) throw new Error(`manifest: the plan of stage '${stage}' refers to undeclared buffer ${id}`);
    return b.name;
  };
  return {
    symbols: [...plan.symbols],
    inputs: plan.inputs.map((i) => ({ name: i.name, shape: i.shape.map(dimJson), dtype: i.dtype, buffer: nameOf(i.buffer), ...(i.init ? { init: i.init } : {}) })),
    // the runtime's checks of the inputs and results (conventions.checks); absent when the plan has none
    equalDims: plan.equalDims?.length ? plan.equalDims.map(([a, b]) => [dimJson(a), dimJson(b)]) : undefined,
    indexInputs: plan.indexInputs?.length ? plan.indexInputs.map((c) => ({ input: c.input, size: dimJson(c.size), ignore: c.ignore, what: c.what, torch: c.torch })) : undefined,
    unitInputs: plan.unitInputs?.length ? plan.unitInputs.map((c) => ({ input: c.input, message: c.message })) : undefined,
    factorChecks: plan.factorChecks?.length ? plan.factorChecks.map((c) => ({ buffer: nameOf(c.buffer), size: dimJson(c.size), count: dimJson(c.count), terms: [...c.terms] })) : undefined,
    outputs: {
      scalars: {
        buffer: nameOf(plan.outputs.scalars.buffer),
        loss: plan.outputs.scalars.loss,
        terms: plan.outputs.scalars.terms.map((t) => ({ name: t.name, weight: t.weight, index: t.index })),
        modelTerm: plan.outputs.scalars.modelTerm && { index: plan.outputs.scalars.modelTerm.index, weight: plan.outputs.scalars.modelTerm.weight },
      },
      grads: plan.outputs.grads.map((g) => ({ input: g.input, buffer: nameOf(g.buffer), shape: g.shape.map(dimJson) })),
      state: plan.outputs.state?.length
        ? plan.outputs.state.map((x) => ({ name: x.name, input: x.name.replace(/^state_out\//, 'state_in/'), buffer: nameOf(x.buffer), shape: x.shape.map(dimJson), ...(x.inPlace ? { inPlace: true as const } : {}) }))
        : undefined,
    },
    buffers: plan.buffers.map((b) => ({ name: b.name, role: b.role, dtype: b.dtype, length: dimJson(b.length) })),
    kernels: plan.kernels.map((k) => ({
      name: k.name,
      file: kernelFile(stage, k.name, variant),
      sha256: createHash('sha256').update(k.wgsl).digest('hex'),
      summary: k.summary,
      terms: [...k.terms],
      dispatch: k.dispatch.map(dimJson),
      overrides: (k.overrides ?? []).map((o) => ({ name: o.name, role: o.role, class: o.class, default: { software: o.default.software, hardware: o.default.hardware }, max: o.max })),
      tuningKey: kernelTuningKey(k),
      ...(k.wgslSubgroups !== undefined ? { subgroups: { file: kernelSubgroupsFile(stage, k.name, variant), sha256: createHash('sha256').update(k.wgslSubgroups).digest('hex') } } : {}),
      bindings: [
        { binding: 0, buffer: 'dims', access: 'uniform' },
        ...[...k.bindings].sort((a, b) => a.binding - b.binding).map((b) => ({ binding: b.binding, buffer: nameOf(b.buffer), access: b.access })),
        ...(k.checkFlags !== undefined ? [{ binding: k.checkFlags, buffer: 'check_flags', access: 'read' as const }] : []),
      ],
      bytesRead: dimJson(k.bytesRead),
      bytesWritten: dimJson(k.bytesWritten),
    })),
  };
}

/** Does the plan list any check of its inputs or results (KernelPlan.equalDims, indexInputs, unitInputs, factorChecks)? */
function hasChecks(plan: KernelPlan): boolean {
  return !!(plan.equalDims?.length || plan.indexInputs?.length || plan.unitInputs?.length || plan.factorChecks?.length);
}

/** JSON with 2-space indentation; arrays of numbers/strings stay on one line. Key order is insertion order. */
export function prettyJson(v: unknown, indent = ''): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every((x) => x === null || typeof x !== 'object')) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
    return `[\n${v.map((x) => inner + prettyJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${prettyJson(x, inner)}`).join(',\n')}\n${indent}}`;
}
