// --workgroup-size of compile, tune and run: an integer in 1..max, else a usage error (TDC602, exit 2) naming
// the range and why it ends there.
import { diag, type Diagnostic } from '../diagnostics/index.js';
import { MAX_PINNED_WORKGROUP_SIZE, MAX_RUN_WORKGROUP_SIZE, WORKGROUP_SIZE_RANGE as CODE } from '../compiler/schedule/workgroup.js';

export const WORKGROUP_SIZE_LIMITS = {
  /** Pinned into the compiled output (compile, tune): it must run on every adapter. */
  compile: { max: MAX_PINNED_WORKGROUP_SIZE, why: "WebGPU's default limit, which every adapter allows, so the output runs on any device" },
  /** Chosen at pipeline creation (run): the kernels' templates are built for at most this many threads. */
  run: { max: MAX_RUN_WORKGROUP_SIZE, why: 'the largest workgroup the row kernels are built for' },
} as const;

/** The --workgroup-size value (undefined when not given), or the usage error for a malformed or out-of-range one. */
export function parseWorkgroupSize(text: string | undefined, use: keyof typeof WORKGROUP_SIZE_LIMITS): number | Diagnostic | undefined {
  if (text === undefined) return undefined;
  const { max, why } = WORKGROUP_SIZE_LIMITS[use];
  const n = Number(text);
  if (/^\s*\d+\s*$/.test(text) && n >= 1 && n <= max) return n;
  return diag('error', CODE, `--workgroup-size must be an integer in 1..${max} (${why}), got '${text}'`);
}
