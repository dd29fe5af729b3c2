// The tuning cache: what `tdc tune` (tune.ts) measured and chose for each kernel of a plan on one adapter — a
// workgroup size and whether to run the kernel's subgroup variant. One JSON document ('tdc-tuning/1') holds
// entries for any number of plans and adapters. A choice is keyed by the adapter (vendor, architecture, device,
// description, subgroup sizes, Dawn options) and the kernel's identity without its sizes (kernelTuningKey: its
// name, what it computes with every shape left out, its terms, workgroup-size override and binding layout), so
// it applies to that kernel however the sizes were specialised: `tdc tune --size N=… --size C=…` (every size a
// symbol), `tdc compile --like` (the class count fixed), `tdc run` (fixed to the --inputs' sizes), at any batch
// size. A choice is measured at one set of sizes (the entry's `sizes`) and used at all: workgroup sizes are
// pipeline constants, chosen once per executor before any batch size is known. Lookup validates: a document
// that is not a tuning cache, an entry for other kernels of the same names (another compile option or tdc
// version), a size the kernel or the device cannot take, are ignored with a note saying so — a stale cache never
// changes what runs.
import type { AdapterDescription } from './device.js';
import type { KernelPlan, PlanKernel } from './plan.js';
import { checkPlanFields } from './check-plan.js';
import { expectArgument, isRecord } from './argument-checks.js';
import { workgroupMax, type DeviceWorkgroupLimits } from './workgroup.js';

export const TUNING_FORMAT = 'tdc-tuning/1';

/** One kernel's choice. */
export interface KernelChoice {
  workgroupSize: number;
  subgroups: boolean;
}

/** A choice as an entry records it: with the kernel's kernelTuningKey (absent in entries of tdc before it). */
export interface TunedKernelChoice extends KernelChoice {
  key?: string;
}

/** What was measured for a kernel: each candidate's median device time (ms, fixed cost subtracted). */
export interface KernelMeasurement extends KernelChoice {
  ms: number;
}

export interface TuningEntry {
  /** adapterKey() of the adapter measured on. */
  adapter: string;
  /** planHash() of the plan tuned: an entry replaces the one for the same adapter and plan. */
  plan: string;
  /** For people reading the file: the stage, the config and the symbol values measured at. */
  stage?: string;
  config?: string;
  sizes?: Record<string, number>;
  tdc?: string;
  /** Kernel name → the choice, with the kernel's kernelTuningKey. */
  kernels: Record<string, TunedKernelChoice>;
  /** Kernel name → every candidate measured (the default first). */
  measured?: Record<string, KernelMeasurement[]>;
}

export interface TuningCache {
  format: typeof TUNING_FORMAT;
  entries: TuningEntry[];
}

/** The adapter as a tuning key: what identifies the hardware, driver and the way it is reached. */
export function adapterKey(info: AdapterDescription, subgroups?: { min?: number; max?: number }): string {
  expectArgument(isRecord(info) && Array.isArray(info.dawnOptions), info, 'adapterKey', 'info', 'an AdapterDescription (GpuRuntime.adapter)');
  const parts = [info.vendor, info.architecture, info.device, info.description, info.isFallbackAdapter ? 'fallback' : '', subgroups?.min ?? '', subgroups?.max ?? '', ...info.dawnOptions];
  return parts.map((p) => String(p).replace(/\|/g, '/')).join('|');
}

/**
 * A kernel's identity for tuning, independent of the sizes it was specialised to: its name, its summary with every
 * shape (`[N, 37]`, `[N, C]`) left out, its terms, its workgroup-size override (class, defaults, maximum: a size
 * pinned by `tdc compile --workgroup-size` makes another kernel) and its bindings' layout. The WGSL text is not
 * part of it: a size fixed at compile time changes the text (constants folded in, another vector width) but not
 * which kernel it is. 64-bit FNV-1a, hex; synchronous and browser-safe.
 */
export function kernelTuningKey(k: PlanKernel): string {
  const override = (k.overrides ?? []).map((o) => [o.name, o.role, o.class, o.default.software, o.default.hardware, o.max].join(':'));
  return fnv1a(
    [
      k.name,
      k.summary.replace(/\[[^\]]*\]/g, '[]'),
      k.terms.join(','),
      override.join(','),
      [...k.bindings].sort((a, b) => a.binding - b.binding).map((b) => `${b.binding}:${b.access}`).join(','),
      k.wgslSubgroups !== undefined ? 'subgroups' : '',
    ].join('\u0000'),
  );
}

/** The plan's identity for tuning: a hash of its kernels' kernelTuningKeys (sizes left out, as there). */
export function planHash(plan: KernelPlan): string {
  checkPlanFields(plan);
  return fnv1a(plan.kernels.map(kernelTuningKey).join('\u0001'));
}

function fnv1a(text: string): string {
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
  expectArgument(isRecord(cache) && Array.isArray(cache.entries), cache, 'withEntry', 'the cache', 'a TuningCache (parseTuningCache, emptyTuningCache)');
  expectArgument(isRecord(entry), entry, 'withEntry', 'the entry', 'a TuningEntry');
  return { format: TUNING_FORMAT, entries: [...cache.entries.filter((e) => !(e.adapter === entry.adapter && e.plan === entry.plan)), entry] };
}

