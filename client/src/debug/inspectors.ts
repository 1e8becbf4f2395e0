// Read-only inspectors for a stopped guest: the GDT/IDT viewer and the page-table walker.
// Both render into a virtual text document so they can be searched, copied and kept open.
import * as vscode from 'vscode';
import { DescriptorTablesRequest, TranslateRequest, type DescriptorEntry } from '../debugAdapter/customProtocol';
import { hex } from '../debugAdapter/registers';

const SCHEME = 'virt-inspect';

function tableText(title: string, entries: DescriptorEntry[]): string {
  const lines = [`${title} (${entries.length} entries)`, ''];
  lines.push('index  selector  raw               P DPL  kind                              base/target       limit/offset');
  for (const e of entries) {
    if (e.kind === 'null') continue;
    const where = e.base !== undefined ? hex(e.base) : e.selector !== undefined ? `${hex(e.selector, 16)}` : '';
    const extent = e.limit !== undefined ? hex(e.limit) : e.offset !== undefined ? hex(e.offset) : '';
    lines.push(`${String(e.index).padStart(5)}  ${hex(e.index * 8, 16)}    ${e.raw}  ${e.present ? 'P' : '-'}  ${e.dpl}   ${e.kind.padEnd(32)}  ${where.padEnd(16)}  ${extent}`);
  }
  return lines.join('\n');
}

export function registerInspectors(subscriptions: vscode.Disposable[]): void {
  const contents = new Map<string, string>();
  const changed = new vscode.EventEmitter<vscode.Uri>();
  subscriptions.push(changed, vscode.workspace.registerTextDocumentContentProvider(SCHEME, {
    onDidChange: changed.event,
    provideTextDocumentContent: (uri) => contents.get(uri.path) ?? '',
  }));

  const activeVirtSession = (): vscode.DebugSession => {
    const s = vscode.debug.activeDebugSession;
    if (!s || s.type !== 'virt') throw new Error('No Virt Studio guest is being debugged.');
    return s;
  };
  const show = async (path: string, text: string) => {
    contents.set(path, text);
    const uri = vscode.Uri.from({ scheme: SCHEME, path });
    changed.fire(uri);
    await vscode.window.showTextDocument(uri, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  };
  const guard = (fn: () => Promise<void>) => async () => {
    try { await fn(); } catch (err) { void vscode.window.showErrorMessage((err as Error).message); }
  };

  subscriptions.push(
    vscode.commands.registerCommand('virtStudio.showDescriptorTables', guard(async () => {
      const session = activeVirtSession();
      const r = await session.customRequest(DescriptorTablesRequest.command) as { gdt: DescriptorEntry[]; idt: DescriptorEntry[] };
      await show('/descriptor-tables.txt', `${tableText('GDT', r.gdt)}\n\n${tableText('IDT', r.idt)}\n`);
    })),
    vscode.commands.registerCommand('virtStudio.translateAddress', guard(async () => {
      const session = activeVirtSession();
      const input = await vscode.window.showInputBox({ prompt: 'Guest linear address to translate', placeHolder: '0xc1000000', validateInput: (v) => (/^(0x[0-9a-f]+|\d+)$/i.test(v.trim()) ? undefined : 'a number such as 0xc1000000') });
      if (!input) return;
      const linear = Number(input.trim()) >>> 0;
      const r = await session.customRequest(TranslateRequest.command, { linear }) as { physical: number | null; pde?: number; pte?: number; fault?: string };
      const flags = (e: number | undefined) => (e === undefined ? '-' : `${hex(e)} [${['P', 'RW', 'US', 'PWT', 'PCD', 'A', 'D', 'PS', 'G'].filter((_, b) => e & (1 << b)).join(' ')}]`);
      const text = [
        `linear   ${hex(linear)}`,
        `PDE      ${flags(r.pde)}   (directory index ${linear >>> 22})`,
        `PTE      ${flags(r.pte)}   (table index ${(linear >>> 12) & 0x3ff})`,
        `physical ${r.physical === null ? `not mapped${r.fault ? ` (${r.fault})` : ''}` : hex(r.physical)}`,
      ].join('\n');
      await show(`/translate-${hex(linear)}.txt`, `${text}\n`);
    })),
  );
}
