// The kernel plan as text: `tdc compile --explain` (a stage's plan for WebGPU's default limits and its
// variants) and `tdc run --explain` (the one plan that ran, and why that one).
import pc from 'picocolors';
import type { Dim } from '../graph/types.js';
import type { KernelPlan } from '../compiler/schedule/plan.js';
import { dimToString as dimText } from '../graph/dims.js';
import type { GpuRunDetails } from '../compiler/driver/run-result.js';
import { describeTuningEntry } from 'tdc-runtime';
import { DEFAULT_STORAGE_BUFFERS } from '../compiler/plan-variants.js';

type Colors = ReturnType<typeof pc.createColors>;

const dim = (d: Dim): string => (typeof d === 'number' ? String(d) : dimText(d));
const dtypeText = (d: 'float' | 'int'): string => (d === 'float' ? 'f32' : 'i32');

/** Stage header and inputs. */
function planHeader(stage: string, plan: KernelPlan, c: Colors): string[] {
  return [
    c.bold(`stage ${stage}`) + c.gray(`  workgroup size ${plan.workgroupSize ?? 'chosen at run time'}; symbols ${plan.symbols.join(', ') || '(none)'}`),
    `  inputs: ${plan.inputs.map((i) => `${i.name} ${dtypeText(i.dtype)}[${i.shape.map(dim).join(', ')}]`).join(', ')}`,
  ];
}

/** One line per kernel (dispatch, bytes, and `note` when given) and what it fuses. */
function planKernels(plan: KernelPlan, indent: string, c: Colors, note?: (kernel: string, index: number) => string | undefined): string[] {
  return plan.kernels.flatMap((k, i) => [
    `${indent}${c.cyan(`#${i} ${k.name}`)}  dispatch (${k.dispatch.map(dim).join(', ')})  reads ${dim(k.bytesRead)} B, writes ${dim(k.bytesWritten)} B${note?.(k.name, i) ?? ''}`,
    `${indent}    ${k.summary}${k.terms.length ? c.gray(`  [terms: ${k.terms.join(', ')}]`) : ''}`,
  ]);
}

function planOutputs(plan: KernelPlan): string {
  const n = plan.outputs.scalars.terms.length;
  return `  outputs: loss + ${n} term${n === 1 ? '' : 's'}; gradients: ${plan.outputs.grads.map((g) => g.input).join(', ') || '(none)'}`;
}

/** `tdc compile --explain`: each stage's plan for the default limits, then its variants. */
export function explainCompiled(plans: readonly { stage: string; plan: KernelPlan }[], color: boolean): string {
  const c = pc.createColors(color);
  const lines: string[] = [];
  for (const { stage, plan } of plans) {
    lines.push(...planHeader(stage, plan, c));
    if (plan.variants?.length) lines.push(c.gray(`  for WebGPU's default limits (8 storage buffers per kernel): ${plan.kernels.length} kernels`));
    lines.push(...planKernels(plan, '  ', c));
    lines.push(planOutputs(plan));
    for (const v of plan.variants ?? []) {
      lines.push(c.bold(`  variant for devices allowing ${v.minStorageBuffers} storage buffers per kernel: ${v.plan.kernels.length} kernels`) + c.gray('  (chosen at run time)'));
      lines.push(...planKernels(v.plan, '    ', c));
    }
  }
  return lines.join('\n') + '\n';
}

