// Extension entry point: wires the language client, commands, debugger and views to one Ctx.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { Ctx } from './ctx';
import { registerDebugger } from './debug/register';
import { registerImageExplorer } from './images/register';
import { registerLanguageDetection } from './languageDetection';

let ctx: Ctx | undefined;

export async function activate(extension: vscode.ExtensionContext): Promise<Ctx> {
  ctx = new Ctx(extension);
  registerCommands(ctx);
  registerDebugger(ctx);
  ctx.images = registerImageExplorer(ctx);
  registerLanguageDetection(extension.subscriptions);
  await ctx.startLanguageClient();
  return ctx;
}

export function deactivate(): void {
  ctx = undefined;
}
