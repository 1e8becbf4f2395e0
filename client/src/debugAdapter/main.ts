// Standalone debug adapter: DAP over stdio, for VS Code's executable adapter and other DAP clients.
import { join } from 'node:path';
import { VirtDebugSession } from './session';

const session = new VirtDebugSession(join(__dirname, 'worker.js'));
process.on('SIGTERM', () => session.shutdown());
session.start(process.stdin, process.stdout);
