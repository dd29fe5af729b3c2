// Where a value of tdc.config sits in its source, for positioned diagnostics: the file is parsed with
// TypeScript (JSON, JS and TS alike) and the path (`configs[1].shapes`) followed through object and array
// literals from the default export (`defineConfig({...})`, `{...} satisfies TdcConfig`, or a const it names).
// Stops at the deepest literal it can reach; `undefined` when even the root is not a literal.
import { spanFromOffsets, type Span } from '../diagnostics/index.js';

export type ConfigPath = readonly (string | number)[];

type TS = typeof import('ts-morph').ts;
type Node = import('ts-morph').ts.Node;

/** Span of the value at `path` (of its key when `key` is set and the path ends at a property). */
export async function locateInSource(shown: string, text: string, path: ConfigPath, file: string, key = false): Promise<Span | undefined> {
  let ts: TS;
  try {
    ts = (await import('ts-morph')).ts;
  } catch {
    return undefined;
  }
  const sf = file.endsWith('.json') ? ts.parseJsonText(file, text) : ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  let node = rootValue(ts, sf);
  if (!node) return undefined;
  let keyNode: Node | undefined;
  for (const seg of path) {
    node = unwrap(ts, node, sf);
    let next: Node | undefined;
    if (typeof seg === 'number' && ts.isArrayLiteralExpression(node)) next = node.elements[seg];
    else if (typeof seg === 'string' && ts.isObjectLiteralExpression(node)) {
      for (const p of node.properties) {
        if (!p.name || propName(ts, p.name) !== seg) continue;
        keyNode = p.name;
        next = ts.isPropertyAssignment(p) ? p.initializer : p;
      }
    }
    if (!next) break;
    node = next;
    if (typeof seg === 'number') keyNode = undefined;
  }
  const target = key && keyNode ? keyNode : node;
  return spanFromOffsets(shown, text, target.getStart(sf), target.getEnd());
}

function propName(ts: TS, n: import('ts-morph').ts.PropertyName): string | undefined {
  return ts.isIdentifier(n) || ts.isStringLiteral(n) || ts.isNumericLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) ? n.text : undefined;
}

function rootValue(ts: TS, sf: import('ts-morph').ts.SourceFile): Node | undefined {
  for (const s of sf.statements) {
    if (ts.isExportAssignment(s)) return s.expression;
    if (ts.isExpressionStatement(s) && sf.fileName.endsWith('.json')) return s.expression;
  }
  return undefined;
}

/** defineConfig(x), (x), x as T, x satisfies T, and a top-level const's initializer → x. */
function unwrap(ts: TS, n: Node, sf: import('ts-morph').ts.SourceFile, depth = 0): Node {
  if (depth > 10) return n;
  if (ts.isCallExpression(n) && n.arguments.length === 1) return unwrap(ts, n.arguments[0]!, sf, depth + 1);
  if (ts.isParenthesizedExpression(n) || ts.isAsExpression(n) || ts.isSatisfiesExpression(n)) return unwrap(ts, n.expression, sf, depth + 1);
  if (ts.isIdentifier(n)) {
    for (const s of sf.statements)
      if (ts.isVariableStatement(s))
        for (const d of s.declarationList.declarations) if (ts.isIdentifier(d.name) && d.name.text === n.text && d.initializer) return unwrap(ts, d.initializer, sf, depth + 1);
  }
  return n;
}
