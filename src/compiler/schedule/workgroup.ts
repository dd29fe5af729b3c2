// Workgroup sizes are pipeline-overridable constants (WGSL `override`), set by the runtime at pipeline
// creation from the adapter (or the application): no kernel bakes one in. Each kernel class has its own
// defaults, for software rasterisers (a workgroup runs as SIMD lanes of one CPU thread: few lanes win) and
// for hardware GPUs; the scheduler records them in PlanKernel.overrides.
import type { Dim } from '../../graph/types.js';
import type { PlanOverride, WorkgroupClass } from './plan.js';

/** The name of a kernel's workgroup size override (the WGSL identifier, and the symbol its dispatch dims use). */
export const WG_SIZE = 'wg_size';

/** The workgroup size as a dim of the dispatch formula. */
export const WG_SIZE_DIM: Dim = { sym: WG_SIZE };

/**
 * The largest workgroup size a compile may pin (`tdc compile --workgroup-size`, CompileOptions.workgroupSize,
 * tdc.config's workgroupSize): WebGPU's default maxComputeWorkgroupSizeX and maxComputeInvocationsPerWorkgroup,
 * which every adapter grants, so a compiled output runs on any device.
 */
export const MAX_PINNED_WORKGROUP_SIZE = 256;

/** A workgroup size out of range (pinned at compile time, or chosen for a run): a usage error of the CLI (exit 2). */
export const WORKGROUP_SIZE_RANGE = 'TDC602';

/** Defaults per kernel class, and the largest size each template supports. */
export const WORKGROUP_DEFAULTS: Record<WorkgroupClass, { software: number; hardware: number; max: number }> = {
  /** Threads per row: partials combined in workgroup memory (`array<T, wg_size>`, budgeted for `max`). */
  row: { software: 8, hardware: 128, max: 256 },
  /** Invocations per workgroup; no barriers, so larger groups only cut per-group overhead. */
  map: { software: 64, hardware: 256, max: 256 },
  /** Threads sharing one matrix or sorted row. */
  serial: { software: 8, hardware: 128, max: 256 },
  /** Invocations per output tile (each a register block of the tile's rows; matmul-kernel.ts). */
  matmul: { software: 8, hardware: 64, max: 256 },
};

/** The override a kernel of `cls` declares; `pinned` (tdc compile --workgroup-size) replaces both defaults. */
export function workgroupOverride(cls: WorkgroupClass, pinned?: number): PlanOverride {
  const d = WORKGROUP_DEFAULTS[cls];
  const v = pinned !== undefined && (cls === 'row' || cls === 'serial') ? { software: pinned, hardware: pinned } : { software: d.software, hardware: d.hardware };
  return { name: WG_SIZE, role: 'workgroupSize', class: cls, default: v, max: Math.max(d.max, pinned ?? 0) };
}

/** The largest size a run-time choice for row and serial kernels (`tdc run --workgroup-size`, a number for
 *  ExecutorOptions.workgroupSize) can take in a plan compiled without a pin: what their templates budget workgroup
 *  memory for. A device may allow less (its limits). */
export const MAX_RUN_WORKGROUP_SIZE = Math.min(WORKGROUP_DEFAULTS.row.max, WORKGROUP_DEFAULTS.serial.max);
