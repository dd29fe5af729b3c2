// Errors of the GPU runtime. Each carries a Diagnostic (codes TDC520–TDC529) so a caller (the CLI) can
// print it like any other stage's output; library users can catch them by class.
import { DiagnosticError, diag } from '../../diagnostics/index.js';

export class GpuError extends DiagnosticError {
  constructor(code: string, message: string, hint?: string) {
    super(diag('error', code, message, undefined, hint === undefined ? undefined : { hint }));
    this.name = new.target.name;
  }
}

/** No WebGPU adapter (no driver, an unknown backend or adapter name): callers may fall back to the CPU executor. */
export class NoWebGpuAdapterError extends GpuError {
  constructor(message: string) {
    super(
      'TDC520',
      message,
      'on Linux without a GPU install Mesa lavapipe (Debian: mesa-vulkan-drivers libvulkan1); pick a Dawn backend/adapter with TDC_WEBGPU_BACKEND / TDC_WEBGPU_ADAPTER',
    );
  }
}

/** The device was lost (driver reset, destroy()) — every later use fails with this. */
export class GpuDeviceLostError extends GpuError {
  constructor(message: string) {
    super('TDC521', message);
  }
}

/** A WebGPU validation / out-of-memory / internal error raised by work the runtime submitted. */
export class GpuValidationError extends GpuError {
  constructor(message: string) {
    super('TDC522', message);
  }
}

/** A wait on the GPU (mapAsync, onSubmittedWorkDone, popErrorScope) did not finish in time. */
export class GpuTimeoutError extends GpuError {
  constructor(message: string) {
    super('TDC523', message, 'raise the timeout (GpuOptions.timeoutMs / TDC_WEBGPU_TIMEOUT_MS) if the workload is just slow');
  }
}

/** Inputs given to a plan do not match it (names, ranks, dtypes, symbol values, device limits). */
export class GpuInputError extends GpuError {
  constructor(message: string, hint?: string) {
    super('TDC524', message, hint);
  }
}

/** The kernel plan itself is malformed (a compiler bug, not a user error). */
export class PlanError extends GpuError {
  constructor(message: string) {
    super('TDC525', `invalid kernel plan: ${message}`);
  }
}

export const isNoAdapterError = (e: unknown): e is NoWebGpuAdapterError => e instanceof NoWebGpuAdapterError;
