// A `virt` debug session starts through VS Code's debug service (the manifest's debugger
// contribution → dist/debugAdapter.js over DAP), and stops when asked to; with
// VIRT_STUDIO_LINUX_BOOT=1, F5 on the Linux example boots to its shell (below).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { languageOf, nextEvent, open, waitFor, workspaceFile } from '../support';

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

// F5 on the examples' Linux domain XML (no launch.json: the DebugConfigurationProvider boots the
// open domain), the busybox prompt arrives in the serial terminal, typing into that terminal
// reaches the guest's shell, and pausing shows the registers of a kernel-mode frame in the
// Variables. One Linux boot: runs when VIRT_STUDIO_LINUX_BOOT=1 (same flag as the rung-3 unit
// test), with a run limit to match: `node scripts/vscode-test.mjs --timeout 2400`.
const linuxEnabled = process.env.VIRT_STUDIO_LINUX_BOOT === '1';
(linuxEnabled ? describe : describe.skip)('debugging the Linux guest (VIRT_STUDIO_LINUX_BOOT=1)', function () {
  this.timeout(1_800_000);

  it('F5 on linux.xml boots to the shell in the serial terminal; pause shows kernel registers', async () => {
    // The example domain, next to the rung-3 kernel and initramfs (the test fixture, made by
    // test/fixtures/machine/make-linux.sh in the repository's test cache before the run).
    const repo = process.env.VIRT_STUDIO_TEST_REPO;
    assert.ok(repo, 'VIRT_STUDIO_TEST_REPO names the repository');
    const fixture = execFileSync(process.execPath, ['--import', 'tsx', '-e',
      "import('./test/unit/machine/fixtures.ts').then((m) => process.stdout.write(JSON.stringify(m.linuxGuest())))"],
    { cwd: repo, encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 600_000 });
    const { kernel, initrd } = JSON.parse(fixture) as { kernel: string; initrd: string };
    const domain = workspaceFile('linux', 'linux.xml');
    mkdirSync(path.join(path.dirname(domain.fsPath), 'images'), { recursive: true });
    copyFileSync(path.join(repo, 'examples', 'linux.xml'), domain.fsPath);
    for (const [from, name] of [[kernel, 'vmlinuz-686'], [initrd, 'initramfs.cpio.gz']]) {
      const to = path.join(path.dirname(domain.fsPath), 'images', name);
      if (!existsSync(to)) symlinkSync(from, to);
    }

    let serial = '';
    let stoppedReason = '';
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('virt', {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: { type?: string; event?: string; body?: { port?: number; data?: string; reason?: string } }) => {
          if (m.type === 'event' && m.event === 'virtSerialOutput' && m.body?.port === 0) serial += m.body.data ?? '';
          if (m.type === 'event' && m.event === 'stopped') stoppedReason = m.body?.reason ?? '?';
        },
      }),
    });
    try {
      await open(domain);
      assert.equal(await languageOf(domain, 'libvirt-xml'), 'libvirt-xml');
      const started = nextEvent('a virt debug session to start', vscode.debug.onDidStartDebugSession, (s) => s.type === 'virt');
      await vscode.commands.executeCommand('workbench.action.debug.start'); // F5
      const session = await started;
      assert.equal(session.configuration.domain, domain.fsPath, 'F5 booted the open domain XML');

      await waitFor('the busybox prompt on the serial console', () => serial.includes('~ # '), 1_500_000);
      const terminal = await waitFor('the serial terminal', () => vscode.window.terminals.find((t) => t.name.endsWith('ttyS0')));
      // Typed into the terminal (the Pseudoterminal forwards it to the guest's UART).
      const mark = serial.length;
      terminal.sendText('echo $((6*7))', true);
      await waitFor('the shell to answer 42', () => /\r?\n42\r?\n/.test(serial.slice(mark)), 120_000);

      stoppedReason = '';
      await vscode.commands.executeCommand('workbench.action.debug.pause');
      await waitFor('a stopped event after pause', () => stoppedReason === 'pause', 30_000);
      // What the Variables view shows for the top frame.
      const { stackFrames } = await session.customRequest('stackTrace', { threadId: 1 }) as { stackFrames: { id: number; instructionPointerReference?: string }[] };
      const { scopes } = await session.customRequest('scopes', { frameId: stackFrames[0].id }) as { scopes: { name: string; variablesReference: number }[] };
      const general = scopes.find((s) => s.name === 'General');
      assert.ok(general, `a General scope (got ${scopes.map((s) => s.name).join(', ')})`);
      const { variables } = await session.customRequest('variables', { variablesReference: general.variablesReference }) as { variables: { name: string; value: string }[] };
      const names = variables.map((v) => v.name.toLowerCase());
      for (const r of ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp', 'eip', 'eflags']) assert.ok(names.includes(r), `${r} in ${names.join(', ')}`);
      const eip = Number.parseInt(variables.find((v) => v.name.toLowerCase() === 'eip')!.value, 16);
      assert.ok(eip >= 0xc0000000, `kernel-mode EIP, got 0x${eip.toString(16)}`);
      assert.equal(Number(stackFrames[0].instructionPointerReference), eip);

      const terminated = nextEvent('the virt session to terminate', vscode.debug.onDidTerminateDebugSession, (s) => s.id === session.id);
      await vscode.debug.stopDebugging(session);
      await terminated;
    } finally {
      tracker.dispose();
    }
  });
});
