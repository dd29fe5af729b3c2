#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (npm run build). Exits explicitly once stdout and stderr have
// drained: work still pending in the event loop (a GPU kernel that never ends after a timeout, Dawn's callbacks)
// must not keep tdc alive after it has reported.
import { main } from '../dist/src/cli/main.js';

const exitWhenDrained = (code) => {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
};

main(process.argv.slice(2)).then(exitWhenDrained, (e) => {
  process.stderr.write(`tdc: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  exitWhenDrained(70);
});
