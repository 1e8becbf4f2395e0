// The host side of the emulator worker: creates the worker lazily on first use, matches
// responses to requests, and turns worker events (and worker crashes) into typed events.
// Used by the debug adapter and the CLI; knows nothing of DAP or vscode.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type {
  RequestEnvelope, RequestKind, RequestOf, ResponseBody, WorkerEvent, WorkerMessage,
} from './protocol';

interface Pending { resolve(body: unknown): void; reject(err: Error): void }

export interface EmulatorHostEvents {
  event: [WorkerEvent];
}

export class EmulatorHost extends EventEmitter<EmulatorHostEvents> {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited = false;

  /** `workerScript` is the bundled dist/worker.js. */
  constructor(private readonly workerScript: string) {
    super();
  }

  private ensureWorker(): Worker {
    if (this.exited) throw new Error('the emulator has exited');
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerScript);
    worker.on('message', (msg: WorkerMessage) => this.onMessage(msg));
    worker.on('error', (err) => this.fail(`the emulator failed: ${err.message}`));
    worker.on('exit', (code) => this.fail(`the emulator worker exited (code ${code})`));
    this.worker = worker;
    return worker;
  }

  private onMessage(msg: WorkerMessage): void {
    if (msg.id === undefined) {
      this.emit('event', msg);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.body);
    else p.reject(new Error(msg.error));
  }

  private fail(message: string): void {
    if (this.exited) return;
    this.exited = true;
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
    this.emit('event', { event: 'exited', reason: 'error', message });
  }

  request<K extends RequestKind>(request: RequestOf<K>): Promise<ResponseBody[K]> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<ResponseBody[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (b: unknown) => void, reject });
      const envelope: RequestEnvelope = { id, request };
      worker.postMessage(envelope);
    });
  }

  async dispose(): Promise<void> {
    const worker = this.worker;
    if (!worker || this.exited) return;
    try {
      await Promise.race([this.request({ kind: 'shutdown' }), new Promise((r) => setTimeout(r, 500))]);
    } catch { /* already gone */ }
    this.exited = true;
    await worker.terminate();
  }
}
