// yaml's lexer + CST parser, driven one lexeme at a time so hostile input stops early: the parser's stack
// is the nesting depth (yaml's composer recurses per level and would overflow), and the count of
// node-starting lexemes bounds the parse cost (the CST of a flat 16 MiB list exhausts the heap).
import { CST, Lexer, Parser } from 'yaml';

export type CstLimitHit = { kind: 'depth' | 'nodes'; offset: number };

const NODE_LEXEMES = new Set<string>([
  'scalar',
  'single-quoted-scalar',
  'double-quoted-scalar',
  'block-scalar-header',
  'alias',
  'flow-map-start',
  'flow-seq-start',
  'seq-item-ind',
  'map-value-ind',
  'explicit-key-ind',
]);

/** CST tokens of `text`, or where a limit was hit. */
export function parseCst(text: string, maxDepth: number, maxNodes: number): { tokens: CST.Token[] } | { hit: CstLimitHit } {
  const parser = new Parser();
  const tokens: CST.Token[] = [];
  let nodes = 0;
  // The stack holds the document and the scalar being read on top of the open collections.
  const maxStack = maxDepth + 2;
  let scalarBody = false; // the lexeme after a SCALAR marker is the scalar's text, whatever it looks like
  for (const lexeme of new Lexer().lex(text, false)) {
    const type: CST.TokenType | null = scalarBody ? null : CST.tokenType(lexeme);
    scalarBody = type === 'scalar';
    if (type && NODE_LEXEMES.has(type) && ++nodes > maxNodes) return { hit: { kind: 'nodes', offset: parser.offset } };
    for (const t of parser.next(lexeme)) tokens.push(t);
    if (parser.stack.length > maxStack) return { hit: { kind: 'depth', offset: Math.min(parser.offset, text.length) } };
  }
  for (const t of parser.end()) tokens.push(t);
  for (const t of tokens) fixFlowKeyItems(t);
  return { tokens };
}

/** yaml 2.9.1 splits a block-map entry whose implicit key is a flow collection, when it follows another
 *  entry (eemeli/yaml#646): an item holding only the leading space and the key's anchor/tag, then the
 *  entry itself without them. Composed as is, that is an error and loses the props, so glue them back. */
function fixFlowKeyItems(root: CST.Token): void {
  const todo: CST.Token[] = [root];
  for (let t = todo.pop(); t !== undefined; t = todo.pop()) {
    switch (t.type) {
      case 'document':
        if (t.value) todo.push(t.value);
        break;
      case 'block-map': {
        const items = t.items;
        for (let i = items.length - 2; i >= 0; i--) {
          const it = items[i]!;
          const next = items[i + 1]!;
          if (!it.key && !it.sep && !it.value && next.key?.type === 'flow-collection') {
            next.start = [...it.start, ...next.start];
            items.splice(i, 1);
          }
        }
        for (const it of items) {
          if (it.key) todo.push(it.key);
          if (it.value) todo.push(it.value);
        }
        break;
      }
      case 'block-seq':
      case 'flow-collection':
        for (const it of t.items) {
          if ('key' in it && it.key) todo.push(it.key);
          if (it.value) todo.push(it.value);
        }
        break;
    }
  }
}
