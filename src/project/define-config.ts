// tdc.config.{ts,mts,mjs,js,json}: the configs a project compiles, where their output goes and with which
// input shapes. `defineConfig` only types it. Paths are relative to the directory of the tdc.config file.
import type { ShapeText } from '../api/shapes.js';

/** One torchdistill config of the project. */
export interface TdcConfigEntry {
  /** The torchdistill config (YAML), relative to the tdc.config file. */
  config: string;
  /**
   * Name of the generated TypeScript module (`<name>.ts`) and of this config's subfolder of `outDir`.
   * Default: the config's file name without `.yaml` (`kd.yaml` → `kd`). Must be unique within an output root.
   */
  name?: string;
  /** This config's output directory, instead of `<outDir>/<name>`. Relative to the tdc.config file. */
  out?: string;
  /** Compile only this training stage (`train`, `stage1`, …). Default: every stage. */
  stage?: string;
  /**
   * Pinned input shapes by io_dict name, in the `--shape` syntax or as arrays:
   * `{ 'student/layer4/output': 'Nx512x7x7', targets: ['N'] }`. Letters are symbols bound at run time.
   */
  shapes?: Readonly<Record<string, ShapeText>>;
  /** A sample io_dict (safetensors) to take input shapes from, like `--like`. Relative to the tdc.config file. */
  like?: string;
  /** Pins the workgroup size of row and serial kernels (1..256, WebGPU's default limit). Default: the top-level `workgroupSize`, else chosen by the runtime per adapter. */
  workgroupSize?: number;
  /** Spec files (.tdl) with custom losses for this config, after the top-level `specs`. */
  specs?: readonly string[];
}

export interface TdcConfig {
  /**
   * The shared output root: each config compiles into its own subfolder `<outDir>/<name>/`, so compiling one
   * never touches another's output. Default `'tdc-generated'`.
   */
  outDir?: string;
  /** Pins the workgroup size of row and serial kernels for every config (1..256, WebGPU's default limit). Default: chosen by the runtime at pipeline creation (8 on software Vulkan, 128 on hardware GPUs). */
  workgroupSize?: number;
  /** Spec files (.tdl) with custom losses, registered for every config. */
  specs?: readonly string[];
  /** The configs: a path (every option at its default), or an entry with options. */
  configs: readonly (string | TdcConfigEntry)[];
}

/** Types a tdc.config: `export default defineConfig({ configs: ['kd.yaml'] })`. Returns its argument. */
export function defineConfig(config: TdcConfig): TdcConfig {
  return config;
}

/** File names searched for, in this order. */
export const PROJECT_CONFIG_NAMES = ['tdc.config.ts', 'tdc.config.mts', 'tdc.config.mjs', 'tdc.config.js', 'tdc.config.json'] as const;

/** Default shared output root. */
export const DEFAULT_OUT_DIR = 'tdc-generated';
