// The browser consumer: the same KD and CRD steps from navigator.gpu (the README's two-line setup), bundled by esbuild.
import { GpuRuntime, TdcRuntimeError } from 'tdc-runtime';
import { kdRejections, runKd } from './kd.js';
import { runCrd } from './crd.js';
import { IoDict } from './tensors.js';

declare global {
  interface Window {
    tdcResult?: unknown;
  }
}

async function main(): Promise<unknown> {
  try {
    const runtime = await GpuRuntime.open();
    try {
      const bytes = new Uint8Array(await (await fetch('./kd-io.safetensors')).arrayBuffer());
      const io = new IoDict(bytes);
      const crdIo = new IoDict(new Uint8Array(await (await fetch('./crd-io.safetensors')).arrayBuffer()));
      return { ok: true, device: runtime.describe(), ...(await runKd(runtime, io)), rejections: await kdRejections(runtime, io), crd: await runCrd(runtime, crdIo) };
    } finally {
      runtime.destroy();
    }
  } catch (e) {
    if (e instanceof TdcRuntimeError) return { ok: false, error: e.name, code: e.code, message: e.message, hint: e.hint };
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

void main().then((r) => {
  window.tdcResult = r;
  document.body.textContent = JSON.stringify(r);
});
