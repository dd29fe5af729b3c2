// Typed errors of the runtime. Each carries a stable code (TDC520–TDC529) and a `diagnostic` shaped like the
// compiler's diagnostics, so a caller (the CLI) can print it like any other stage's output; applications
// catch them by class (`instanceof NoWebGpuError`, `instanceof GpuInputError`, …) or by `code`.
import type { ComputedIndexCheck } from './plan.js';

/** The diagnostic an error carries: the same fields the compiler's Diagnostic has (severity, code, message, hint). */
export interface RuntimeDiagnostic {
  severity: 'error';
  code: string;
  message: string;
  hint?: string;
}

/** Base class of every error the runtime throws on purpose. Each class spells its `name` out: a minified bundle
 *  renames classes, so `new.target.name` would be the minifier's letter, not 'GpuDeviceLostError'. */
export class TdcRuntimeError extends Error {
  override name = 'TdcRuntimeError';
  readonly code: string;
  readonly hint: string | undefined;
  readonly diagnostic: RuntimeDiagnostic;
  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.code = code;
    this.hint = hint;
    this.diagnostic = hint === undefined ? { severity: 'error', code, message } : { severity: 'error', code, message, hint };
  }
}

/** An error of the WebGPU path (no adapter, device lost, validation, timeout, bad inputs, bad plan). */
export class GpuError extends TdcRuntimeError {
  override name = 'GpuError';
}

/** No WebGPU adapter (no driver, an unknown backend or adapter name): callers may fall back to the CPU executor. */
export class NoWebGpuAdapterError extends GpuError {
  override name = 'NoWebGpuAdapterError';
  constructor(message: string, hint?: string) {
    super('TDC520', message, hint ?? 'WebGPU found no usable adapter: check that the GPU (or a software adapter) is enabled for this browser');
  }
}

/** WebGPU itself is missing: no `navigator.gpu` (a browser without WebGPU, or Node without `tdc-runtime/node`). */
export class NoWebGpuError extends NoWebGpuAdapterError {
  override name = 'NoWebGpuError';
  constructor(message: string, hint?: string) {
    super(message, hint);
  }
}

/** What to do once a device is gone, in Node and the browser alike (the end of every GpuDeviceLostError's hint). */
export const REOPEN_HINT =
  'open a new runtime (await GpuRuntime.open(), from tdc-runtime/node in Node) and create the stages on it again (await <Stage>Criterion.create(runtime), or PlanExecutor.create), then set their state again (setState): nothing made on the old device can be used';

/** The device was lost (driver reset, destroy()) — every later use fails with this. The hint says what a loss
 *  usually means (`hint` for a more specific cause) and how to go on: reopen. */
export class GpuDeviceLostError extends GpuError {
  override name = 'GpuDeviceLostError';
  constructor(message: string, hint?: string) {
    super(
      'TDC521',
      message,
      hint ??
        `a lost device usually means the GPU driver reset or the browser's GPU process crashed (a kernel ran longer than the OS allows, GPU memory ran out, the machine slept), taking everything on the device with it: ${REOPEN_HINT}`,
    );
  }
}

/** A WebGPU validation / out-of-memory / internal error raised by work the runtime submitted. */
export class GpuValidationError extends GpuError {
  override name = 'GpuValidationError';
  constructor(message: string) {
    super('TDC522', message);
  }
}

/** A wait on the GPU (mapAsync, onSubmittedWorkDone, popErrorScope) did not finish in time. */
export class GpuTimeoutError extends GpuError {
  override name = 'GpuTimeoutError';
  constructor(message: string) {
    super('TDC523', message, 'raise the timeout (GpuOptions.timeoutMs / TDC_WEBGPU_TIMEOUT_MS) if the workload is just slow');
  }
}

/** Inputs given to a plan do not match it (names, ranks, dtypes, symbol values, device limits). */
export class GpuInputError extends GpuError {
  override name = 'GpuInputError';
  /** When the device found indices the plan's kernels computed out of range: those checks (plan.computedIndexChecks
   *  entries), so that a caller can place the error at the loss's code (the CLI does) without reading the message. */
  readonly computedIndexChecks: readonly ComputedIndexCheck[] | undefined;
  /** The index inputs (plan.indexInputs entries' `input`) found holding a value out of range, on the host or the
   *  device, so that a caller can place the error at the code that indexes with them (the CLI does). */
  readonly indexInputs: readonly string[] | undefined;
  /** The probability inputs (plan.unitInputs entries' `input`) found holding a value outside [0, 1] or NaN, on the
   *  host or the device, so that a caller can place the error at the code that reads them (the CLI does). */
  readonly unitInputs: readonly string[] | undefined;
  constructor(message: string, hint?: string, computedIndexChecks?: readonly ComputedIndexCheck[], indexInputs?: readonly string[], unitInputs?: readonly string[]) {
    super('TDC524', message, hint);
    this.computedIndexChecks = computedIndexChecks;
    this.indexInputs = indexInputs?.length ? indexInputs : undefined;
    this.unitInputs = unitInputs?.length ? unitInputs : undefined;
  }
}

/** A PlanExecutor (a compiled stage) used after its destroy(), or after a failed readback left it unusable. */
export class GpuStageDestroyedError extends GpuError {
  override name = 'GpuStageDestroyedError';
  constructor(message: string, hint?: string) {
    super('TDC527', message, hint);
  }
}

/** An option of GpuRuntime.open / fromDevice, or the TDC_WEBGPU_* variable standing for it, that cannot be used
 *  (e.g. a timeout that is not a positive number of milliseconds): thrown before any device is asked for. */
export class GpuOptionsError extends GpuError {
  override name = 'GpuOptionsError';
  constructor(message: string, hint?: string) {
    super('TDC528', message, hint);
  }
}

/** A call made wrongly: out of order (submit() while a run() of the same PlanExecutor is in flight: it would
 *  overwrite the buffers that run reads back; nothing was submitted), or given an argument of the wrong kind where
 *  no more specific error applies (PlanExecutor.create or GpuRuntime.fromDevice given no GPUDevice). The message
 *  says what to do instead. */
export class GpuUsageError extends GpuError {
  override name = 'GpuUsageError';
  constructor(message: string, hint?: string) {
    super('TDC529', message, hint);
  }
}

/** The kernel plan itself is malformed (a compiler bug, not a user error). */
export class PlanError extends GpuError {
  override name = 'PlanError';
  constructor(message: string) {
    super('TDC525', `invalid kernel plan: ${message}`);
  }
}

export const isNoAdapterError = (e: unknown): e is NoWebGpuAdapterError => e instanceof NoWebGpuAdapterError;

/** A safetensors file that cannot be read (bad header, unsupported dtype, offsets out of range) or written. */
export class SafetensorsError extends TdcRuntimeError {
  override name = 'SafetensorsError';
  constructor(message: string) {
    super('TDC526', message);
  }
}
