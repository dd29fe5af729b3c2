// The one place chevrotain is loaded. Its package entry pulls in lodash-es as hundreds of small ES modules
// (~250 ms to import); the package also ships the same version as a single-file bundle (~15 ms). Cold start
// matters (the compiler parses every spec at startup), so load the bundle when it is there.
import type * as Chevrotain from 'chevrotain';

async function load(): Promise<typeof Chevrotain> {
  try {
    const entry = import.meta.resolve('chevrotain'); // <pkg>/lib/src/api.js
    return (await import(new URL('../chevrotain.mjs', entry).href)) as typeof Chevrotain;
  } catch {
    return await import('chevrotain');
  }
}

export const chevrotain: typeof Chevrotain = await load();
