// The tuning cache: what `tdc tune` (tune.ts) measured and chose for each kernel of a plan on one adapter — a
// workgroup size and whether to run the kernel's subgroup variant. One JSON document ('tdc-tuning/1') holds
// entries for any number of plans and adapters, each keyed by the adapter (vendor, architecture, device,
// description, subgroup sizes, Dawn options) and a hash of the plan's kernels (their WGSL texts, overrides and
// bindings), so an entry applies only to the exact compiled output and device it was measured on. Lookup
// validates: a document that is not a tuning cache, an entry tuned for an earlier compile of the same plan
// (same kernel names, other hash), a size the kernel or the device cannot take, are ignored with a note saying
// so — a stale cache never changes what runs.
import type { AdapterDescription } from './device.js';
import type { KernelPlan, PlanKernel } from './plan.js';
import { checkPlanFields } from './check-plan.js';
import { workgroupMax, type DeviceWorkgroupLimits } from './workgroup.js';

export const TUNING_FORMAT = 'tdc-tuning/1';

/** One kernel's choice. */
export interface KernelChoice {
  workgroupSize: number;
  subgroups: boolean;
}

/** What was measured for a kernel: each candidate's median device time (ms, fixed cost subtracted). */
export interface KernelMeasurement extends KernelChoice {
  ms: number;
}

export interface TuningEntry {
  /** adapterKey() of the adapter measured on. */
  adapter: string;
  /** planHash() of the plan tuned. */
  plan: string;
  /** For people reading the file: the stage, the config and the symbol values measured at. */
  stage?: string;
  config?: string;
  sizes?: Record<string, number>;
  tdc?: string;
  /** Kernel name → the choice. */
  kernels: Record<string, KernelChoice>;
  /** Kernel name → every candidate measured (the default first). */
  measured?: Record<string, KernelMeasurement[]>;
}

export interface TuningCache {
  format: typeof TUNING_FORMAT;
  entries: TuningEntry[];
}

/** The adapter as a tuning key: what identifies the hardware, driver and the way it is reached. */
export function adapterKey(info: AdapterDescription, subgroups?: { min?: number; max?: number }): string {
  const parts = [info.vendor, info.architecture, info.device, info.description, info.isFallbackAdapter ? 'fallback' : '', subgroups?.min ?? '', subgroups?.max ?? '', ...info.dawnOptions];
  return parts.map((p) => String(p).replace(/\|/g, '/')).join('|');
}

/** 64-bit FNV-1a of the plan's kernels (names, WGSL texts, overrides, bindings), hex. Synchronous and browser-safe. */
export function planHash(plan: KernelPlan): string {
  checkPlanFields(plan);
  const text = plan.kernels.map((k) => [k.name, k.wgsl, k.wgslSubgroups ?? '', JSON.stringify(k.overrides ?? []), JSON.stringify(k.bindings)].join('\u0000')).join('\u0001');
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & mask;
  }
  return h.toString(16).padStart(16, '0');
}

export function emptyTuningCache(): TuningCache {
  return { format: TUNING_FORMAT, entries: [] };
}

/** `doc` as a tuning cache, or why it is not one. */
export function parseTuningCache(doc: unknown): TuningCache | { problem: string } {
  const d = doc as Partial<TuningCache> | null;
  if (!d || typeof d !== 'object' || Array.isArray(d)) return { problem: 'not a JSON object' };
  if (d.format !== TUNING_FORMAT) return { problem: `format ${JSON.stringify(d.format)} is not '${TUNING_FORMAT}'` };
  if (!Array.isArray(d.entries)) return { problem: "'entries' is not an array" };
  const bad = d.entries.findIndex(
    (e: Partial<TuningEntry> | null) => !e || typeof e.adapter !== 'string' || typeof e.plan !== 'string' || !e.kernels || typeof e.kernels !== 'object',
  );
  if (bad >= 0) return { problem: `entry ${bad} lacks adapter, plan or kernels` };
  return d as TuningCache;
}

/** `cache` with `entry` added, replacing any entry for the same adapter and plan. */
export function withEntry(cache: TuningCache, entry: TuningEntry): TuningCache {
  return { format: TUNING_FORMAT, entries: [...cache.entries.filter((e) => !(e.adapter === entry.adapter && e.plan === entry.plan)), entry] };
}

/** The per-kernel choices (plan order) a cache holds for this plan on this device, and notes on what was ignored. */
export interface TunedChoices {
  entry?: TuningEntry;
  workgroupSizes: (number | undefined)[];
  subgroups: (boolean | undefined)[];
  notes: string[];
}

/**
 * Looks `plan` up in `cache` (a parsed JSON document of unknown validity) for the adapter `adapter`. Nothing
 * found is no note (the plan was never tuned here); everything unusable is ignored with a note.
 */
export function tunedChoices(
  cache: unknown,
  plan: KernelPlan,
  adapter: string,
  limits: DeviceWorkgroupLimits,
  canSubgroup: boolean,
  where = 'the tuning cache',
): TunedChoices {
  const none: TunedChoices = { workgroupSizes: plan.kernels.map(() => undefined), subgroups: plan.kernels.map(() => undefined), notes: [] };
  if (cache === undefined) return none;
  const parsed = parseTuningCache(cache);
  if ('problem' in parsed) return { ...none, notes: [`${where} is ignored: ${parsed.problem}`] };
  const hash = planHash(plan);
  const entry = parsed.entries.find((e) => e.adapter === adapter && e.plan === hash);
  if (!entry) {
    const names = plan.kernels.map((k) => k.name).join(',');
    const stale = parsed.entries.find((e) => e.adapter === adapter && Object.keys(e.kernels).join(',') === names);
    if (stale)
      return {
        ...none,
        notes: [`${where} is stale for this plan: it was tuned for another compile of it (plan ${stale.plan}, this one is ${hash}${stale.stage ? `, stage '${stale.stage}'` : ''}); its choices are ignored — run \`tdc tune\` again`],
      };
    return none;
  }
  const out: TunedChoices = { entry, workgroupSizes: [], subgroups: [], notes: [] };
  for (const k of plan.kernels) {
    const c = entry.kernels[k.name] as Partial<KernelChoice> | undefined;
    out.workgroupSizes.push(c ? validSize(k, c.workgroupSize, limits, out.notes, where) : undefined);
    let sg = c && typeof c.subgroups === 'boolean' ? c.subgroups : undefined;
    if (sg === true && (!k.wgslSubgroups || !canSubgroup)) {
      out.notes.push(`${where}: kernel ${k.name}'s subgroup variant is ignored (${k.wgslSubgroups ? 'this device cannot run it' : 'the kernel has none'})`);
      sg = undefined;
    }
    out.subgroups.push(sg);
  }
  return out;
}

function validSize(k: PlanKernel, v: unknown, limits: DeviceWorkgroupLimits, notes: string[], where: string): number | undefined {
  const o = k.overrides?.find((x) => x.role === 'workgroupSize');
  if (!o || v === undefined) return undefined;
  const max = workgroupMax(o, limits);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max) return v;
  notes.push(`${where}: kernel ${k.name}'s workgroup size ${JSON.stringify(v)} is ignored (the kernel and this device take 1..${max})`);
  return undefined;
}
