// How messages show float32 values: as the user wrote them, not with the float64 digits of the nearest float32.

/** A float32 value as its shortest decimal that reads back as the same float32: 3.7, not 3.700000047683716 (the
 *  float64 of the float32 nearest 3.7), so that a message shows a value as the user wrote it. */
export function f32Text(v: number): string {
  if (!Number.isFinite(v) || Math.fround(v) !== v) return String(v);
  for (let p = 1; p < 9; p++) {
    const shorter = Number(v.toPrecision(p));
    if (Math.fround(shorter) === v) return String(shorter);
  }
  return String(v);
}
