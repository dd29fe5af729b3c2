// Glue emission on a worker thread: start it when a compile starts, and ts-morph (~0.25–0.3 s to import,
// most of a cold `tdc compile`) loads on the second core while the main thread loads, resolves and schedules.
// If the worker cannot start, emission falls back to the main thread.
import { Worker } from 'node:worker_threads';
import { emitGlue, GlueError, type GlueOptions } from './emit-glue.js';
import type { StagePlan } from '../manifest.js';

export interface GlueWorker {
  emit(stages: readonly StagePlan[], opts: GlueOptions): Promise<string>;
  /** Stops the worker (call when done; an idle worker does not keep the process alive). */
  close(): Promise<void>;
}

export function startGlueWorker(): GlueWorker {
  let worker: Worker | undefined;
  try {
    worker = new Worker(new URL('./glue-worker-main.js', import.meta.url));
    worker.unref();
  } catch {
    worker = undefined;
  }
  type Request = { stages: readonly StagePlan[]; opts: GlueOptions; resolve: (s: string) => void; reject: (e: Error) => void };
  const pending = new Map<number, Request>();
  let nextId = 0;
  let failed = false;
  // A worker that dies hands its requests back to the main thread.
  const failAll = (): void => {
    failed = true;
    for (const p of pending.values()) emitGlue(p.stages, p.opts).then(p.resolve, p.reject);
    pending.clear();
  };
  worker?.on('message', (m: { id: number; text?: string; error?: string; glueError?: boolean }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.text !== undefined) p.resolve(m.text);
    else p.reject(m.glueError ? new GlueError(m.error) : new Error(m.error));
  });
  worker?.on('error', failAll);
  worker?.on('exit', failAll);

  return {
    emit(stages, opts) {
      if (!worker || failed) return emitGlue(stages, opts);
      const w = worker;
      return new Promise<string>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { stages, opts, resolve, reject });
        w.ref(); // keep the process alive while a request is out
        w.postMessage({ id, stages, opts });
      }).finally(() => {
        if (pending.size === 0) w.unref();
      });
    },
    async close() {
      if (worker) {
        const w = worker;
        worker = undefined;
        w.removeAllListeners('exit');
        await w.terminate();
      }
    },
  };
}
