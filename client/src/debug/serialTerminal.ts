// The guest's serial console as an interactive terminal: what the guest writes to COM1 appears
// in the terminal, what the user types goes to the guest's UART receive queue.
import * as vscode from 'vscode';
import { SerialInputRequest, SerialOutputEvent } from '../debugAdapter/customProtocol';

export class SerialTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  private opened = false;
  private backlog: string[] = [];
  private terminal: vscode.Terminal | undefined;

  constructor(private readonly session: vscode.DebugSession, private readonly port = 0) {}

  show(): void {
    this.terminal ??= vscode.window.createTerminal({ name: `${this.session.name} — ttyS${this.port}`, pty: this, isTransient: true });
    this.terminal.show(true);
  }

  open(): void {
    this.opened = true;
    for (const chunk of this.backlog) this.writeEmitter.fire(chunk);
    this.backlog = [];
  }

  close(): void {
    this.opened = false;
    this.terminal = undefined;
  }

  /** Guest output. Serial consoles send bare LF more often than not; a terminal needs CR LF. */
  write(data: string): void {
    const text = data.replace(/\r?\n/g, '\r\n');
    if (this.opened) this.writeEmitter.fire(text);
    else this.backlog.push(text);
  }

  handleInput(data: string): void {
    void Promise.resolve(this.session.customRequest(SerialInputRequest.command, { port: this.port, data })).catch(() => undefined);
  }

  dispose(): void {
    this.terminal?.dispose();
    this.closeEmitter.fire();
    this.writeEmitter.dispose();
    this.closeEmitter.dispose();
  }
}

/** Opens a serial terminal for each `virt` session and feeds it the session's serial events. */
export function registerSerialTerminals(subscriptions: vscode.Disposable[]): void {
  const terminals = new Map<string, SerialTerminal>();
  subscriptions.push(
    vscode.debug.onDidStartDebugSession((session) => {
      if (session.type !== 'virt') return;
      const terminal = new SerialTerminal(session);
      terminals.set(session.id, terminal);
      terminal.show();
    }),
    vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
      if (e.event !== SerialOutputEvent.event) return;
      const body = e.body as { port: number; data: string };
      if (body.port === 0) terminals.get(e.session.id)?.write(Buffer.from(body.data, 'latin1').toString('utf8'));
    }),
    vscode.debug.onDidTerminateDebugSession((session) => {
      const terminal = terminals.get(session.id);
      terminals.delete(session.id);
      terminal?.write('\r\n[guest stopped]\r\n');
    }),
  );
}
