// A `virt` debug session starts through VS Code's debug service (the manifest's debugger
// contribution → dist/debugAdapter.js over DAP), and stops when asked to.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { nextEvent, workspaceFile } from '../support';

describe('debugging', () => {
  it('starts a virt session on fixtures/boot-stop.xml and stops it', async () => {
    const domain = workspaceFile('boot-stop.xml');
    const folder = vscode.workspace.getWorkspaceFolder(domain);
    // Watch the DAP traffic: the adapter must really answer, not just be spawned.
    const responses: string[] = [];
    let stoppedOnEntry: () => void = () => {};
    const stopped = new Promise<void>((resolve) => { stoppedOnEntry = resolve; });
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('virt', {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: { type?: string; command?: string; success?: boolean; event?: string; body?: { reason?: string } }) => {
          if (m.type === 'response') responses.push(`${m.command}:${m.success}`);
          if (m.type === 'event' && m.event === 'stopped' && m.body?.reason === 'entry') stoppedOnEntry();
        },
      }),
    });
    try {
      const startedEvent = nextEvent('a virt debug session to start', vscode.debug.onDidStartDebugSession, (s) => s.type === 'virt');
      const ok = await vscode.debug.startDebugging(folder, {
        type: 'virt', request: 'launch', name: 'Boot stop-on-entry', domain: domain.fsPath, stopOnEntry: true,
      });
      assert.equal(ok, true, 'startDebugging resolved true');
      const session = await startedEvent;
      assert.equal(session.configuration.domain, domain.fsPath);
      assert.ok(responses.includes('initialize:true'), `the adapter answered initialize (responses: ${responses.join(', ') || 'none'})`);
      // stopOnEntry: the guest was booted and halted before its first instruction.
      await Promise.race([stopped, new Promise((_, reject) => setTimeout(() => reject(new Error(
        `no 'stopped' event with reason 'entry' within 30 s (responses: ${responses.join(', ')})`)), 30_000))]);

      const terminated = nextEvent('the virt session to terminate', vscode.debug.onDidTerminateDebugSession, (s) => s.id === session.id);
      await vscode.debug.stopDebugging(session);
      await terminated;
      assert.equal(vscode.debug.activeDebugSession?.id === session.id, false, 'the session is gone');
    } finally {
      tracker.dispose();
    }
  });
});
