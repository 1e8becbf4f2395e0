// A status bar item with the running guest's state and speed.
import * as vscode from 'vscode';
import { StatsEvent } from '../debugAdapter/customProtocol';
import type { Stats } from '../../../emulator/src/worker/protocol';

export function registerGuestStatus(subscriptions: vscode.Disposable[]): void {
  const item = vscode.window.createStatusBarItem('virtStudio.guest', vscode.StatusBarAlignment.Left, 50);
  item.name = 'Virt Studio guest';
  item.command = 'workbench.action.debug.pause';
  const sessions = new Set<string>();
  const render = (stats: Stats) => {
    item.text = stats.running
      ? `$(vm-running) guest ${stats.mips.toFixed(0)} MIPS`
      : '$(debug-pause) guest paused';
    item.tooltip = `${stats.instructions.toLocaleString()} instructions · virtual time ${(stats.virtualTimeNs / 1e9).toFixed(2)} s`;
    item.show();
  };
  subscriptions.push(
    item,
    vscode.debug.onDidStartDebugSession((s) => { if (s.type === 'virt') sessions.add(s.id); }),
    vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => { if (e.event === StatsEvent.event) render(e.body as Stats); }),
    vscode.debug.onDidTerminateDebugSession((s) => {
      sessions.delete(s.id);
      if (sessions.size === 0) item.hide();
    }),
  );
}
