// Emulator worker entry (worker_threads): receives RequestEnvelopes, answers each with one
// ResponseEnvelope, and forwards the controller's events. Every failure is an answer or an
// event: an uncaught error is reported as an `exited` event rather than killing the thread.
import { parentPort } from 'node:worker_threads';
import { WorkerController } from './controller';
import type { RequestEnvelope, ResponseEnvelope, WorkerEvent, WorkerMessage } from './protocol';

const port = parentPort;
if (!port) throw new Error('the emulator worker must run in a worker thread');

const send = (msg: WorkerMessage) => port.postMessage(msg);
const controller = new WorkerController((event: WorkerEvent) => send(event));

port.on('message', (envelope: RequestEnvelope) => {
  void (async () => {
    let reply: ResponseEnvelope;
    try {
      reply = { id: envelope.id, ok: true, body: await controller.handle(envelope.request) };
    } catch (err) {
      reply = { id: envelope.id, ok: false, error: (err as Error).message ?? String(err) };
    }
    send(reply);
  })();
});

process.on('uncaughtException', (err) => send({ event: 'exited', reason: 'error', message: `emulator error: ${err.stack ?? err.message}` }));
process.on('unhandledRejection', (err) => send({ event: 'exited', reason: 'error', message: `emulator error: ${(err as Error)?.stack ?? String(err)}` }));
