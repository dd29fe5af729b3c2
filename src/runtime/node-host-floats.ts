// The arrays a Node runtime reads gradients back into (GpuRuntime.hostFloats; tdc-runtime/node only): memory left
// uninitialized, since the readback writes every element, with every page mapped (host-floats.ts).
//
// Where the memory comes from decides what mapping its pages costs. malloc hands a collected array's memory out
// again, its pages still mapped; touching them is cheap. An array of FRESH_BYTES or more is fresh memory every
// time: glibc's malloc maps each allocation above its largest mmap threshold (32 MiB on 64-bit) anew and unmaps it
// when the array is collected, so each of its 4 KiB pages is mapped by a page fault. Writing one element per page
// takes each fault from user space, entering and leaving the kernel once per page; reading /dev/zero into the
// array has the kernel fault them in within one read(). Measured on a 2-core VM (lavapipe), 51 MB (FitNet's
// gradient, 12 544 pages): 44–48 ms of CPU per array touched, 35–38 ms read from /dev/zero; FitNet's step with
// every gradient read back, one executor alternating both: 58 → 48 and 66 → 57 ms of main-thread CPU per step.
import { touchPages } from './host-floats.js';

/** Arrays of at least this many bytes are mapped by reading /dev/zero (below it, malloc's reused memory is common). */
export const FRESH_BYTES = 32 << 20;

/** Node's Buffer and fs, as far as used here (this package compiles without Node's types). */
interface NodeBufferClass {
  allocUnsafeSlow(size: number): Uint8Array;
}
interface SyncFs {
  openSync(path: string, flags: string): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: null): number;
  closeSync(fd: number): void;
}
const NodeBuffer = (globalThis as { Buffer?: NodeBufferClass }).Buffer;
const nodeProcess = (globalThis as { process?: { platform?: string; getBuiltinModule?(id: string): unknown } }).process;
/** node:fs without an import (process.getBuiltinModule: Node 20.16+, 22.3+; older Nodes touch every page), on
 *  Linux, where the reads were measured. */
const fs = nodeProcess?.platform === 'linux' ? (nodeProcess.getBuiltinModule?.('node:fs') as SyncFs | undefined) : undefined;

/** Fills `bytes` from /dev/zero; false where there is none or a read fails (the caller then touches the pages). */
export function readZeros(bytes: Uint8Array): boolean {
  if (!fs) return false;
  let fd: number;
  try {
    fd = fs.openSync('/dev/zero', 'r');
  } catch {
    return false;
  }
  try {
    for (let at = 0; at < bytes.length; ) {
      const n = fs.readSync(fd, bytes, at, bytes.length - at, null);
      if (n <= 0) return false;
      at += n;
    }
    return true;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

/** GpuRuntime.hostFloats for Node: `n` floats of uninitialized memory, every page mapped. */
export const nodeHostFloats = NodeBuffer
  ? (n: number): Float32Array => {
      const b = NodeBuffer.allocUnsafeSlow(4 * n);
      const a = new Float32Array(b.buffer, b.byteOffset, n);
      return b.byteLength >= FRESH_BYTES && readZeros(b) ? a : touchPages(a);
    }
  : undefined;

