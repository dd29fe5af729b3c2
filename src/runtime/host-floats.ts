// The host arrays PlanExecutor reads gradients back into (GpuRuntime.hostFloats), made while the device works
// with every page of their memory already mapped: the OS maps a new array's pages on first write, one page fault
// per 4 KiB, which for gradients of tens of MB costs as much as the copy itself; done before the copy, it runs
// alongside the kernels instead of after them.

/** Bytes of a memory page the OS maps at a time (4 KiB: a smaller page only makes the writes denser). */
export const PAGE_BYTES = 4096;

/** `a`, after one write per page of its memory (its contents there are unspecified: the readback overwrites them). */
export function touchPages(a: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i += PAGE_BYTES / 4) a[i] = 0;
  return a;
}
