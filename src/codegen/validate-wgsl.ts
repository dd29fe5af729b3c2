// WGSL validation by Dawn's own compiler (Tint) on the `null` backend: no GPU or driver needed.
// A shader is checked as a module (getCompilationInfo) and then as a compute pipeline with an
// automatic layout (entry point, workgroup size against the adapter's limits, binding conflicts).
import { GpuRuntime } from 'tdc-runtime/node';
import { diag, posAt, computeLineStarts, type Diagnostic, type Severity, type Span } from '../diagnostics/index.js';

let validator: Promise<GpuRuntime> | undefined;

/** The shared null-backend runtime (created on first use, kept for the process). */
function validatorRuntime(): Promise<GpuRuntime> {
  validator ??= GpuRuntime.open({ backend: 'null', env: {} }).catch((e: unknown) => {
    validator = undefined;
    throw e;
  });
  return validator;
}

export interface ValidateOptions {
  /** File name used in diagnostic spans. Default '<wgsl>'. */
  file?: string;
  /** Entry point to build a pipeline for; default: the module's only compute entry point. */
  entryPoint?: string;
  /** Values of the module's `override` constants (e.g. a kernel's `wg_size`) for the pipeline. */
  constants?: Record<string, number>;
  /** Also build a compute pipeline (default true). The null adapter allows WebGPU's default limits only, so a
   *  kernel of a plan variant binding more than 8 storage buffers can be checked as a module only. */
  pipeline?: boolean;
}

const SEVERITY: Record<GPUCompilationMessageType, Severity> = { error: 'error', warning: 'warning', info: 'note' };

/** Dawn's diagnostics for `code`: [] when the shader compiles and builds a compute pipeline. */
export async function validateWgsl(code: string, opts: ValidateOptions = {}): Promise<Diagnostic[]> {
  const rt = await validatorRuntime();
  const device = rt.device;
  const file = opts.file ?? '<wgsl>';
  const lineStarts = computeLineStarts(code);
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code });
  const info = await rt.wait(module.getCompilationInfo(), 'getCompilationInfo');
  const moduleError = await rt.wait(device.popErrorScope(), 'popErrorScope');
  const out: Diagnostic[] = info.messages.map((m) => {
    const span = spanOf(file, code, lineStarts, m);
    return diag(SEVERITY[m.type], m.type === 'error' ? 'TDC660' : 'TDC661', m.message, span);
  });
  if (out.some((d) => d.severity === 'error')) return out;
  if (moduleError) return [...out, diag('error', 'TDC660', moduleError.message, undefined)];
  if (opts.pipeline === false) return out;

  device.pushErrorScope('validation');
  const constants = opts.constants && Object.keys(opts.constants).length ? { constants: opts.constants } : {};
  device.createComputePipeline({ layout: 'auto', compute: { module, ...(opts.entryPoint ? { entryPoint: opts.entryPoint } : {}), ...constants } });
  const pipelineError = await rt.wait(device.popErrorScope(), 'popErrorScope');
  if (pipelineError) out.push(diag('error', 'TDC662', `compute pipeline: ${pipelineError.message.trim()}`, { file, start: posAt(lineStarts, 0), end: posAt(lineStarts, 0) }));
  return out;
}

function spanOf(file: string, code: string, lineStarts: number[], m: GPUCompilationMessage): Span | undefined {
  if (m.lineNum === 0 && m.offset === 0 && m.length === 0) return undefined;
  // Dawn reports offsets in UTF-16 code units for JS strings; clamp in case a message points past the end.
  const start = Math.min(m.offset, code.length);
  const end = Math.min(start + m.length, code.length);
  return { file, start: posAt(lineStarts, start), end: posAt(lineStarts, end) };
}
