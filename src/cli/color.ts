// Whether the CLI colours what it writes to a stream. One rule for every command and stream:
//   --no-color                         → plain;
//   FORCE_COLOR set (any value but '', '0' or 'false') → colour; '0'/'false' → plain (Node's own reading);
//   NO_COLOR set to a non-empty value  → plain (no-color.org);
//   otherwise: colour when the stream is a terminal and TERM is not 'dumb'.
// FORCE_COLOR wins over NO_COLOR, as in Node itself.

export function colorEnabled(
  stream: { isTTY?: boolean },
  opts: { color?: boolean } = {},
  env: Record<string, string | undefined> = process.env,
): boolean {
  if (opts.color === false) return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '') return !(force === '0' || force.toLowerCase() === 'false');
  const no = env['NO_COLOR'];
  if (no !== undefined && no !== '') return false;
  return !!stream.isTTY && env['TERM'] !== 'dumb';
}
