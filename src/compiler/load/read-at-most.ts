// Reading a file that may not end where its size says: a file the kernel makes (/proc, /sys) says 0 bytes and may
// hold gigabytes (/proc/self/pagemap), so what reads a user's file reads up to a bound, not to the end.
import { closeSync, openSync, readSync } from 'node:fs';

/** Reads are whole multiples of 64 KiB (a special file may refuse a read of another size: /proc/self/pagemap takes
 *  multiples of 8), at most 64 MiB each. */
const UNIT = 1 << 16;
const MAX_CHUNK = 1 << 26;

/** The file at `path` up to its end or to the first read that reaches `max` bytes (then maybe a little more). */
export function readAtMost(path: string, max: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < max) {
      const chunk = Buffer.allocUnsafe(Math.min(MAX_CHUNK, Math.ceil((max - got) / UNIT) * UNIT));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      parts.push(chunk.subarray(0, n));
      got += n;
    }
    return Buffer.concat(parts, got);
  } finally {
    closeSync(fd);
  }
}

