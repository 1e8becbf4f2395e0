// A webview that shows the guest's VGA text screen live (colours and cursor) and sends the
// keys typed into it to the guest's keyboard controller.
import * as vscode from 'vscode';
import type { TextScreen } from '../../../emulator/src/worker/protocol';
import { KeyboardRequest, ScreenChangedEvent, ScreenRequest } from '../debugAdapter/customProtocol';
import { cp437, scancodesFor } from './scancodes';

const PALETTE = ['#000000', '#0000aa', '#00aa00', '#00aaaa', '#aa0000', '#aa00aa', '#aa5500', '#aaaaaa',
  '#555555', '#5555ff', '#55ff55', '#55ffff', '#ff5555', '#ff55ff', '#ffff55', '#ffffff'];

/** Renders a text screen to HTML rows of spans; runs of equal attributes share a span. */
export function renderScreen(screen: TextScreen): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const rows: string[] = [];
  for (let r = 0; r < screen.rows; r++) {
    let html = '';
    let run = '';
    let runAttr = -1;
    const flush = () => {
      if (run) html += `<span style="color:${PALETTE[runAttr & 15]};background:${PALETTE[(runAttr >> 4) & 7]}">${esc(run)}</span>`;
      run = '';
    };
    for (let c = 0; c < screen.columns; c++) {
      const i = r * screen.columns + c;
      const attr = screen.attributes[i];
      const ch = cp437(screen.chars[i]);
      if (screen.cursor.visible && screen.cursor.row === r && screen.cursor.column === c) {
        flush();
        html += `<span class="cursor" style="color:${PALETTE[attr & 15]};background:${PALETTE[(attr >> 4) & 7]}">${esc(ch)}</span>`;
        runAttr = -1;
        continue;
      }
      if (attr !== runAttr) { flush(); runAttr = attr; }
      run += ch;
    }
    flush();
    rows.push(html);
  }
  return rows.join('\n');
}

export class ScreenPanel {
  private static panels = new Map<string, ScreenPanel>();
  private readonly panel: vscode.WebviewPanel;
  private refreshing = false;
  private dirty = false;

  static showFor(session: vscode.DebugSession): void {
    const existing = ScreenPanel.panels.get(session.id);
    if (existing) { existing.panel.reveal(); return; }
    ScreenPanel.panels.set(session.id, new ScreenPanel(session));
  }

  static screenChanged(session: vscode.DebugSession): void {
    ScreenPanel.panels.get(session.id)?.refresh();
  }

  static sessionEnded(session: vscode.DebugSession): void {
    ScreenPanel.panels.get(session.id)?.panel.dispose();
  }

  private constructor(private readonly session: vscode.DebugSession) {
    this.panel = vscode.window.createWebviewPanel('virtStudio.screen', `Screen — ${session.name}`, vscode.ViewColumn.Beside, {
      enableScripts: true, retainContextWhenHidden: true,
    });
    this.panel.webview.html = this.html();
    this.panel.onDidDispose(() => ScreenPanel.panels.delete(session.id));
    this.panel.webview.onDidReceiveMessage((m: { type: string; code: string; down: boolean }) => {
      if (m.type !== 'key') return;
      const scancodes = scancodesFor(m.code, m.down);
      if (scancodes.length) void Promise.resolve(session.customRequest(KeyboardRequest.command, { scancodes })).catch(() => undefined);
    });
    this.refresh();
  }

  /** Coalesces bursts of change events into one request in flight at a time. */
  private refresh(): void {
    if (this.refreshing) { this.dirty = true; return; }
    this.refreshing = true;
    void Promise.resolve(this.session.customRequest(ScreenRequest.command))
      .then((r: { screen: TextScreen | null }) => {
        void this.panel.webview.postMessage({ type: 'screen', html: r.screen ? renderScreen(r.screen) : null });
      })
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = false;
        if (this.dirty) { this.dirty = false; this.refresh(); }
      });
  }

  private html(): string {
    const nonce = Math.random().toString(36).slice(2);
    return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}';">
<style>
  body { background: #000; margin: 0; padding: 8px; }
  #screen { font: 16px/1.0 "DejaVu Sans Mono", monospace; white-space: pre; outline: none; color: #aaa; }
  #screen:focus { box-shadow: 0 0 0 1px var(--vscode-focusBorder); }
  .cursor { text-decoration: underline; animation: blink 1s steps(1) infinite; }
  @keyframes blink { 50% { text-decoration: none; } }
  #none { color: #888; font: 13px sans-serif; }
</style></head><body>
<div id="screen" tabindex="0"><span id="none">No VGA text screen (the guest may use only its serial console).</span></div>
<script nonce="${nonce}">
  const vscode = acquireVsCodeApi();
  const screen = document.getElementById('screen');
  window.addEventListener('message', (e) => {
    if (e.data.type === 'screen' && e.data.html !== null) screen.innerHTML = e.data.html;
  });
  for (const type of ['keydown', 'keyup']) {
    screen.addEventListener(type, (e) => { e.preventDefault(); vscode.postMessage({ type: 'key', code: e.code, down: type === 'keydown' }); });
  }
  screen.focus();
</script></body></html>`;
  }
}

export function registerScreenPanels(subscriptions: vscode.Disposable[]): void {
  subscriptions.push(
    vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
      if (e.event === ScreenChangedEvent.event) ScreenPanel.screenChanged(e.session);
    }),
    vscode.debug.onDidTerminateDebugSession((s) => ScreenPanel.sessionEnded(s)),
  );
}
