// The extension's state for one activation: the language client and what must be disposed.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { ServerStatusNotification, SettingsChangedNotification } from '../../server/src/protocol';
import { readConfig, serverSettings } from './config';
import type { DiskImageExplorer } from './images/explorer';
import type { ImageLibrary } from './images/imageLibrary';

export class Ctx {
  client: LanguageClient | undefined;
  /** The disk-image explorer's model (set during activation). */
  images: { explorer: DiskImageExplorer; library: ImageLibrary } | undefined;
  readonly output: vscode.LogOutputChannel;
  readonly status: vscode.StatusBarItem;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('Virt Studio', { log: true });
    this.status = vscode.window.createStatusBarItem('virtStudio.status', vscode.StatusBarAlignment.Right, 100);
    this.status.name = 'Virt Studio';
    extension.subscriptions.push(this.output, this.status);
  }

  get bundledSchemaDir(): string {
    return this.extension.asAbsolutePath(path.join('schemas', 'libvirt'));
  }

  async startLanguageClient(): Promise<void> {
    const module = this.extension.asAbsolutePath(path.join('dist', 'server.js'));
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { language: 'libvirt-xml' },
        { language: 'lvm-conf' },
        // Plain .xml files whose root is a libvirt element are served too; the server decides by content.
        { language: 'xml', scheme: 'file' },
        { language: 'xml', scheme: 'untitled' },
      ],
      initializationOptions: serverSettings(readConfig(), this.bundledSchemaDir),
      outputChannel: this.output,
    };
    this.client = new LanguageClient('virtStudio', 'Virt Studio Language Server', serverOptions, clientOptions);
    this.extension.subscriptions.push(this.client);
    this.extension.subscriptions.push(
      this.client.onNotification(ServerStatusNotification, (s) => {
        this.status.text = s.severity === 'error' ? `$(error) ${s.message}` : s.severity === 'warning' ? `$(warning) ${s.message}` : `$(file-code) ${s.message}`;
        this.status.tooltip = s.detail ?? s.message;
        this.status.command = 'virtStudio.showSchemaInfo';
        if (s.severity !== 'info') this.output.warn(s.detail ?? s.message);
        else this.output.info(s.detail ?? s.message);
        this.status.show();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('virtStudio')) this.pushSettings();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.pushSettings()),
    );
    await this.client.start();
  }

  private pushSettings(): void {
    void this.client?.sendNotification(SettingsChangedNotification, serverSettings(readConfig(), this.bundledSchemaDir));
  }
}
