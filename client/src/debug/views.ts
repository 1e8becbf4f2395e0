// Everything a `virt` debug session shows besides VS Code's own views.
import * as vscode from 'vscode';
import { registerInspectors } from './inspectors';
import { registerScreenPanels, ScreenPanel } from './screenPanel';
import { registerSerialTerminals } from './serialTerminal';
import { registerGuestStatus } from './statusBar';

export function registerDebugViews(subscriptions: vscode.Disposable[]): void {
  registerSerialTerminals(subscriptions);
  registerScreenPanels(subscriptions);
  registerGuestStatus(subscriptions);
  registerInspectors(subscriptions);
  subscriptions.push(vscode.commands.registerCommand('virtStudio.showScreen', () => {
    const s = vscode.debug.activeDebugSession;
    if (s?.type === 'virt') ScreenPanel.showFor(s);
    else void vscode.window.showErrorMessage('No Virt Studio guest is being debugged.');
  }));
}
