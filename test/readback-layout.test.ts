// The readback's chunk layout (src/runtime/readback.ts): every byte of every part copied exactly once into the
// stream position it has in the concatenation, chunks of the given size (the first one long enough for the head
// parts, which lie whole in it), at mappable offsets. Seeded random part lists plus the edge cases.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readbackLayout, READBACK_CHUNK_BYTES } from '../src/runtime/readback.js';

/** Rebuilds, from the layout's copies, which part and part offset each stream byte comes from; fails on gaps or overlaps. */
function check(bytes: number[], head: number, chunk: number): ReturnType<typeof readbackLayout> {
  const l = readbackLayout(bytes, head, chunk);
  const total = bytes.reduce((a, b) => a + b, 0);
  const starts: number[] = [];
  let s = 0;
  for (const c of l.chunks) {
    starts.push(s);
    assert.ok(s % 8 === 0, `chunk start ${s} is a mappable offset`);
    s += c;
  }
  assert.is(s, Math.max(total, 0), 'chunks cover the stream exactly');
  l.chunks.forEach((c, k) => {
    if (k > 0) assert.ok(c > 0 && c <= chunk, `chunk ${k} of ${c} bytes within ${chunk}`);
  });
  if (l.chunks.length > 1) assert.ok(l.chunks[0]! >= chunk, 'the first chunk is at least a chunk long');
  const seen = new Array<string | undefined>(total);
  const partAt = bytes.map((_, i) => bytes.slice(0, i).reduce((a, b) => a + b, 0));
  l.copies.forEach((cs, k) => {
    let last = -1;
    for (const c of cs) {
      assert.ok(c.bytes > 0 && c.bytes % 4 === 0 && c.partOffset % 4 === 0 && c.chunkOffset % 4 === 0, 'copies of whole words');
      assert.ok(c.chunkOffset + c.bytes <= l.chunks[k]!, 'a copy stays in its chunk');
      assert.ok(c.chunkOffset > last, 'copies in stream order');
      last = c.chunkOffset;
      for (let b = 0; b < c.bytes; b++) {
        const pos = starts[k]! + c.chunkOffset + b;
        assert.is(pos, partAt[c.part]! + c.partOffset + b, 'a byte lands where the concatenation has it');
        assert.is(seen[pos], undefined, `byte ${pos} copied once`);
        seen[pos] = `${c.part}`;
      }
    }
  });
  assert.ok(!seen.includes(undefined), 'every byte copied');
  for (let p = 0; p < Math.min(head, bytes.length); p++) {
    const where = l.copies.flatMap((cs, k) => cs.filter((c) => c.part === p).map(() => k));
    assert.ok(where.every((k) => k === 0), `head part ${p} lies whole in chunk 0`);
  }
  return l;
}

test('one chunk when the stream fits; the default chunk is a multiple of 8', () => {
  assert.ok(READBACK_CHUNK_BYTES % 8 === 0 && READBACK_CHUNK_BYTES >= 1 << 20);
  const l = check([12, 16, 400], 2, 1024);
  assert.equal(l.chunks, [428]);
  assert.is(l.copies[0]!.length, 3);
});

test('gradients cut across chunks; a part of 0 bytes takes no copy', () => {
  const l = check([8, 0, 100, 60, 4], 1, 32);
  assert.equal(l.chunks, [32, 32, 32, 32, 32, 12]);
  assert.not.ok(l.copies.flat().some((c) => c.part === 1));
});

test('a head longer than a chunk makes the first chunk longer (rounded up to 8), never split', () => {
  const l = check([20, 36, 64], 2, 16);
  assert.is(l.chunks[0], 56);
  assert.equal(l.chunks.slice(1), [16, 16, 16, 16]);
});

test('seeded random part lists and chunk sizes', () => {
  let s = 12345;
  const rnd = (n: number) => ((s = (s * 1103515245 + 12345) >>> 0) % n);
  for (let i = 0; i < 300; i++) {
    const parts = Array.from({ length: 1 + rnd(6) }, () => 4 * rnd(40));
    check(parts, rnd(3), 8 * (1 + rnd(12)));
  }
});

test('bad sizes are refused', () => {
  assert.throws(() => readbackLayout([8], 1, 12), /multiple of 8/);
  assert.throws(() => readbackLayout([8, 6], 1, 16), /multiple of 4/);
});

test.run();
