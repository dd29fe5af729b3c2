// tdc as a library (for build steps): every pipeline stage is a pure function, exported here.
//   loadConfig → resolveConfig → (instantiateStage → differentiate → schedule) = compileCriterion → writeOutDir
export { VERSION } from './version.js';
export * from './diagnostics/index.js';
export { loadConfig, loadConfigFile, DEFAULT_LOAD_LIMITS, type LoadLimits, type LoadResult } from './compiler/load/load.js';
export type { ConfigNode, LoadedConfig } from './compiler/load/config-node.js';
export { wrapperBindings } from './compiler/resolve/index.js';
/** resolveConfig(loaded): the resolve stage with each term's reads listed through its spec (driver/check.ts). */
export { checkConfig as resolveConfig, checkFile } from './compiler/driver/check.js';
export * from './compiler/ir.js';
export {
  registerLowLevelLoss,
  registerMidLevelLoss,
  registerHighLevelLoss,
  registerLossWrapper,
  registerFunc2ExtractModelOutput,
  registerSpecFile,
  getLowLevelLoss,
  getMidLevelLoss,
  getHighLevelLoss,
  getLossWrapper,
  getFunc2ExtractModelOutput,
  listRegistry,
  type RegisteredLoss,
} from './registry/registry.js';
export { parseSpec } from '../grammar/parser.js';
export { instantiateStage, termReads } from './compiler/instantiate/index.js';
export type { Graph, Node, Dim, Shape, DType } from './graph/types.js';
export { differentiate } from './graph/autodiff.js';
export { schedule, ScheduleError, type ScheduleOptions } from './compiler/schedule/index.js';
export type { KernelPlan } from './compiler/schedule/plan.js';
export { compileCriterion, compileStages, defaultInputShape, type CompileOptions, type CompileResult, type InputShapes } from './compiler/compile.js';
export { writeOutDir } from './codegen/out-writer.js';
export { buildManifest } from './codegen/manifest.js';
export { runStageOnCpu } from './compiler/run-cpu.js';
export { runStage, type RunResult, type NonFinite, type RunDevice, type RunStageOptions } from './compiler/driver/run.js';
export { execute as executeOnCpu, type HostTensor } from './cpu/executor.js';
export { readSafetensors, writeSafetensors, type SafeTensor } from 'tdc-runtime';

// Build integration (docs/integration.md): compile in memory, write or check an output directory, tdc.config.
export { compile, moduleNameOf, projectRelative, type CompileConfigOptions, type CompiledConfig, type CompiledKernel } from './api/compile.js';
export { writeOutput, check, type CheckResult, type OutputDifference, type OutputFiles } from './api/output-dir.js';
export { parseDims, parsePinned, dimsFromArray, parseShapeArg, parseInputShapes, shapesFromSample, type ShapeText, type InputShapes as PinnedShapes } from './api/shapes.js';
export type { Manifest, ManifestStage, ManifestPlan, ManifestKernel, ManifestDim } from './api/manifest-types.js';
export { defineConfig, DEFAULT_OUT_DIR, PROJECT_CONFIG_NAMES, type TdcConfig, type TdcConfigEntry } from './project/define-config.js';
export { loadProject, findProjectConfig, projectFromConfig, type Project, type ProjectEntry } from './project/load-project.js';
export { compileProject, compileEntry, entryFailed, type EntryResult, type ProjectMode } from './project/compile-project.js';
export { watchProject, type WatchHandle, type WatchOptions, type WatchCallbacks } from './project/watch.js';
export { configSchema, type JsonSchema } from './schema/config-schema.js';
export { formatDiagnostics, fileSourceLookup } from './api/format-diagnostics.js';
export { ProjectSession, type SessionOptions, type SessionUpdate } from './project/session.js';
export type { TdcPluginOptions } from './plugin/options.js';