/** The per-kernel choices (plan order) a cache holds for this plan on this device, and notes on what was ignored. */
export interface TunedChoices {
  /** The entry the first tuned kernel's choice comes from (undefined: no kernel has one). */
  entry?: TuningEntry;
  /** Per kernel: the entry its choice comes from. */
  entries: (TuningEntry | undefined)[];
  workgroupSizes: (number | undefined)[];
  subgroups: (boolean | undefined)[];
  notes: string[];
}

/**
 * Looks the kernels of `plan` up in `cache` (a parsed JSON document of unknown validity) for the adapter `adapter`:
 * each kernel takes the choice of the latest entry for this adapter recording its kernelTuningKey (or, in an
 * entry without keys, for the plan's planHash). Nothing found is no note (the plan was never tuned here);
 * everything unusable is ignored with a note: an entry for kernels of the same names but other identities
 * (another compile option, another tdc) is stale.
 */
export function tunedChoices(
  cache: unknown,
  plan: KernelPlan,
  adapter: string,
  limits: DeviceWorkgroupLimits,
  canSubgroup: boolean,
  where = 'the tuning cache',
): TunedChoices {
  checkPlanFields(plan);
  expectArgument(isRecord(limits), limits, 'tunedChoices', 'limits', 'the device\'s workgroup limits (GPUSupportedLimits)');
  const none: TunedChoices = { entries: plan.kernels.map(() => undefined), workgroupSizes: plan.kernels.map(() => undefined), subgroups: plan.kernels.map(() => undefined), notes: [] };
  if (cache === undefined) return none;
  const parsed = parseTuningCache(cache);
  if ('problem' in parsed) return { ...none, notes: [`${where} is ignored: ${parsed.problem}`] };
  const hash = planHash(plan);
  const mine = parsed.entries.filter((e) => e.adapter === adapter).reverse(); // the latest first
  const found = plan.kernels.map((k) => {
    const key = kernelTuningKey(k);
    return mine.find((e) => {
      const c = own(e.kernels, k.name);
      return c !== undefined && (c.key !== undefined ? c.key === key : e.plan === hash);
    });
  });
  const out: TunedChoices = { entries: found, workgroupSizes: [], subgroups: [], notes: [] };
  const first = found.find((e) => e !== undefined);
  if (first) out.entry = first;
  const tunable = plan.kernels.filter((k) => k.overrides?.some((o) => o.role === 'workgroupSize'));
  if (!first) {
    // an entry for kernels of these names, none of them these kernels: tuned for another compile of this plan
    const names = tunable.map((k) => k.name).join(',');
    const stale = mine.find((e) => names !== '' && Object.keys(e.kernels).join(',') === names);
    if (stale) out.notes.push(`${where} is stale for this plan: ${describeTuningEntry(stale)} recorded other kernels of the same names (another compile option or tdc version); its choices are ignored — run \`tdc tune\` again`);
  } else {
    // kernels an entry that tuned this plan's other kernels recorded under the same name, for another kernel
    const from = new Set(found.filter((e): e is TuningEntry => e !== undefined));
    const stale = tunable.filter((k) => found[plan.kernels.indexOf(k)] === undefined && [...from].some((e) => own(e.kernels, k.name) !== undefined));
    if (stale.length) out.notes.push(`${where}: the choice${stale.length > 1 ? 's' : ''} for ${stale.map((k) => k.name).join(', ')} ${stale.length > 1 ? 'are' : 'is'} stale (tuned for another kernel of the same name) and ignored — run \`tdc tune\` again`);
  }
  plan.kernels.forEach((k, i) => {
    const c = found[i] ? (own(found[i]!.kernels, k.name) as Partial<KernelChoice>) : undefined;
    out.workgroupSizes.push(c ? validSize(k, c.workgroupSize, limits, out.notes, where) : undefined);
    let sg = c && typeof c.subgroups === 'boolean' ? c.subgroups : undefined;
    if (sg === true && (!k.wgslSubgroups || !canSubgroup)) {
      out.notes.push(`${where}: kernel ${k.name}'s subgroup variant is ignored (${k.wgslSubgroups ? 'this device cannot run it' : 'the kernel has none'})`);
      sg = undefined;
    }
    out.subgroups.push(sg);
  });
  return out;
}

/** An entry as people know it: "stage 'train' of config.yaml measured at N=64, C=100". */
export function describeTuningEntry(e: TuningEntry): string {
  const sizes = e.sizes && Object.keys(e.sizes).length ? ` measured at ${Object.entries(e.sizes).map(([k, v]) => `${k}=${v}`).join(', ')}` : '';
  return `${e.stage !== undefined ? `stage '${e.stage}'` : 'an entry'}${e.config !== undefined ? ` of ${e.config}` : ''}${sizes}`;
}

/** `kernels[name]` when it is the record's own (a kernel name such as 'constructor' is no inherited member). */
function own(kernels: Record<string, TunedKernelChoice>, name: string): TunedKernelChoice | undefined {
  const c = Object.prototype.hasOwnProperty.call(kernels, name) ? kernels[name] : undefined;
  return c && typeof c === 'object' ? c : undefined;
}

function validSize(k: PlanKernel, v: unknown, limits: DeviceWorkgroupLimits, notes: string[], where: string): number | undefined {
  const o = k.overrides?.find((x) => x.role === 'workgroupSize');
  if (!o || v === undefined) return undefined;
  const max = workgroupMax(o, limits);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max) return v;
  notes.push(`${where}: kernel ${k.name}'s workgroup size ${JSON.stringify(v)} is ignored (the kernel and this device take 1..${max})`);
  return undefined;
}
