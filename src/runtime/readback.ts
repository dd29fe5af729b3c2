// The bytes a run reads back (its scalars, the device checks' flags, the gradients), laid out as one stream and
// cut into chunks: each chunk is copied into a staging buffer of its own, every chunk after the first in a
// submission of its own, so that the host maps and copies out chunk k while the device still copies chunk k + 1.
// One staging buffer copied in full and then mapped makes the device's copy and the host's copy-out follow one
// another; for gradients of tens of MB they take about as long each (lavapipe, a 51 MB gradient into a reused
// array: 19.6 ms as one buffer, 13.1 ms in 4 MiB chunks). A readback no longer than one chunk is one chunk.
/// <reference types="@webgpu/types" preserve="true" />

/** Bytes per chunk (a multiple of 8: chunks start at mappable offsets). Chosen on lavapipe: 2–8 MiB within 5%. */
export const READBACK_CHUNK_BYTES = 4 << 20;

/** One copy from a part's device buffer into a chunk's staging buffer. */
export interface ChunkCopy {
  /** Index of the part (the order given to readbackLayout). */
  part: number;
  /** Byte offset in the part's buffer (and in the part). */
  partOffset: number;
  /** Byte offset in the chunk's staging buffer. */
  chunkOffset: number;
  bytes: number;
}

export interface ReadbackLayout {
  /** Bytes of each chunk (what its staging buffer must hold and what is mapped). */
  chunks: number[];
  /** Per chunk, the copies that fill it, in stream order. */
  copies: ChunkCopy[][];
}

/**
 * The chunks of a stream of parts of `bytes[i]` bytes each (multiples of 4), in order. The first `head` parts
 * (scalars and flags: read before anything else) lie whole in the first chunk, which is made as long as they
 * need; after it, chunks are `chunkBytes` long (the last one shorter). Parts of 0 bytes take no copy.
 */
export function readbackLayout(bytes: readonly number[], head: number, chunkBytes = READBACK_CHUNK_BYTES): ReadbackLayout {
  if (chunkBytes <= 0 || chunkBytes % 8) throw new Error(`readbackLayout: chunk of ${chunkBytes} bytes (a positive multiple of 8 is needed)`);
  const total = bytes.reduce((a, b) => a + b, 0);
  const headBytes = bytes.slice(0, head).reduce((a, b) => a + b, 0);
  // chunk boundaries in the stream: the first chunk holds the head, each later one chunkBytes (first one rounded up to 8)
  const first = Math.max(chunkBytes, Math.ceil(headBytes / 8) * 8);
  const starts: number[] = [0];
  for (let s = first; s < total; s += chunkBytes) starts.push(s);
  const chunks = starts.map((s, k) => Math.min(k + 1 < starts.length ? starts[k + 1]! : total, total) - s);
  const copies: ChunkCopy[][] = starts.map(() => []);
  let at = 0;
  bytes.forEach((n, part) => {
    if (n % 4) throw new Error(`readbackLayout: part ${part} of ${n} bytes (a multiple of 4 is needed)`);
    let done = 0;
    while (done < n) {
      const pos = at + done;
      let k = starts.length - 1;
      while (starts[k]! > pos) k--;
      const end = starts[k]! + chunks[k]!;
      const take = Math.min(n - done, end - pos);
      copies[k]!.push({ part, partOffset: done, chunkOffset: pos - starts[k]!, bytes: take });
      done += take;
    }
    at += n;
  });
  return { chunks, copies };
}

/** The staging buffers of a PlanExecutor's readbacks, one per chunk, kept and grown across runs. */
export class StagingBuffers {
  private readonly buffers: GPUBuffer[] = [];

  constructor(private readonly device: GPUDevice) {}

  /** Bytes of device memory held. */
  get bytes(): number {
    return this.buffers.reduce((a, b) => a + b.size, 0);
  }

  /** Chunk k's staging buffer, at least `bytes` long (a smaller one is replaced). */
  chunk(k: number, bytes: number): GPUBuffer {
    const have = this.buffers[k];
    if (have && have.size >= bytes) return have;
    have?.destroy();
    const b = this.device.createBuffer({ label: `tdc readback ${k}`, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: 0x1 | 0x8 /* MAP_READ | COPY_DST */ });
    this.buffers[k] = b;
    return b;
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.buffers.length = 0;
  }
}
