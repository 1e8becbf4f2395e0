// Typed access to the `virtStudio.*` settings; the only place that knows their names.
import * as vscode from 'vscode';
import type { SettingsChange } from '../../server/src/protocol';

export interface Config {
  libvirtSchemaDir: string;
  checkSourceFiles: boolean;
  lvmVersion: string;
  debounceMs: number;
  allowImageWrites: boolean;
  memoryLimitMiB: number;
  scanWorkspace: boolean;
}

export function readConfig(): Config {
  const c = vscode.workspace.getConfiguration('virtStudio');
  return {
    libvirtSchemaDir: c.get<string>('libvirt.schemaDir', ''),
    checkSourceFiles: c.get<boolean>('libvirt.checkSourceFiles', true),
    lvmVersion: c.get<string>('lvm.version', 'auto'),
    debounceMs: c.get<number>('validation.debounceMs', 150),
    allowImageWrites: c.get<boolean>('emulator.allowImageWrites', false),
    memoryLimitMiB: c.get<number>('emulator.memoryLimitMiB', 1024),
    scanWorkspace: c.get<boolean>('images.scanWorkspace', true),
  };
}

/** What the language server needs of the settings. */
export function serverSettings(config: Config, bundledSchemaDir: string): SettingsChange {
  return {
    // Schemas from a folder the workspace chose are only honoured when the workspace is trusted.
    libvirtSchemaDir: vscode.workspace.isTrusted ? config.libvirtSchemaDir : '',
    bundledSchemaDir,
    checkSourceFiles: config.checkSourceFiles,
    lvmVersion: config.lvmVersion,
    debounceMs: config.debounceMs,
  };
}
