// PyTorch eager on one CPU thread as a bench implementation: bench/torch_losses.py --serve keeps the loss's
// inputs in a subprocess and runs one forward + backward per request, timing it itself (the pipe round trip is
// not in the step's time). So torch's steps take their turn in the harness's interleaved rounds beside tdc's
// and tfjs's, and drift on a noisy machine hits both sides of the torch/tdc ratio alike — rather than torch
// running for its own seconds after tdc's.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import type { BenchImpl, StepResult } from './harness.js';

/** The longest wait for the subprocess's answer (its setup: importing torch, making the inputs; or one step). */
const ANSWER_TIMEOUT_MS = 600_000;

export class TorchLoss implements BenchImpl {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private lines: Interface | undefined;
  private readonly waiting: ((line: string | Error) => void)[] = [];
  private stderr = '';
  private exited: Error | undefined;

  /** `args`: torch_losses.py's --serve arguments (loss, batch, inputs json). */
  constructor(
    readonly name: string,
    private readonly python: string,
    private readonly script: string,
    private readonly args: readonly string[],
  ) {}

  async setup(): Promise<void> {
    const proc = spawn(this.python, [this.script, '--serve', ...this.args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4096)));
    const fail = (e: Error) => {
      this.exited ??= e;
      for (const w of this.waiting.splice(0)) w(e);
    };
    proc.on('error', (e) => fail(e));
    proc.on('exit', (code, signal) => fail(new Error(this.stderr.trim().split('\n').pop() || `exited (${signal ?? code})`)));
    this.lines = createInterface({ input: proc.stdout });
    this.lines.on('line', (line) => this.waiting.shift()?.(line));
    const first = await this.answer();
    if (first !== 'ready') throw new Error(`unexpected output '${first}'`);
  }

  async step(): Promise<StepResult> {
    if (!this.proc) throw new Error('not set up');
    this.proc.stdin.write('step\n');
    const line = await this.answer();
    const [ms, loss] = line.split(' ').map(Number) as [number, number];
    if (!Number.isFinite(ms)) throw new Error(`unexpected output '${line}'`);
    return { loss, grad: new Float32Array(), ms };
  }

  dispose(): void {
    this.lines?.close();
    if (this.proc && this.proc.exitCode === null) this.proc.kill();
    this.proc = undefined;
  }

  /** The subprocess's next line, or its failure (exit, spawn error, ANSWER_TIMEOUT_MS without an answer). */
  private answer(): Promise<string> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(settle);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error(`no answer in ${ANSWER_TIMEOUT_MS / 1000} s`));
      }, ANSWER_TIMEOUT_MS);
      const settle = (line: string | Error) => {
        clearTimeout(timer);
        if (typeof line === 'string') resolve(line);
        else reject(line);
      };
      this.waiting.push(settle);
    });
  }
}
