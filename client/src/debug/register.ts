// Registers the `virt` debugger with VS Code: F5 on a domain XML without a launch.json,
// settings folded into every launch, Workspace Trust enforced, and the adapter run inline in
// the extension host (the emulator itself runs in a worker thread, so nothing blocks).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { VirtDebugSession, type LaunchArguments } from '../debugAdapter/session';
import { readConfig } from '../config';
import type { Ctx } from '../ctx';
import { registerDebugViews } from './views';

type VirtConfiguration = vscode.DebugConfiguration & LaunchArguments;

class VirtConfigurationProvider implements vscode.DebugConfigurationProvider {
  resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: VirtConfiguration): VirtConfiguration | undefined {
    if (!config.type && !config.request && !config.name) {
      // F5 with no launch.json: boot the domain XML in the active editor.
      const doc = vscode.window.activeTextEditor?.document;
      if (!doc || doc.languageId !== 'libvirt-xml') {
        void vscode.window.showErrorMessage('Open a libvirt domain XML (or add a "virt" launch configuration) to boot a guest.');
        return undefined;
      }
      return this.resolveDebugConfiguration(_folder, { type: 'virt', request: 'launch', name: 'Boot domain', domain: doc.uri.fsPath });
    }
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage('Virt Studio does not boot guests in an untrusted workspace. Trust the workspace to boot it.');
      return undefined;
    }
    const settings = readConfig();
    return { ...config, memoryLimitMiB: settings.memoryLimitMiB, allowImageWrites: settings.allowImageWrites };
  }
}

class InlineAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly workerScript: string) {}

  createDebugAdapterDescriptor(): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    return new vscode.DebugAdapterInlineImplementation(new VirtDebugSession(this.workerScript));
  }
}

export function registerDebugger(ctx: Ctx): void {
  const workerScript = ctx.extension.asAbsolutePath(path.join('dist', 'worker.js'));
  ctx.extension.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider('virt', new VirtConfigurationProvider()),
    vscode.debug.registerDebugConfigurationProvider('virt', {
      provideDebugConfigurations: () => [{ type: 'virt', request: 'launch', name: 'Boot domain', domain: '${file}', stopOnEntry: false }],
    }, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory('virt', new InlineAdapterFactory(workerScript)),
  );
  registerDebugViews(ctx.extension.subscriptions);
}
