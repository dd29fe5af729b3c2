// Doc strings: the block of whole-line `#` comments directly above a declaration (no blank line between).
import type { IToken } from 'chevrotain';
import { computeLineStarts, posAt } from '../src/diagnostics/diagnostic.js';

/** Returns a lookup from a declaration's start offset to its doc string (comment text without `# `). */
export function docComments(text: string, comments: IToken[]): (declStart: number) => string | undefined {
  const lineStarts = computeLineStarts(text);
  const byLine = new Map<number, string>();
  for (const c of comments) {
    const { line } = posAt(lineStarts, c.startOffset);
    const before = text.slice(lineStarts[line - 1], c.startOffset);
    if (/^[ \t]*$/.test(before)) byLine.set(line, c.image.replace(/^#[ ]?/, '').trimEnd());
  }
  return (declStart) => {
    if (!Number.isFinite(declStart)) return undefined;
    const lines: string[] = [];
    for (let l = posAt(lineStarts, declStart).line - 1; byLine.has(l); l--) lines.unshift(byLine.get(l)!);
    return lines.length > 0 ? lines.join('\n') : undefined;
  };
}
