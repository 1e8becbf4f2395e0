// Emulator worker entry (worker_threads): owned by the machine/boot issue.
import { parentPort } from 'node:worker_threads';

parentPort?.postMessage({ type: 'error', message: 'the emulator worker is not available in this build yet' });
