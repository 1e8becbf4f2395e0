// VS Code chooses a document's language by file name before it looks at the first line, and the
// built-in XML language claims `*.xml`, so the manifest's `firstLine` pattern never applies to
// libvirt's own files (domain.xml, default.xml, ...). This moves `xml` documents whose root
// element is a libvirt one to `libvirt-xml`, deciding by content exactly as the server and the CLI do.
import * as vscode from 'vscode';
import { detectKind, isLibvirtKind } from '../../server/src/documentKind';

/** Enough text to get past a prolog and a leading comment block. */
const HEAD_CHARS = 16 * 1024;

export function registerLanguageDetection(subscriptions: vscode.Disposable[]): void {
  // Each document is moved once: if the user then picks `xml` again, that choice stays.
  const moved = new Set<string>();
  const check = (doc: vscode.TextDocument): void => {
    if (doc.languageId !== 'xml' || moved.has(doc.uri.toString())) return;
    const head = doc.getText(new vscode.Range(0, 0, doc.positionAt(HEAD_CHARS).line + 1, 0)).slice(0, HEAD_CHARS);
    if (!isLibvirtKind(detectKind(doc.uri.path, head))) return;
    moved.add(doc.uri.toString());
    void vscode.languages.setTextDocumentLanguage(doc, 'libvirt-xml');
  };
  subscriptions.push(vscode.workspace.onDidOpenTextDocument(check));
  for (const doc of vscode.workspace.textDocuments) check(doc);
}
