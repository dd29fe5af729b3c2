// Signatures as text: the spec language's own printer (grammar/print.ts).
export { renderType, renderLiteral, renderSignature } from '../../grammar/print.js';
