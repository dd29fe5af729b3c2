// Worker side of startGlueWorker(): loads ts-morph as soon as it starts (in parallel with the compile on the
// main thread), then emits glue for each request.
import { parentPort } from 'node:worker_threads';
import { emitGlue, type GlueOptions } from './emit-glue.js';
import type { StagePlan } from '../manifest.js';

const warm = import('ts-morph').then(
  () => undefined,
  () => undefined, // emitGlue reports the failure on use
);

parentPort!.on('message', (msg: { id: number; stages: StagePlan[]; opts: GlueOptions }) => {
  void warm
    .then(() => emitGlue(msg.stages, msg.opts))
    .then(
      (text) => parentPort!.postMessage({ id: msg.id, text }),
      (e: unknown) => parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e), glueError: e instanceof Error && e.name === 'GlueError' }),
    );
});
