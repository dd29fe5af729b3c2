// Workgroup sizes chosen at pipeline creation. Generated kernels declare their workgroup size as a WGSL
// `override` constant (PlanKernel.overrides); the runtime picks each value from the adapter — software
// rasterisers (lavapipe/llvmpipe, SwiftShader, WARP) run a workgroup as SIMD lanes of one CPU thread, where a
// few lanes beat hundreds by 3–5×, while hardware GPUs want many — unless the application chooses.
import type { AdapterDescription } from './device.js';
import { GpuInputError } from './errors.js';
import { describeValue, expectArgument, isRecord } from './argument-checks.js';
import type { PlanKernel, PlanOverride, WorkgroupClass } from './plan.js';

/**
 * The application's choice: a number sets the workgroup size of row and serial kernels (threads per row, the
 * meaning `tdc compile --workgroup-size` has always had); an object sets any class (every class: invocations
 * per workgroup). Classes left out keep the plan's default for the adapter.
 */
export type WorkgroupSizeOption = number | Partial<Record<WorkgroupClass, number>>;

/** Classes a plain number applies to. */
const NUMBER_CLASSES: ReadonlySet<WorkgroupClass> = new Set(['row', 'serial']);

/** The largest workgroup size of a kernel's override this device allows. */
export function workgroupMax(o: PlanOverride, l: DeviceWorkgroupLimits): number {
  return Math.min(o.max, deviceMax(o, l));
}

/** Does the adapter rasterise in software (a CPU implementation of the GPU)? */
export function isSoftwareAdapter(info: AdapterDescription): boolean {
  expectArgument(isRecord(info), info, 'isSoftwareAdapter', 'info', 'an AdapterDescription (GpuRuntime.adapter)');
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return info.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|software|\bwarp\b|\bcpu\b/.test(text);
}

export interface DeviceWorkgroupLimits {
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeInvocationsPerWorkgroup: number;
}

/** The value the application's option gives this override (undefined: it leaves it to the tuning cache or the default). */
export function requestedWorkgroupSize(o: PlanOverride, user: WorkgroupSizeOption | undefined): number | undefined {
  return typeof user === 'number' ? (NUMBER_CLASSES.has(o.class) ? user : undefined) : user?.[o.class];
}

/**
 * The value of one override: the application's choice, else this kernel's own (a tuned size: tune.ts), else the
 * plan's default for this kind of adapter.
 */
function chosenValue(o: PlanOverride, software: boolean, user: WorkgroupSizeOption | undefined, own: number | undefined): { value: number; fromUser: boolean } {
  const u = requestedWorkgroupSize(o, user);
  if (u !== undefined) return { value: u, fromUser: true };
  if (own !== undefined) return { value: own, fromUser: true };
  return { value: software ? o.default.software : o.default.hardware, fromUser: false };
}

/**
 * The `compute.constants` of each kernel's pipeline (plan.kernels order). `perKernel[i]`: kernel i's own
 * workgroup size (a tuned one), below the application's option. Throws GpuInputError for a choice the kernel
 * or the device cannot take.
 */
export function overrideConstants(
  kernels: readonly PlanKernel[],
  software: boolean,
  limits: DeviceWorkgroupLimits,
  user?: WorkgroupSizeOption,
  perKernel: readonly (number | undefined)[] = [],
): Record<string, number>[] {
  expectArgument(Array.isArray(kernels), kernels, 'overrideConstants', 'kernels', "an Array of the plan's kernels");
  expectArgument(isRecord(limits), limits, 'overrideConstants', 'limits', "the device's workgroup limits (GPUSupportedLimits)");
  expectArgument(Array.isArray(perKernel), perKernel, 'overrideConstants', 'perKernel', 'an Array or left out');
  checkOption(user);
  return kernels.map((k, i) => {
    const out: Record<string, number> = {};
    for (const o of k.overrides ?? []) {
      const { value, fromUser } = chosenValue(o, software, user, o.role === 'workgroupSize' ? perKernel[i] : undefined);
      const problem = workgroupProblem(o, value, limits);
      if (problem) {
        const what = fromUser ? 'the requested workgroup size' : "the plan's default workgroup size";
        throw new GpuInputError(`kernel ${k.name}: ${what} ${value} (${o.class} kernels) ${problem}`, fromUser ? `choose a ${o.class} workgroup size in 1..${Math.min(o.max, deviceMax(o, limits))}` : undefined);
      }
      out[o.name] = value;
    }
    return out;
  });
}

function deviceMax(o: PlanOverride, l: DeviceWorkgroupLimits): number {
  return Math.min(l.maxComputeWorkgroupSizeX, l.maxComputeInvocationsPerWorkgroup);
}

function workgroupProblem(o: PlanOverride, v: number, l: DeviceWorkgroupLimits): string | undefined {
  if (!Number.isInteger(v) || v < 1) return 'is not a positive integer';
  if (v > o.max) return `exceeds the kernel's maximum ${o.max}`;
  const d = deviceMax(o, l);
  if (v > d) return `exceeds this device's limit ${d}`;
  return undefined;
}

function checkOption(user: WorkgroupSizeOption | undefined): void {
  if (user === undefined || typeof user === 'number') return;
  if (user === null || typeof user !== 'object' || Array.isArray(user))
    throw new GpuInputError(`workgroupSize must be a number or an object of kernel class → number, got ${describeValue(user)}`, "e.g. 64, or { row: 256, map: 64 }");
  const known: readonly string[] = ['row', 'map', 'serial', 'matmul'];
  for (const k of Object.keys(user))
    if (!known.includes(k)) throw new GpuInputError(`workgroupSize: unknown kernel class '${k}'`, `the classes are ${known.join(', ')}`);
}
