// Signatures as text: the spec language's own printer (grammar/print.ts).
export { renderType, renderSignature } from '../../grammar/print.js';
