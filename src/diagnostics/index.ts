export * from './diagnostic.js';
export * from './format.js';
export * from './suggest.js';
export * from './internal.js';
