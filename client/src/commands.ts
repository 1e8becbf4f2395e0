// Command handlers, registered by name in one place.
import * as vscode from 'vscode';
import type { Ctx } from './ctx';

type Handler = (ctx: Ctx, ...args: unknown[]) => unknown;

const commands: Record<string, Handler> = {
  'virtStudio.bootDomain': async (_ctx, uri?: unknown) => {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Virt Studio does not boot guests in an untrusted workspace. Trust the workspace to boot it.');
      return;
    }
    const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
    if (!target) {
      void vscode.window.showErrorMessage('Open a libvirt domain XML to boot it.');
      return;
    }
    await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(target), {
      type: 'virt', request: 'launch', name: 'Boot domain', domain: target.fsPath,
    });
  },
  'virtStudio.showSchemaInfo': (ctx) => {
    ctx.output.show(true);
  },
};

export function registerCommands(ctx: Ctx): void {
  for (const [name, handler] of Object.entries(commands)) {
    ctx.extension.subscriptions.push(vscode.commands.registerCommand(name, (...args: unknown[]) => handler(ctx, ...args)));
  }
}