/** Why this plan ran: the variant chosen (or not) for the device's storage-buffer limit, as the compiled glue chooses. */
function planChoice(gpu: GpuRunDetails): string {
  const { compiled, plan, variant, choice, deviceStorageBuffers } = gpu;
  const tiers = [`${compiled.kernels.length} kernels at ${DEFAULT_STORAGE_BUFFERS}`, ...(compiled.variants ?? []).map((v) => `${v.plan.kernels.length} at ${v.minStorageBuffers}`)].join(', ');
  const what = variant !== undefined ? `the variant for ${variant} storage buffers per kernel` : `the plan for WebGPU's default limits (${DEFAULT_STORAGE_BUFFERS} storage buffers per kernel)`;
  const why =
    choice === 'default'
      ? 'forced by --plan-variant default'
      : !compiled.variants?.length
        ? 'the stage has no variant'
        : `the device allows ${deviceStorageBuffers} storage buffers per kernel; plans: ${tiers}`;
  return `plan: ${what}, ${plan.kernels.length} kernel${plan.kernels.length === 1 ? '' : 's'} (${why})`;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** Whether the kernels ran choices from the tuning cache (`tdc tune`), from which file and entry, or why none;
 *  `defaultPath` is the cache file the runtime looked for (defaultTuningPath(); undefined: none, e.g. TDC_TUNING_CACHE=off). */
function tuningLine(gpu: GpuRunDetails, defaultPath: string | undefined): string {
  const t = gpu.tuning;
  const n = gpu.plan.kernels.length;
  if (t.source === undefined)
    return `tuning: no tuning cache (${defaultPath === undefined ? 'TDC_TUNING_CACHE=off, or no default path: neither XDG_CACHE_HOME nor HOME is set' : `none at ${defaultPath}`}): the kernels run the default workgroup sizes; \`tdc tune\` records choices`;
  if (!t.kernels.length)
    return `tuning: no kernel runs a tuned choice from ${t.source}${t.notes.length ? ` (${t.notes.length} note${t.notes.length === 1 ? '' : 's'} on stderr say what was ignored)` : ' (it has none for these kernels on this adapter; `tdc tune` records them)'}`;
  const entries = [...new Set(t.kernels.map((k) => k.entry))];
  return `tuning: ${t.kernels.length} of ${n} kernel${n === 1 ? '' : 's'} run choices from ${t.source} (${entries.map(describeTuningEntry).join('; ')})${t.notes.length ? `; ${t.notes.length} note${t.notes.length === 1 ? '' : 's'} on stderr` : ''}`;
}

/** A kernel's workgroup size and subgroup choice, and whether they came from the tuning cache. */
function kernelChoice(gpu: GpuRunDetails, i: number): string {
  const wg = gpu.workgroupSizes[i];
  const tuned = gpu.tuning.kernels.find((k) => k.kernel === gpu.plan.kernels[i]!.name);
  if (wg === undefined && !gpu.subgroupVariants[i]) return '';
  // which parts came from the tuning cache (an application's --workgroup-size leaves only the subgroup choice tuned)
  const parts = tuned ? [tuned.workgroupSize !== undefined, tuned.subgroups !== undefined] : [false, false];
  const label = parts[0] && parts[1] ? ' (tuned)' : parts[0] ? ' (size tuned)' : parts[1] ? ' (subgroup choice tuned)' : '';
  return `  wg ${wg ?? '-'}${gpu.subgroupVariants[i] ? ' + subgroups' : ''}${label}`;
}

/** `tdc run --explain` on the GPU: which plan ran and why, its kernels, the time of each step. `defaultTuningPath`:
 *  the tuning cache file the runtime looked for, named when there was none. */
export function explainRun(stage: string, gpu: GpuRunDetails, color: boolean, defaultTuningPath?: string): string {
  const c = pc.createColors(color);
  const first = new Map(gpu.firstDispatchMs.map((x) => [x.kernel, x.ms]));
  const firstTotal = gpu.firstDispatchMs.reduce((a, x) => a + x.ms, 0);
  const lines = [
    planChoice(gpu),
    tuningLine(gpu, defaultTuningPath),
    ...planHeader(stage, gpu.plan, c),
    ...planKernels(gpu.plan, '  ', c, (k, i) => kernelChoice(gpu, i) + (first.has(k) ? c.gray(`  first dispatch ${seconds(first.get(k)!)}`) : '')),
    planOutputs(gpu.plan),
    `time: plan ${seconds(gpu.ms.plan)}, pipelines ${seconds(gpu.ms.pipelines)}, run ${seconds(gpu.ms.run)}` +
      (first.size ? ` (of which the ${first.size} kernels' first dispatches ${seconds(firstTotal)})` : '') +
      c.gray('  (a first dispatch includes the driver compiling the kernel on software adapters such as lavapipe)'),
  ];
  return lines.join('\n') + '\n';
}

/** `tdc run --explain --json`: the plan that ran, as data. */
export function planJson(gpu: GpuRunDetails): object {
  return {
    ...(gpu.variant !== undefined ? { variant: gpu.variant } : {}),
    choice: gpu.choice,
    deviceStorageBuffers: gpu.deviceStorageBuffers,
    kernels: gpu.plan.kernels.map((k) => k.name),
    plans: [{ storageBuffers: DEFAULT_STORAGE_BUFFERS, kernels: gpu.compiled.kernels.length }, ...(gpu.compiled.variants ?? []).map((v) => ({ storageBuffers: v.minStorageBuffers, kernels: v.plan.kernels.length }))],
    ms: gpu.ms,
    firstDispatchMs: gpu.firstDispatchMs,
    workgroupSizes: gpu.workgroupSizes,
    subgroupVariants: gpu.subgroupVariants,
    tuning: {
      source: gpu.tuning.source ?? null,
      kernels: gpu.tuning.kernels.map(({ entry, ...k }) => ({ ...k, stage: entry.stage ?? null, config: entry.config ?? null, sizes: entry.sizes ?? null })),
      notes: gpu.tuning.notes,
    },
  };
}
